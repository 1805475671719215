package github

import (
	"context"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/githubtest"
)

// TestResolveReleaseOneRequest: an unchanged release resolves with one
// request answered 304; a new release, and a tag moved under an unchanged
// release once ReleaseCommitTTL has passed, are seen.
func TestResolveReleaseOneRequest(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{})
	repo := s.AddRepo("acme", "app")
	c1 := repo.Commit("main", map[string]string{"a": "1"})
	repo.AddRelease("v1")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, _ := newFakeClient(t, s, Config{Clock: func() time.Time { return now }})
	ctx := context.Background()
	rc, err := c.For(ctx, "acme", "app")
	if err != nil {
		t.Fatal(err)
	}
	rel, sha, _, err := rc.ResolveRelease(ctx, "latest")
	if err != nil || rel.TagName != "v1" || sha != c1 {
		t.Fatalf("first resolve: %v %q %v", rel, sha, err)
	}
	s.ResetCounts()
	if rel, sha, _, err = rc.ResolveRelease(ctx, "latest"); err != nil || sha != c1 || rel.TagName != "v1" {
		t.Fatalf("steady resolve: %v %q %v", rel, sha, err)
	}
	if s.Total() != 1 || s.NotModified() != 1 {
		t.Fatalf("steady resolve: %d requests, %d answered 304; want 1 and 1 (%v)", s.Total(), s.NotModified(), s.Counts())
	}

	// The tag moves without the release changing: seen after the TTL,
	// with the commit asked for (conditionally).
	c2 := repo.Commit("main", map[string]string{"a": "2"})
	repo.Tag("v1", c2)
	now = now.Add(ReleaseCommitTTL)
	if _, sha, _, err = rc.ResolveRelease(ctx, "latest"); err != nil || sha != c2 {
		t.Fatalf("after the tag moved and the TTL passed: %q %v; want %s", sha, err, c2)
	}
	// An unchanged tag after the TTL: two requests, both 304.
	now = now.Add(ReleaseCommitTTL)
	s.ResetCounts()
	if _, sha, _, err = rc.ResolveRelease(ctx, "latest"); err != nil || sha != c2 || s.Total() != 2 || s.NotModified() != 2 {
		t.Fatalf("revalidation: %q %v, %d requests, %d 304", sha, err, s.Total(), s.NotModified())
	}

	// A new release is seen at once.
	c3 := repo.Commit("main", map[string]string{"a": "3"})
	repo.AddRelease("v2")
	if rel, sha, _, err = rc.ResolveRelease(ctx, "latest"); err != nil || rel.TagName != "v2" || sha != c3 {
		t.Fatalf("new release: %v %q %v", rel, sha, err)
	}
}

// TestReleaseRecordAcrossClients: a record kept by one client lets a new
// client (another process) resolve the unchanged release with one request
// answered 304.
func TestReleaseRecordAcrossClients(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{})
	repo := s.AddRepo("acme", "app")
	c1 := repo.Commit("main", map[string]string{"a": "1"})
	repo.AddRelease("v1", githubtest.Asset{Name: "app.tgz", Content: []byte("bin")})
	ctx := context.Background()
	first, _ := newFakeClient(t, s, Config{})
	rc, _ := first.For(ctx, "acme", "app")
	if _, _, _, err := rc.ResolveRelease(ctx, "latest"); err != nil {
		t.Fatal(err)
	}
	rec, ok := first.ReleaseRecord("acme", "app", "latest")
	if !ok || rec.SHA != c1 || rec.Release.TagName != "v1" || len(rec.Release.Assets) != 1 {
		t.Fatalf("record: %+v %v", rec, ok)
	}
	second, _ := newFakeClient(t, s, Config{})
	second.RestoreRelease("acme", "app", "latest", rec)
	rc2, _ := second.For(ctx, "acme", "app")
	s.ResetCounts()
	rel, sha, _, err := rc2.ResolveRelease(ctx, "latest")
	if err != nil || sha != c1 || len(rel.Assets) != 1 {
		t.Fatalf("restored resolve: %v %q %v", rel, sha, err)
	}
	if s.Total() != 1 || s.NotModified() != 1 {
		t.Errorf("restored resolve: %d requests, %d answered 304; want 1 and 1", s.Total(), s.NotModified())
	}
}
