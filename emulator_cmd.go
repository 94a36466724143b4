package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud/emulator"
)

const emulatorUsage = `Usage: ecs-keypair-mcp emulator [flags]

Runs the ECS API emulator (API 2014-05-26) for the aliyun CLI, the SDKs and
Terraform. The first line on stdout is a JSON object
{"endpoint", "accessKeyId", "accessKeySecret"}; everything else goes to stderr.
It stops on Ctrl-C (SIGINT) or SIGTERM.

Flags:
`

// runEmulator serves the emulator until SIGINT or SIGTERM.
func runEmulator(c *cli, args []string) error {
	f := newFlagSet("ecs-keypair-mcp emulator", emulatorUsage)
	listen, stateDir, seedFile, keyID, keySecret, logLevel := "127.0.0.1:0", "", "", "", "", ""
	var allowRemote bool
	f.stringVar(&listen, "listen", "ADDR", "address to listen on; port 0 picks a free port (default 127.0.0.1:0)")
	f.stringVar(&stateDir, "state-dir", "DIR", "keep the state in DIR, shared safely with other processes (default: in memory)")
	f.stringVar(&seedFile, "seed", "FILE", "the world a new state starts from: regions, resource groups, instances, as JSON (default: the built-in one)")
	f.stringVar(&keyID, "access-key-id", "ID", "AccessKey ID to accept (default: random)")
	f.stringVar(&keySecret, "access-key-secret", "SECRET", "AccessKey secret to accept (default: random)")
	f.boolVar(&allowRemote, "allow-remote", "allow listening on a non-loopback address (anyone who can reach it and knows the credentials can use it)")
	f.value(logLevelValue{&logLevel}, "log-level", "LEVEL", "debug, info, warn or error; logs go to stderr (default info)")
	positional, help, err := f.parse(args)
	if err != nil {
		return err
	}
	if help {
		f.printHelp(c.stdout)
		return nil
	}
	if len(positional) > 0 {
		return f.usagef("unexpected argument %q: the emulator takes only flags", positional[0])
	}
	if (keyID == "") != (keySecret == "") {
		return f.usagef("--access-key-id and --access-key-secret go together: give both, or neither for random ones")
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return f.usagef("--listen=%q: not an address; use host:port, e.g. 127.0.0.1:8080 (port 0 picks a free one)", listen)
	}
	loopback := cloud.IsLoopback(host)
	if !loopback && !allowRemote {
		return f.usagef("--listen=%q is not a loopback address; add --allow-remote to serve it anyway", listen)
	}
	logger := newLogger(logLevel, "info", c.stderr)
	seed, err := seedFrom(seedFile)
	if err != nil {
		return err
	}
	emu, err := emulator.New(emulator.Options{
		Seed:        seed,
		StateDir:    stateDir,
		Credentials: emulator.Credentials{AccessKeyID: keyID, AccessKeySecret: keySecret},
		Logger:      logger,
	})
	if err != nil {
		return stateDirError(stateDir, "--state-dir", err)
	}
	defer emu.Close()
	srv, err := emu.Start(listen)
	if err != nil {
		return err
	}
	line, err := json.Marshal(map[string]string{
		"endpoint":        srv.URL,
		"accessKeyId":     srv.Credentials.AccessKeyID,
		"accessKeySecret": srv.Credentials.AccessKeySecret,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s\n", line)
	if !loopback {
		fmt.Fprintf(c.stderr, "WARNING: the emulator is reachable from other machines at %s\n", srv.Host)
	}
	fmt.Fprint(c.stderr, emulatorBanner(srv, stateDir))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutting down the emulator: %w", err)
	}
	fmt.Fprintln(c.stderr, "ECS emulator stopped.")
	return nil
}

// emulatorBanner tells a person how to point each client at the emulator.
// The endpoint takes two forms: this server and the SDKs take a URL, the
// aliyun CLI a bare host:port with --insecure for plain HTTP.
func emulatorBanner(srv *emulator.Server, stateDir string) string {
	state := "in memory (lost on exit)"
	if stateDir != "" {
		state = stateDir
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ECS emulator (API 2014-05-26) listening on %s\n", srv.URL)
	fmt.Fprintf(&b, "  state:       %s\n", state)
	fmt.Fprintf(&b, "  credentials: the JSON line on stdout (accessKeyId %s)\n", srv.Credentials.AccessKeyID)
	fmt.Fprintf(&b, "  this server: ALIBABA_CLOUD_ACCESS_KEY_ID=%s ALIBABA_CLOUD_ACCESS_KEY_SECRET=<accessKeySecret> \\\n", srv.Credentials.AccessKeyID)
	fmt.Fprintf(&b, "                 ecs-keypair-mcp --endpoint %s\n", srv.URL)
	fmt.Fprintf(&b, "               (--endpoint takes a URL with its scheme: http:// is allowed on loopback only)\n")
	fmt.Fprintf(&b, "  aliyun CLI:  aliyun configure set --profile ecs-emulator --mode AK --region cn-hangzhou \\\n")
	fmt.Fprintf(&b, "                 --access-key-id %s --access-key-secret <accessKeySecret>\n", srv.Credentials.AccessKeyID)
	fmt.Fprintf(&b, "               aliyun ecs DescribeRegions --profile ecs-emulator --endpoint %s --insecure\n", srv.Host)
	fmt.Fprintf(&b, "               (the aliyun CLI takes host:port without a scheme; --insecure makes it use plain HTTP)\n")
	fmt.Fprintf(&b, "  Go SDK:      client.Domain = %q, with the request's scheme \"http\"\n", srv.Host)
	b.WriteString("Press Ctrl-C to stop.\n")
	return b.String()
}
