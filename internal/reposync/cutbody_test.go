package reposync

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ghsync/ghsync/internal/github"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

const blobRoute = "GET /repos/{owner}/{repo}/git/blobs/{file_sha}"

// cutDests are the destinations the cut-download tests run against: mem://,
// file:// and S3 (VersityGW; skipped loudly without a server).
func cutDests() []struct {
	name string
	url  func(t *testing.T) string
} {
	return []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"mem", func(t *testing.T) string { return fmt.Sprintf("mem://%s/www/", strings.ReplaceAll(t.Name(), "/", "-")) }},
		{"file", func(t *testing.T) string { return "file://" + t.TempDir() + "?prefix=www/" }},
		{"s3", func(t *testing.T) string { return strings.Replace(s3test.Bucket(t), "/?", "/www/?", 1) }},
	}
}

// tryRunTo syncs github:acme/site@main into url with a fresh client and
// bucket; mod may change the source options.
func (g *ghBundle) tryRunTo(t *testing.T, url string, mod func(*source.GitHubOptions)) (*Summary, error) {
	t.Helper()
	ctx := context.Background()
	c, err := github.New(github.Config{BaseURL: g.gh.URL, HTTPClient: g.gh.Client()})
	if err != nil {
		t.Fatal(err)
	}
	api, err := c.For(ctx, "acme", "site")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := source.ParseSpec("github:acme/site@main")
	if err != nil {
		t.Fatal(err)
	}
	gopts := source.GitHubOptions{ReadRetryBase: 1}
	if mod != nil {
		mod(&gopts)
	}
	b, err := store.Open(ctx, url, store.Options{PartSize: store.MinPartSize, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	return Run(ctx, Options{Job: "site", Source: source.NewGitHub(api, spec, gopts), Bucket: b, Concurrency: 4})
}

// storeFiles returns key → body of every object under url but the manifest.
func storeFiles(t *testing.T, url string) map[string]string {
	t.Helper()
	b := openBucket(t, url)
	out := map[string]string{}
	err := b.List(context.Background(), func(o store.Object) error {
		if strings.HasPrefix(o.Key, ".ghsync/") {
			return nil
		}
		data, _, err := b.Read(context.Background(), o.Key)
		out[o.Key] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkManifestTrue asserts the invariant of a run that stopped anywhere:
// every object the manifest records with a blob is in the store with that
// size and content (its git blob SHA); entries it does not vouch for carry
// no blob.
func checkManifestTrue(t *testing.T, url string) {
	t.Helper()
	b := openBucket(t, url)
	m, err := ReadManifest(context.Background(), b, DefaultManifestKey)
	if err != nil || m == nil {
		t.Fatalf("read manifest: %v", err)
	}
	for _, o := range m.Objects {
		if o.Blob == "" {
			continue
		}
		body, _, err := b.Read(context.Background(), o.Key)
		if err != nil {
			t.Errorf("manifest claims %s (blob %s), store: %v", o.Key, o.Blob, err)
			continue
		}
		if int64(len(body)) != o.Size || source.BlobSHABytes(body) != o.Blob {
			t.Errorf("manifest claims %s is blob %s of %d bytes; the store holds %d bytes, blob %s",
				o.Key, o.Blob, o.Size, len(body), source.BlobSHABytes(body))
		}
	}
}

func sameFiles(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("store has %d objects, source %d: %v", len(got), len(want), keys(got))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: store holds %d bytes %.20q…, source %d bytes", k, len(got[k]), got[k], len(v))
		}
	}
}

// cutFiles is a small tree with a 242-byte file, the size of the report.
func cutFiles() map[string]string {
	return map[string]string{
		"index.html":   strings.Repeat("<p>hello</p>\n", 18) + "<!---->\n", // 242 bytes
		"css/site.css": "body{margin:0}",
		"a.txt":        strings.Repeat("a", 4000),
	}
}

// A blob answer that stops half-way (Content-Length 242, 121 bytes, then
// the connection closes) and one reset mid-body are resumed: the run
// succeeds and the store holds exactly the source's content.
func TestGitHubCutBlobIsResumed(t *testing.T) {
	for _, d := range cutDests() {
		t.Run(d.name, func(t *testing.T) {
			g := setupGitHub(t)
			files := cutFiles()
			if n := len(files["index.html"]); n != 242 {
				t.Fatalf("fixture is %d bytes", n)
			}
			g.repo.Commit("main", files)
			url := d.url(t)
			g.gh.CutBody(blobRoute, 121, githubtest.CutClose, 1)
			g.gh.CutBody(blobRoute, 50, githubtest.CutReset, 1)
			s, err := g.tryRunTo(t, url, nil)
			if err != nil {
				t.Fatalf("run with two cut downloads: %v", err)
			}
			if g.gh.Cuts() != 2 || s.New != 3 {
				t.Fatalf("cuts %d, summary %+v", g.gh.Cuts(), s)
			}
			sameFiles(t, storeFiles(t, url), files)
			checkManifestTrue(t, url)
		})
	}
}

// With no read retries left, a cut download fails the run (exit 1 for
// the CLI); the manifest does not claim the cut object, and the next clean
// run converges exactly. Then it also holds for a change of an existing
// file: the cut overwrite is not recorded as done.
func TestGitHubCutBlobWithoutRetriesIsNotClaimed(t *testing.T) {
	for _, d := range cutDests() {
		t.Run(d.name, func(t *testing.T) {
			g := setupGitHub(t)
			files := cutFiles()
			g.repo.Commit("main", files)
			url := d.url(t)
			noRetry := func(o *source.GitHubOptions) { o.ReadRetries = -1 }
			g.gh.CutBody(blobRoute, 121, githubtest.CutClose, 100)
			if _, err := g.tryRunTo(t, url, noRetry); err == nil {
				t.Fatal("a run whose downloads are all cut succeeded")
			}
			checkManifestTrue(t, url)
			g.clearCuts()
			if _, err := g.tryRunTo(t, url, noRetry); err != nil {
				t.Fatalf("clean run: %v", err)
			}
			sameFiles(t, storeFiles(t, url), files)
			checkManifestTrue(t, url)

			// A modified file whose new content is cut.
			files["index.html"] = strings.Repeat("<p>HELLO</p>\n", 18) + "<!---->\n"
			g.repo.Commit("main", files)
			g.gh.CutBody(blobRoute, 121, githubtest.CutClose, 100)
			if _, err := g.tryRunTo(t, url, noRetry); err == nil {
				t.Fatal("a run whose download is cut succeeded")
			}
			checkManifestTrue(t, url)
			g.clearCuts()
			if _, err := g.tryRunTo(t, url, noRetry); err != nil {
				t.Fatalf("clean run: %v", err)
			}
			sameFiles(t, storeFiles(t, url), files)
			checkManifestTrue(t, url)
		})
	}
}

// The tarball (chosen for many changed files) cut mid-stream is resumed
// and every entry is stored whole.
func TestGitHubCutTarballIsResumed(t *testing.T) {
	g := setupGitHub(t)
	files := map[string]string{}
	for i := 0; i < 300; i++ {
		files[fmt.Sprintf("f%03d.txt", i)] = strings.Repeat(fmt.Sprint(i, " "), 50+i)
	}
	// An entry larger than the buffered size (1 MiB), streamed straight into
	// the store, incompressible so that a cut lands inside it.
	big := make([]byte, 3<<20/2)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	files["big.bin"] = string(big)
	g.repo.Commit("main", files)
	url := fmt.Sprintf("mem://%s/www/", strings.ReplaceAll(t.Name(), "/", "-"))
	g.gh.CutBody("GET /_codeload", 3000, githubtest.CutClose, 1)
	g.gh.CutBody("GET /_codeload", 600_000, githubtest.CutReset, 1)
	g.gh.CutBody("GET /_codeload", 1_400_000, githubtest.CutClose, 1)
	if _, err := g.tryRunTo(t, url, nil); err != nil {
		t.Fatalf("run with a cut tarball: %v", err)
	}
	if g.gh.Count("GET /repos/{owner}/{repo}/tarball/{ref}") == 0 || g.gh.Cuts() != 3 {
		t.Fatalf("tarball not used or not cut: cuts %d, %v", g.gh.Cuts(), g.gh.Counts())
	}
	sameFiles(t, storeFiles(t, url), files)
	checkManifestTrue(t, url)
}

// clearCuts removes the cut rules left.
func (g *ghBundle) clearCuts() { g.gh.ClearCuts() }

// A blob answer of the right length but wrong content (corrupted in
// transit) fails its check against the listed blob SHA, is never stored,
// and is fetched again: the run succeeds with the right content.
func TestGitHubCorruptBlobIsFetchedAgain(t *testing.T) {
	g := setupGitHub(t)
	files := cutFiles()
	g.repo.Commit("main", files)
	var mu sync.Mutex
	corrupted := 0
	g.gh.Tamper(blobRoute, func(status int, h http.Header, body []byte) (int, []byte) {
		mu.Lock()
		defer mu.Unlock()
		if corrupted < 2 && len(body) > 100 {
			corrupted++
			body = bytes.Clone(body)
			body[100] ^= 0x20
		}
		return status, body
	})
	url := fmt.Sprintf("mem://%s/www/", strings.ReplaceAll(t.Name(), "/", "-"))
	if _, err := g.tryRunTo(t, url, nil); err != nil {
		t.Fatalf("run with corrupted answers: %v", err)
	}
	if corrupted != 2 {
		t.Fatalf("%d answers corrupted, want 2", corrupted)
	}
	sameFiles(t, storeFiles(t, url), files)
	checkManifestTrue(t, url)
}
