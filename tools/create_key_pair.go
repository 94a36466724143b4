package tools

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/cloud"
	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

func createKeyPair(d Deps) Tool {
	return Tool{
		Definition: define[schema.CreateKeyPairInput, schema.CreateKeyPairOutput](
			"create_key_pair", "Create an SSH key pair",
			"Create a new RSA 2048 key pair in a region. Alibaba Cloud keeps the public key and returns the "+
				"private key once: this server writes it to <private key directory>/<keyPairName>.pem (mode 0600) "+
				"on the machine it runs on and returns the file's path, never the key itself. It fails, before "+
				"creating anything, if that file already exists. The name must be unique in the region, and a "+
				"region holds at most 500 key pairs. To use a key the user already has, use import_key_pair instead.",
			write),
		Handler: handle(func(ctx context.Context, in schema.CreateKeyPairInput) (*mcpResult, error) {
			return runCreateKeyPair(ctx, d, in)
		}),
	}
}

func runCreateKeyPair(ctx context.Context, d Deps, in schema.CreateKeyPairInput) (*mcpResult, error) {
	// The name rule (letters, digits, ':', '_', '-') keeps the file inside
	// the directory: no separator, no "..".
	path := filepath.Join(d.PrivateKeyDir, in.KeyPairName+".pem")
	// Reserve the file before asking the cloud, so that a key pair is never
	// created whose private key has nowhere to go.
	f, err := reserveKeyFile(d.PrivateKeyDir, path)
	if err != nil {
		return nil, err
	}
	created, err := d.Cloud.CreateKeyPair(ctx, in)
	if err != nil {
		f.Close()
		if rmErr := os.Remove(path); rmErr != nil {
			d.Logger.Error("cannot remove the empty private key file", "path", path, "err", rmErr)
		}
		var ce *cloud.Error
		if errors.As(err, &ce) && (ce.Code == cloud.CodeCreatedWithoutPrivateKey || ce.Code == cloud.CodeOutcomeUnknown) {
			// The key pair may exist while its key file does not: say
			// so, so that nobody looks for the key there. The log says it
			// too: a client that cancelled the call never reads the
			// result, and without --audit-log the log is all that is left.
			level, msg := slog.LevelWarn, "key pair may have been created; its private key was not received"
			if ce.Code == cloud.CodeCreatedWithoutPrivateKey {
				level, msg = slog.LevelError, "key pair created without its private key; delete it and create it anew"
			}
			d.Logger.Log(ctx, level, msg, "keyPairName", in.KeyPairName, "region", in.RegionID, "code", ce.Code)
			e := *ce
			e.Message += fmt.Sprintf(" No private key was saved: the empty file reserved for it, %s, was removed.", path)
			return nil, &e
		}
		return nil, err
	}
	if err := writeKeyFile(f, created.PrivateKeyPEM); err != nil {
		os.Remove(path)
		d.Logger.Error("private key not saved", "keyPairName", in.KeyPairName, "region", in.RegionID, "path", path, "err", err)
		return nil, &schema.Error{Code: "PrivateKeyNotSaved", Message: fmt.Sprintf(
			"key pair %q WAS CREATED in %s (fingerprint %s, request ID %s), but its private key could not be written to %s: %v. "+
				"The private key cannot be retrieved again: delete the key pair with delete_key_pairs and create it anew.",
			created.KeyPairName, in.RegionID, created.KeyPairFingerPrint, created.RequestID, path, err)}
	}
	return result(schema.CreateKeyPairOutput{
		KeyPairID:          created.KeyPairID,
		KeyPairName:        created.KeyPairName,
		KeyPairFingerPrint: created.KeyPairFingerPrint,
		PrivateKeyFile:     path,
		RequestID:          created.RequestID,
	})
}

// reserveKeyFile creates the private key file, empty, with mode 0600. It
// never overwrites: O_EXCL fails when anything is at the path, a symbolic
// link included, so a planted link cannot redirect the key.
func reserveKeyFile(dir, path string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &schema.Error{Code: "PrivateKeyFile.Unwritable", Message: fmt.Sprintf(
			"cannot create the private key directory %s: %v; nothing was created. Fix the directory or start the server with another --private-key-dir.",
			dir, pathErrorReason(err))}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil, &schema.Error{Code: "PrivateKeyFile.AlreadyExists", Message: fmt.Sprintf(
			"%s already exists; nothing was created. Choose another keyPairName, or move the existing file away first.", path)}
	case err != nil:
		return nil, &schema.Error{Code: "PrivateKeyFile.Unwritable", Message: fmt.Sprintf(
			"cannot create %s: %v; nothing was created.", path, pathErrorReason(err))}
	}
	return f, nil
}

// writeKeyFile writes the key durably and closes the file.
func writeKeyFile(f *os.File, key []byte) error {
	_, err := f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// pathErrorReason drops the path from an *fs.PathError, which the message
// names already.
func pathErrorReason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
