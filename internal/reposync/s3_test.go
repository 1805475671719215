package reposync

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/s3test"
	"github.com/ghsync/ghsync/internal/store"
)

// s3Run syncs the folder dir into url (a real S3 bucket) with a 5 MiB part size.
func s3Run(t *testing.T, dir, url string, mod func(*Options)) *Summary {
	t.Helper()
	b, err := store.Open(context.Background(), url, store.Options{PartSize: store.MinPartSize, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	o := Options{Job: "s3", Source: source.NewDir(dir, source.DirOptions{}), Bucket: b}
	if mod != nil {
		mod(&o)
	}
	s, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return s
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Must-be-true 3: objects uploaded by multipart (ETag not an MD5) are not
// uploaded again on the next run, nor "repaired" by --verify, nor
// re-uploaded when the manifest is lost (adopted by their ghsync-blob).
func TestS3MultipartObjectsAreNotReuploaded(t *testing.T) {
	url := strings.Replace(s3test.Bucket(t), "/?", "/mirror/?", 1) // under a key prefix
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 12<<20/16) // 12 MiB: three parts
	writeFile(t, dir, "big.bin", big)
	writeFile(t, dir, "small.txt", []byte("v1"))
	s1 := s3Run(t, dir, url, nil)
	if s1.New != 2 || s1.StoreRequests["multipart_part"] < 3 {
		t.Fatalf("cold: %+v", s1)
	}
	b, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := b.Stat(context.Background(), "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.ETag, "-") {
		t.Fatalf("big.bin ETag %s: expected a multipart ETag", st.ETag)
	}
	writeFile(t, dir, "small.txt", []byte("v2"))
	s2 := s3Run(t, dir, url, nil)
	// The bytes uploaded are small.txt, the intent and the manifest; big.bin is 12 MiB.
	if s2.Modified != 1 || s2.Paths.Modified[0] != "small.txt" || s2.BytesUploaded > 4<<10 {
		t.Fatalf("second run re-uploaded too much: %+v", s2)
	}
	s3 := s3Run(t, dir, url, func(o *Options) { o.Verify = true })
	if s3.Repaired != 0 || s3.StoreRequests["put"] != 0 {
		t.Fatalf("verify repaired a multipart object: %+v", s3)
	}
	if err := b.Delete(context.Background(), []string{DefaultManifestKey}); err != nil {
		t.Fatal(err)
	}
	s4 := s3Run(t, dir, url, nil)
	if s4.Adopted != 2 || s4.BytesUploaded > 64<<10 {
		t.Fatalf("without a manifest the objects must be adopted, not uploaded: %+v", s4)
	}
}

// Must-be-true 10: listing beyond 1,000 keys pages (a verify run over
// 1,100 objects finds every one of them).
func TestS3ListingPastOneThousandKeys(t *testing.T) {
	url := s3test.Bucket(t)
	dir := t.TempDir()
	for i := 0; i < 1100; i++ {
		writeFile(t, dir, fmt.Sprintf("d%d/f%04d.txt", i%7, i), []byte(fmt.Sprint("file ", i)))
	}
	if s := s3Run(t, dir, url, func(o *Options) { o.Concurrency = 32 }); s.New != 1100 {
		t.Fatalf("cold: %+v", s)
	}
	s := s3Run(t, dir, url, func(o *Options) { o.Verify = true })
	if s.Repaired != 0 || s.Unchanged != 1100 || s.StoreRequests["list"] < 2 {
		t.Fatalf("verify: %+v", s)
	}
}
