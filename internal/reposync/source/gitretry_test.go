package source

import (
	"context"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cuttingWriter passes keep bytes of a body and then aborts the connection.
type cuttingWriter struct {
	http.ResponseWriter
	keep int
}

func (c *cuttingWriter) Write(p []byte) (int, error) {
	if len(p) <= c.keep {
		c.keep -= len(p)
		return c.ResponseWriter.Write(p)
	}
	_, _ = c.ResponseWriter.Write(p[:c.keep])
	c.keep = 0
	_ = http.NewResponseController(c.ResponseWriter).Flush()
	panic(http.ErrAbortHandler) // the server drops the connection mid-body
}

// A git-over-HTTP clone whose pack download is cut mid-body (twice) is
// tried again and yields the same tree as the checkout.
func TestGitRemoteOverHTTPRetriesCutPack(t *testing.T) {
	backend, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed") // git-http-backend serves the fixture
	}
	out, err := exec.Command(backend, "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	fx := newGitFixture(t)
	h := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + filepath.Dir(fx.dir), "GIT_HTTP_EXPORT_ALL=1"},
	}
	var mu sync.Mutex
	cuts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cut := strings.HasSuffix(r.URL.Path, "/git-upload-pack") && cuts < 2
		if cut {
			cuts++
		}
		mu.Unlock()
		if cut {
			w = &cuttingWriter{ResponseWriter: w, keep: 2000}
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	ck, err := NewGitCheckout(fx.dir, GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ck.Resolve(context.Background(), Hint{}); err != nil {
		t.Fatal(err)
	}
	want := mustList(t, ck)

	g, err := NewGitRemote("git+"+srv.URL+"/"+filepath.Base(fx.dir)+"/.git", "", GitOptions{RetryBase: 1})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := g.Resolve(context.Background(), Hint{})
	if err != nil {
		t.Fatalf("Resolve with a cut pack: %v", err)
	}
	if rev.Commit != fx.second.String() || cuts != 2 {
		t.Fatalf("Resolve = %+v after %d cuts, want %s after 2", rev, cuts, fx.second)
	}
	got := mustList(t, g)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("remote vs checkout listing (-checkout +remote):\n%s", d)
	}
}
