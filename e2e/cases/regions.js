// Many regions in one call, as an agent asks "where is my laptop key?":
// import_key_pair with regionIds, then describe_key_pairs over every region
// (regionIds: ["*"]) by fingerprint finds the key in exactly the regions
// that have it.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { startServer, tempDir } from "../lib/server.js";
import { generateKey, md5Fingerprint } from "../lib/ssh.js";

describe("key pairs across regions", { timeout: 30_000 }, () => {
  const HAVE = ["cn-hangzhou", "eu-central-1"];
  let server, keys, laptopKey, laptopFingerprint;

  before(async () => {
    keys = await tempDir();
    server = await startServer();
    laptopKey = await generateKey(join(keys.dir, "laptop"), "ecdsa", 256);
    laptopFingerprint = await md5Fingerprint(join(keys.dir, "laptop.pub"));
  });
  after(async () => {
    await server?.close();
    await keys?.remove();
  });

  it("imports one key into two regions with regionIds, and a re-run finds it there", async () => {
    const importLaptop = () => server.call("import_key_pair", { regionIds: HAVE, keyPairName: "laptop", publicKeyBody: laptopKey });
    const first = (await importLaptop()).out;
    assert.equal(first.keyPairFingerPrint, laptopFingerprint);
    assert.deepEqual(first.regions.map((r) => [r.regionId, r.outcome]), HAVE.map((r) => [r, "imported"]));
    const again = (await importLaptop()).out;
    assert.deepEqual(again.regions.map((r) => [r.regionId, r.outcome]), HAVE.map((r) => [r, "exists"]));
  });

  it("finds the key by fingerprint over every region in exactly those two", async () => {
    // Decoys: the same name with another key, and another name with another key.
    const other = await generateKey(join(keys.dir, "other"), "ecdsa", 256);
    await server.call("import_key_pair", { regionId: "cn-shanghai", keyPairName: "laptop", publicKeyBody: other });
    await server.call("import_key_pair", { regionId: "cn-hangzhou", keyPairName: "deploy", publicKeyBody: other });

    const { out: regions } = await server.call("describe_regions", {});
    assert.ok(regions.regions.length > HAVE.length + 1, "the sandbox has few regions");

    const { out } = await server.call("describe_key_pairs", { regionIds: ["*"], keyPairFingerPrint: laptopFingerprint });
    assert.deepEqual(out.regionErrors ?? [], [], "a region could not be read");
    assert.equal(out.totalCount, HAVE.length);
    assert.deepEqual(
      out.keyPairs.map((k) => [k.regionId, k.keyPairName, k.keyPairFingerPrint]).sort(),
      HAVE.map((r) => [r, "laptop", laptopFingerprint]).sort(),
    );
  });

  it("refuses regionId and regionIds together, and neither, with a clear error", async () => {
    for (const tool of ["describe_key_pairs", "import_key_pair"]) {
      const rest = tool === "import_key_pair" ? { keyPairName: "laptop", publicKeyBody: laptopKey } : {};
      assert.match(await server.callError(tool, rest), /^MissingParameter: regionId or regionIds/, `${tool} without either`);
      assert.match(await server.callError(tool, { ...rest, regionId: "cn-hangzhou", regionIds: ["*"] }), /^InvalidParameter: .*not both/,
        `${tool} with both`);
    }
  });
});
