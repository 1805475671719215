package store

import (
	"context"
	"strings"
	"testing"
)

// gs:// with anonymous=true builds an unauthenticated client without a
// credential lookup (no network needed to open); bad values are errors.
func TestOpenGSAnonymous(t *testing.T) {
	t.Setenv("STORAGE_EMULATOR_HOST", "")
	b, err := Open(context.Background(), "gs://public-bucket/site/?anonymous=true", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Kind() != "gs" || b.Prefix() != "site/" || !b.Capabilities().VerbatimKeys {
		t.Fatalf("Kind %q Prefix %q caps %+v", b.Kind(), b.Prefix(), b.Capabilities())
	}
	for raw, want := range map[string]string{
		"gs://b/?anonymous=maybe":            "anonymous",
		"gs://b/?anonymous=true&access_id=x": `"access_id" is not used`,
	} {
		if _, err := Open(context.Background(), raw, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%s) = %v, want an error about %s", raw, err, want)
		}
	}
}
