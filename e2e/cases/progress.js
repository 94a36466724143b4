// Progress as the official client sees it: a listing of several pages,
// called with onprogress, reports each page before the result. The SDK
// forgets a call's progress token when its response arrives and reports any
// later notification for it as an error, so a late one is caught here.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { REGION, startServer, tempDir } from "../lib/server.js";
import { generateKey } from "../lib/ssh.js";

describe("progress of a call of several pages", { timeout: 60_000 }, () => {
  const KEY_PAIRS = 120; // 3 pages of 50
  let server, keys;
  const errors = [];

  before(async () => {
    keys = await tempDir();
    server = await startServer();
    server.client.onerror = (error) => errors.push(error.message);
    const publicKeyBody = await generateKey(join(keys.dir, "id_ecdsa"), "ecdsa", 256);
    for (let i = 0; i < KEY_PAIRS; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          server.call("import_key_pair", { regionId: REGION, keyPairName: `paged-${String(i + j).padStart(3, "0")}`, publicKeyBody }),
        ),
      );
    }
  });
  after(async () => {
    await server?.close();
    await keys?.remove();
  });

  it("reports every page, before the result, and nothing after it", async () => {
    for (let round = 0; round < 5; round++) {
      const seen = [];
      const res = await server.client.callTool(
        { name: "describe_key_pairs", arguments: { regionId: REGION } },
        undefined,
        { timeout: 20_000, onprogress: (p) => seen.push(p) },
      );
      assert.notEqual(res.isError, true, res.content?.[0]?.text);
      assert.equal(res.structuredContent.totalCount, KEY_PAIRS);
      assert.deepEqual(
        seen.map((p) => [p.progress, p.message]),
        [1, 2, 3].map((n) => [n, `DescribeKeyPairs in ${REGION}: ${n} of 3 requests done`]),
        `round ${round}`,
      );
    }
    // Late notifications would arrive after the last response: give them time.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(errors, []);
  });
});
