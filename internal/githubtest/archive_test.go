package githubtest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-github/v88/github"
)

func archiveRepo(t *testing.T) (*Server, string) {
	s := New(t, Options{})
	r := s.AddRepo("acme", "site")
	sha := r.CommitFiles("main", []File{
		{Path: "a.txt", Content: []byte("hello")},
		{Path: "dir/b.txt", Content: []byte("x")},
		{Path: "bin/run", Content: []byte("#!/bin/sh\n"), Mode: "100755"},
		{Path: "link", Content: []byte("a.txt"), Mode: "120000"},
	})
	return s, sha
}

func TestTarballRedirectAndStream(t *testing.T) {
	s, sha := archiveRepo(t)
	ctx := context.Background()
	c := newClient(t, s)
	u, _, err := c.Repositories.GetArchiveLink(ctx, "acme", "site", github.Tarball, &github.RepositoryContentGetOptions{Ref: "main"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.String(), s.URL+"_codeload/acme/site/legacy.tar.gz/") {
		t.Fatalf("archive link %s", u)
	}
	res, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	gz, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	top := "acme-site-" + sha[:7] + "/"
	got := map[string]string{}
	var comment string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			comment = h.PAXRecords["comment"]
			continue
		}
		if !strings.HasPrefix(h.Name, top) {
			t.Errorf("entry %q outside wrapper folder %q", h.Name, top)
			continue
		}
		name := strings.TrimPrefix(h.Name, top)
		switch h.Typeflag {
		case tar.TypeReg:
			b, _ := io.ReadAll(tr)
			got[name] = string(b)
			if name == "bin/run" && h.Mode&0o111 == 0 {
				t.Errorf("bin/run mode %o, want executable", h.Mode)
			}
		case tar.TypeSymlink:
			got[name] = "-> " + h.Linkname
		case tar.TypeDir:
			got[name] = "dir"
		}
	}
	want := map[string]string{"": "dir", "a.txt": "hello", "dir/": "dir", "dir/b.txt": "x", "bin/": "dir", "bin/run": "#!/bin/sh\n", "link": "-> a.txt"}
	if len(got) != len(want) {
		t.Errorf("tar entries %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("tar %q = %q, want %q", k, got[k], v)
		}
	}
	if comment != sha {
		t.Errorf("pax comment %q, want commit %s", comment, sha)
	}
	if s.Count("GET /_codeload") != 1 || s.Count("GET /repos/{owner}/{repo}/tarball/{ref}") != 1 {
		t.Errorf("counts %v", s.Counts())
	}
	noViolations(t, s)
}

func TestZipball(t *testing.T) {
	s, sha := archiveRepo(t)
	resp, _ := do(t, s, http.MethodGet, "repos/acme/site/zipball/"+sha)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("zipball status %d", resp.StatusCode)
	}
	res, err := http.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Comment != sha {
		t.Errorf("zip comment %q", zr.Comment)
	}
	top := "acme-site-" + sha[:7] + "/"
	found := map[string]bool{}
	for _, f := range zr.File {
		found[f.Name] = true
		if f.Name == top+"link" && f.Mode()&os.ModeSymlink == 0 {
			t.Errorf("link mode %v, want symlink", f.Mode())
		}
		if f.Name == top+"a.txt" {
			rc, _ := f.Open()
			c, _ := io.ReadAll(rc)
			rc.Close()
			if string(c) != "hello" {
				t.Errorf("a.txt = %q", c)
			}
		}
	}
	for _, n := range []string{top, top + "a.txt", top + "dir/b.txt", top + "bin/run", top + "link"} {
		if !found[n] {
			t.Errorf("zip lacks %s (has %v)", n, found)
		}
	}
	noViolations(t, s)
}
