// The portable subset of JSON Schema that the server's contract promises for
// every tool's input and output schema: what the strictest MCP clients and
// model providers accept. The Inspector's --strict lint reports fewer things
// (it allows $ref, $defs and open objects), so the suite checks this too, on
// the schemas exactly as the client received them.

const TYPES = new Set(["string", "number", "integer", "boolean", "array", "object"]);
const FORBIDDEN = ["definitions", "oneOf", "anyOf", "allOf", "not", "if", "then", "else", "patternProperties", "prefixItems"];

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

/** Returns the rules `schema` breaks, each as "path: rule"; none when it is portable. */
export function portabilityProblems(schema) {
  const problems = [];
  if (!isObject(schema) || schema.type !== "object") {
    problems.push(`$: the root must be an object schema with "type": "object"`);
  }
  check(schema, "$", problems);
  return problems;
}

function check(s, path, problems) {
  const fail = (rule) => problems.push(`${path}: ${rule}`);
  if (!isObject(s)) return fail(`a schema must be a JSON object, got ${JSON.stringify(s)}`);
  for (const key of Object.keys(s)) {
    if (key.startsWith("$")) fail(`"${key}" is not allowed ($ref, $defs, $schema, ...): inline every schema`);
    if (FORBIDDEN.includes(key)) fail(`"${key}" is not allowed`);
  }
  if (typeof s.type !== "string" || !TYPES.has(s.type)) {
    return fail(`"type" must be one string of ${[...TYPES].join(", ")}, got ${JSON.stringify(s.type)}`);
  }
  if (s.type === "object") {
    if (!isObject(s.properties)) fail(`an object schema needs "properties" (an object, {} for none)`);
    if (!Array.isArray(s.required)) fail(`an object schema needs "required" (an array, [] for none)`);
    else for (const name of s.required) if (!isObject(s.properties) || !(name in s.properties)) fail(`"required" names "${name}", which is not a property`);
    if (s.additionalProperties !== false) fail(`an object schema needs "additionalProperties": false`);
    for (const [name, sub] of Object.entries(isObject(s.properties) ? s.properties : {})) {
      check(sub, `${path}.properties.${name}`, problems);
    }
  }
  if (s.type === "array") {
    if (!isObject(s.items)) fail(`an array schema needs "items", one schema object`);
    else check(s.items, `${path}.items`, problems);
  }
}
