// Two server processes on one sandbox state directory, as when two IDE
// windows run the server: each sees the other's changes, and state outlives
// a server.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { REGION, names, startServer, tempDir } from "../lib/server.js";

describe("a sandbox state directory shared by two servers", { timeout: 30_000 }, () => {
  let tmp, dirs;
  const servers = [];
  const start = async () => {
    const server = await startServer(dirs);
    servers.push(server);
    return server;
  };
  const keyPairs = async (server) =>
    names((await server.call("describe_key_pairs", { regionId: REGION, keyPairName: "*" })).out.keyPairs);

  before(async () => {
    tmp = await tempDir();
    dirs = { stateDir: join(tmp.dir, "state"), privateKeyDir: join(tmp.dir, "keys") };
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await tmp?.remove();
  });

  it("shows each server what the other one, still running, changed", async () => {
    const [first, second] = [await start(), await start()];
    const created = (await first.call("create_key_pair", { regionId: REGION, keyPairName: "shared-key" })).out;

    const seen = (await second.call("describe_key_pairs", { regionId: REGION, keyPairName: "shared-key" })).out.keyPairs;
    assert.deepEqual(seen.map((k) => [k.keyPairName, k.keyPairFingerPrint]), [["shared-key", created.keyPairFingerPrint]]);

    await second.call("delete_key_pairs", { regionId: REGION, keyPairNames: ["shared-key"], confirm: true });
    assert.deepEqual(await keyPairs(first), []);
  });

  it("keeps the state for a server started after the first one stopped", async () => {
    const first = await start();
    await first.call("create_key_pair", { regionId: REGION, keyPairName: "kept-key" });
    await first.close();
    servers.splice(servers.indexOf(first), 1);

    assert.deepEqual(await keyPairs(await start()), ["kept-key"]);
  });
});
