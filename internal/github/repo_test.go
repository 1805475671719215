package github

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestResolveCommitNotModified(t *testing.T) {
	e := newEnv(t, Config{Token: "t"})
	e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("ref") != "HEAD" {
			t.Errorf("ref = %q, want HEAD for empty ref", r.PathValue("ref"))
		}
		w.Header().Set("ETag", `"v2"`)
		if r.Header.Get("If-None-Match") == `"v2"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, testSHA+"\n")
	})
	r := e.repo(t)
	ctx := context.Background()
	sha, etag, nm, err := r.ResolveCommit(ctx, "", "")
	if err != nil || sha != testSHA || etag != `"v2"` || nm {
		t.Fatalf("first: %q %q %v %v", sha, etag, nm, err)
	}
	sha, etag, nm, err = r.ResolveCommit(ctx, "", etag)
	if err != nil || sha != "" || etag != `"v2"` || !nm {
		t.Fatalf("second: %q %q %v %v", sha, etag, nm, err)
	}
	sha, _, nm, err = r.ResolveCommit(ctx, "", `"stale"`)
	if err != nil || sha != testSHA || nm {
		t.Fatalf("stale etag: %q %v %v", sha, nm, err)
	}
	if st := e.c.Stats(); st.NotModified != 1 || st.Requests != 3 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestResolveCommitRejectsNonSHA(t *testing.T) {
	e := newEnv(t, Config{})
	e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"sha":"json instead of sha media type"}`)
	})
	if _, _, _, err := e.repo(t).ResolveCommit(context.Background(), "main", ""); err == nil || !strings.Contains(err.Error(), "not a commit SHA") {
		t.Fatalf("err = %v", err)
	}
}

func TestNotFoundAndUnauthorizedErrors(t *testing.T) {
	handler := func(status int, msg string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, `{"message":"`+msg+`"}`)
		}
	}
	tests := []struct {
		name       string
		cfg        Config
		status     int
		msg        string
		is         error
		want       []string
		notWant    []string
		wantStatus int
	}{
		{"anonymous 404 hints private", Config{}, 404, "Not Found", ErrNotFound,
			[]string{"repository o/r", `ref "main"`, "not found", "private", "GITHUB_TOKEN"}, nil, 404},
		{"token 404 no private hint", Config{Token: "tok-SECRET"}, 404, "Not Found", ErrNotFound,
			[]string{"repository o/r", "not found"}, []string{"anonymous", "tok-SECRET"}, 404},
		{"422 unknown ref", Config{Token: "tok-SECRET"}, 422, "No commit found for SHA: main", ErrNotFound,
			[]string{`ref "main" in o/r not found`}, []string{"tok-SECRET"}, 422},
		{"401 refused", Config{Token: "tok-SECRET"}, 401, "Bad credentials", ErrUnauthorized,
			[]string{"GitHub refused the credentials", "401", "Bad credentials"}, []string{"tok-SECRET"}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			e.mux.HandleFunc("GET /repos/o/r/commits/{ref}", handler(tt.status, tt.msg))
			_, _, _, err := e.repo(t).ResolveCommit(context.Background(), "main", "")
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want errors.Is %v", err, tt.is)
			}
			mustContain(t, err.Error(), tt.want...)
			for _, s := range tt.notWant {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != tt.wantStatus {
				t.Fatalf("not a StatusError %d: %v", tt.wantStatus, err)
			}
		})
	}
}

