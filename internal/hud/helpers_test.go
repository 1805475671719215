package hud

import (
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/testkit"

	"github.com/ghsync/ghsync/internal/store"
)

// goldenPath is the v5 golden snapshot statuses' tests pin.
const goldenPath = "../statuses/testdata/v5_main.json"

// goldenBucket stores the golden snapshot gzip-compressed under
// acme/app/main.json, as statuses writes it.
func goldenBucket(t *testing.T) *store.Bucket {
	return testkit.SnapshotBucket(t, goldenPath, "acme/app/main.json")
}

func newHandler(t *testing.T, b *store.Bucket, refresh time.Duration) *Handler {
	t.Helper()
	h, err := New(Options{Bucket: b, Refresh: refresh})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
