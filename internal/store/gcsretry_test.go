package store

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// TestGCSResumableUpload: a body longer than one part goes as a resumable
// upload: the session is started with the object's resource and the
// generation precondition, then the body is sent in part-sized chunks
// (multiples of 256 KiB) with byte ranges, the last one naming the total; a
// chunk that meets a 503 is sent again whole, and the stored bytes are the
// body's.
func TestGCSResumableUpload(t *testing.T) {
	const part = 256 << 10
	body := strings.Repeat("0123456789abcdef", (2*part+part/3)/16)
	var (
		mu     sync.Mutex
		stored []byte
		ranges []string
		failed bool
	)
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/upload/storage/v1/b/bkt/o":
			meta, _ := io.ReadAll(r.Body)
			q := r.URL.Query()
			if q.Get("uploadType") != "resumable" || q.Get("ifGenerationMatch") != "0" ||
				!strings.Contains(string(meta), `"name":"big #1.bin"`) || r.Header.Get("X-Upload-Content-Type") != "application/x-test" {
				http.Error(w, "bad start: "+r.URL.RawQuery+" "+string(meta), http.StatusBadRequest)
				return
			}
			w.Header().Set("Location", srv.URL+"/session/1")
		case r.URL.Path == "/session/1":
			chunk, _ := io.ReadAll(r.Body)
			cr := r.Header.Get("Content-Range")
			if len(ranges) == 1 && !failed {
				failed = true
				http.Error(w, `{"error":{"code":503,"message":"backend error"}}`, http.StatusServiceUnavailable)
				return
			}
			ranges = append(ranges, cr)
			if want := fmt.Sprintf("bytes %d-%d/", len(stored), len(stored)+len(chunk)-1); !strings.HasPrefix(cr, want) {
				http.Error(w, "range "+cr+", want "+want, http.StatusBadRequest)
				return
			}
			stored = append(stored, chunk...)
			if strings.HasSuffix(cr, "/*") {
				w.Header().Set("X-Http-Status-Code-Override", "308")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"name":"big #1.bin","size":"%d","etag":"CAM=","generation":"3"}`, len(stored))
		default:
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	t.Setenv("STORAGE_EMULATOR_HOST", srv.URL)
	b := open(t, "gs://bkt/", Options{PartSize: part})
	obj, err := b.Put(context.Background(), "big #1.bin", struct{ io.Reader }{strings.NewReader(body)},
		PutOptions{IfNoneMatch: true, ContentType: "application/x-test", Size: -1})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"bytes 0-262143/*", "bytes 262144-524287/*", fmt.Sprintf("bytes 524288-%d/%d", len(body)-1, len(body))}
	if fmt.Sprint(ranges) != fmt.Sprint(want) || !failed {
		t.Errorf("chunks %q (retried: %v), want %q with the second sent twice", ranges, failed, want)
	}
	if string(stored) != body || obj.Size != int64(len(body)) || obj.ETag != "CAM=" {
		t.Errorf("stored %d bytes (equal: %v), Put = %+v; want the %d-byte body", len(stored), string(stored) == body, obj, len(body))
	}
}
