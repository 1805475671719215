package reposync

import (
	"os"
	"path/filepath"
	"testing"
)

// A file:// mirror whose manifest was lost, and whose files carry no
// attribute record (copied with cp, or written by another tool), is adopted
// by content: files equal to the source are not written again; a same-size
// file with other content is. (With ?metadata=skip the store reports no
// MD5, and such a folder is written again.)
func TestFileMirrorWithoutManifestIsAdoptedByContent(t *testing.T) {
	files := map[string]string{"a.txt": "same", "d/b.txt": "source", "c.txt": "new"}
	dir := t.TempDir()
	if !openBucket(t, "file://"+dir).Capabilities().StoresAttributes {
		t.Skip("no extended attributes on this file system")
	}
	for name, body := range map[string]string{"a.txt": "same", "d/b.txt": "STALE!"} { // as cp -r left them
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tb := &bundle{src: newMemSource(files), url: "file://" + dir}
	s := tb.run(t, nil)
	if s.Adopted != 1 || s.New != 2 {
		t.Fatalf("summary: adopted %d, new %d; want a.txt adopted, d/b.txt and c.txt written", s.Adopted, s.New)
	}
	for name, want := range files {
		if got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name))); err != nil || string(got) != want {
			t.Errorf("%s holds %q (%v); want %q", name, got, err, want)
		}
	}
	if s := tb.run(t, nil); !s.UpToDate {
		t.Errorf("second run: %+v; want up to date", s)
	}
}
