package tools

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func createKeyPair(d Deps) Tool {
	return newTool[schema.CreateKeyPairInput, schema.CreateKeyPairOutput](d, toolSpec[schema.CreateKeyPairInput]{
		kind: KindWrite, name: "create_key_pair", title: "Create an SSH key pair",
		about: "Create a new RSA 2048 key pair in a region. Alibaba Cloud keeps the public key and returns the " +
			"private key once: this server writes it to <private key directory>/<keyPairName>.<regionId>.pem (mode 0600) " +
			"on the machine it runs on and returns the file's path, never the key itself. It fails, before " +
			"creating anything, if that file already exists. The name must be unique in the region, and a " +
			"region holds at most " + strconv.Itoa(schema.KeyPairQuota) + " key pairs. To use a key the user already has, use import_key_pair instead.",
		subject: func(in *schema.CreateKeyPairInput) subject {
			return subject{regions: []string{in.RegionID}, items: []string{in.KeyPairName}, attempt: true}
		},
		run: runCreateKeyPair,
	})
}

func runCreateKeyPair(ctx context.Context, c *call, in *schema.CreateKeyPairInput) (*mcpResult, error) {
	out, err := c.createToFile(ctx, *in, "", "create it anew")
	if err != nil {
		return nil, err
	}
	return result(out)
}

// createToFile creates a key pair and writes its private key to its key
// file, between audit lines of step ("" outside a rotation). again ends
// the message of a key pair created whose key could not be saved: what to
// do after deleting it.
func (c *call) createToFile(ctx context.Context, in schema.CreateKeyPairInput, step, again string) (schema.CreateKeyPairOutput, error) {
	var out schema.CreateKeyPairOutput
	// Without credentials the call fails before anything is created here,
	// not even the private key directory.
	if err := c.Cloud.CheckCredentials(); err != nil {
		return out, err
	}
	// The file is reserved before the cloud is asked, so that a key pair
	// is never created whose private key has nowhere to go.
	kf, err := reserveKeyFile(c.PrivateKeyDir, in.KeyPairName, in.RegionID)
	if err != nil {
		return out, err
	}
	err = c.step(AuditEntry{Step: step, Items: []string{in.KeyPairName}}, func() (AuditEntry, error) {
		created, err := c.Cloud.CreateKeyPair(ctx, in)
		if err != nil {
			return writeFailed(in.KeyPairName, err), c.createFailed(ctx, in, kf, err)
		}
		defer created.PrivateKeyPEM.Wipe()
		line := AuditEntry{Items: []string{in.KeyPairName}, Executed: true, KeyPairFingerPrint: created.KeyPairFingerPrint,
			RequestIDs: []string{created.RequestID}}
		if err := kf.commit(created.PrivateKeyPEM); err != nil {
			c.Logger.Error("private key not saved", "keyPairName", in.KeyPairName, "region", in.RegionID, "path", kf.path, "err", err)
			line.Error = codePrivateKeyNotSaved
			line.Outcomes = []AuditOutcome{{Item: in.KeyPairName, Outcome: "created_without_private_key", Code: codePrivateKeyNotSaved}}
			return line, failure(codePrivateKeyNotSaved,
				"key pair %s WAS CREATED in %s (fingerprint %s, request ID %s), but its private key could not be written to %s: %v. "+
					"The private key cannot be retrieved again: delete the key pair with delete_key_pairs and %s.",
				quoted(created.KeyPairName), in.RegionID, created.KeyPairFingerPrint, created.RequestID, kf.path, pathErrorReason(err), again)
		}
		line.Outcomes = []AuditOutcome{{Item: in.KeyPairName, Outcome: "created"}}
		out = schema.CreateKeyPairOutput{KeyPairID: created.KeyPairID, KeyPairName: created.KeyPairName,
			KeyPairFingerPrint: created.KeyPairFingerPrint, PrivateKeyFile: kf.path, RequestID: created.RequestID}
		return line, nil
	})
	if err != nil {
		kf.release()
	}
	return out, err
}

// createFailed is the error of a create that failed: when the key pair
// may exist while its key file does not, it says so, so that nobody looks
// for the key there. The log says it too: a client that cancelled the call
// never reads the result, and without --audit-log the log is all that is
// left.
func (c *call) createFailed(ctx context.Context, in schema.CreateKeyPairInput, kf *keyFile, err error) error {
	var ce *cloud.Error
	if !errors.As(err, &ce) || (ce.Code != cloud.CodeCreatedWithoutPrivateKey && ce.Code != cloud.CodeOutcomeUnknown) {
		return err
	}
	level, msg := slog.LevelWarn, "key pair may have been created; its private key was not received"
	if ce.Code == cloud.CodeCreatedWithoutPrivateKey {
		level, msg = slog.LevelError, "key pair created without its private key; delete it and create it anew"
	}
	c.Logger.Log(ctx, level, msg, "keyPairName", in.KeyPairName, "region", in.RegionID, "code", ce.Code)
	e := *ce
	e.Message += ". No private key was saved: the file reserved for it, " + kf.path + ", was removed."
	return &e
}

const codePrivateKeyNotSaved = "PrivateKeyNotSaved"

// writeFailed is the outcome line of a create or import of name that
// failed with err: what exists now, as far as the cloud said.
func writeFailed(name string, err error) AuditEntry {
	e := AuditEntry{Items: []string{name}, Error: errorCode(err)}
	fate := "failed"
	var ce *cloud.Error
	if errors.As(err, &ce) {
		if ce.RequestID != "" {
			e.RequestIDs = []string{ce.RequestID}
		}
		switch {
		case ce.Code == cloud.CodeCreatedWithoutPrivateKey:
			e.Executed, fate = true, "created_without_private_key"
		case cloud.MaybeApplied(err):
			fate = "unknown"
		}
	}
	e.Outcomes = []AuditOutcome{{Item: name, Outcome: fate, Code: e.Error}}
	return e
}
