// The session relies on the SDK's Client to reject any result that does not
// match the tool's outputSchema. This shows that it does, with our schemas:
// a transport between client and server edits real results of the built
// binary on their way in, as a server with a drifted schema would send them.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";

import { startServer } from "../lib/server.js";

/** Wraps a client transport so that every incoming message passes through edit. */
function editingTransport(edit) {
  return (inner) => {
    const outer = {
      start: () => inner.start(),
      send: (message, options) => inner.send(message, options),
      close: () => inner.close(),
      setProtocolVersion: (version) => inner.setProtocolVersion?.(version),
    };
    inner.onmessage = (message, extra) => outer.onmessage?.(edit(message), extra);
    inner.onerror = (error) => outer.onerror?.(error);
    inner.onclose = () => outer.onclose?.();
    return outer;
  };
}

/** Applies change to the structuredContent of tool results, and nothing else. */
const editResults = (change) =>
  editingTransport((message) => {
    if (message.result?.structuredContent) change(message.result);
    return message;
  });

const describeRegions = (server) => server.client.callTool({ name: "describe_regions", arguments: {} });

describe("the client's output-schema validation", { timeout: 30_000 }, () => {
  const servers = [];
  const start = async (wrapTransport) => {
    const server = await startServer({ wrapTransport });
    servers.push(server);
    return server;
  };
  after(() => Promise.all(servers.map((s) => s.close())));

  it("lets an unedited result through the editing transport", async () => {
    const server = await start(editResults(() => {}));
    const res = await describeRegions(server);
    assert.ok(res.structuredContent.regions.length > 0);
  });

  it("rejects a result with a renamed field", async () => {
    const server = await start(editResults((result) => {
      const [region] = result.structuredContent.regions;
      region.regionID = region.regionId;
      delete region.regionId;
    }));
    await assert.rejects(describeRegions(server), /Structured content does not match the tool's output schema/);
  });

  it("rejects a result with a field the schema does not declare", async () => {
    const server = await start(editResults((result) => (result.structuredContent.privateKeyBody = "x")));
    await assert.rejects(describeRegions(server), /Structured content does not match the tool's output schema/);
  });

  it("rejects a result without structuredContent", async () => {
    const server = await start(editResults((result) => delete result.structuredContent));
    await assert.rejects(describeRegions(server), /has an output schema but did not return structured content/);
  });
});
