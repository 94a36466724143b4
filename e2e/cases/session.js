// One agent session, start to end, against one sandbox server: find
// instances, bring in keys, put a key on servers, and take it all down again.
// The steps build on each other and run in order.

import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { REGION, names, startServer, tempDir } from "../lib/server.js";
import { fingerprintOfPrivateKey, generateKey, md5Fingerprint } from "../lib/ssh.js";

describe("an agent session in the sandbox", { timeout: 60_000 }, () => {
  let server, keys;
  // Found with describe_instances, as an agent would; see testdata/seed.json.
  let linuxRunning, linuxStopped, windows;
  let laptopKey, laptopFingerprint, deployFingerprint;

  const region = { regionId: REGION };
  const keyPairOf = async (instanceId) =>
    (await server.call("describe_instances", { ...region, instanceIds: [instanceId] })).out.instances[0].keyPairName;
  const instancesCarrying = async (keyPairName) =>
    (await server.call("describe_instances", { ...region, keyPairName })).out.instances.map((i) => i.instanceId).sort();
  const keyPairsNamed = async (keyPairName) =>
    (await server.call("describe_key_pairs", { ...region, keyPairName })).out;

  before(async () => {
    keys = await tempDir();
    server = await startServer();
  });
  after(async () => {
    await server?.close();
    await keys?.remove();
  });

  it("lists the regions, cn-hangzhou among them", async () => {
    const { out } = await server.call("describe_regions", {});
    const hangzhou = out.regions.find((r) => r.regionId === REGION);
    assert.deepEqual(
      { localName: hangzhou?.localName, status: hangzhou?.status },
      { localName: "China (Hangzhou)", status: "available" },
    );
  });

  it("finds Linux instances, Running and Stopped, and a Windows one, none with a key pair", async () => {
    const { out } = await server.call("describe_instances", region);
    assert.equal(out.totalCount, out.instances.length, "without paging, every instance comes back");
    const find = (osType, status) => out.instances.find((i) => i.osType === osType && i.status === status)?.instanceId;
    linuxRunning = find("linux", "Running");
    linuxStopped = find("linux", "Stopped");
    windows = find("windows", "Running");
    assert.ok(linuxRunning && linuxStopped && windows, `seed lacks an instance kind: ${JSON.stringify(out.instances)}`);
    assert.deepEqual(out.instances.filter((i) => i.keyPairName !== ""), [], "a fresh sandbox has no bindings");
  });

  it("imports an ECDSA public key made with ssh-keygen; the fingerprint is ssh-keygen's MD5", async () => {
    laptopKey = await generateKey(join(keys.dir, "laptop"), "ecdsa", 256);
    laptopFingerprint = await md5Fingerprint(join(keys.dir, "laptop.pub"));
    const { out } = await server.call("import_key_pair", {
      ...region,
      keyPairName: "web-laptop",
      publicKeyBody: laptopKey,
      tags: [{ key: "team", value: "web" }],
    });
    assert.equal(out.keyPairName, "web-laptop");
    assert.equal(out.keyPairFingerPrint, laptopFingerprint, "keyPairFingerPrint is not what ssh-keygen -l -E md5 prints");
  });

  it("refuses an ed25519 key, which ECS does not support, and creates nothing", async () => {
    const ed25519 = await generateKey(join(keys.dir, "ed25519"), "ed25519", 256);
    const text = await server.callError("import_key_pair", { ...region, keyPairName: "web-ed25519", publicKeyBody: ed25519 });
    assert.match(text, /^InvalidPublicKeyBody\.Malformed: /);
    assert.equal((await keyPairsNamed("web-ed25519")).totalCount, 0);
  });

  it("creates a key pair: the private key is a 0600 file whose public key has the reported fingerprint", async () => {
    const { out } = await server.call("create_key_pair", {
      ...region,
      keyPairName: "web-deploy",
      tags: [{ key: "team", value: "web" }, { key: "env", value: "prod" }],
    });
    deployFingerprint = out.keyPairFingerPrint;
    assert.equal(out.keyPairName, "web-deploy");
    assert.equal(out.privateKeyFile, join(server.privateKeyDir, `web-deploy.${region.regionId}.pem`));
    assert.match(out.keyPairId, /\S/);
    // server.call has checked that neither the text nor structuredContent carries the key.

    assert.equal((await stat(out.privateKeyFile)).mode & 0o777, 0o600);
    assert.match(await readFile(out.privateKeyFile, "utf8"), /^-----BEGIN (RSA |OPENSSH )?PRIVATE KEY-----\n/);
    assert.equal(
      await fingerprintOfPrivateKey(out.privateKeyFile, join(keys.dir, "web-deploy.pub")),
      deployFingerprint,
      "the public key that ssh-keygen -y derives from the file does not have the reported fingerprint",
    );
  });

  it("does not overwrite an existing private key file, and creates nothing", async () => {
    const before = await readFile(join(server.privateKeyDir, `web-deploy.${region.regionId}.pem`), "utf8");
    const text = await server.callError("create_key_pair", { ...region, keyPairName: "web-deploy" });
    assert.match(text, /^PrivateKeyFile\.AlreadyExists: /);
    assert.equal(await readFile(join(server.privateKeyDir, `web-deploy.${region.regionId}.pem`), "utf8"), before);
    const { keyPairs } = await keyPairsNamed("web-deploy");
    assert.deepEqual(keyPairs.map((k) => k.keyPairFingerPrint), [deployFingerprint]);
  });

  it("finds key pairs by wildcard, case-sensitively, and by exact name", async () => {
    await server.call("create_key_pair", { ...region, keyPairName: "db-admin", tags: [{ key: "team", value: "db" }] });
    const found = async (keyPairName) => names((await keyPairsNamed(keyPairName)).keyPairs);
    assert.deepEqual(await found("web-*"), ["web-deploy", "web-laptop"]);
    assert.deepEqual(await found("*-deploy"), ["web-deploy"]);
    assert.deepEqual(await found("*"), ["db-admin", "web-deploy", "web-laptop"]);
    assert.deepEqual(await found("WEB-*"), []);
    assert.deepEqual(await found("web"), [], "without '*' the name matches exactly");
  });

  it("finds key pairs by tags (all must match; a tag without a value matches any value) and by fingerprint", async () => {
    const found = async (args) => names((await server.call("describe_key_pairs", { ...region, ...args })).out.keyPairs);
    assert.deepEqual(await found({ tags: [{ key: "team", value: "web" }] }), ["web-deploy", "web-laptop"]);
    assert.deepEqual(await found({ tags: [{ key: "team", value: "web" }, { key: "env", value: "prod" }] }), ["web-deploy"]);
    assert.deepEqual(await found({ tags: [{ key: "env" }] }), ["web-deploy"]);
    assert.deepEqual(await found({ keyPairName: "web-*", tags: [{ key: "team", value: "db" }] }), []);
    assert.deepEqual(await found({ keyPairFingerPrint: laptopFingerprint }), ["web-laptop"]);

    const { out } = await server.call("describe_key_pairs", { ...region, keyPairName: "web-laptop", includePublicKey: true });
    const [laptop] = out.keyPairs;
    assert.deepEqual(laptop.tags, [{ key: "team", value: "web" }]);
    // The stored key is the imported one; the comment is not part of it.
    assert.equal(laptop.publicKey, laptopKey.split(" ").slice(0, 2).join(" "));
  });

  it("previews an attach to Linux instances without changing anything", async () => {
    const { out, text } = await server.call("attach_key_pair", {
      ...region,
      keyPairName: "web-deploy",
      instanceIds: [linuxRunning, linuxStopped],
    });
    assert.match(text, /^Not executed/);
    assert.equal(out.executed, false);
    assert.deepEqual(out.instances.map((i) => [i.instanceId, i.outcome]), [
      [linuxRunning, "would_attach"],
      [linuxStopped, "would_attach"],
    ]);
    assert.deepEqual(out.rebootRequired, [linuxRunning]);
    assert.deepEqual(out.takesEffectOnStart, [linuxStopped]);
    assert.deepEqual(await instancesCarrying("web-deploy"), []);
  });

  it("attaches with confirm: true, and describe_instances shows the bindings", async () => {
    const { out } = await server.call("attach_key_pair", {
      ...region,
      keyPairName: "web-deploy",
      instanceIds: [linuxRunning, linuxStopped],
      confirm: true,
    });
    assert.equal(out.executed, true);
    assert.deepEqual(out.instances.map((i) => [i.instanceId, i.outcome]), [
      [linuxRunning, "attached"],
      [linuxStopped, "attached"],
    ]);
    assert.deepEqual(out.rebootRequired, [linuxRunning]);
    assert.deepEqual(out.takesEffectOnStart, [linuxStopped]);
    assert.deepEqual(await instancesCarrying("web-deploy"), [linuxRunning, linuxStopped].sort());
  });

  it("previews that attaching another key pair would replace the current one", async () => {
    const { out } = await server.call("attach_key_pair", { ...region, keyPairName: "web-laptop", instanceIds: [linuxRunning] });
    assert.equal(out.executed, false);
    assert.deepEqual(
      out.instances.map((i) => [i.outcome, i.currentKeyPairName]),
      [["would_replace", "web-deploy"]],
    );
    assert.equal(await keyPairOf(linuxRunning), "web-deploy");
  });

  it("cannot attach a key pair to a Windows instance, in preview or for real", async () => {
    const attach = (confirm) =>
      server.call("attach_key_pair", { ...region, keyPairName: "web-deploy", instanceIds: [windows], confirm });
    const code = "DependencyViolation.WindowsInstance";

    const preview = (await attach(false)).out;
    assert.deepEqual(preview.instances.map((i) => [i.outcome, i.code]), [["would_fail", code]]);

    const done = (await attach(true)).out;
    assert.equal(done.executed, true);
    assert.deepEqual(done.instances.map((i) => [i.outcome, i.code]), [["failed", code]]);
    assert.deepEqual(done.rebootRequired, []);
    assert.equal(await keyPairOf(windows), "");
  });

  it("does not delete a key pair that instances carry, even with confirm: true", async () => {
    for (const confirm of [false, true]) {
      const { out } = await server.call("delete_key_pairs", { ...region, keyPairNames: ["web-deploy"], confirm });
      const [only] = out.keyPairs;
      assert.deepEqual(
        [only.outcome, [...(only.boundInstances ?? [])].sort()],
        ["bound", [linuxRunning, linuxStopped].sort()],
        `confirm: ${confirm}`,
      );
    }
    assert.equal((await keyPairsNamed("web-deploy")).totalCount, 1);
    assert.deepEqual(await instancesCarrying("web-deploy"), [linuxRunning, linuxStopped].sort());
  });

  it("detaches: the preview changes nothing, confirm: true removes the bindings", async () => {
    const detach = (confirm) =>
      server.call("detach_key_pair", { ...region, keyPairName: "web-deploy", instanceIds: [linuxRunning, linuxStopped], confirm });

    const preview = await detach(false);
    assert.match(preview.text, /^Not executed/);
    assert.deepEqual(preview.out.instances.map((i) => i.outcome), ["would_detach", "would_detach"]);
    assert.deepEqual(await instancesCarrying("web-deploy"), [linuxRunning, linuxStopped].sort());

    const done = (await detach(true)).out;
    assert.equal(done.executed, true);
    assert.deepEqual(done.instances.map((i) => i.outcome), ["detached", "detached"]);
    assert.deepEqual(await instancesCarrying("web-deploy"), []);
  });

  it("deletes: the preview changes nothing, confirm: true deletes, and it is gone", async () => {
    const del = (confirm) => server.call("delete_key_pairs", { ...region, keyPairNames: ["web-deploy"], confirm });

    const preview = await del(false);
    assert.match(preview.text, /^Not executed/);
    assert.deepEqual(preview.out.keyPairs.map((k) => k.outcome), ["would_delete"]);
    assert.equal((await keyPairsNamed("web-deploy")).totalCount, 1);

    const done = (await del(true)).out;
    assert.equal(done.executed, true);
    assert.deepEqual(done.keyPairs.map((k) => k.outcome), ["deleted"]);
    assert.equal((await keyPairsNamed("web-deploy")).totalCount, 0);
    assert.deepEqual(names((await keyPairsNamed("*")).keyPairs), ["db-admin", "web-laptop"], "only web-deploy was deleted");
  });

  it("never put the private key in its logs", async () => {
    const log = server.stderr();
    assert.notEqual(log, "", "the server's (debug) log was not captured");
    // The key's first base64 line: a log might carry the key without its PEM armour.
    const bodyLine = (await readFile(join(server.privateKeyDir, `web-deploy.${region.regionId}.pem`), "utf8")).split("\n")[1];
    assert.ok(!log.includes("PRIVATE KEY") && !log.includes(bodyLine), "the server logged the private key");
  });
});
