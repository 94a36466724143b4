// The end-to-end suite: the built ecs-keypair-mcp binary, driven by the
// official MCP TypeScript client and the MCP Inspector CLI.
//
// One file imports every case, so that `node --test` runs the whole suite in
// one Node process (loading the SDK costs about 0.4 s per process) while each
// case spawns the servers it needs. The cases live in cases/, which the test
// runner does not pick up on its own.
//
//   go build -o /tmp/ecs-keypair-mcp . && cd e2e && npm ci && ECS_KEYPAIR_MCP_BIN=/tmp/ecs-keypair-mcp npm test

import "./cases/tools.js";
import "./cases/inspector.js";
import "./cases/output_validation.js";
import "./cases/session.js";
import "./cases/shared_state.js";
import "./cases/progress.js";
import "./cases/budget.js";
import "./cases/rotation.js";
import "./cases/cancel.js";
import "./cases/approval.js";
import "./cases/regions.js";
