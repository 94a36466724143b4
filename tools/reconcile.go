package tools

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"github.com/ecs-keypair-mcp/ecs-keypair-mcp/schema"
)

// Reconcile finishes what an earlier process left of its creates in the
// private key directory, and says what it found. For each key file still
// reserved by a process that is gone:
//
//   - a whole private key in the temporary file beside it (the process died
//     between writing the key and renaming it) is put in place;
//   - otherwise the reservation is removed, so that it no longer blocks the
//     name, after asking the cloud whether the key pair exists: one that does
//     exists without its private key, and is reported (a warning in the log,
//     a "found" line in the audit log) with what to do.
//
// A reservation whose key pair cannot be looked up (no credentials, no
// network) is left for the next start. Reconcile returns when done, or when
// ctx ends.
func Reconcile(ctx context.Context, d Deps) {
	entries, err := os.ReadDir(d.PrivateKeyDir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.Logger.Warn("cannot read the private key directory to reconcile reserved key files", "dir", d.PrivateKeyDir, "err", err)
		}
		return
	}
	var found []keyFile
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".pem") {
			continue
		}
		path := filepath.Join(d.PrivateKeyDir, e.Name())
		r, ok := readReservation(path)
		if !ok || (r.PID != os.Getpid() && processAlive(r.PID)) {
			continue // a key, or a create still under way in another process
		}
		found = append(found, keyFile{path, r})
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, f := range found {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			reconcileOne(ctx, d, f)
		})
	}
	wg.Wait()
}

func reconcileOne(ctx context.Context, d Deps, kf keyFile) {
	path, r := kf.path, kf.res
	log := d.Logger.With("keyPairName", r.KeyPairName, "region", r.RegionID, "file", path)
	partial := partialPath(filepath.Dir(path), r)
	if b, err := os.ReadFile(partial); err == nil && isPrivateKeyPEM(b) {
		if err := os.Rename(partial, path); err == nil {
			syncDir(filepath.Dir(path))
			log.Warn("recovered the private key of a key pair created by a process that stopped before putting its key file in place")
			return
		}
	}
	os.Remove(partial)
	kp, err := d.Cloud.DescribeKeyPairs(ctx, schema.DescribeKeyPairsInput{RegionID: r.RegionID, KeyPairName: r.KeyPairName})
	if err != nil {
		log.Warn("a reserved private key file was left by a process that stopped during a create; whether its key pair exists "+
			"could not be checked, so the file stays until the next start", "err", errorText(err))
		return
	}
	exists := exact(kp.KeyPairs, r.KeyPairName) != nil
	// Only if it still holds that reservation.
	if err := kf.release(); err != nil && !errors.Is(err, fs.ErrNotExist) {
		log.Warn("cannot remove a reserved private key file", "err", err)
	}
	if !exists {
		log.Info("removed a reserved private key file left by a process that stopped before its create was applied")
		return
	}
	const what = "the key pair exists without its private key: the process that created it stopped before saving the key. " +
		"Delete it with delete_key_pairs and create it anew."
	log.Warn(what)
	if d.Audit != nil {
		t := newTrail(d.Audit, "create_key_pair", r.RegionID)
		t.write(t.entry(EventFound, AuditEntry{Items: []string{r.KeyPairName}, Executed: true, Reason: what,
			Outcomes: []AuditOutcome{{Item: r.KeyPairName, Outcome: "created_without_private_key"}}}))
	}
}

// processAlive reports whether a process with this ID runs on this
// machine (or may: an ID can be reused, and a live one is left alone).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	if runtime.GOOS == "windows" {
		p.Release()
		return true // FindProcess opens only a process that exists
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