func TestTree(t *testing.T) {
	e := newEnv(t, Config{})
	e.mux.HandleFunc("GET /repos/o/r/git/trees/{sha}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("recursive") != "1" || r.PathValue("sha") != testSHA {
			t.Errorf("bad request %s", r.URL)
		}
		io.WriteString(w, `{"sha":"`+testSHA+`","url":"x","truncated":true,"tree":[
			{"path":"a.txt","mode":"100644","type":"blob","sha":"aa","size":3,"url":"u"},
			{"path":"dir","mode":"040000","type":"tree","sha":"bb","url":"u"},
			{"path":"dir/run.sh","mode":"100755","type":"blob","sha":"cc","size":10,"url":"u"},
			{"path":"sub","mode":"160000","type":"commit","sha":"dd"}]}`)
	})
	entries, truncated, err := e.repo(t).Tree(context.Background(), testSHA)
	if err != nil {
		t.Fatal(err)
	}
	want := []TreeEntry{
		{"a.txt", "100644", "blob", "aa", 3}, {"dir", "040000", "tree", "bb", 0},
		{"dir/run.sh", "100755", "blob", "cc", 10}, {"sub", "160000", "commit", "dd", 0},
	}
	if !truncated || len(entries) != len(want) {
		t.Fatalf("Tree = %+v truncated=%v", entries, truncated)
	}
	for i := range want {
		if entries[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, entries[i], want[i])
		}
	}
}

func TestBlobStreamsAndCountsBytes(t *testing.T) {
	e := newEnv(t, Config{})
	content := strings.Repeat("x", 100_000)
	e.mux.HandleFunc("GET /repos/o/r/git/blobs/{sha}", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept"), "raw") {
			t.Errorf("Accept = %q", r.Header.Get("Accept"))
		}
		io.WriteString(w, content)
	})
	rc, err := e.repo(t).Blob(context.Background(), "aa")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(b) != content {
		t.Fatalf("Blob read %d bytes, err %v", len(b), err)
	}
	if got := e.c.Stats().BytesDownloaded; got != int64(len(content)) {
		t.Fatalf("BytesDownloaded = %d, want %d", got, len(content))
	}
}

// downloadHost is a second server standing in for codeload / the asset CDN;
// it records the Authorization headers it receives.
type downloadHost struct {
	srv  *httptest.Server
	mu   sync.Mutex
	auth []string
}

func newDownloadHost(t *testing.T, body string) *downloadHost {
	d := &downloadHost{}
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.auth = append(d.auth, r.Header.Get("Authorization"))
		d.mu.Unlock()
		io.WriteString(w, body)
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func TestRedirectDoesNotLeakAuthorization(t *testing.T) {
	dl := newDownloadHost(t, "ARCHIVE-BYTES")
	e := newEnv(t, Config{Token: "tok-SECRET"})
	var apiAuth []string
	var mu sync.Mutex
	redirect := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		apiAuth = append(apiAuth, r.Header.Get("Authorization")+" accept="+r.Header.Get("Accept"))
		mu.Unlock()
		http.Redirect(w, r, dl.srv.URL+"/o/r/legacy.tar.gz/main?token=SIGNED", http.StatusFound)
	}
	e.mux.HandleFunc("GET /repos/o/r/tarball/{ref...}", redirect)
	e.mux.HandleFunc("GET /repos/o/r/zipball/{ref...}", redirect)
	e.mux.HandleFunc("GET /repos/o/r/releases/assets/{id}", redirect)
	r := e.repo(t)
	ctx := context.Background()
	reads := []func() (io.ReadCloser, error){
		func() (io.ReadCloser, error) { return r.Archive(ctx, "tarball", "main") },
		func() (io.ReadCloser, error) { return r.Archive(ctx, "zipball", "") },
		func() (io.ReadCloser, error) { return r.Asset(ctx, 77) },
	}
	for i, read := range reads {
		rc, err := read()
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "ARCHIVE-BYTES" {
			t.Fatalf("read %d body = %q", i, b)
		}
	}
	for _, a := range dl.auth {
		if a != "" {
			t.Fatalf("download host received Authorization %q", a)
		}
	}
	if len(dl.auth) != 3 || len(apiAuth) != 3 {
		t.Fatalf("download hits %d api hits %d", len(dl.auth), len(apiAuth))
	}
	for _, a := range apiAuth {
		if !strings.HasPrefix(a, "Bearer tok-SECRET") {
			t.Fatalf("API host got %q", a)
		}
	}
	if apiAuth[2] != "Bearer tok-SECRET accept=application/octet-stream" {
		t.Fatalf("asset request = %q", apiAuth[2])
	}
	st := e.c.Stats()
	dlRoute := "GET " + strings.TrimPrefix(dl.srv.URL, "http://")
	if st.ByRoute[dlRoute] != 3 || st.ByRoute["GET /repos/{owner}/{repo}/tarball/{ref}"] != 1 || st.Requests != 6 {
		t.Fatalf("Stats = %+v", st)
	}
	if _, err := r.Archive(ctx, "rar", "main"); err == nil {
		t.Fatal("Archive accepted format rar")
	}
}

