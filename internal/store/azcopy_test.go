package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"

	"github.com/ghsync/ghsync/internal/aztest"
	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/storetest"
)

// TestAzureServerCopy: Copy within one azblob:// container is made by the
// service (Copy Blob): one "copy" request, no GET of the body and no upload
// through ghsync, and the copy keeps content, content type, cache control
// and metadata. Against Azurite (skips loudly without it).
func TestAzureServerCopy(t *testing.T) {
	ctx := context.Background()
	root := aztest.Container(t)
	src := storetest.Open(t, storetest.WithPrefix(t, root, "watch"), store.Options{})
	dst := storetest.Open(t, storetest.WithPrefix(t, root, "final"), store.Options{})
	if !dst.Capabilities().ServerCopy {
		t.Fatalf("azblob:// does not declare ServerCopy: %+v", dst.Capabilities())
	}
	body := make([]byte, 3<<20)
	_, _ = rand.Read(body)
	md := map[string]string{"ghsync-blob": "sha", "note": "50% done"}
	if _, err := src.Put(ctx, "results #2/50% done.csv", bytes.NewReader(body), store.PutOptions{
		ContentType: "text/csv", CacheControl: "no-cache", Metadata: md, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	obj, err := dst.Copy(ctx, "set 1/results #2.csv", src, "results #2/50% done.csv")
	if err != nil {
		t.Fatal(err)
	}
	st := dst.Stats()
	if st.Requests[store.KindCopy] != 1 || st.Requests[store.KindGet] != 0 || st.Requests[store.KindPut] != 0 || st.BytesUploaded != 0 {
		t.Fatalf("Copy made requests %v and uploaded %d bytes; want one copy, no get, no put", st.Requests, st.BytesUploaded)
	}
	if s := src.Stats(); s.Requests[store.KindGet] != 0 {
		t.Fatalf("the source was read (%v): the copy went through ghsync", s.Requests)
	}
	if obj.Size != int64(len(body)) || obj.ContentType != "text/csv" || obj.CacheControl != "no-cache" ||
		obj.Metadata["ghsync-blob"] != "sha" || obj.Metadata["note"] != "50% done" {
		t.Fatalf("copied object %+v", obj)
	}
	r, err := dst.NewReader(ctx, "set 1/results #2.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("copied content: %d bytes, %v; want the %d bytes written", len(got), err, len(body))
	}
}
