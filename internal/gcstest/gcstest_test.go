package gcstest

import (
	"context"
	"net/url"
	"testing"
)

// TestBucketIsFreshAndUsable: Bucket returns a gs:// URL of an existing,
// empty bucket on the emulator.
func TestBucketIsFreshAndUsable(t *testing.T) {
	raw := Bucket(t)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "gs" || u.Query().Get("anonymous") != "true" {
		t.Fatalf("Bucket() = %q, %v", raw, err)
	}
	c := Client(t)
	ctx := context.Background()
	if _, err := c.Bucket(u.Host).Attrs(ctx); err != nil {
		t.Fatalf("bucket %s: %v", u.Host, err)
	}
	w := c.Bucket(u.Host).Object(`keeps\back+slash %.txt`).NewWriter(ctx)
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := c.Bucket(u.Host).Object(`keeps\back+slash %.txt`).Attrs(ctx)
	if err != nil || a.Name != `keeps\back+slash %.txt` {
		t.Fatalf("object name %q, %v", a.Name, err)
	}
}