func TestRelease(t *testing.T) {
	e := newEnv(t, Config{})
	body := `{"id":9,"tag_name":"v1.2.0","target_commitish":"main","name":"One","draft":false,"prerelease":true,
		"assets":[{"id":77,"name":"app.tar.gz","size":1234,"content_type":"application/gzip"}]}`
	e.mux.HandleFunc("GET /repos/o/r/releases/latest", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })
	e.mux.HandleFunc("GET /repos/o/r/releases/tags/{tag}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("tag") != "v1.2.0" {
			w.WriteHeader(404)
			io.WriteString(w, `{"message":"Not Found"}`)
			return
		}
		io.WriteString(w, body)
	})
	r := e.repo(t)
	for _, tag := range []string{"latest", "", "v1.2.0"} {
		rel, err := r.Release(context.Background(), tag)
		if err != nil {
			t.Fatalf("Release(%q): %v", tag, err)
		}
		if rel.ID != 9 || rel.TagName != "v1.2.0" || !rel.Prerelease || len(rel.Assets) != 1 ||
			rel.Assets[0] != (Asset{ID: 77, Name: "app.tar.gz", Size: 1234, ContentType: "application/gzip"}) {
			t.Fatalf("Release(%q) = %+v", tag, rel)
		}
	}
	_, err := r.Release(context.Background(), "v9")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	mustContain(t, err.Error(), `release "v9" of o/r not found`)
}

func TestForRejectsBadNames(t *testing.T) {
	c, _ := New(Config{})
	for _, n := range [][2]string{{"", "r"}, {"o", ""}, {"o/x", "r"}} {
		if _, err := c.For(context.Background(), n[0], n[1]); err == nil {
			t.Errorf("For(%q, %q) accepted", n[0], n[1])
		}
	}
}

func TestRESTClientUsesChain(t *testing.T) {
	e := newEnv(t, Config{Token: "tok"})
	e.mux.HandleFunc("GET /repos/o/r", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-GitHub-Api-Version") != APIVersion || r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("headers %v", r.Header)
		}
		io.WriteString(w, `{"id":1,"full_name":"o/r","default_branch":"main"}`)
	})
	gh, err := e.repo(t).REST()
	if err != nil {
		t.Fatal(err)
	}
	repo, _, err := gh.Repositories.Get(context.Background(), "o", "r")
	if err != nil {
		t.Fatal(err)
	}
	if repo.GetDefaultBranch() != "main" || e.c.Stats().Requests != 1 {
		t.Fatalf("repo %+v stats %+v", repo, e.c.Stats())
	}
}

func TestReleaseConditionalCache(t *testing.T) {
	e := newEnv(t, Config{})
	var conditional int
	e.mux.HandleFunc("GET /repos/o/r/releases/latest", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"rel1"`)
		if r.Header.Get("If-None-Match") == `"rel1"` {
			conditional++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, `{"id":9,"tag_name":"v1","assets":[]}`)
	})
	ctx := context.Background()
	for i := range 3 {
		rel, err := e.repo(t).Release(ctx, "latest")
		if err != nil || rel.ID != 9 || rel.TagName != "v1" {
			t.Fatalf("Release #%d = %+v, %v", i, rel, err)
		}
	}
	if st := e.c.Stats(); conditional != 2 || st.NotModified != 2 || st.Requests != 3 {
		t.Fatalf("conditional %d, stats %+v", conditional, st)
	}
}
