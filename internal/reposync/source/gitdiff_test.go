package source

import (
	"context"
	"testing"
)

// Diff names exactly the paths a commit changed, with the entries List
// gives them, and declines (ok false) what it cannot prove: an unknown
// commit, more changes than the limit, a change touching a symlink.
func TestGitDiff(t *testing.T) {
	fx := newGitFixture(t)
	g, err := NewGitCheckout(fx.dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := g.Resolve(ctx, Hint{}); err != nil {
		t.Fatal(err)
	}
	changes, ok, err := g.Diff(ctx, fx.first.String(), 10)
	if err != nil || !ok {
		t.Fatalf("Diff: ok %v, %v", ok, err)
	}
	listed, err := g.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]Entry{}
	for _, e := range listed {
		byPath[e.Path] = e
	}
	if len(changes) != 2 || changes[0].Path != "NEW.txt" || changes[1].Path != "README.md" {
		t.Fatalf("changes %+v, want NEW.txt and README.md", changes)
	}
	for _, c := range changes {
		if c.New == nil || *c.New != byPath[c.Path] {
			t.Fatalf("%s: diff entry %+v, listed %+v", c.Path, c.New, byPath[c.Path])
		}
	}
	if _, ok, err := g.Diff(ctx, fx.first.String(), 1); ok || err != nil {
		t.Fatalf("2 changes over a limit of 1: ok %v, %v", ok, err)
	}
	if _, ok, err := g.Diff(ctx, "0123456789012345678901234567890123456789", 10); ok || err != nil {
		t.Fatalf("unknown commit: ok %v, %v", ok, err)
	}
	// From the second commit back to the first: README.md modified and
	// NEW.txt deleted.
	back, err := NewGitCheckout(fx.dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back.commit = fx.first
	changes, ok, err = back.Diff(ctx, fx.second.String(), 10)
	if err != nil || !ok || len(changes) != 2 || changes[0].New != nil || changes[1].New == nil {
		t.Fatalf("diff back: %+v ok %v, %v", changes, ok, err)
	}
}
