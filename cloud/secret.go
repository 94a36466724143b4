package cloud

import (
	"fmt"
	"log/slog"
)

// PrivateKey is a PEM-encoded private key. It is a []byte (write it to a
// file with f.Write(key)), but every rendering of it, through fmt, slog,
// encoding/json or encoding.TextMarshaler, shows "[REDACTED]" instead.
type PrivateKey []byte

const redacted = "[REDACTED]"

// String redacts the key.
func (PrivateKey) String() string { return redacted }

// GoString redacts the key for %#v.
func (PrivateKey) GoString() string { return redacted }

// Format redacts the key for every fmt verb (%s, %v, %x, %q ...).
func (PrivateKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue redacts the key in slog output.
func (PrivateKey) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON redacts the key in JSON.
func (PrivateKey) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText redacts the key wherever text marshalling is used.
func (PrivateKey) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Wipe overwrites the key in memory; call it once the key is written.
func (k PrivateKey) Wipe() { clear(k) }

// CreatedKeyPair is what CreateKeyPair returns. The private key is handed to
// the caller once, to be written to a file; it is never shown by fmt, slog
// or JSON.
type CreatedKeyPair struct {
	KeyPairID          string
	KeyPairName        string
	KeyPairFingerPrint string
	RequestID          string
	PrivateKeyPEM      PrivateKey
}

// String shows everything but the private key.
func (k CreatedKeyPair) String() string {
	return fmt.Sprintf("CreatedKeyPair{KeyPairID: %q, KeyPairName: %q, KeyPairFingerPrint: %q, RequestID: %q, PrivateKeyPEM: %s}",
		k.KeyPairID, k.KeyPairName, k.KeyPairFingerPrint, k.RequestID, redacted)
}

// GoString is String.
func (k CreatedKeyPair) GoString() string { return k.String() }

// Format makes every fmt verb print String.
func (k CreatedKeyPair) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue shows everything but the private key.
func (k CreatedKeyPair) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("keyPairId", k.KeyPairID),
		slog.String("keyPairName", k.KeyPairName),
		slog.String("keyPairFingerPrint", k.KeyPairFingerPrint),
		slog.String("requestId", k.RequestID),
	)
}
