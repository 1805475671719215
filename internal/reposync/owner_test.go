package reposync

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/reposync/source"
)

func TestOwnerOfIgnoresRefAndSpelling(t *testing.T) {
	same := [][]string{
		{"github:acme/site", "github:acme/site@main", "github:Acme/Site@v2", "github:acme/site@release:latest", "https://github.com/acme/site/tree/dev"},
		{"git+https://example.com/acme/site.git", "git+https://EXAMPLE.com/acme/site#main", "git+https://example.com/acme/site/"},
	}
	for _, group := range same {
		var first string
		for _, s := range group {
			spec, err := source.ParseSpec(s)
			if err != nil {
				t.Fatal(err)
			}
			o := OwnerOf(spec)
			if first == "" {
				first = o
			} else if o != first {
				t.Errorf("%s: owner %q, want %q (as %s)", s, o, first, group[0])
			}
		}
	}
	a, _ := source.ParseSpec("github:acme/site")
	b, _ := source.ParseSpec("github:acme/docs")
	if OwnerOf(a) == OwnerOf(b) {
		t.Errorf("two repositories share an owner %q", OwnerOf(a))
	}
	d1, _ := source.ParseSpec("dir:" + t.TempDir())
	d2, _ := source.ParseSpec("dir:" + t.TempDir())
	if OwnerOf(d1) == OwnerOf(d2) || !strings.HasPrefix(OwnerOf(d1), "local:/") {
		t.Errorf("folders: %q, %q", OwnerOf(d1), OwnerOf(d2))
	}
}

func TestAnotherSourceIsRefusedUntilTakeOver(t *testing.T) {
	tb := setup(t, map[string]string{"a.txt": "a", "b.txt": "b"})
	tb.run(t, func(o *Options) { o.Owner = "local:/one" })

	other := newMemSource(map[string]string{"c.txt": "c"})
	_, err := tb.tryRun(t, func(o *Options) { o.Owner, o.Source = "local:/two", other })
	var oe *OwnerError
	if !errors.Is(err, ErrOwned) || !errors.As(err, &oe) || oe.Owner != "local:/one" || oe.Source != "local:/two" {
		t.Fatalf("got %v, want an OwnerError naming local:/one", err)
	}
	if got := strings.Join(keys(tb.objects(t)), ","); got != "a.txt,b.txt" {
		t.Fatalf("refused run changed the prefix: %s", got)
	}
	// A dry run is refused the same way.
	if _, err := tb.tryRun(t, func(o *Options) { o.Owner, o.Source, o.DryRun = "local:/two", other, true }); !errors.Is(err, ErrOwned) {
		t.Fatalf("dry run: %v", err)
	}
	tb.run(t, func(o *Options) { o.Owner, o.Source, o.TakeOver = "local:/two", other, true })
	if got := strings.Join(keys(tb.objects(t)), ","); got != "c.txt" {
		t.Fatalf("after take-over: %s", got)
	}
	if m := tb.manifest(t); m.Owner != "local:/two" {
		t.Fatalf("manifest owner %q after take-over", m.Owner)
	}
}

func TestManifestWithoutOwnerIsTakenByNextWrite(t *testing.T) {
	tb := setup(t, map[string]string{"a.txt": "a"})
	tb.run(t, nil) // no Owner: an older build's manifest
	if m := tb.manifest(t); m.Owner != "" {
		t.Fatalf("owner %q without Options.Owner", m.Owner)
	}
	// Nothing changed in the source: the run still records its owner.
	s := tb.run(t, func(o *Options) { o.Owner = "local:/one" })
	if m := tb.manifest(t); m.Owner != "local:/one" || s.New+s.Modified+s.Deleted != 0 {
		t.Fatalf("owner %q (%+v), want it recorded without changes", m.Owner, s)
	}
	if s := tb.run(t, func(o *Options) { o.Owner = "local:/one" }); !s.UpToDate {
		t.Fatalf("next run not up to date: %+v", s)
	}
	if _, err := tb.tryRun(t, func(o *Options) { o.Owner = "local:/two" }); !errors.Is(err, ErrOwned) {
		t.Fatalf("got %v, want ErrOwned", err)
	}
}

func (tb *bundle) manifest(t *testing.T) *Manifest {
	t.Helper()
	m, err := ReadManifest(context.Background(), tb.b, DefaultManifestKey)
	if err != nil || m == nil {
		t.Fatalf("read manifest: %v", err)
	}
	return m
}

// A take-over by a source with the same content (the same repository
// through another kind of source) still records the new owner.
func TestTakeOverWithSameContentRecordsOwner(t *testing.T) {
	tb := setup(t, map[string]string{"a.txt": "a"})
	tb.run(t, func(o *Options) { o.Owner = "github:acme/site" })
	tb.run(t, func(o *Options) { o.Owner, o.TakeOver = "git:https://github.com/acme/site", true })
	if m := tb.manifest(t); m.Owner != "git:https://github.com/acme/site" {
		t.Fatalf("owner %q after take-over", m.Owner)
	}
	if _, err := tb.tryRun(t, func(o *Options) { o.Owner = "git:https://github.com/acme/site" }); err != nil {
		t.Fatalf("new owner refused: %v", err)
	}
}
