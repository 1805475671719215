//go:build integration

package e2e

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/faultproxy"
	"github.com/ghsync/ghsync/internal/githubtest"
	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// suiteTree is a source's files (path → content) and the way to publish them.
type suiteTree struct {
	files   map[string][]byte
	rng     *rand.Rand
	n       int
	publish func(files map[string][]byte) // makes files the source's new state
}

func (s *suiteTree) body() []byte {
	b := make([]byte, s.rng.IntN(6<<10))
	for i := range b {
		b[i] = byte('a' + s.rng.IntN(26))
	}
	return b
}

// change modifies, deletes and adds files (churn changes), sometimes
// reverting one to an earlier content (the overwritten-then-reverted case),
// and publishes.
func (s *suiteTree) change(prev map[string][]byte, churn int) {
	names := make([]string, 0, len(s.files))
	for k := range s.files {
		names = append(names, k)
	}
	sort.Strings(names)
	for i := 0; i < churn && len(names) > 0; i++ {
		k := names[s.rng.IntN(len(names))]
		switch {
		case i%3 == 2:
			delete(s.files, k)
		case prev[k] != nil && s.rng.IntN(2) == 0:
			s.files[k] = prev[k] // back to what an earlier run stored
		default:
			s.files[k] = s.body()
		}
	}
	s.add(max(3, churn/3)) // as many as were deleted, about
	s.publish(s.files)
}

func (s *suiteTree) add(n int) {
	for i := 0; i < n; i++ {
		s.n++
		s.files[fmt.Sprintf("d%d/f%03d.txt", s.n%4, s.n)] = s.body()
	}
}

func (s *suiteTree) snapshot() map[string][]byte {
	out := make(map[string][]byte, len(s.files))
	for k, v := range s.files {
		out[k] = v
	}
	return out
}

// writeDir makes dir hold exactly files (besides .git).
func writeDir(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if e.Name() != ".git" {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func gitCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// repoCase is one source × destination combination.
type repoCase struct {
	name    string
	source  string // github, dir, git
	dest    string // file, s3
	defRuns int
	files   int // files at the start
	churn   int // files changed before each run
}

// TestFaultSuiteRepoSync: over seeded runs with faults between ghsync and
// GitHub and/or the S3 server, every run ends cleanly, the manifest never
// claims content the store does not hold (each claimed object's bytes hash
// to the claimed blob SHA, or the entry is a placeholder), no object lies
// outside the manifest, and one clean run makes the store equal the source
// exactly with an exact manifest.
func TestFaultSuiteRepoSync(t *testing.T) {
	rep := newReport(t, "repo sync")
	for _, c := range []repoCase{
		{"github-to-file", "github", "file", 8, 24, 6},
		{"github-to-s3", "github", "s3", 8, 24, 6},
		// Enough changed files that the GitHub source reads the tarball
		// (codeload) instead of one blob per file.
		{"github-tarball-to-s3", "github", "s3", 5, 130, 120},
		{"dir-to-s3", "dir", "s3", 6, 24, 6},
		{"git-to-s3", "git", "s3", 6, 24, 6},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each case has its own source, bucket and proxies
			repoSuiteCase(t, rep, c)
		})
	}
}

