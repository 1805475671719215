package source

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGitCheckoutPackedWorktree uses the git binary (skipped without it) to
// pack the fixture's objects and add a linked worktree at tag v1; the
// checkout source must read packed objects through the worktree's
// commondir.
func TestGitCheckoutPackedWorktree(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git binary not installed")
	}
	fx := newGitFixture(t)
	wt := filepath.Join(t.TempDir(), "wt")
	for _, args := range [][]string{
		{"-C", fx.dir, "gc", "--quiet"},
		{"-C", fx.dir, "worktree", "add", "--quiet", "--detach", wt, "v1"},
	} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(fx.dir, ".git", "objects", "pack", "*.pack")); len(m) == 0 {
		t.Fatal("git gc made no pack")
	}
	g, err := NewGitCheckout(wt, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := g.Resolve(context.Background(), Hint{})
	if err != nil {
		t.Fatal(err)
	}
	if rev.Commit != fx.first.String() {
		t.Errorf("worktree commit %s, want %s", rev.Commit, fx.first)
	}
	entries := mustList(t, g)
	if len(entries) != 8 {
		t.Errorf("listed %d entries, want 8", len(entries))
	}
	got, _ := fetchAll(t, g, entries, 3)
	if got["README.md"] != "hello\n" || len(got["data/big.bin"]) != 200_000 {
		t.Errorf("packed content wrong: README=%q", got["README.md"])
	}
}
