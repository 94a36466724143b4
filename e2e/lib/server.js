// Spawns the built ecs-keypair-mcp binary in sandbox mode and connects the
// official MCP TypeScript client to it over stdio, the way an IDE does.

import assert from "node:assert/strict";
import { accessSync, constants } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

// The suite builds nothing: it tests the binary that was built, as users get it.
export const BIN = binaryFromEnvironment();

function binaryFromEnvironment() {
  const bin = process.env.ECS_KEYPAIR_MCP_BIN;
  if (!bin) {
    throw new Error(
      "ECS_KEYPAIR_MCP_BIN is not set. Build the server and point at it, e.g.\n" +
        "  go build -o /tmp/ecs-keypair-mcp . && (cd e2e && ECS_KEYPAIR_MCP_BIN=/tmp/ecs-keypair-mcp npm test)",
    );
  }
  accessSync(bin, constants.X_OK); // fails with the path in the message
  return bin;
}

export const REGION = "cn-hangzhou";

// Generous for one call to a local emulator, but short enough that a server
// that never answers fails the test instead of hanging CI.
const CALL_TIMEOUT_MS = 20_000;

/** A temporary directory, removed by the returned cleanup function. */
export async function tempDir(prefix = "ecs-keypair-mcp-e2e-") {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Starts `<bin> --sandbox` with its own state and private key directories
 * (or the given ones, to share state between servers), connects a client and
 * lists the tools.
 *
 * Listing the tools matters beyond the test of tools/list: it is what makes the
 * SDK's Client compile each tool's outputSchema, after which every callTool
 * validates structuredContent against it and throws on a mismatch. Without
 * that step the SDK validates nothing, so this function checks that every tool
 * got a validator.
 *
 * `args` are more server flags (e.g. `--require-approval`). `capabilities`
 * are the client's (none by default); `beforeConnect(client)` registers
 * handlers that must be in place before the session starts, such as one for
 * elicitation requests. `wrapTransport` lets a test stand between client and
 * server (see output_validation.js).
 */
export async function startServer({ stateDir, privateKeyDir, args = [], capabilities, beforeConnect, wrapTransport = (t) => t } = {}) {
  const tmp = await tempDir();
  const home = join(tmp.dir, "home"); // so that nothing reads or writes the real ~/.ssh or ~/.local/state
  stateDir ??= join(tmp.dir, "state");
  privateKeyDir ??= join(tmp.dir, "keys");
  await mkdir(home);

  const transport = new StdioClientTransport({
    command: BIN,
    // Debug logging: the most the server ever logs is checked for private keys.
    args: ["--sandbox", "--state-dir", stateDir, "--private-key-dir", privateKeyDir, "--log-level", "debug", ...args],
    // The transport does not inherit the environment; give exactly what the
    // server needs, so that no ALIBABA_CLOUD_* or ECS_KEYPAIR_MCP_* variable
    // of the caller changes what is tested.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr.on("data", (chunk) => (stderr += chunk));

  // By default no client capabilities: in particular no elicitation, so
  // `confirm: true` is itself the confirmation (the server's contract for
  // clients that cannot ask their user).
  const client = new Client({ name: "ecs-keypair-mcp-e2e", version: "1.0.0" }, capabilities ? { capabilities } : undefined);
  let tools;
  try {
    beforeConnect?.(client);
    await client.connect(wrapTransport(transport));
    ({ tools } = await client.listTools());
    for (const tool of tools) {
      assert.ok(tool.outputSchema, `tool ${tool.name} has no outputSchema, so its results go unchecked`);
      assert.ok(client.getToolOutputValidator(tool.name), `the client compiled no output validator for ${tool.name}`);
    }
  } catch (error) {
    // Stop the server, or its process keeps the test runner alive.
    await client.close().catch(() => {});
    await tmp.remove();
    throw new Error(`the client could not start the server and list its tools: ${error.message}\nserver stderr:\n${stderr}`, { cause: error });
  }

  return {
    client,
    tools,
    stateDir,
    privateKeyDir,
    /** Everything the server wrote to stderr so far (its logs). */
    stderr: () => stderr,
    call: (name, args, options) => callOk(client, name, args, options),
    callError: (name, args, options) => callError(client, name, args, options),
    async close() {
      await client.close();
      await tmp.remove();
    },
  };
}

/**
 * Calls a tool that must succeed. The SDK has already checked structuredContent
 * against the tool's outputSchema; this adds what every result promises: the
 * text ends with the same JSON (for clients that show only text), and no
 * private key appears anywhere.
 */
async function callOk(client, name, args, options) {
  const res = await client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS, ...options });
  const text = res.content?.[0]?.text ?? "";
  assert.notEqual(res.isError, true, `${name} failed: ${text}`);
  assert.ok(res.structuredContent, `${name} returned no structuredContent`);
  assertNoPrivateKey(name, res);
  const lastLine = text.slice(text.lastIndexOf("\n") + 1);
  assert.deepEqual(JSON.parse(lastLine), res.structuredContent, `${name}: the text does not end with the structured result`);
  return { out: res.structuredContent, text };
}

/** Calls a tool that must report an error; returns the error text. */
async function callError(client, name, args, options) {
  const res = await client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS, ...options });
  const text = res.content?.[0]?.text ?? "";
  assert.equal(res.isError, true, `${name} succeeded where it should have failed: ${text}`);
  assertNoPrivateKey(name, res);
  return text;
}

export function assertNoPrivateKey(what, value) {
  const s = typeof value === "string" ? value : JSON.stringify(value);
  // Only the verdict is printed, never the matching text.
  assert.ok(!s.includes("PRIVATE KEY"), `${what} contains a private key`);
}

/** Names in a list of key pairs, sorted, for comparisons that ignore order. */
export const names = (keyPairs) => keyPairs.map((k) => k.keyPairName).sort();
