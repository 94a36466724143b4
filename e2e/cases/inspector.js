// The MCP Inspector's CLI, a client written by others, lists the tools of the
// built binary and lints their schemas for portability. --strict makes it exit
// 6 on a portability error; warnings (type arrays, remote $ref, schemas that
// constrain nothing) only appear in its findings, so the test requires none
// at all.
//
// Inspector 2.12.0 declares node >= 22.19 but runs this on Node 20 (npm warns
// EBADENGINE at install, nothing more).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { BIN, tempDir } from "../lib/server.js";

const E2E_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Runs the inspector CLI; resolves to its exit code, stdout and stderr. */
function inspector(args, env) {
  return new Promise((resolve) => {
    // --no-install: use the locked version in e2e/node_modules, never a download.
    execFile("npx", ["--no-install", "@modelcontextprotocol/inspector", "--cli", ...args],
      { cwd: E2E_DIR, env, timeout: 60_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => resolve({ code: error ? (error.code ?? error.signal) : 0, stdout, stderr }));
  });
}

describe("the MCP Inspector CLI", { timeout: 90_000 }, () => {
  let tmp, run;
  before(async () => {
    tmp = await tempDir();
    const home = join(tmp.dir, "home"); // it may keep a catalog in ~/.mcp-inspector
    await mkdir(home);
    run = await inspector(
      ["--format", "json", "--strict", "--method", "tools/list", BIN, "--sandbox", "--state-dir", join(tmp.dir, "state")],
      { ...process.env, HOME: home },
    );
  });
  after(() => tmp?.remove());

  const output = () => {
    try {
      return JSON.parse(run.stdout);
    } catch {
      assert.fail(`inspector printed no JSON (exit ${run.code}):\n${run.stderr}`);
    }
  };

  it("lists the tools with --strict and exits 0", () => {
    assert.equal(run.code, 0, `inspector exited ${run.code}:\n${run.stderr}`);
    const names = output().result.tools.map((t) => t.name);
    assert.equal(names.length, 10, `tools: ${names}`);
  });

  it("finds no portability problem, not even a warning, in any schema", () => {
    const { schemaFindings = [] } = output();
    assert.deepEqual(schemaFindings, []);
  });
});
