package reposync

import (
	"fmt"
	"strings"
	"testing"
)

// A run that overwrites a.txt (v1 → v2) and then fails on b.txt must not
// leave a manifest claiming a.txt is still v1: when a.txt goes back to v1
// upstream, the next run must put v1 back instead of calling it unchanged
// (issue 16 item 2). Checked on mem:// and file://.
func TestFailedRunAfterOverwriteLeavesNoFalseClaim(t *testing.T) {
	for _, c := range []struct{ dest, a2 string }{
		{"mem", "v2 of a, longer"}, {"mem", "v2 of a"}, // same size: the adopt check must not keep it
		{"file", "v2 of a, longer"}, {"file", "v2 of a"}, {"file-nosidecar", "v2 of a"},
	} {
		dest := c.dest
		t.Run(fmt.Sprintf("%s/%dbytes", dest, len(c.a2)), func(t *testing.T) {
			tb := setup(t, map[string]string{"a.txt": "v1 of a", "b.txt": "v1 of b", "c.txt": "c"})
			switch dest {
			case "file":
				tb.url = "file://" + t.TempDir() + "?prefix=www/"
			case "file-nosidecar":
				tb.url = "file://" + t.TempDir() + "?prefix=www/&metadata=skip"
			}
			tb.b = openBucket(t, tb.url)
			one := func(o *Options) { o.Concurrency = 1 } // a.txt is written before b.txt is read
			tb.run(t, one)

			tb.src.set("a.txt", c.a2)
			tb.src.set("b.txt", "v2 of b")
			tb.src.failAt = "b.txt"
			if _, err := tb.tryRun(t, one); err == nil || !strings.Contains(err.Error(), "injected") {
				t.Fatalf("run 2: %v, want the injected failure", err)
			}
			if got := tb.objects(t)["a.txt"]; got != c.a2 {
				t.Fatalf("run 2 did not overwrite a.txt before failing (%q): the test proves nothing", got)
			}
			checkManifestTrue(t, tb.url)

			// Upstream goes back to v1; the source is healthy again.
			tb.src.failAt = ""
			tb.src.set("a.txt", "v1 of a")
			tb.src.set("b.txt", "v1 of b")
			s := tb.run(t, one)
			if s.UpToDate {
				t.Fatalf("run 3 says up to date: %+v", s)
			}
			got := tb.objects(t)
			for k, want := range map[string]string{"a.txt": "v1 of a", "b.txt": "v1 of b", "c.txt": "c"} {
				if got[k] != want {
					t.Errorf("after run 3 %s = %q, want %q", k, got[k], want)
				}
			}
			checkManifestTrue(t, tb.url)
			if s := tb.run(t, one); !s.UpToDate {
				t.Fatalf("run 4 is not up to date: %+v", s)
			}
		})
	}
}
