// One whole key rotation in the sandbox, as an agent does it through the
// official client: bring in the old key, put it on servers, review the
// rotation's plan, carry it out with one confirmation (this client declares
// no elicitation, so confirm: true is the approval), and check the world.
// Then reboot_instances on its own, with progress. The sandbox's reboots
// take about 3 s. The steps build on each other and run in order.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { REGION, startServer, tempDir } from "../lib/server.js";
import { generateKey, md5Fingerprint } from "../lib/ssh.js";

const STEPS = ["new_key", "attach", "reboot", "delete_old"];

describe("a key rotation in the sandbox", { timeout: 90_000 }, () => {
  let server, keys;
  let running, stopped; // two Running and one Stopped Linux instance, found as an agent would
  let newKey, newFingerprint;
  const errors = [];

  const region = { regionId: REGION };
  const keyPairOf = async (ids) =>
    Object.fromEntries((await server.call("describe_instances", { ...region, instanceIds: ids })).out.instances.map((i) => [i.instanceId, i.keyPairName]));
  const everyOne = (ids, value) => Object.fromEntries(ids.map((id) => [id, value]));
  // Each step's items as [item, outcome], the attach step's in ID order.
  const stepsOf = (out) =>
    Object.fromEntries(out.steps.map((s) => {
      const items = s.items.map((i) => [i.item, i.outcome]);
      return [s.step, s.step === "attach" ? items.sort() : items];
    }));
  const rotation = () => ({
    ...region,
    fromKeyPairName: "old-key",
    toKeyPairName: "new-key",
    publicKeyBody: newKey,
    reboot: true,
    deleteOld: true,
  });

  before(async () => {
    keys = await tempDir();
    server = await startServer();
    server.client.onerror = (error) => errors.push(error.message);
  });
  after(async () => {
    await server?.close();
    await keys?.remove();
  });

  it("puts old-key on two Running and one Stopped Linux instance", async () => {
    const { out } = await server.call("describe_instances", region);
    const linux = (status) => out.instances.filter((i) => i.osType === "linux" && i.status === status).map((i) => i.instanceId);
    running = linux("Running").slice(0, 2);
    stopped = linux("Stopped").slice(0, 1);
    assert.equal(running.length + stopped.length, 3, `the seed lacks Linux instances: ${JSON.stringify(out.instances)}`);

    const oldKey = await generateKey(join(keys.dir, "old"), "ecdsa", 256);
    await server.call("import_key_pair", { ...region, keyPairName: "old-key", publicKeyBody: oldKey });
    const { out: attached } = await server.call("attach_key_pair", {
      ...region,
      keyPairName: "old-key",
      instanceIds: [...running, ...stopped],
      confirm: true,
    });
    assert.deepEqual(attached.instances.map((i) => i.outcome), ["attached", "attached", "attached"]);
    assert.deepEqual(await keyPairOf([...running, ...stopped]), everyOne([...running, ...stopped], "old-key"));

    newKey = await generateKey(join(keys.dir, "new"), "ecdsa", 384);
    newFingerprint = await md5Fingerprint(join(keys.dir, "new.pub"));
  });

  it("without confirm returns the plan: four steps in order, what remains, and nothing changed", async () => {
    const { out, text } = await server.call("rotate_key_pair", rotation());
    assert.match(text, /^Not executed/);
    assert.equal(out.executed, false);
    assert.deepEqual(out.steps.map((s) => s.step), STEPS);
    assert.deepEqual(stepsOf(out), {
      new_key: [["new-key", "would_import"]],
      attach: [...running, ...stopped].map((id) => [id, "would_attach"]).sort(),
      reboot: running.map((id) => [id, "would_reboot"]),
      delete_old: [["old-key", "would_delete"]],
    }, "the plan");
    assert.ok(out.remaining.length > 0, "a plan that has work to do says what remains");
    assert.equal(out.privateKeyFile, undefined, "nothing is created by a plan");

    assert.deepEqual(await keyPairOf([...running, ...stopped]), everyOne([...running, ...stopped], "old-key"));
    const { out: listed } = await server.call("describe_key_pairs", { ...region, keyPairName: "*-key" });
    assert.deepEqual(listed.keyPairs.map((k) => k.keyPairName), ["old-key"], "the plan imported or deleted something");
  });

  it("with confirm carries out every step: imported, attached, rebooted, old key deleted, nothing remains", async () => {
    const progress = [];
    const { out, text } = await server.call("rotate_key_pair", { ...rotation(), confirm: true }, {
      timeout: 60_000,
      onprogress: (p) => progress.push(p.message),
    });
    assert.equal(out.executed, true, text);
    assert.deepEqual(out.steps.map((s) => s.step), STEPS);
    assert.deepEqual(stepsOf(out), {
      new_key: [["new-key", "imported"]],
      attach: [...running, ...stopped].map((id) => [id, "attached"]).sort(),
      reboot: running.map((id) => [id, "rebooted"]),
      delete_old: [["old-key", "deleted"]],
    }, `every step's outcome; the text:\n${text}`);
    const imported = out.steps[0].items[0];
    assert.ok(imported.message?.includes(newFingerprint), `the new key's item does not give its fingerprint: ${JSON.stringify(imported)}`);
    assert.deepEqual(out.remaining, []);
    assert.deepEqual(out.rebootRequired, [], "the rebooted instances need no more reboot");
    assert.ok(progress.some((m) => /instances Running again/.test(m)), `no progress for the reboot: ${JSON.stringify(progress)}`);
  });

  it("leaves the instances on the new key pair, and the old key pair gone", async () => {
    assert.deepEqual(await keyPairOf([...running, ...stopped]), everyOne([...running, ...stopped], "new-key"));
    const { out: instances } = await server.call("describe_instances", { ...region, instanceIds: running });
    assert.deepEqual(instances.instances.map((i) => i.status), ["Running", "Running"], "the rebooted instances are Running again");

    assert.equal((await server.call("describe_key_pairs", { ...region, keyPairName: "old-key" })).out.totalCount, 0, "old-key still exists");
    const { out } = await server.call("describe_key_pairs", { ...region, keyPairName: "new-key", includeInstances: true });
    assert.deepEqual(
      out.keyPairs.map((k) => [k.keyPairFingerPrint, k.instanceCount, [...(k.instanceIds ?? [])].sort()]),
      [[newFingerprint, 3, [...running, ...stopped].sort()]],
    );
  });

  it("says Nothing remains when the plan is asked for again", async () => {
    const { out, text } = await server.call("rotate_key_pair", rotation());
    assert.match(text, /^Nothing remains/);
    assert.equal(out.executed, false);
    assert.deepEqual(out.remaining, []);
  });

  it("reboot_instances: previews, then reboots the Running ones with progress and leaves the Stopped one alone", async () => {
    const ids = [...running, ...stopped];
    const preview = await server.call("reboot_instances", { ...region, instanceIds: ids });
    assert.match(preview.text, /^Not executed/);
    assert.deepEqual(preview.out.instances.map((i) => [i.instanceId, i.outcome]), [
      ...running.map((id) => [id, "would_reboot"]),
      ...stopped.map((id) => [id, "not_running"]),
    ]);

    const seen = [];
    const started = Date.now();
    const { out } = await server.call("reboot_instances", { ...region, instanceIds: ids, confirm: true }, {
      timeout: 60_000,
      onprogress: (p) => seen.push(p),
    });
    const took = Date.now() - started;
    assert.equal(out.executed, true);
    assert.deepEqual(out.instances.map((i) => [i.instanceId, i.outcome, i.status]), [
      ...running.map((id) => [id, "rebooted", "Running"]),
      ...stopped.map((id) => [id, "not_running", "Stopped"]),
    ]);
    const back = seen.map((p) => p.message).filter((m) => /instances Running again/.test(m));
    assert.deepEqual(back, [`in ${REGION}: 1 of 2 instances Running again`, `in ${REGION}: 2 of 2 instances Running again`], `progress: ${JSON.stringify(seen)}`);
    const values = seen.map((p) => p.progress);
    assert.deepEqual(values, [...values].sort((a, b) => a - b), "progress goes up");
    assert.ok(took >= 1_000, `a sandbox reboot that waited for Running again took only ${took} ms`);
  });

  it("sent no progress the client could not place", async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(errors, []);
  });
});
