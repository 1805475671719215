package config

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// redacted is what every printed form of a Secret shows.
const redacted = "[redacted]"

// secretStoreSchemes are the URL schemes of secret stores (see resolveStore).
var secretStoreSchemes = []string{"awssecretsmanager://", "awsparamstore://", "file://"}

// Secret is a secret-valued setting: a literal value (discouraged), a value
// that came from ${ENV} expansion, "file:/path" (the file's content, read at
// Resolve time, trailing newlines trimmed), or a secret-store URL
// ("awssecretsmanager://NAME?region=R", "awsparamstore://NAME?region=R",
// "file:///abs/path"); see resolveStore for the stores' URL parameters.
//
// Every printed form (fmt verbs, JSON, YAML, slog) is "[redacted]"; only
// Resolve reveals the value.
type Secret struct {
	ref string
}

// NewSecret returns a Secret holding ref (a literal or a reference, see Secret).
func NewSecret(ref string) Secret { return Secret{ref: ref} }

// IsZero reports whether the secret is unset (empty).
func (s Secret) IsZero() bool { return s.ref == "" }

// Describe returns a description that is safe to log: "unset", "literal",
// or the reference itself for files and secret stores (a path or store name
// is not secret).
func (s Secret) Describe() string {
	switch {
	case s.ref == "":
		return "unset"
	case s.isFile():
		return s.ref
	case s.isStore():
		// Drop the query (it may hold endpoint credentials).
		ref, _, _ := strings.Cut(s.ref, "?")
		return ref
	default:
		return "literal"
	}
}

// isLiteral reports whether the secret is a plain value rather than a reference.
func (s Secret) isLiteral() bool { return s.ref != "" && !s.isFile() && !s.isStore() }

func (s Secret) isFile() bool {
	return strings.HasPrefix(s.ref, "file:") && !strings.HasPrefix(s.ref, "file://")
}

func (s Secret) isStore() bool {
	for _, p := range secretStoreSchemes {
		if strings.HasPrefix(s.ref, p) {
			return true
		}
	}
	return false
}

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]" (for %#v).
func (s Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every fmt verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON encodes the secret as the JSON string "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[redacted]" (used by encoders that prefer text).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalYAML encodes the secret as "[redacted]".
func (s Secret) MarshalYAML() (any, error) { return redacted, nil }

// LogValue makes slog print "[redacted]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// Resolve returns the secret's value: the literal, the content of a
// "file:/path" (trailing CR/LF trimmed), or the current value of a secret-store
// reference. An unset secret resolves to "" without error. Errors name the
// reference (never the value).
func (s Secret) Resolve(ctx context.Context) (string, error) {
	switch {
	case s.ref == "":
		return "", nil
	case s.isFile():
		path := strings.TrimPrefix(s.ref, "file:")
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read secret file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	case s.isStore():
		return resolveStore(ctx, s.ref)
	default:
		return s.ref, nil
	}
}
