package reposync

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/ghsync/ghsync/internal/reposync/source"
)

// memSource is an in-memory Source for engine tests. It counts fetches.
type memSource struct {
	mu      sync.Mutex
	files   map[string]memFile
	fetched map[string]int
	failAt  string // Fetch of this path fails
}

type memFile struct {
	body string
	mode source.Mode
}

func newMemSource(files map[string]string) *memSource {
	m := &memSource{files: map[string]memFile{}, fetched: map[string]int{}}
	for p, b := range files {
		m.files[p] = memFile{body: b}
	}
	return m
}

func (m *memSource) set(p, body string) { m.files[p] = memFile{body: body} }
func (m *memSource) link(p, target string) {
	m.files[p] = memFile{body: target, mode: source.ModeSymlink}
}
func (m *memSource) String() string { return "mem:test" }

// numberedBlob is a distinct blob SHA-1 for each i (its hex is i in 40
// digits), for listings whose content is never read.
func numberedBlob(i int) source.Blob {
	var sum [20]byte
	binary.BigEndian.PutUint64(sum[12:], uint64(i))
	return source.BlobFromSum(sum)
}

// mustBlob parses a blob's string form.
func mustBlob(s string) source.Blob {
	b, err := source.ParseBlob(s)
	if err != nil {
		panic(err)
	}
	return b
}

func gitSHA(body string) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00%s", len(body), body)
	return hex.EncodeToString(h.Sum(nil))
}

func (m *memSource) entries() []source.Entry {
	var out []source.Entry
	for p, f := range m.files {
		e := source.Entry{Path: p, Mode: f.mode, Size: int64(len(f.body)), Blob: mustBlob(gitSHA(f.body))}
		if f.mode == source.ModeSymlink {
			e.Target = f.body
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func (m *memSource) Resolve(ctx context.Context, hint source.Hint) (source.Revision, error) {
	h := sha256.New()
	for _, e := range m.entries() {
		fmt.Fprintf(h, "%s %s %s\n", e.Path, e.Mode, e.Blob)
	}
	c := hex.EncodeToString(h.Sum(nil))[:40]
	return source.Revision{Commit: c, Ref: "HEAD", NotModified: c == hint.Commit}, nil
}

func (m *memSource) List(ctx context.Context) ([]source.Entry, error) { return m.entries(), nil }

func (m *memSource) Fetch(ctx context.Context, entries []source.Entry, conc int, fn source.FetchFunc) error {
	for _, e := range entries {
		m.mu.Lock()
		f, ok := m.files[e.Path]
		m.fetched[e.Path]++
		fail := m.failAt == e.Path
		m.mu.Unlock()
		if !ok {
			return fmt.Errorf("no such file %s", e.Path)
		}
		if fail {
			return fmt.Errorf("injected fetch failure at %s", e.Path)
		}
		if err := fn(ctx, e, io.NopCloser(strings.NewReader(f.body))); err != nil {
			return err
		}
	}
	return nil
}

func (m *memSource) fetchCount() int {
	n := 0
	for _, c := range m.fetched {
		n += c
	}
	return n
}
