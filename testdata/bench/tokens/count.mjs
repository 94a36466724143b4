// Counts, with the Claude tokenizer (@anthropic-ai/tokenizer, pinned in
// package.json), the tokens of the results the bench program wrote:
//
//	go run ./testdata/bench -only tokens -tokens-dir DIR
//	(cd testdata/bench/tokens && npm ci)
//	node testdata/bench/tokens/count.mjs DIR
//
// .ci/bench -only tokens does all three. Prints Markdown tables: each
// listing as one result (as it was before the result budget) and as the
// budgeted results now, and tools/list as compact JSON.
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { getTokenizer } = require("@anthropic-ai/tokenizer");

const RESULT_BUDGET = 25000; // tokens per result, text and structured content each
const TOOLS_BUDGET = 7000; // tokens of tools/list

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node count.mjs DIR (written by: go run ./testdata/bench -only tokens -tokens-dir DIR)");
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));

// The package's countTokens builds a tokenizer per call; one does for all.
const tokenizer = getTokenizer();
const count = (text) => tokenizer.encode(text.normalize("NFKC"), "all").length;
const tokensOf = (name) => count(readFileSync(join(dir, name), "utf8"));
const fmt = (n) => n.toLocaleString("en-US");
const verdict = (n, budget) => (n <= budget ? "met" : `over by ${fmt(n - budget)}`);

console.log("\n## Tokens (Claude tokenizer, @anthropic-ai/tokenizer " + require("@anthropic-ai/tokenizer/package.json").version + ")\n");
console.log("| listing | items | as one result: pretty text / compact | results now (following nextToken) | items per result | largest result: text / structured | ≤ 25,000 each |");
console.log("|---|---|---|---|---|---|---|");
for (const l of manifest.listings) {
  let text = 0;
  let structured = 0;
  for (const c of l.calls) {
    text = Math.max(text, tokensOf(c.text));
    structured = Math.max(structured, tokensOf(c.structured));
  }
  const items = l.calls.map((c) => c.items).join(", ");
  console.log(
    `| ${l.name} | ${l.items} | ${fmt(tokensOf(l.wholePretty))} / ${fmt(tokensOf(l.wholeCompact))} | ${l.calls.length} | ${items} | ` +
      `${fmt(text)} / ${fmt(structured)} | ${verdict(Math.max(text, structured), RESULT_BUDGET)} |`,
  );
}

console.log("\n| tools/list | tools | tokens (compact JSON) | ≤ 7,000 |");
console.log("|---|---|---|---|");
const list = JSON.parse(readFileSync(join(dir, manifest.toolsList), "utf8"));
const listTokens = count(JSON.stringify(list));
console.log(`| as an MCP client receives it (result of tools/list) | ${list.tools.length} | ${fmt(listTokens)} | ${verdict(listTokens, TOOLS_BUDGET)} |`);
if (manifest.toolsCli && existsSync(join(dir, manifest.toolsCli))) {
  const cli = JSON.parse(readFileSync(join(dir, manifest.toolsCli), "utf8"));
  const cliTokens = count(JSON.stringify(cli));
  console.log(`| \`ecs-keypair-mcp tools\`, compacted | ${cli.tools.length} | ${fmt(cliTokens)} | ${verdict(cliTokens, TOOLS_BUDGET)} |`);
}
tokenizer.free();
