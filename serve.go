package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

const instructions = `Manage Alibaba Cloud ECS SSH key pairs. Key pairs and instances belong to a region (describe_regions lists them); describe_key_pairs and import_key_pair also take regionIds, ["*"] for every region.
To give SSH access: import_key_pair (an existing public key) or create_key_pair (the private key goes to a file on the server's machine, never returned), then attach_key_pair, then reboot_instances for the Running instances it lists. To replace a key on instances, use rotate_key_pair: one plan, one approval. describe_key_pairs with inUse: false finds unused key pairs.
delete_key_pairs, attach_key_pair, detach_key_pair, reboot_instances and rotate_key_pair change nothing without confirm: true; they first return a preview. Show it to the user and confirm only with their agreement; where the client can, the user is then asked directly, and a decline means stop.
Attaching replaces an instance's key pair and turns password login off. A key pair attached to instances cannot be deleted until detached. A listing too long for one result is truncated: continue with nextToken, or narrow the question.`

func newMCPServer(deps tools.Deps, readOnly bool) *server.MCPServer {
	s := server.NewMCPServer("ecs-keypair-mcp", buildVersion(),
		server.WithToolCapabilities(false),
		server.WithRecovery(),
		server.WithInstructions(instructions),
	)
	tools.Register(s, deps, readOnly)
	return s
}

// newLogger logs to stderr at level, a --log-level value, or at fallback
// when the flag was not given ("").
func newLogger(level, fallback string, stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: parseLogLevel(level, fallback)}))
}

// runServe serves MCP over stdio until stdin closes or a signal arrives.
func runServe(c *cli, cfg *serverConfig) error {
	logger := newLogger(cfg.logLevel, "info", c.stderr)
	b, err := newBackend(c, cfg, logger)
	if err != nil {
		return err
	}
	defer b.Close()
	s := newMCPServer(b.deps, cfg.readOnly)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("serving MCP over stdio", "version", buildVersion(), "sandbox", cfg.sandbox, "readOnly", cfg.readOnly,
		"privateKeyDir", b.deps.PrivateKeyDir, "timeout", cfg.timeout)
	stdio := stdioConfig{callTimeout: cfg.timeout, errLog: log.New(c.stderr, "ecs-keypair-mcp: ", log.LstdFlags)}
	if err := serveStdio(ctx, s, c.stdin, c.stdout, stdio); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// runTools prints the tool definitions as clients see them in tools/list:
// a client that can ask its user, which --require-approval hides nothing
// from.
func runTools(c *cli, cfg *serverConfig) error {
	var list []mcp.Tool
	for _, t := range tools.All(tools.Deps{Regions: cfg.regions}) {
		if tools.HiddenBy(t, cfg.readOnly, cfg.requireApproval, true) != "" {
			continue
		}
		list = append(list, t.Definition)
	}
	out, err := json.MarshalIndent(map[string]any{"tools": list}, "", "  ")
	if err != nil {
		return err
	}
	_, err = c.stdout.Write(append(out, '\n'))
	return err
}
