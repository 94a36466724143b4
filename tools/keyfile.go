package tools

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"
)

// Private key files.
//
// A created key pair's private key exists once, in CreateKeyPair's answer.
// Before the create is sent, its file is reserved: created exclusively
// (never overwriting, never following a link), mode 0600, holding one line
// that names the key pair, the region and the process. When the answer
// comes, the key is written to a temporary file beside it, synced, and
// renamed over the reservation, so that the file at the final path is
// always either the reservation or the whole key. A process that dies in
// between leaves the reservation (and maybe the temporary file), which the
// next start reconciles (see Reconcile).

// maxFileName is the longest file name most file systems take, in bytes.
const maxFileName = 255

// reservationMarker starts the one line of a reserved key file.
const reservationMarker = "# ecs-keypair-mcp reserved this file for a private key: "

// partialSuffix marks the temporary file a key is written to.
const partialSuffix = ".partial"

// reservation is what a reserved key file says.
type reservation struct {
	KeyPairName string `json:"keyPairName"`
	RegionID    string `json:"regionId"`
	PID         int    `json:"pid"`
	Time        string `json:"time"`
	// Token tells this reservation from another of the same name.
	Token string `json:"token"`
}

// keyFileName is the private key file's name for a key pair:
// <name>.<region>.pem, the region in it so that one name in two regions
// gives two files. A name too long for the file system (a 120-character
// CJK name takes 360 bytes) is cut at a character boundary, and a hash of
// the whole name keeps the file name unique; '~' never occurs in a key pair
// name, so a cut name cannot meet a real one.
func keyFileName(name, region string) string {
	full := name + "." + region + ".pem"
	if len(full) <= maxFileName {
		return full
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "~" + hex.EncodeToString(sum[:6]) + "." + region + ".pem"
	keep := maxFileName - len(suffix)
	cut := name
	for len(cut) > keep {
		_, n := utf8.DecodeLastRuneInString(cut)
		cut = cut[:len(cut)-n]
	}
	return cut + suffix
}

// keyFile is a reserved private key file.
type keyFile struct {
	path string
	res  reservation
}

// checkKeyDir refuses a private key directory that others can write to:
// they could swap the key file for one of theirs, or read what they
// planted. A missing directory is created, mode 0700.
func checkKeyDir(dir string) error {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return failure("PrivateKeyFile.Unwritable", "cannot create the private key directory %s: %v; nothing was created. "+
				"Fix the directory or start the server with another --private-key-dir.", dir, pathErrorReason(err))
		}
		return nil
	}
	if err != nil {
		return failure("PrivateKeyFile.Unwritable", "cannot use the private key directory %s: %v; nothing was created.", dir, pathErrorReason(err))
	}
	if !info.IsDir() {
		return failure("PrivateKeyFile.Unwritable", "the private key directory %s is not a directory; nothing was created. "+
			"Start the server with another --private-key-dir.", dir)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o022 != 0 {
		return failure("PrivateKeyDirectory.Unsafe", "the private key directory %s can be written by others (mode %04o), who could "+
			"replace or read the private key files; nothing was created. Make it private (chmod go-w %s, as ssh requires of ~/.ssh) "+
			"or start the server with another --private-key-dir.", dir, info.Mode().Perm(), dir)
	}
	return nil
}

// reserveKeyFile reserves the private key file of a key pair before the
// create is sent.
func reserveKeyFile(dir, name, region string) (*keyFile, error) {
	if err := checkKeyDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, keyFileName(name, region))
	token := make([]byte, 8)
	_, _ = rand.Read(token) // crypto/rand.Read never fails on supported platforms
	kf := &keyFile{path: path, res: reservation{KeyPairName: name, RegionID: region, PID: os.Getpid(),
		Time: time.Now().UTC().Format(time.RFC3339), Token: hex.EncodeToString(token)}}
	line, _ := json.Marshal(kf.res) // a reservation always encodes
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil, failure("PrivateKeyFile.AlreadyExists", "%s already exists; nothing was created. Choose another keyPairName, "+
			"or move the existing file away first.", path)
	case err != nil:
		return nil, failure("PrivateKeyFile.Unwritable", "cannot create %s: %v; nothing was created.", path, pathErrorReason(err))
	}
	_, err = f.Write(append([]byte(reservationMarker), append(line, '\n')...))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, failure("PrivateKeyFile.Unwritable", "cannot write %s: %v; nothing was created.", path, pathErrorReason(err))
	}
	return kf, nil
}

// partialPath is where the key is written before it replaces the
// reservation: named after the reservation's token, so that it fits the
// file system however long the key file's name, and Reconcile finds it.
func partialPath(dir string, r reservation) string {
	return filepath.Join(dir, "ecs-keypair-mcp-"+r.Token+partialSuffix)
}

// commit puts the key in place of the reservation, durably.
func (kf *keyFile) commit(key []byte) error {
	tmp := partialPath(filepath.Dir(kf.path), kf.res)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, kf.path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(filepath.Dir(kf.path))
	return nil
}

// release removes the reservation, if it is still this one: never a file
// that something else put there since.
func (kf *keyFile) release() error {
	got, ok := readReservation(kf.path)
	if !ok || got.Token != kf.res.Token {
		return nil
	}
	return os.Remove(kf.path)
}

// readReservation reads the reservation at path; ok is false when the file
// is not one (a key, or anything else).
func readReservation(path string) (reservation, bool) {
	var r reservation
	f, err := os.Open(path)
	if err != nil {
		return r, false
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 4096).ReadString('\n')
	if err != nil {
		return r, false
	}
	payload, found := strings.CutPrefix(line, reservationMarker)
	if !found || json.Unmarshal([]byte(payload), &r) != nil || r.KeyPairName == "" || r.RegionID == "" {
		return r, false
	}
	return r, true
}

// isPrivateKeyPEM reports whether b is a whole PEM private key, as a
// temporary file holds when the process died after writing it.
func isPrivateKeyPEM(b []byte) bool {
	b = bytes.TrimSpace(b)
	return bytes.HasPrefix(b, []byte("-----BEGIN ")) && bytes.Contains(b, []byte("PRIVATE KEY-----")) &&
		bytes.HasSuffix(b, []byte("PRIVATE KEY-----"))
}

// syncDir makes a rename in dir durable, where the system allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // not supported everywhere; the rename is done either way
		d.Close()
	}
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
