// A person's approval, asked through a real client: the official client
// declares elicitation and answers the server's elicitation requests with a
// handler, as an IDE that shows the form to its user does. The server runs
// with --require-approval, so confirm: true alone is not enough: a delete
// happens only when the person accepts and types the key pair's name. An
// approval nobody answers ends, after --approval-timeout, in an
// ApprovalTimeout result, and the server withdraws its request
// (notifications/cancelled).

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

import { REGION, startServer, tempDir } from "../lib/server.js";
import { generateKey, md5Fingerprint } from "../lib/ssh.js";

const APPROVAL_TIMEOUT_MS = 2_000;
const MARGIN_MS = 2_000; // process, emulator and client, on a busy CI machine

/** Wraps a client transport so that every incoming message is recorded, as it came. */
function recordingIncoming(incoming) {
  return (inner) => {
    const outer = {
      start: () => inner.start(),
      send: (message, options) => inner.send(message, options),
      close: () => inner.close(),
      setProtocolVersion: (version) => inner.setProtocolVersion?.(version),
    };
    inner.onmessage = (message, extra) => {
      incoming.push(message);
      outer.onmessage?.(message, extra);
    };
    inner.onerror = (error) => outer.onerror?.(error);
    inner.onclose = () => outer.onclose?.();
    return outer;
  };
}

describe("approval by a person, through a client that can elicit", { timeout: 60_000 }, () => {
  let server, keys, publicKeyBody, fingerprint;
  const incoming = [];
  const errors = [];
  // What the person does with the next form; each test sets it.
  let answer = () => ({ action: "decline" });
  const asked = [];

  before(async () => {
    keys = await tempDir();
    publicKeyBody = await generateKey(join(keys.dir, "id"), "ecdsa", 256);
    fingerprint = await md5Fingerprint(join(keys.dir, "id.pub"));
    server = await startServer({
      args: ["--require-approval", "--approval-timeout", `${APPROVAL_TIMEOUT_MS / 1000}s`],
      capabilities: { elicitation: {} },
      beforeConnect: (client) =>
        client.setRequestHandler(ElicitRequestSchema, (request, extra) => {
          asked.push(request.params);
          return answer(request.params, extra);
        }),
      wrapTransport: recordingIncoming(incoming),
    });
    server.client.onerror = (error) => errors.push(error.message);
  });
  after(async () => {
    await server?.close();
    await keys?.remove();
  });

  const importKey = (keyPairName) => server.call("import_key_pair", { regionId: REGION, keyPairName, publicKeyBody });
  const exists = async (keyPairName) =>
    (await server.call("describe_key_pairs", { regionId: REGION, keyPairName })).out.totalCount === 1;
  const deleteConfirmed = (keyPairName) =>
    server.client.callTool(
      { name: "delete_key_pairs", arguments: { regionId: REGION, keyPairNames: [keyPairName], confirm: true } },
      undefined,
      { timeout: 20_000 },
    );
  const textOf = (res) => res.content?.[0]?.text ?? "";

  it("offers the destructive tools to this client, which can ask its user", () => {
    const names = server.tools.map((t) => t.name);
    for (const tool of ["delete_key_pairs", "attach_key_pair", "detach_key_pair", "reboot_instances", "rotate_key_pair"]) {
      assert.ok(names.includes(tool), `${tool} is hidden from a client that declares elicitation`);
    }
  });

  it("deletes when the person accepts and types the key pair's name; the form names it and its fingerprint", async () => {
    await importKey("approve-me");
    asked.length = 0;
    answer = () => ({ action: "accept", content: { confirmation: "approve-me" } });
    const res = await deleteConfirmed("approve-me");
    assert.notEqual(res.isError, true, textOf(res));
    assert.equal(res.structuredContent.executed, true);
    assert.deepEqual(res.structuredContent.keyPairs.map((k) => [k.keyPairName, k.outcome]), [["approve-me", "deleted"]]);

    assert.equal(asked.length, 1, "the person was asked once");
    const [form] = asked;
    for (const part of ["delete_key_pairs", REGION, "approve-me", fingerprint]) {
      assert.ok(form.message.includes(part), `the form does not name ${part}:\n${form.message}`);
    }
    assert.deepEqual(form.requestedSchema.required, ["confirmation"]);
    assert.equal(await exists("approve-me"), false);
  });

  it("deletes nothing when the person declines", async () => {
    await importKey("decline-me");
    answer = () => ({ action: "decline" });
    const res = await deleteConfirmed("decline-me");
    assert.notEqual(res.isError, true, textOf(res));
    assert.match(textOf(res), /^Not executed/);
    assert.equal(res.structuredContent.executed, false);
    assert.equal(await exists("decline-me"), true);
  });

  it("deletes nothing when the person types another name", async () => {
    await importKey("mistype-me");
    answer = () => ({ action: "accept", content: { confirmation: "mistype-you" } });
    const res = await deleteConfirmed("mistype-me");
    assert.equal(res.isError, true, `accepted with the wrong name typed: ${textOf(res)}`);
    assert.match(textOf(res), /^ApprovalMismatch: /);
    assert.equal(await exists("mistype-me"), true);
  });

  it(`ends an unanswered approval after --approval-timeout with ApprovalTimeout, withdraws it, and deletes nothing`,
    async (t) => {
      await importKey("nobody-answers");
      let withdrawn = false;
      answer = (_params, extra) => {
        extra.signal.addEventListener("abort", () => (withdrawn = true));
        return new Promise(() => {}); // the person walked away
      };
      const seenBefore = incoming.length;
      const started = Date.now();
      const res = await deleteConfirmed("nobody-answers");
      const took = Date.now() - started;
      t.diagnostic(`ApprovalTimeout after ${took} ms (--approval-timeout ${APPROVAL_TIMEOUT_MS / 1000}s)`);

      assert.equal(res.isError, true, `not an error result: ${textOf(res)}`);
      assert.match(textOf(res), /^ApprovalTimeout: /);
      assert.ok(took >= APPROVAL_TIMEOUT_MS - 100, `ApprovalTimeout after only ${took} ms`);
      assert.ok(took <= APPROVAL_TIMEOUT_MS + MARGIN_MS, `ApprovalTimeout after ${took} ms, not about ${APPROVAL_TIMEOUT_MS} ms`);

      const since = incoming.slice(seenBefore);
      const request = since.find((m) => m.method === "elicitation/create");
      assert.ok(request, "the server asked no approval");
      // The cancel may arrive just after the tool's result.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const cancels = incoming.slice(seenBefore).filter((m) => m.method === "notifications/cancelled");
      assert.deepEqual(cancels.map((m) => m.params.requestId), [request.id], "the server did not withdraw its elicitation request");
      assert.equal(withdrawn, true, "the client's handler was not told that the request was withdrawn");

      assert.equal(await exists("nobody-answers"), true);
      assert.deepEqual(errors, []);
    });
});
