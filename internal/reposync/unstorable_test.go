package reposync

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// Item 6 of issue 8, end to end: a folder with config.attrs and
// has__0x41.txt mirrors completely to mem:// (every file under its own
// name); to file:// the run fails naming config.attrs and writes nothing,
// unless SkipUnstorable is on, when it is left out and counted.
func TestRunUnstorableNames(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"config.attrs": "a", "has__0x41.txt": "b", "x__0x41__y.txt": "c", "index.html": "d"} {
		writeFile(t, dir, name, []byte(body))
	}
	run := func(url string, skip bool) (*Summary, *store.Bucket, error) {
		b, err := store.Open(context.Background(), url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close() })
		s, err := Run(context.Background(), Options{Job: "t", Source: source.NewDir(dir, source.DirOptions{}), Bucket: b, SkipUnstorable: skip})
		return s, b, err
	}
	keys := func(b *store.Bucket) []string {
		var ks []string
		if err := b.List(context.Background(), func(o store.Object) error {
			if !strings.HasPrefix(o.Key, ".ghsync/") {
				ks = append(ks, o.Key)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return ks
	}

	s, b, err := run("mem://", false)
	if err != nil || s.New != 4 || s.Skipped != 0 || s.SkippedText() != "0 skipped" {
		t.Fatalf("mem://: %v, summary %+v (%s)", err, s, s.SkippedText())
	}
	if got := strings.Join(keys(b), ","); got != "config.attrs,has__0x41.txt,index.html,x__0x41__y.txt" {
		t.Fatalf("mem:// keys = %s", got)
	}

	// file:// holds every name by default, config.attrs included.
	s, b, err = run("file://"+t.TempDir(), false)
	if err != nil || s.New != 4 || s.Skipped != 0 {
		t.Fatalf("file://: %v, summary %+v", err, s)
	}
	if got := strings.Join(keys(b), ","); got != "config.attrs,has__0x41.txt,index.html,x__0x41__y.txt" {
		t.Fatalf("file:// keys = %s", got)
	}

	// With side files (?metadata=sidecar) .attrs names are reserved.
	fileURL := "file://" + t.TempDir() + "?metadata=sidecar"
	_, b, err = run(fileURL, false)
	if !errors.Is(err, ErrUnstorable) || !strings.Contains(err.Error(), `"config.attrs"`) || !strings.Contains(err.Error(), "1 source files") {
		t.Fatalf("file:// without SkipUnstorable: %v; want ErrUnstorable naming config.attrs", err)
	}
	if ks := keys(b); len(ks) != 0 {
		t.Fatalf("the failed run wrote %v", ks)
	}

	s, b, err = run(fileURL, true)
	if err != nil || s.New != 3 || s.Skipped != 1 || s.Skips != (Skips{Unstorable: 1}) || s.Paths.Skipped[0] != "config.attrs" {
		t.Fatalf("file:// with SkipUnstorable: %v, summary %+v", err, s)
	}
	if got := s.SkippedText(); got != "1 skipped (1 unstorable name)" {
		t.Errorf("SkippedText = %q", got)
	}
	if got := strings.Join(keys(b), ","); got != "has__0x41.txt,index.html,x__0x41__y.txt" {
		t.Fatalf("file:// keys = %s", got)
	}
	// The next run is up to date and still reports what is left out.
	if s2, _, err := run(fileURL, true); err != nil || !s2.UpToDate || s2.Skipped != 1 || s2.Skips.Unstorable != 1 ||
		s2.SkippedText() != "1 skipped (1 unstorable name)" || len(s2.Paths.Skipped) != 1 {
		t.Fatalf("up-to-date run: %v, summary %+v", err, s2)
	}
	js, _ := json.Marshal(s)
	if !strings.Contains(string(js), `"skipped":1,"skips":{"unstorable":1,"symlinks":0,"submodules":0}`) ||
		!strings.Contains(string(js), `"skipped":["config.attrs"]`) {
		t.Errorf("JSON summary lacks the skips: %s", js)
	}
}
