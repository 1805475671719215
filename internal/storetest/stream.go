package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/store"
)

// testStreamAndCopy drives every consumer path with the awkward keys of
// RoundTripKeys: streaming read (NewReader), copy inside the store and
// across stores (Copy), conditional rewrite, listing and delete. Each key
// must be found under exactly its own name at every step.
func testStreamAndCopy(t *testing.T, be Backend) {
	ctx := context.Background()
	root := be.Root(t)
	b := Open(t, WithPrefix(t, root, "src/"), store.Options{})
	dst := Open(t, WithPrefix(t, root, "dst/"), store.Options{}) // the same store: copied by the store where it can
	other := Open(t, "mem://", store.Options{})                  // another store: streamed
	var keys []string
	for _, k := range RoundTripKeys() {
		if strings.HasPrefix(k, "esc/__0x2f__") || b.CheckKey(k) != nil || dst.CheckKey(k) != nil {
			continue // refused (KeyRoundTrip checks how)
		}
		if be.MaxSegmentBytes > 0 && longestSegment(k) > be.MaxSegmentBytes {
			continue
		}
		keys = append(keys, k)
	}
	for _, k := range keys {
		body := "body of " + k
		put := Put(t, b, k, body, store.PutOptions{ContentType: "text/csv", Metadata: map[string]string{"m": "v"}})
		r, err := b.NewReader(ctx, k)
		if err != nil {
			t.Errorf("NewReader(%.60q): %v", k, err)
			continue
		}
		data, err := io.ReadAll(r)
		_ = r.Close()
		if err != nil || string(data) != body || r.Object().ETag != put.ETag || r.Object().Size != int64(len(body)) {
			t.Errorf("NewReader(%.60q) read %q (%v), object %+v; want its body and ETag %s", k, data, err, r.Object(), put.ETag)
		}
		for _, to := range []*store.Bucket{dst, other, b} {
			dk := k
			if to == b {
				dk = "copy of/" + k
				if to.CheckKey(dk) != nil || be.MaxSegmentBytes > 0 && longestSegment(dk) > be.MaxSegmentBytes || len(dk) > 1024 {
					continue
				}
			}
			got, err := to.Copy(ctx, dk, b, k)
			if err != nil {
				t.Errorf("Copy(%.60q) to %s: %v", k, to.URL(), err)
				continue
			}
			data, etag, err := to.Read(ctx, dk)
			if err != nil || string(data) != body || etag != got.ETag || got.Size != int64(len(body)) {
				t.Errorf("after Copy(%.60q) to %s: Read = %q %s %v; Copy returned %+v", k, to.URL(), data, etag, err, got)
			}
			st, err := to.Stat(ctx, dk)
			if err == nil && to.Capabilities().StoresAttributes && b.Capabilities().StoresAttributes &&
				(st.ContentType != "text/csv" || st.Metadata["m"] != "v") {
				t.Errorf("Copy(%.60q) to %s lost the attributes: %+v", k, to.URL(), st)
			}
		}
		// Conditional writes find the key under its own name.
		if _, err := b.Put(ctx, k, strings.NewReader("x"), store.PutOptions{IfNoneMatch: true}); !errors.Is(err, store.ErrPreconditionFailed) {
			t.Errorf("Put(%.60q, IfNoneMatch) over an existing object = %v; want ErrPreconditionFailed", k, err)
		}
		if _, err := b.Put(ctx, k, bytes.NewReader([]byte("v2")), store.PutOptions{IfMatch: put.ETag}); err != nil {
			t.Errorf("Put(%.60q, IfMatch its ETag): %v", k, err)
		}
	}
	for _, bk := range []*store.Bucket{b, dst} {
		got := ListAll(t, bk)
		var names []string
		for k := range got {
			names = append(names, k)
		}
		for _, k := range keys {
			if _, ok := got[k]; !ok {
				t.Errorf("listing of %s lacks %.60q: %q", bk.URL(), k, names)
			}
		}
		del := make([]string, 0, len(got))
		for k := range got {
			del = append(del, k)
		}
		if err := bk.Delete(ctx, del); err != nil {
			t.Errorf("Delete: %v", err)
		}
		if left := ListAll(t, bk); len(left) != 0 {
			t.Errorf("after delete %d keys are left in %s", len(left), bk.URL())
		}
	}
	if _, err := b.NewReader(ctx, "missing"); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("NewReader(missing) = %v; want ErrNotExist", err)
	}
	if _, err := dst.Copy(ctx, "x", b, "missing"); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("Copy(missing) = %v; want ErrNotExist", err)
	}
}

// testStreamLarge: NewReader streams an object of several parts, and Copy
// of it inside the store keeps every byte.
func testStreamLarge(t *testing.T, be Backend) {
	ctx := context.Background()
	b := Open(t, be.URL(t, "big/"), store.Options{PartSize: store.MinPartSize})
	body := pattern(2*store.MinPartSize + 12345)
	if _, err := b.Put(ctx, "a b#%?.bin", bytes.NewReader(body), store.PutOptions{Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	r, err := b.NewReader(ctx, "a b#%?.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("streamed %d bytes (%v), want %d equal bytes", len(got), err, len(body))
	}
	if _, err := b.Copy(ctx, "copy +1.bin", b, "a b#%?.bin"); err != nil {
		t.Fatal(err)
	}
	r2, err := b.NewReader(ctx, "copy +1.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if got, err := io.ReadAll(r2); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("copy holds %d bytes (%v), want %d equal bytes", len(got), err, len(body))
	}
}
