package gcstest

import (
	"context"
	"net/url"
	"strings"
	"testing"

	gcs "google.golang.org/api/storage/v1"
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
	if _, err := c.Buckets.Get(u.Host).Context(ctx).Do(); err != nil {
		t.Fatalf("bucket %s: %v", u.Host, err)
	}
	name := `keeps\back+slash %.txt`
	if _, err := c.Objects.Insert(u.Host, &gcs.Object{Name: name}).Media(strings.NewReader("x")).Context(ctx).Do(); err != nil {
		t.Fatal(err)
	}
	a, err := c.Objects.Get(u.Host, name).Context(ctx).Do()
	if err != nil || a.Name != name {
		t.Fatalf("object name %q, %v", a.Name, err)
	}
}
