// Token counts with the Claude tokenizer (npm @anthropic-ai/tokenizer,
// pinned in package.json), the measure of the server's token budgets:
// tools/list at most 7,000 tokens, every tool result's text and its
// structured content at most 25,000 tokens each.

import { getTokenizer } from "@anthropic-ai/tokenizer";

// countTokens() of the package builds a tokenizer for every call (about
// 40 ms); one is enough for the whole run.
let tokenizer;

/** Tokens of a string, counted as the package's countTokens counts them. */
export function countTokens(text) {
  tokenizer ??= getTokenizer();
  return tokenizer.encode(text.normalize("NFKC"), "all").length;
}

/** Tokens of a value as compact JSON. */
export const jsonTokens = (value) => countTokens(JSON.stringify(value));

export const TOOLS_LIST_BUDGET = 7_000;
export const RESULT_BUDGET = 25_000;
