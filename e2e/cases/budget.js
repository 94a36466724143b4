// The result budget, counted with the Claude tokenizer on what the official
// client receives: on a region at its quota (500 key pairs; 1,000 instances)
// every listing's text and its structured content stay within 25,000 tokens
// each, and following nextToken with the same other arguments yields every
// item exactly once. The counts are printed (test diagnostics) for
// BENCHMARKS.md.
//
// The server estimates tokens in Go; this is the check of that estimate
// against the real tokenizer.

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { REGION, startServer, tempDir } from "../lib/server.js";
import { scaleSeed, writeSeed } from "../lib/seed.js";
import { ecdsaPublicKeys, md5Fingerprint } from "../lib/ssh.js";
import { RESULT_BUDGET, countTokens, jsonTokens } from "../lib/tokens.js";

const KEY_PAIRS = 500; // the region quota
const INSTANCES = 1_000;
const MAX_CALLS = 100; // a listing that needs more has stopped making progress

/**
 * Lists everything by following nextToken. Returns the items in order and,
 * per call, its item count and the tokens of its text and of its
 * structured content.
 */
async function listAll(server, tool, args, itemsOf) {
  const items = [];
  const calls = [];
  let nextToken;
  do {
    const { out, text } = await server.call(tool, nextToken ? { ...args, nextToken } : args, { timeout: 60_000 });
    const got = itemsOf(out);
    items.push(...got);
    calls.push({ items: got.length, text: countTokens(text), structured: jsonTokens(out), totalCount: out.totalCount, truncated: out.truncated === true });
    assert.equal(out.truncated === true, Boolean(out.nextToken), `call ${calls.length}: truncated and nextToken go together`);
    assert.ok(got.length > 0 || !out.nextToken, `call ${calls.length}: a nextToken after an empty result makes no progress`);
    if (out.truncated) {
      // The model reads the text: it must say how to go on.
      assert.match(text.slice(0, text.lastIndexOf("\n")), /nextToken/, `call ${calls.length}: a truncated result's text does not say how to continue`);
    }
    nextToken = out.nextToken;
  } while (nextToken && calls.length < MAX_CALLS);
  assert.equal(nextToken, undefined, `still a nextToken after ${MAX_CALLS} calls`);
  return { items, calls };
}

/** Checks and prints one listing's calls. */
function checkBudget(t, what, calls) {
  const largest = (k) => Math.max(...calls.map((c) => c[k]));
  t.diagnostic(
    `${what}: ${calls.length} call(s); items per call ${calls.map((c) => c.items).join(", ")}; ` +
      `largest result ${largest("text")} tokens as text, ${largest("structured")} as structured content ` +
      `(per call, text/structured: ${calls.map((c) => `${c.text}/${c.structured}`).join(", ")})`,
  );
  for (const [i, c] of calls.entries()) {
    assert.ok(c.text <= RESULT_BUDGET, `${what}, call ${i + 1}: the text is ${c.text} tokens, over ${RESULT_BUDGET}`);
    assert.ok(c.structured <= RESULT_BUDGET, `${what}, call ${i + 1}: the structured content is ${c.structured} tokens, over ${RESULT_BUDGET}`);
  }
}

/** Every expected item exactly once, in any order. */
function assertEachOnce(what, got, want) {
  const dups = got.filter((x, i) => got.indexOf(x) !== i);
  assert.deepEqual(dups, [], `${what}: items listed more than once`);
  assert.deepEqual([...got].sort(), [...want].sort(), `${what}: not every item, or others`);
}

describe("the result budget on a region at its quota", { timeout: 180_000 }, () => {
  let server, tmp, keyNames;

  before(async () => {
    tmp = await tempDir();
    // A new state directory starts from the seed: 1,000 instances in REGION.
    const seed = await writeSeed(join(tmp.dir, "seed.json"), scaleSeed({ region: REGION, count: INSTANCES }));
    server = await startServer({ args: ["--seed", seed] });

    const keys = ecdsaPublicKeys(KEY_PAIRS);
    await writeFile(join(tmp.dir, "first.pub"), `${keys[0]}\n`);
    keyNames = keys.map((_, i) => `quota-key-${String(i).padStart(3, "0")}`);
    // Twenty at a time: as fast as the sandbox's state directory allows.
    for (let i = 0; i < KEY_PAIRS; i += 20) {
      await Promise.all(
        keys.slice(i, i + 20).map((publicKeyBody, j) =>
          server.call("import_key_pair", { regionId: REGION, keyPairName: keyNames[i + j], publicKeyBody }, { timeout: 60_000 }),
        ),
      );
    }
    // The keys made in process are the ones ssh-keygen reads.
    const { out } = await server.call("describe_key_pairs", { regionId: REGION, keyPairName: keyNames[0] });
    assert.equal(out.keyPairs[0]?.keyPairFingerPrint, await md5Fingerprint(join(tmp.dir, "first.pub")));
  });
  after(async () => {
    await server?.close();
    await tmp?.remove();
  });

  for (const [what, extra] of [
    ["describe_key_pairs", {}],
    ["describe_key_pairs with includePublicKey", { includePublicKey: true }],
  ]) {
    it(`${what}: ${KEY_PAIRS} key pairs, every result within ${RESULT_BUDGET} tokens, nextToken yields each once`, async (t) => {
      const { items, calls } = await listAll(server, "describe_key_pairs", { regionId: REGION, ...extra }, (out) => out.keyPairs);
      checkBudget(t, what, calls);
      assert.deepEqual(calls.map((c) => c.totalCount), calls.map(() => KEY_PAIRS), "totalCount counts every match, in every call");
      assertEachOnce(what, items.map((k) => k.keyPairName), keyNames);
      if (extra.includePublicKey) {
        assert.ok(items.every((k) => k.publicKey?.startsWith("ecdsa-sha2-nistp256 ")), "a key pair without its public key");
      }
    });
  }

  it(`describe_instances: ${INSTANCES} instances, every result within ${RESULT_BUDGET} tokens, nextToken yields each once`,
    async (t) => {
      const { items, calls } = await listAll(server, "describe_instances", { regionId: REGION }, (out) => out.instances);
      checkBudget(t, "describe_instances", calls);
      assert.deepEqual(calls.map((c) => c.totalCount), calls.map(() => INSTANCES), "totalCount counts every match, in every call");
      assertEachOnce("describe_instances", items.map((i) => i.instanceId), scaleSeed({ region: REGION, count: INSTANCES }).instances.map((i) => i.instanceId));
    });

  it(`describe_key_pairs with inUse: false beside ${INSTANCES} instances, within the budget, each key pair once`,
    async (t) => {
      const { items, calls } = await listAll(server, "describe_key_pairs", { regionId: REGION, inUse: false }, (out) => out.keyPairs);
      checkBudget(t, "describe_key_pairs with inUse: false", calls);
      assertEachOnce("inUse: false", items.map((k) => k.keyPairName), keyNames);
      assert.ok(items.every((k) => k.instanceCount === 0), "an unused key pair has instanceCount 0");
    });
});
