package githubtest

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// archEntry is one path of an archive, in git tree order.
type archEntry struct {
	path    string // relative to the wrapper folder; dirs end with "/"
	mode    string
	content []byte // immutable once stored
}

// serveOutOfContract serves the codeload and download routes, which are
// not part of GitHub's REST description: counted, not validated, not rate
// limited, streamed.
func (s *Server) serveOutOfContract(w http.ResponseWriter, r *http.Request) {
	key := "GET /_codeload"
	if strings.HasPrefix(r.URL.Path, "/_download/") {
		key = "GET /_download"
	}
	s.mu.Lock()
	s.counts[key]++
	s.mu.Unlock()
	w = s.cutting(w, key)
	cw := &countingWriter{w: w, s: s}
	if r.Method != http.MethodGet {
		http.Error(cw, "Not Found", http.StatusNotFound)
		return
	}
	if key == "GET /_download" {
		s.serveDownload(cw, w, r)
		return
	}
	// /_codeload/{owner}/{repo}/{legacy.tar.gz|legacy.zip}/{sha}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/_codeload/"), "/")
	if len(parts) != 4 {
		http.Error(cw, "Not Found", http.StatusNotFound)
		return
	}
	repo := s.repo(parts[0], parts[1])
	if repo == nil {
		http.Error(cw, "Not Found", http.StatusNotFound)
		return
	}
	sha := parts[3]
	s.mu.Lock()
	commit := s.commits[sha]
	if commit == nil || !repo.commitSet[sha] {
		s.mu.Unlock()
		http.Error(cw, "Not Found", http.StatusNotFound)
		return
	}
	var entries []archEntry
	var walk func(t *gitTree, prefix string)
	walk = func(t *gitTree, prefix string) {
		for _, e := range t.entries {
			switch e.kind() {
			case "tree":
				entries = append(entries, archEntry{path: prefix + e.name + "/", mode: e.mode})
				if sub := s.trees[e.sha]; sub != nil {
					walk(sub, prefix+e.name+"/")
				}
			case "commit":
				entries = append(entries, archEntry{path: prefix + e.name + "/", mode: e.mode})
			default:
				entries = append(entries, archEntry{path: prefix + e.name, mode: e.mode, content: s.blobs[e.sha]})
			}
		}
	}
	if t := s.trees[commit.tree]; t != nil {
		walk(t, "")
	}
	mtime := commitTime(commit.seq)
	s.mu.Unlock()

	top := fmt.Sprintf("%s-%s-%s", repo.Owner, repo.Name, sha[:7])
	var err error
	switch parts[2] {
	case "legacy.tar.gz":
		w.Header().Set("Content-Type", "application/x-gzip")
		w.Header().Set("Content-Disposition", "attachment; filename="+top+".tar.gz")
		w.WriteHeader(http.StatusOK)
		err = writeTarGz(cw, top, sha, mtime, entries)
	case "legacy.zip":
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", "attachment; filename="+top+".zip")
		w.WriteHeader(http.StatusOK)
		err = writeZip(cw, top, sha, mtime, entries)
	default:
		http.Error(cw, "Not Found", http.StatusNotFound)
		return
	}
	if err != nil {
		s.log.Debug("githubtest: codeload stream ended", "err", err)
	}
}

// writeTarGz streams a gzip tar the way git archive (and so GitHub) lays
// it out: a pax global header carrying the commit SHA as "comment", then
// the wrapper folder, then every path in tree order.
func writeTarGz(w io.Writer, top, sha string, mtime time.Time, entries []archEntry) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	hdrs := []*tar.Header{
		{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": sha}, Format: tar.FormatPAX},
		{Typeflag: tar.TypeDir, Name: top + "/", Mode: 0o775, ModTime: mtime},
	}
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("tar header %s: %w", h.Name, err)
		}
	}
	for _, e := range entries {
		h := &tar.Header{Name: top + "/" + e.path, ModTime: mtime, Uname: "root", Gname: "root"}
		switch {
		case strings.HasSuffix(e.path, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o775
		case e.mode == "120000":
			h.Typeflag, h.Mode, h.Linkname = tar.TypeSymlink, 0o777, string(e.content)
		default:
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o664, int64(len(e.content))
			if e.mode == "100755" {
				h.Mode = 0o775
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("tar header %s: %w", h.Name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.content); err != nil {
				return fmt.Errorf("tar write %s: %w", h.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("close tar: %w", err)
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("close gzip: %w", err)
	}
	return nil
}

// writeZip streams a zip with the commit SHA as archive comment, like GitHub.
func writeZip(w io.Writer, top, sha string, mtime time.Time, entries []archEntry) error {
	zw := zip.NewWriter(w)
	if err := zw.SetComment(sha); err != nil {
		return fmt.Errorf("zip comment: %w", err)
	}
	add := func(name string, mode os.FileMode, content []byte) error {
		fh := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mtime}
		fh.SetMode(mode)
		if mode.IsDir() {
			fh.Method = zip.Store
		}
		f, err := zw.CreateHeader(fh)
		if err != nil {
			return fmt.Errorf("zip header %s: %w", name, err)
		}
		if _, err := f.Write(content); err != nil {
			return fmt.Errorf("zip write %s: %w", name, err)
		}
		return nil
	}
	if err := add(top+"/", os.ModeDir|0o775, nil); err != nil {
		return err
	}
	for _, e := range entries {
		var err error
		switch {
		case strings.HasSuffix(e.path, "/"):
			err = add(top+"/"+e.path, os.ModeDir|0o775, nil)
		case e.mode == "120000":
			err = add(top+"/"+e.path, os.ModeSymlink|0o777, e.content)
		case e.mode == "100755":
			err = add(top+"/"+e.path, 0o775, e.content)
		default:
			err = add(top+"/"+e.path, 0o664, e.content)
		}
		if err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("close zip: %w", err)
	}
	return nil
}

// serveDownload streams a release asset: /_download/{asset_id}/{name}.
func (s *Server) serveDownload(cw *countingWriter, w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/_download/"), "/", 2)
	id, err := strconv.ParseInt(parts[0], 10, 64)
	s.mu.Lock()
	as := s.assets[id]
	s.mu.Unlock()
	if err != nil || as == nil {
		http.Error(cw, "Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(as.content)))
	w.Header().Set("Content-Disposition", "attachment; filename="+as.name)
	w.WriteHeader(http.StatusOK)
	_, _ = cw.Write(as.content)
}

// countingWriter adds written bytes to the server's BytesServed.
type countingWriter struct {
	w http.ResponseWriter
	s *Server
}

func (c *countingWriter) Header() http.Header { return c.w.Header() }

func (c *countingWriter) WriteHeader(status int) { c.w.WriteHeader(status) }

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.s.addBytes(int64(n))
	return n, err
}
