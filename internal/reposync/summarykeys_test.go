package reposync

import (
	"slices"
	"testing"
)

// Summary.Keys lists every key a run wrote or deleted (dry: would), in
// files and archive mode, only with Options.RecordKeys; else it is nil.
func TestSummaryKeysOnlyWhenRecorded(t *testing.T) {
	record := func(o *Options) { o.RecordKeys = true }
	keys := func(s *Summary) []string { return slices.Sorted(slices.Values(s.Keys)) }

	tb := setup(t, map[string]string{"a.txt": "a", "b.txt": "b"})
	if s := tb.run(t, nil); s.New != 2 || s.Keys != nil {
		t.Errorf("not recording: %d new, keys %q; want 2 and none", s.New, s.Keys)
	}
	tb.src.set("a.txt", "a2")
	delete(tb.src.files, "b.txt")
	tb.src.set("c.txt", "c")
	dry := func(o *Options) { o.RecordKeys, o.DryRun = true, true }
	if s := tb.run(t, dry); !slices.Equal(keys(s), []string{"a.txt", "b.txt", "c.txt"}) {
		t.Errorf("dry run: keys %q, want a.txt b.txt c.txt", keys(s))
	}
	if s := tb.run(t, record); s.Modified != 1 || s.New != 1 || s.Deleted != 1 || !slices.Equal(keys(s), []string{"a.txt", "b.txt", "c.txt"}) {
		t.Errorf("recording: %d modified, %d new, %d deleted, keys %q; want 1, 1, 1 and a.txt b.txt c.txt", s.Modified, s.New, s.Deleted, keys(s))
	}

	archive := func(o *Options) { o.Mode, o.ArchiveKey, o.RecordKeys = ModeArchive, "site.zip", true }
	if s := tb.run(t, archive); !slices.Equal(keys(s), []string{"a.txt", "c.txt", "site.zip"}) {
		t.Errorf("archive mode: keys %q, want a.txt c.txt (deleted) and site.zip", keys(s))
	}
	tb.src.set("c.txt", "c2")
	if s := tb.run(t, func(o *Options) { archive(o); o.RecordKeys = false }); s.Modified != 1 || s.Keys != nil {
		t.Errorf("archive mode, not recording: %d modified, keys %q; want 1 and none", s.Modified, s.Keys)
	}
}
