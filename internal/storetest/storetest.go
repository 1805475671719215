// Package storetest is the store conformance suite: one set of cases that
// every destination scheme must pass against a real server — mem://, file://,
// s3:// (VersityGW, internal/s3test), gs:// (fake-gcs-server,
// internal/gcstest) and azblob:// (Azurite, internal/aztest).
//
// Run(t, b) runs every case against backend b. A backend whose server is not
// configured skips loudly, or fails when its GHSYNC_REQUIRE_* variable is 1
// (as in .ci/run). A case that a server cannot do is not skipped silently:
// see Limits, which the cases consult and which log loudly.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/aztest"
	"github.com/ghsync/ghsync/internal/gcstest"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// Backend names a scheme and makes fresh, empty destinations on it.
type Backend struct {
	// Name names the backend in test output: the scheme, or the scheme and
	// its variant ("file-nosidecar": file:// with ?metadata=skip).
	Name string
	// Scheme is the URL scheme: "mem", "file", "s3", "gs" or "azblob".
	Scheme string
	// Root returns the URL of a fresh, empty destination without a key
	// prefix (skipping or failing the test when the server is missing).
	Root func(t testing.TB) string
	// MaxSegmentBytes is a limit of the server, not of the scheme: the
	// longest "/"-separated key segment it can store (0: no limit below the
	// 1,024-byte key limit). Servers that keep each object as a file (the
	// file:// driver, VersityGW's posix backend) cannot exceed the file
	// system's 255-byte names; KeyRoundTrip expects an error there and says
	// so loudly.
	MaxSegmentBytes int
}

// URL returns a fresh empty destination URL with the key prefix ("" for none).
func (be Backend) URL(t testing.TB, prefix string) string {
	return WithPrefix(t, be.Root(t), prefix)
}

// WithPrefix returns root with a key prefix, in the way its scheme takes one
// (the ?prefix= parameter for file://, the path otherwise).
func WithPrefix(t testing.TB, root, prefix string) string {
	t.Helper()
	if prefix == "" {
		return root
	}
	u, err := url.Parse(root)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme == "file" {
		q := u.Query()
		q.Set("prefix", prefix)
		u.RawQuery = q.Encode()
		return u.String()
	}
	u.Path = "/" + prefix
	return u.String()
}

func randName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Backends returns the five schemes, each backed by its real server, and
// file://'s variants: ?metadata=skip, whose objects keep no attributes
// (store.Capabilities.StoresAttributes is false), and ?metadata=sidecar
// (gocloud fileblob's NAME.attrs side files).
func Backends() []Backend {
	return []Backend{
		{Name: "mem", Scheme: "mem", Root: func(t testing.TB) string { return "mem://t" + randName() }},
		{Name: "file", Scheme: "file", Root: func(t testing.TB) string { return "file://" + t.TempDir() }, MaxSegmentBytes: 255},
		{Name: "file-nosidecar", Scheme: "file", Root: func(t testing.TB) string { return "file://" + t.TempDir() + "?metadata=skip" },
			MaxSegmentBytes: 255},
		{Name: "file-sidecar", Scheme: "file", Root: func(t testing.TB) string { return "file://" + t.TempDir() + "?metadata=sidecar" },
			MaxSegmentBytes: 255},
		// VersityGW's posix backend stores objects as files.
		{Name: "s3", Scheme: "s3", Root: func(t testing.TB) string { return s3test.Bucket(t) }, MaxSegmentBytes: 255},
		{Name: "gs", Scheme: "gs", Root: func(t testing.TB) string { return gcstest.Bucket(t) }},
		{Name: "azblob", Scheme: "azblob", Root: func(t testing.TB) string { return aztest.Container(t) }},
	}
}

// FileDir returns the directory of a file:// root URL.
func FileDir(t testing.TB, root string) string {
	t.Helper()
	u, err := url.Parse(root)
	if err != nil || u.Scheme != "file" {
		t.Fatalf("FileDir(%q): not a file:// URL (%v)", root, err)
	}
	return filepath.FromSlash(u.Path)
}

// Case is one conformance case.
type Case struct {
	Name string
	Run  func(t *testing.T, be Backend)
}

// Cases returns every case of the suite, in order.
func Cases() []Case {
	return []Case{
		{"PutReadStatList", testPutReadStatList},
		{"Attributes", testAttributes},
		{"NoAttributes", testNoAttributes},
		{"MissingAndBadKeys", testMissingAndBadKeys},
		{"ConditionalWrites", testConditionalWrites},
		{"ConditionalRaces", testConditionalRaces},
		{"DeleteAndPrefixIsolation", testDeleteAndPrefixIsolation},
		{"StatsCounts", testStatsCounts},
		{"PagingAndBatchDelete", testPagingAndBatchDelete},
		{"Multipart", testMultipart},
		{"PartBoundary", testPartBoundary},
		{"BrokenSourceWritesNothing", testBrokenSource},
		{"BodySizeChecked", testBodySize},
		{"KeyRoundTrip", testKeyRoundTrip},
		{"StreamAndCopy", testStreamAndCopy},
		{"StreamLarge", testStreamLarge},
		{"RepoSyncRuns", testRepoSyncRuns},
	}
}

// Run runs every case against be, each as a subtest.
func Run(t *testing.T, be Backend) {
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) { c.Run(t, be) })
	}
}

// Open opens raw, closing it when the test ends.
func Open(t testing.TB, raw string, opts store.Options) *store.Bucket {
	t.Helper()
	b, err := store.Open(context.Background(), raw, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", store.Redact(raw), err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// Put writes body at key, failing the test on error.
func Put(t testing.TB, b *store.Bucket, key, body string, o store.PutOptions) store.Object {
	t.Helper()
	if o.Size == 0 {
		o.Size = int64(len(body))
	}
	obj, err := b.Put(context.Background(), key, strings.NewReader(body), o)
	if err != nil {
		t.Fatalf("Put(%.60q): %v", key, err)
	}
	return obj
}

// ListAll returns the listing as a key → Object map, failing on duplicates.
func ListAll(t testing.TB, b *store.Bucket) map[string]store.Object {
	t.Helper()
	m := map[string]store.Object{}
	err := b.List(context.Background(), func(o store.Object) error {
		if _, dup := m[o.Key]; dup {
			return errors.New("duplicate key " + o.Key)
		}
		m[o.Key] = o
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return m
}

// pattern returns n deterministic bytes.
func pattern(n int) []byte {
	var buf bytes.Buffer
	for i := 0; buf.Len() < n; i++ {
		buf.WriteString(hex.EncodeToString([]byte{byte(i), byte(i >> 8), byte(i >> 16)}))
		buf.WriteByte('\n')
	}
	return buf.Bytes()[:n]
}

// loud logs a limitation of a server so that it stands out in test output.
func loud(t testing.TB, format string, args ...any) {
	t.Helper()
	t.Logf("!!!!! SERVER LIMITATION: "+format, args...)
}