func repoSuiteCase(t *testing.T, rep *suiteReport, c repoCase) {
	ctx := context.Background()
	seed0 := suiteSeed(t)
	runs := suiteRuns(t, c.defRuns)
	work := t.TempDir()
	tree := &suiteTree{files: map[string][]byte{}, rng: rand.New(rand.NewPCG(seed0, 99))}
	env := map[string]string{}
	var src string
	var gh *githubtest.Server
	switch c.source {
	case "github":
		gh = githubtest.New(t, githubtest.Options{})
		gh.Token = "ghp_faultsuite"
		repo := gh.AddRepo("acme", "site")
		tree.publish = func(files map[string][]byte) {
			fs := make([]githubtest.File, 0, len(files))
			for p, b := range files {
				fs = append(fs, githubtest.File{Path: p, Content: b})
			}
			repo.CommitFiles("main", fs)
		}
		src = "github:acme/site@main"
		env["GITHUB_TOKEN"] = gh.Token
	case "dir":
		dir := filepath.Join(work, "src")
		os.MkdirAll(dir, 0o755)
		tree.publish = func(files map[string][]byte) { writeDir(t, dir, files) }
		src = "dir:" + dir
	case "git":
		dir := filepath.Join(work, "repo")
		os.MkdirAll(dir, 0o755)
		gitCmd(t, dir, "init", "-q", "-b", "main")
		tree.publish = func(files map[string][]byte) {
			writeDir(t, dir, files)
			gitCmd(t, dir, "add", "-A")
			gitCmd(t, dir, "commit", "-q", "--allow-empty", "-m", "change")
		}
		src = "git+file://" + dir + "#main"
	}
	var direct, endpoint string
	switch c.dest {
	case "file":
		direct = "file://" + filepath.Join(work, "dest")
	case "s3":
		direct = strings.Replace(s3test.Bucket(t), "/?", "/site/?", 1)
		endpoint = s3test.Endpoint(t)
		env = merge(env, awsEnv())
	}
	b, err := store.Open(ctx, direct, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tree.add(c.files)
	tree.publish(tree.files)
	var stored []map[string][]byte // the source states runs have seen, for reverts

	// run syncs once; with faults, through fresh proxies seeded with seed.
	run := func(faulty bool, seed uint64) (result, []counter) {
		e := merge(env)
		dst := direct
		var ps []counter
		rates := allFaults(0)
		if faulty {
			rates = allFaults(.12)
		}
		if gh != nil {
			p := startProxy(t, strings.TrimSuffix(gh.URL, "/"), faultproxy.Config{Seed: seed, Rates: rates, RetryAfter: "1"})
			e["GITHUB_API_URL"] = p.URL + "/"
			ps = append(ps, p)
		}
		if endpoint != "" {
			p := startProxy(t, endpoint, faultproxy.Config{Seed: seed ^ 0x5eed, Rates: rates, RetryAfter: "1",
				ErrorBody: s3ErrorBody, ErrorType: "application/xml"})
			dst = s3Via(t, direct, p.URL)
			ps = append(ps, p)
		}
		r := runBin(t, rep, faulty, work, e, "sync", src, dst, "--json", "--max-delete", "100%")
		for _, p := range ps {
			p.(*faultproxy.Proxy).Close()
		}
		rep.addFaults(ps...)
		return r, ps
	}
	reported := map[string]bool{} // a wrong claim is reported by the first run that shows it
	if strings.Contains(c.name, "tarball") {
		defer func() {
			if gh.Count("GET /_codeload") == 0 {
				t.Errorf("%s: the tarball was never read; the case does not test what it is named for", c.name)
			}
		}()
	}
	for i := 0; i < runs; i++ {
		seed := seed0 + uint64(i)
		var prev map[string][]byte
		if len(stored) > 0 {
			prev = stored[tree.rng.IntN(len(stored))]
		}
		tree.change(prev, c.churn)
		stored = append(stored, tree.snapshot())
		r, ps := run(true, seed)
		fresh := 0
		for _, f := range checkManifestClaims(ctx, b) {
			if !reported[f] {
				reported[f] = true
				fresh++
				rep.fail(t, "%s run %d (seed %d, exit %d): %s", c.name, i, seed, r.code, f)
			}
		}
		if fresh > 0 {
			logFaults(t, seed, ps...)
		}
		if i%4 == 3 || i == runs-1 {
			if r, _ := run(false, 0); r.code != 0 {
				rep.fail(t, "%s: clean run after run %d exited %d:\n%s", c.name, i, r.code, tail(r.stderr))
			}
			for _, f := range checkExact(ctx, b, tree.files) {
				if !reported[f] {
					reported[f] = true
					rep.fail(t, "%s: after the clean run following run %d (seed %d): %s", c.name, i, seed, f)
				}
			}
		}
	}
}

// readSuiteManifest reads the repo sync manifest under b, nil when absent.
// A manifest above 256 objects is sharded (a root naming gzip shards by
// their content hash, and the keys a failed run left pending), so it is
// read through reposync.ReadManifest, which checks every shard against its
// name and entry count and applies the pending keys as placeholders; what
// the suite then checks (each claim against the stored bytes, every stored
// object claimed) does not depend on the engine.
func readSuiteManifest(ctx context.Context, b *store.Bucket) (*suiteManifest, error) {
	m, err := reposync.ReadManifest(ctx, b, ".ghsync/manifest.json")
	if err != nil || m == nil {
		return nil, err
	}
	sm := &suiteManifest{Commit: m.Commit}
	for _, o := range m.Objects {
		sm.Objects = append(sm.Objects, suiteObject{Path: o.Path, Key: o.Key, Blob: o.Blob, Size: o.Size})
	}
	return sm, nil
}

// suiteManifest is the part of the manifest the suite checks.
type suiteManifest struct {
	Commit  string
	Objects []suiteObject
}

// suiteObject is one manifest entry; Blob "" is a placeholder (a key a run
// was changing when it failed: the manifest claims nothing of its bytes).
type suiteObject struct {
	Path, Key, Blob string
	Size            int64
}

// storeObjects lists the objects under b outside .ghsync/, leaving out the
// S3 test server's own upload files: VersityGW's posix backend writes a PUT's
// body to ".NAME.sgwtmp…" beside NAME and, when the connection is reset
// mid-body (what the fault proxy does), can leave that file behind, listed as
// an object. ghsync never writes such a name; real S3 has no such files.
func storeObjects(ctx context.Context, b *store.Bucket) (map[string]bool, error) {
	keys := map[string]bool{}
	err := b.List(ctx, func(o store.Object) error {
		if !strings.HasPrefix(o.Key, ".ghsync/") && !isServerUploadTemp(o.Key) {
			keys[o.Key] = true
		}
		return nil
	})
	return keys, err
}

// isServerUploadTemp reports whether key is VersityGW's temporary upload file
// (".NAME.sgwtmp…" in NAME's folder).
func isServerUploadTemp(key string) bool {
	base := key[strings.LastIndexByte(key, '/')+1:]
	return strings.HasPrefix(base, ".") && strings.Contains(base, ".sgwtmp")
}

// checkManifestClaims returns what the manifest claims wrongly: an entry
// with a blob SHA whose object is missing or holds other bytes, and objects
// outside every manifest entry.
func checkManifestClaims(ctx context.Context, b *store.Bucket) []string {
	m, err := readSuiteManifest(ctx, b)
	if err != nil {
		return []string{err.Error()}
	}
	keys, err := storeObjects(ctx, b)
	if err != nil {
		return []string{"list: " + err.Error()}
	}
	var fails []string
	inManifest := map[string]bool{}
	if m != nil {
		for _, o := range m.Objects {
			inManifest[o.Key] = true
			if o.Blob == "" {
				continue // a placeholder: the manifest claims nothing about its bytes
			}
			data, _, err := b.Read(ctx, o.Key)
			switch {
			case errors.Is(err, store.ErrNotExist):
				fails = append(fails, fmt.Sprintf("manifest claims %s = blob %.12s, the store has no such object", o.Key, o.Blob))
			case err != nil:
				fails = append(fails, fmt.Sprintf("read %s: %v", o.Key, err))
			case githubtest.GitBlobSHA(data) != o.Blob:
				fails = append(fails, fmt.Sprintf("manifest claims %s = blob %.12s (%d bytes), the store holds blob %.12s (%d bytes)",
					o.Key, o.Blob, o.Size, githubtest.GitBlobSHA(data), len(data)))
			}
		}
	}
	for k := range keys {
		if !inManifest[k] {
			fails = append(fails, fmt.Sprintf("object %s is outside every manifest entry", k))
		}
	}
	sort.Strings(fails)
	return fails
}

// checkExact returns how the store and manifest differ from files: same
// keys, same bytes, every manifest entry exact (no placeholder).
func checkExact(ctx context.Context, b *store.Bucket, files map[string][]byte) []string {
	var fails []string
	keys, err := storeObjects(ctx, b)
	if err != nil {
		return []string{"list: " + err.Error()}
	}
	for k := range keys {
		if _, ok := files[k]; !ok {
			fails = append(fails, "store holds "+k+", which the source does not")
		}
	}
	for k, want := range files {
		data, _, err := b.Read(ctx, k)
		if err != nil {
			fails = append(fails, fmt.Sprintf("source file %s: %v", k, err))
		} else if string(data) != string(want) {
			fails = append(fails, fmt.Sprintf("%s holds %d bytes (blob %.12s), the source %d bytes (blob %.12s)",
				k, len(data), githubtest.GitBlobSHA(data), len(want), githubtest.GitBlobSHA(want)))
		}
	}
	m, err := readSuiteManifest(ctx, b)
	if err != nil || m == nil {
		return append(fails, fmt.Sprintf("manifest: %v (present: %v)", err, m != nil))
	}
	seen := map[string]bool{}
	for _, o := range m.Objects {
		seen[o.Key] = true
		want, ok := files[o.Key]
		switch {
		case !ok:
			fails = append(fails, "manifest lists "+o.Key+", which the source does not hold")
		case o.Blob != githubtest.GitBlobSHA(want) || o.Size != int64(len(want)):
			fails = append(fails, fmt.Sprintf("manifest says %s = blob %.12s (%d bytes), the source has %.12s (%d bytes)",
				o.Key, o.Blob, o.Size, githubtest.GitBlobSHA(want), len(want)))
		}
	}
	for k := range files {
		if !seen[k] {
			fails = append(fails, "manifest misses "+k)
		}
	}
	sort.Strings(fails)
	return fails
}
