package reposync

import (
	"errors"
	"strings"
	"testing"
)

// A writer that changes a key the run planned to overwrite, between the
// plan and the upload, is never overwritten: the run stops with an error
// naming the key (ErrConcurrentRun), the manifest claims nothing untrue,
// and the next run converges on the source.
func TestFencedUploadLosesToOutsideWrite(t *testing.T) {
	for _, dest := range []string{"mem", "file"} {
		t.Run(dest, func(t *testing.T) {
			tb := setup(t, map[string]string{"a.txt": "v1 of a", "b.txt": "v1 of b"})
			if dest == "file" {
				tb.url = "file://" + t.TempDir() + "/"
				tb.b = openBucket(t, tb.url)
			}
			tb.run(t, nil)
			tb.src.set("a.txt", "v2 of a")
			tb.src.set("new.txt", "new")
			rs := &raceSource{memSource: tb.src}
			rs.inner = func() {
				tb.put(t, "a.txt", "written by someone else")
				tb.put(t, "new.txt", "also someone else's")
			}
			_, err := tb.tryRun(t, func(o *Options) { o.Source = rs })
			if !errors.Is(err, ErrConcurrentRun) || !strings.Contains(err.Error(), "changed by another run or writer since this run planned") {
				t.Fatalf("run 2: %v, want a fenced upload's ErrConcurrentRun", err)
			}
			if !strings.Contains(err.Error(), "a.txt") && !strings.Contains(err.Error(), "new.txt") {
				t.Fatalf("run 2's error names no key: %v", err)
			}
			got := tb.objects(t)
			if got["a.txt"] != "written by someone else" || got["new.txt"] != "also someone else's" {
				t.Fatalf("run 2 overwrote another writer's objects: a.txt=%q new.txt=%q", got["a.txt"], got["new.txt"])
			}
			checkManifestTrue(t, tb.url)
			tb.run(t, nil)
			got = tb.objects(t)
			for k, want := range map[string]string{"a.txt": "v2 of a", "b.txt": "v1 of b", "new.txt": "new"} {
				if got[k] != want {
					t.Errorf("after run 3 %s = %q, want %q", k, got[k], want)
				}
			}
			checkManifestTrue(t, tb.url)
			if s := tb.run(t, nil); !s.UpToDate {
				t.Errorf("run 4 is not up to date: %+v", s)
			}
		})
	}
}

// A folder replaced by a file of the same name ("a/b" → "a") on file://,
// where a key cannot be both: the blocking delete runs first and one run
// converges.
func TestFolderBecomesFile(t *testing.T) {
	tb := setup(t, map[string]string{"a/b.txt": "in a folder", "a/c/d.txt": "deeper", "z.txt": "z"})
	tb.url = "file://" + t.TempDir() + "/"
	tb.b = openBucket(t, tb.url)
	tb.run(t, nil)
	delete(tb.src.files, "a/b.txt")
	delete(tb.src.files, "a/c/d.txt")
	tb.src.set("a", "now a file")
	tb.run(t, nil)
	got := tb.objects(t)
	if got["a"] != "now a file" || got["z.txt"] != "z" || len(keys(got)) != 2 {
		t.Fatalf("store after the change: %v", got)
	}
	checkManifestTrue(t, tb.url)
	// And back.
	delete(tb.src.files, "a")
	tb.src.set("a/b.txt", "a folder again")
	tb.run(t, nil)
	got = tb.objects(t)
	if got["a/b.txt"] != "a folder again" || len(keys(got)) != 2 {
		t.Fatalf("store after the change back: %v", got)
	}
	checkManifestTrue(t, tb.url)
}
