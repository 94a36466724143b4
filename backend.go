package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/tools"
)

// backend is the cloud the tools talk to, and what to release afterwards.
type backend struct {
	deps    tools.Deps
	closers []func() // in the order things were opened
}

// onClose adds fn to what Close releases.
func (b *backend) onClose(fn func()) { b.closers = append(b.closers, fn) }

// Close releases everything, the last opened first.
func (b *backend) Close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
	b.closers = nil
}

// newBackend builds the cloud client, the real one or, with --sandbox, the
// embedded emulator, and what the tools need beside it. Whatever it opened
// is released on every failure, in one place.
func newBackend(c *cli, cfg *serverConfig, logger *slog.Logger) (_ *backend, err error) {
	b := &backend{}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	keyDir, auditPath := cfg.privateKeyDir, cfg.auditLog
	var cloudCfg cloud.Config
	if cfg.sandbox {
		if cfg.endpoint != "" || cfg.profile != "" {
			return nil, usagef("--sandbox cannot be combined with --endpoint or --profile: the sandbox is its own cloud")
		}
		stateDir := cfg.stateDir
		if stateDir == "" {
			if stateDir, err = defaultStateDir(c); err != nil {
				return nil, err
			}
		}
		if keyDir == "" {
			// Sandbox keys are throwaway: keep them out of ~/.ssh.
			keyDir = filepath.Join(stateDir, "private-keys")
		}
		if auditPath == "" {
			auditPath = filepath.Join(stateDir, "audit.log")
		}
		seed, err := seedFrom(cfg.seed)
		if err != nil {
			return nil, err
		}
		emu, err := emulator.New(emulator.Options{Seed: seed, StateDir: stateDir, Logger: logger.With("component", "sandbox")})
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", stateDirError(stateDir, "--state-dir (or ECS_KEYPAIR_MCP_STATE_DIR)", err))
		}
		b.onClose(func() { emu.Close() })
		srv, err := emu.Start("127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		b.onClose(func() { srv.Close() })
		logger.Info("sandbox: the embedded ECS emulator is serving", "endpoint", srv.URL, "stateDir", stateDir)
		creds := srv.Credentials
		cloudCfg = cloud.Config{
			Endpoint:    srv.URL,
			Credentials: &cloud.StaticCredentials{AccessKeyID: creds.AccessKeyID, AccessKeySecret: creds.AccessKeySecret},
		}
	} else {
		if cfg.stateDir != "" || cfg.seed != "" {
			return nil, usagef("--state-dir and --seed are for --sandbox only")
		}
		cloudCfg = cloud.Config{Endpoint: cfg.endpoint, Profile: cfg.profile}
	}
	if keyDir == "" {
		home := c.homeDir()
		if home == "" {
			return nil, errors.New("no --private-key-dir given and no home directory for ~/.ssh: give --private-key-dir DIR")
		}
		keyDir = filepath.Join(home, ".ssh")
	}
	if keyDir, err = filepath.Abs(keyDir); err != nil {
		return nil, fmt.Errorf("--private-key-dir: %w", err)
	}
	cloudCfg.Logger = logger.With("component", "cloud")
	client, err := cloud.New(cloudCfg)
	if err != nil {
		// Only the configuration can make New fail (an endpoint that is
		// not https://, say): the command line is at fault.
		return nil, usagef("%v", err)
	}
	approver := tools.NewApprover(cfg.requireApproval)
	approver.Timeout = cfg.approvalTimeout
	b.deps = tools.Deps{Cloud: client, PrivateKeyDir: keyDir, Logger: logger.With("component", "tools"),
		Approver: approver, Regions: cfg.regions}
	if auditPath != "" {
		audit, err := tools.OpenAuditLog(auditPath)
		if err != nil {
			return nil, fmt.Errorf("%w; choose another file with --audit-log FILE, or fix the permissions of its directory", err)
		}
		b.onClose(func() { audit.Close() })
		b.deps.Audit = audit
		logger.Info("recording write attempts", "auditLog", auditPath)
	}
	// What an earlier process left of its creates: reserved key files.
	// Nothing to do, and no request, unless one stopped mid-create.
	ctx, cancel := context.WithTimeout(context.Background(), reconcileTimeout)
	defer cancel()
	tools.Reconcile(ctx, b.deps)
	return b, nil
}

// reconcileTimeout bounds the start-up's look at reserved key files.
const reconcileTimeout = 10 * time.Second

// seedFrom is the seed file's world, or the built-in one.
func seedFrom(path string) (*emulator.Seed, error) {
	if path == "" {
		seed, err := loadSandboxSeed()
		if err != nil {
			return nil, fmt.Errorf("built-in seed: %w", err)
		}
		return seed, nil
	}
	seed, err := emulator.LoadSeed(path)
	if err != nil {
		// The file the command line named is at fault.
		return nil, usagef("--seed: %v", err)
	}
	return seed, nil
}

func defaultStateDir(c *cli) (string, error) {
	if d := c.getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "ecs-keypair-mcp"), nil
	}
	home := c.homeDir()
	if home == "" {
		return "", errors.New("no --state-dir given and no home directory for ~/.local/state: give --state-dir DIR")
	}
	return filepath.Join(home, ".local", "state", "ecs-keypair-mcp"), nil
}

// homeDir is os.UserHomeDir from c's environment.
func (c *cli) homeDir() string {
	switch runtime.GOOS {
	case "windows":
		return c.getenv("USERPROFILE")
	case "plan9":
		return c.getenv("home")
	}
	return c.getenv("HOME")
}

// stateDirError explains why a state directory cannot be used and what to
// do about it; how names the flag (and variable) that chooses another.
// Other errors (an unreadable state file, which names itself and says to
// fix or remove it) pass through.
func stateDirError(dir, how string, err error) error {
	var problem, fix string
	switch {
	case errors.Is(err, syscall.EROFS):
		problem = "it is on a read-only file system"
		fix = "choose a writable directory with " + how
	case errors.Is(err, fs.ErrPermission):
		problem = "this user may not write there (permission denied)"
		fix = "choose another directory with " + how + ", or make this one writable for this user (e.g. chmod u+rwx " + dir + ")"
	case errors.Is(err, syscall.ENOTDIR), errors.Is(err, fs.ErrExist):
		problem = "it, or a directory above it, is a file"
		fix = "choose a directory with " + how
	default:
		return err
	}
	return fmt.Errorf("the state directory %s cannot be used: %s. To go on, %s. (%w)", dir, problem, fix, err)
}
