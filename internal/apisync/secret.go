package apisync

import "log/slog"

// Secret is a credential (token, password). It prints, logs and marshals as
// "xxxxx" so that it never reaches a log line, error or summary by accident;
// [Secret.Reveal] returns the value for the one place that sends it.
type Secret string

const redacted = "xxxxx"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String returns "xxxxx" (or "" for an empty secret).
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts the secret in %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// LogValue redacts the secret in slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText redacts the secret in JSON and YAML encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
