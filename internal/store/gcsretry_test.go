package store

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestGCSRetriesTransientFailures: a gs:// read, listing or delete that
// meets a 503 or a 429 is sent again (as the Cloud Storage client library
// did), and a 404 is not.
func TestGCSRetriesTransientFailures(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch {
		case strings.HasSuffix(r.URL.Path, "/o/missing"):
			http.Error(w, `{"error":{"code":404,"message":"No such object"}}`, http.StatusNotFound)
		case n == 1:
			http.Error(w, `{"error":{"code":503,"message":"backend error"}}`, http.StatusServiceUnavailable)
		case n == 2:
			http.Error(w, `{"error":{"code":429,"message":"slow down"}}`, http.StatusTooManyRequests)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"name":"a b#?.txt","size":"3","etag":"CAE=","generation":"1","contentType":"text/plain"}`))
		}
	}))
	defer srv.Close()
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL)
	b := open(t, "gs://bkt/", Options{})
	obj, err := b.Stat(context.Background(), "a b#?.txt")
	if err != nil || obj.ETag != "CAE=" || obj.Size != 3 {
		t.Fatalf("Stat = %+v, %v; want it retried to success", obj, err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d requests, want 3 (two transient failures, then success)", n)
	}
	calls.Store(10)
	if _, err := b.Stat(context.Background(), "missing"); err == nil || calls.Load() != 11 {
		t.Errorf("Stat(missing) = %v after %d requests; want not found after one", err, calls.Load()-10)
	}
}

// TestGCSRetriesUpload: a one-request upload that meets a 503 is sent again
// whole (the client keeps the body), and the object is written once.
func TestGCSRetriesUpload(t *testing.T) {
	var calls atomic.Int32
	var lastBody atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/upload/storage/v1/b/bkt/o") {
			http.Error(w, "unexpected "+r.URL.Path, http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			http.Error(w, `{"error":{"code":503,"message":"backend error"}}`, http.StatusServiceUnavailable)
			return
		}
		lastBody.Store(string(body))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"name":"k","size":"5","etag":"CAI=","generation":"2"}`))
	}))
	defer srv.Close()
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL)
	b := open(t, "gs://bkt/", Options{})
	obj := put(t, b, "k", "hello", PutOptions{IfNoneMatch: true})
	if obj.ETag != "CAI=" || calls.Load() != 2 {
		t.Fatalf("Put = %+v after %d requests; want it sent twice", obj, calls.Load())
	}
	if s, _ := lastBody.Load().(string); !strings.Contains(s, "hello") {
		t.Errorf("the retried upload carried %q, not the body", s)
	}
}
