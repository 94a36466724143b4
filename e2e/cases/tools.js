// tools/list as a real client receives it: the names, arguments, result
// fields and annotations that the server's contract (the README's tool table
// and the result fields of schema/types.go) promises, and schemas every
// client can use.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { startServer } from "../lib/server.js";
import { portabilityProblems } from "../lib/portable.js";
import { TOOLS_LIST_BUDGET, jsonTokens } from "../lib/tokens.js";

// Arguments: a trailing "*" marks a required one. Results: "list[].field"
// is a field of each item of list; a "?" after a name marks a field that may
// be absent ("regionErrors?[].code": the list may be absent, and each of its
// items has a code). Written down from the contract, not from the server, so
// that a rename on either side shows here.
const CONTRACT = {
  describe_regions: {
    kind: "read-only",
    args: [],
    results: ["regions[].regionId", "regions[].localName", "regions[].regionEndpoint", "regions[].status"],
  },
  describe_instances: {
    kind: "read-only",
    args: ["regionId*", "instanceIds", "keyPairName", "status", "pageNumber", "pageSize", "nextToken"],
    results: [
      "totalCount",
      ...["instanceId", "instanceName", "status", "osType", "keyPairName", "regionId", "zoneId"].map((f) => `instances[].${f}`),
      "truncated?",
      "nextToken?",
    ],
  },
  describe_key_pairs: {
    kind: "read-only",
    // regionId or regionIds: one of them, so neither is required by the schema.
    args: [
      "regionId", "regionIds", "keyPairName", "keyPairFingerPrint", "includePublicKey", "includeInstances", "inUse",
      "pageNumber", "pageSize", "nextToken", "resourceGroupId", "tags",
    ],
    results: [
      "totalCount",
      ...["keyPairName", "keyPairFingerPrint", "creationTime", "resourceGroupId", "publicKey?", "tags", "regionId", "instanceCount?", "instanceIds?"]
        .map((f) => `keyPairs[].${f}`),
      ...["regionId", "code", "message"].map((f) => `regionErrors?[].${f}`),
      "truncated?",
      "nextToken?",
    ],
  },
  create_key_pair: {
    kind: "write",
    args: ["regionId*", "keyPairName*", "resourceGroupId", "tags"],
    results: ["keyPairId", "keyPairName", "keyPairFingerPrint", "privateKeyFile", "requestId"],
  },
  import_key_pair: {
    kind: "write",
    args: ["regionId", "regionIds", "keyPairName*", "publicKeyBody*", "resourceGroupId", "tags"],
    results: [
      "keyPairName",
      "keyPairFingerPrint",
      "requestId",
      ...["regionId", "outcome", "keyPairFingerPrint?", "code?", "message?", "requestId?"].map((f) => `regions?[].${f}`),
    ],
    enums: { "regions?[].outcome": ["imported", "exists", "failed"] },
  },
  delete_key_pairs: {
    kind: "destructive",
    args: ["regionId*", "keyPairNames*", "confirm"],
    results: ["executed", "keyPairs[].keyPairName", "keyPairs[].keyPairFingerPrint?", "keyPairs[].outcome", "keyPairs[].boundInstances?"],
    enums: { "keyPairs[].outcome": ["deleted", "would_delete", "not_found", "bound", "failed"] },
  },
  attach_key_pair: {
    kind: "destructive",
    args: ["regionId*", "keyPairName*", "instanceIds*", "confirm"],
    results: [
      "executed", "keyPairName", "keyPairFingerPrint", "instances[].instanceId", "instances[].outcome",
      "instances[].currentKeyPairName?", "instances[].replacedKeyPairName?", "rebootRequired", "takesEffectOnStart",
    ],
  },
  detach_key_pair: {
    kind: "destructive",
    args: ["regionId*", "keyPairName*", "instanceIds*", "confirm"],
    results: ["executed", "keyPairName", "keyPairFingerPrint", "instances[].instanceId", "instances[].outcome", "rebootRequired", "takesEffectOnStart"],
  },
  reboot_instances: {
    kind: "destructive",
    args: ["regionId*", "instanceIds*", "forceReboot", "wait", "confirm"],
    results: ["executed", "instances[].instanceId", "instances[].instanceName?", "instances[].outcome", "instances[].status?", "instances[].code?"],
    enums: {
      "instances[].outcome": ["would_reboot", "rebooted", "reboot_sent", "not_running", "not_found", "failed", "timed_out_waiting"],
    },
  },
  rotate_key_pair: {
    kind: "destructive",
    args: ["regionId*", "fromKeyPairName*", "toKeyPairName*", "publicKeyBody", "instanceIds", "reboot", "deleteOld", "confirm"],
    results: ["executed", "steps[].step", "steps[].items[].item", "steps[].items[].outcome", "rebootRequired", "privateKeyFile?", "remaining"],
    enums: { "steps[].step": ["new_key", "attach", "reboot", "delete_old"] },
  },
};

const HINTS = {
  "read-only": { readOnlyHint: true, destructiveHint: false },
  write: { readOnlyHint: false, destructiveHint: false },
  destructive: { readOnlyHint: false, destructiveHint: true },
};

