package e2e

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

const blobRoute = "GET /repos/{owner}/{repo}/git/blobs/{file_sha}"

// trustFiles has a 242-byte file, the size of the report in issue 16.
var trustFiles = map[string]string{
	"index.html":   strings.Repeat("<p>hello</p>\n", 18) + "<!---->\n",
	"css/site.css": "body{margin:0}",
	"big.txt":      strings.Repeat("0123456789", 2000),
}

// checkDest reads the destination: every object but the manifest must be
// in want with want's content, and every object the manifest records with
// a blob must hold exactly that blob. complete also requires every file of
// want to be there.
func checkDest(t *testing.T, url string, want map[string]string, complete bool) {
	t.Helper()
	ctx := context.Background()
	b, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := map[string]string{}
	err = b.List(ctx, func(o store.Object) error {
		data, _, err := b.Read(ctx, o.Key)
		got[o.Key] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var m reposync.Manifest
	if err := json.Unmarshal([]byte(got[reposync.DefaultManifestKey]), &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	delete(got, reposync.DefaultManifestKey)
	for _, o := range m.Objects {
		if o.Blob == "" {
			continue
		}
		body, ok := got[o.Key]
		if !ok || int64(len(body)) != o.Size || source.BlobSHABytes([]byte(body)) != o.Blob {
			t.Errorf("the manifest claims %s is %d bytes, blob %s; the store holds %d bytes (present: %v)", o.Key, o.Size, o.Blob, len(body), ok)
		}
	}
	if complete && len(got) != len(want) {
		t.Errorf("destination holds %d objects, the source %d", len(got), len(want))
	}
	for k, v := range got {
		if want[k] != v {
			t.Errorf("%s: destination holds %d bytes, the source %d", k, len(v), len(want[k]))
		}
	}
}

// Issue 16 item 1, through the built binary: a GitHub blob answer with
// Content-Length 242 that closes after 121 bytes. With one cut the run
// resumes the download and exits 0 with the whole file; when every answer
// is cut the run exits 1, the manifest claims nothing it does not hold, and
// the next clean run converges exactly. On file:// and S3.
func TestCutGitHubDownloadIsNeverStored(t *testing.T) {
	dests := map[string]func(t *testing.T) string{
		"file": func(t *testing.T) string { return "file://" + t.TempDir() },
		"s3":   func(t *testing.T) string { return s3test.Bucket(t) },
	}
	for name, dest := range dests {
		t.Run(name, func(t *testing.T) {
			gh := githubtest.New(t, githubtest.Options{})
			repo := gh.AddRepo("acme", "site")
			repo.Commit("main", trustFiles)
			url := dest(t)
			env := map[string]string{"GITHUB_API_URL": gh.URL, "GITHUB_TOKEN": gh.Token}
			if name == "s3" { // the binary's credentials for the test server
				env["AWS_ACCESS_KEY_ID"] = envOr("AWS_ACCESS_KEY_ID", s3test.TestAccessKey)
				env["AWS_SECRET_ACCESS_KEY"] = envOr("AWS_SECRET_ACCESS_KEY", s3test.TestSecretKey)
				env["AWS_REGION"] = s3test.Region()
			}
			dir := t.TempDir()
			sync := func() result { return exe(t, dir, env, "sync", "github:acme/site@main", url, "--json") }

			gh.CutBody(blobRoute, 121, githubtest.CutClose, 1)
			if r := sync(); r.code != 0 {
				t.Fatalf("run with one cut download: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			if gh.Cuts() != 1 {
				t.Fatalf("%d downloads cut, want 1", gh.Cuts())
			}
			checkDest(t, url, trustFiles, true)

			// A change whose download is cut every time: exit 1, nothing claimed.
			changed := map[string]string{}
			for k, v := range trustFiles {
				changed[k] = v
			}
			changed["index.html"] = strings.Repeat("<p>HELLO</p>\n", 18) + "<!---->\n"
			repo.Commit("main", changed)
			gh.CutBody(blobRoute, 121, githubtest.CutClose, 1000)
			r := sync()
			if r.code != 1 || !strings.Contains(r.stderr, "index.html") {
				t.Fatalf("run whose download is always cut: exit %d, want 1 naming the file\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			var summary map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &summary); err != nil {
				t.Fatalf("--json output of the failed run is not one JSON object: %v\n%s", err, r.stdout)
			}
			mixed := map[string]string{}
			for k, v := range changed {
				mixed[k] = v
			}
			if checkDestHolds(t, url, "index.html") == trustFiles["index.html"] {
				mixed["index.html"] = trustFiles["index.html"]
			}
			checkDest(t, url, mixed, true)

			gh.ClearCuts()
			if r := sync(); r.code != 0 {
				t.Fatalf("clean run: exit %d\n%s", r.code, r.stderr)
			}
			checkDest(t, url, changed, true)
			if r := sync(); r.code != 0 || !strings.Contains(r.stdout, `"up_to_date": true`) && !strings.Contains(r.stdout, `"up_to_date":true`) {
				t.Fatalf("run after convergence is not up to date: exit %d\n%s", r.code, r.stdout)
			}
		})
	}
}

// checkDestHolds returns the content of key at url ("" when absent).
func checkDestHolds(t *testing.T, url, key string) string {
	t.Helper()
	ctx := context.Background()
	b, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data, _, err := b.Read(ctx, key)
	if err != nil {
		return ""
	}
	return string(data)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