/** The schema a result field path leads to in an output schema, or why there is none. */
function resultField(outputSchema, path) {
  let schema = outputSchema;
  for (const step of path.split(".")) {
    const [, name, optional, list] = /^(\w+)(\?)?(\[\])?$/.exec(step) ?? [];
    if (!name) return { problem: `malformed path step "${step}"` };
    const sub = schema?.properties?.[name];
    if (!sub) return { problem: `no property "${name}"` };
    if (!optional && !schema.required?.includes(name)) return { problem: `"${name}" is not required` };
    if (list && sub.type !== "array") return { problem: `"${name}" is not an array` };
    schema = list ? sub.items : sub;
  }
  return { schema };
}

const resultFieldProblem = (outputSchema, path) => resultField(outputSchema, path).problem ?? null;

describe("tools/list", { timeout: 30_000 }, () => {
  let server;
  before(async () => (server = await startServer()));
  after(() => server?.close());

  it("offers exactly the ten tools of the contract", () => {
    assert.deepEqual(server.tools.map((t) => t.name).sort(), Object.keys(CONTRACT).sort());
  });

  it("names every tool in at most 40 characters of [a-z0-9_]", () => {
    // Some clients prefix the server's name to the tool's and cap the total at 64.
    for (const { name } of server.tools) {
      assert.ok(name.length <= 40, `${name} is ${name.length} characters long`);
      assert.match(name, /^[a-z0-9_]+$/);
    }
  });

  it("takes the arguments of the contract, with the same ones required", () => {
    for (const tool of server.tools) {
      const args = CONTRACT[tool.name].args;
      assert.deepEqual(
        { properties: Object.keys(tool.inputSchema.properties).sort(), required: [...(tool.inputSchema.required ?? [])].sort() },
        {
          properties: args.map((a) => a.replace(/\*$/, "")).sort(),
          required: args.filter((a) => a.endsWith("*")).map((a) => a.slice(0, -1)).sort(),
        },
        `${tool.name} input schema`,
      );
    }
  });

  it("declares the result fields of the contract in every output schema", () => {
    for (const tool of server.tools) {
      for (const field of CONTRACT[tool.name].results) {
        const problem = resultFieldProblem(tool.outputSchema, field);
        assert.equal(problem, null, `${tool.name} outputSchema, result field ${field}: ${problem}`);
      }
    }
  });

  it("enumerates the outcomes and steps of the contract", () => {
    for (const tool of server.tools) {
      for (const [path, values] of Object.entries(CONTRACT[tool.name].enums ?? {})) {
        const { schema, problem } = resultField(tool.outputSchema, path);
        assert.equal(problem, undefined, `${tool.name} outputSchema, ${path}: ${problem}`);
        assert.deepEqual([...(schema.enum ?? [])].sort(), [...values].sort(), `${tool.name} outputSchema, ${path}`);
      }
    }
  });

  it("sets all four annotation hints, and marks read-only, write and destructive tools as such", () => {
    for (const tool of server.tools) {
      const a = tool.annotations ?? {};
      for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"]) {
        assert.equal(typeof a[hint], "boolean", `${tool.name}: ${hint} is not set`);
      }
      const want = HINTS[CONTRACT[tool.name].kind];
      assert.deepEqual(
        { readOnlyHint: a.readOnlyHint, destructiveHint: a.destructiveHint },
        want,
        `${tool.name} is ${CONTRACT[tool.name].kind}`,
      );
    }
  });

  it(`costs at most ${TOOLS_LIST_BUDGET} tokens as compact JSON (Claude tokenizer)`, (t) => {
    // Every definition sits in the model's context for the whole conversation.
    const tokens = jsonTokens(server.tools);
    t.diagnostic(`tools/list: ${tokens} tokens as compact JSON, ${server.tools.length} tools (budget ${TOOLS_LIST_BUDGET})`);
    assert.ok(tokens <= TOOLS_LIST_BUDGET, `tools/list is ${tokens} tokens, over ${TOOLS_LIST_BUDGET}`);
  });

  it("has flat, portable input and output schemas", () => {
    const problems = server.tools.flatMap((t) => [
      ...portabilityProblems(t.inputSchema).map((p) => `${t.name} inputSchema ${p}`),
      ...portabilityProblems(t.outputSchema).map((p) => `${t.name} outputSchema ${p}`),
    ]);
    assert.deepEqual(problems, []);
  });
});

// The check above passes on every tool today; these show that it can fail.
describe("the portability check", () => {
  const ok = { type: "object", properties: { n: { type: "string" } }, required: ["n"], additionalProperties: false };
  const cases = {
    "a $ref": { ...ok, properties: { n: { $ref: "#/$defs/N" } }, $defs: { N: { type: "string" } } },
    "a $schema": { ...ok, $schema: "https://json-schema.org/draft/2020-12/schema" },
    "a type array": { ...ok, properties: { n: { type: ["string", "null"] } } },
    "a root combinator": { ...ok, anyOf: [{ required: ["n"] }] },
    "an open object": { ...ok, additionalProperties: undefined },
    "an object without required": { ...ok, required: undefined },
    "a nested object without properties": { ...ok, properties: { n: { type: "object", required: [], additionalProperties: false } } },
    "an array without items": { ...ok, properties: { n: { type: "array" } } },
  };
  it("accepts a portable schema", () => assert.deepEqual(portabilityProblems(ok), []));
  for (const [name, schema] of Object.entries(cases)) {
    it(`rejects ${name}`, () => assert.notDeepEqual(portabilityProblems(JSON.parse(JSON.stringify(schema))), []));
  }
});
