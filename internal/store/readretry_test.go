package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// fakeS3 is a minimal S3 endpoint (path style, bucket "bkt") whose answers a
// test scripts per request: fault(w, r, key, n) is asked first with the
// request's 1-based count for its method and key (and part: "KEY#N") and may answer itself
// (returning true). Otherwise GET and HEAD serve objects, PUT stores one
// (If-None-Match: * on an existing key answers 412), and listings, batch
// deletes and the multipart requests of an upload are answered.
type fakeS3 struct {
	t     *testing.T
	fault func(w http.ResponseWriter, r *http.Request, key string, n int) bool
	// cutFirst, when it accepts the first request of its method and key,
	// has the normal answer sent cut half-way (cutBody).
	cutFirst func(r *http.Request) bool
	mu       sync.Mutex
	objs     map[string][]byte
	count    map[string]int // "METHOD key" → requests
}

func newFakeS3(t *testing.T) (*fakeS3, *Bucket) {
	t.Helper()
	f := &fakeS3{t: t, objs: map[string][]byte{}, count: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	q := url.Values{"endpoint": {srv.URL}, "region": {"us-east-1"}, "use_path_style": {"true"}, "disable_https": {"true"}}
	return f, open(t, "s3://bkt/?"+q.Encode(), Options{PartSize: MinPartSize})
}

// set stores an object.
func (f *fakeS3) set(key string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objs[key] = data
}

// objects returns how many objects are stored.
func (f *fakeS3) objects() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.objs)
}

// requests returns how many METHOD requests key ("KEY#N" for part N) has had.
func (f *fakeS3) requests(method, key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count[method+" "+key]
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/bkt/")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	ck := r.Method + " " + key
	if part := r.URL.Query().Get("partNumber"); part != "" {
		ck += "#" + part
	}
	f.mu.Lock()
	f.count[ck]++
	n := f.count[ck]
	f.mu.Unlock()
	if f.fault != nil && f.fault(w, r, key, n) {
		return
	}
	if f.cutFirst != nil && n == 1 && f.cutFirst(r) {
		rec := httptest.NewRecorder()
		f.answer(rec, r, key, body)
		cutBody(f.t, w, rec.Body.Bytes(), false)
		return
	}
	f.answer(w, r, key, body)
}

// answer answers r as S3 would.
func (f *fakeS3) answer(w http.ResponseWriter, r *http.Request, key string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		fmt.Fprintf(w, `<InitiateMultipartUploadResult><Bucket>bkt</Bucket><Key>%s</Key><UploadId>up1</UploadId></InitiateMultipartUploadResult>`, key)
	case r.Method == http.MethodPut && q.Has("partNumber"):
		w.Header().Set("ETag", `"part`+q.Get("partNumber")+`"`)
	case r.Method == http.MethodPost && q.Has("uploadId"):
		fmt.Fprintf(w, `<CompleteMultipartUploadResult><Key>%s</Key><ETag>"multi-2"</ETag></CompleteMultipartUploadResult>`, key)
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && q.Has("delete"):
		for k := range f.objs {
			if strings.Contains(string(body), "<Key>"+k+"</Key>") {
				delete(f.objs, k)
			}
		}
		fmt.Fprint(w, `<DeleteResult></DeleteResult>`)
	case r.Method == http.MethodGet && q.Get("list-type") == "2":
		var keys []string
		for k := range f.objs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString(`<ListBucketResult><Name>bkt</Name><IsTruncated>false</IsTruncated>`)
		for _, k := range keys {
			fmt.Fprintf(&b, `<Contents><Key>%s</Key><Size>%d</Size><ETag>%s</ETag></Contents>`, k, len(f.objs[k]), etagOf(f.objs[k]))
		}
		b.WriteString(`</ListBucketResult>`)
		_, _ = w.Write([]byte(b.String()))
	case r.Method == http.MethodPut:
		if _, ok := f.objs[key]; ok && r.Header.Get("If-None-Match") == "*" {
			s3Error(w, http.StatusPreconditionFailed, "PreconditionFailed")
			return
		}
		f.objs[key] = body
		w.Header().Set("ETag", etagOf(body))
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		data, ok := f.objs[key]
		if !ok {
			s3Error(w, http.StatusNotFound, "NoSuchKey")
			return
		}
		w.Header().Set("ETag", etagOf(data))
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(data)
		}
	default:
		f.t.Errorf("fakeS3: unexpected %s %s", r.Method, r.URL)
		http.Error(w, "unexpected", http.StatusBadRequest)
	}
}

func etagOf(b []byte) string { return fmt.Sprintf(`"%032x"`, len(b)) }

func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>scripted</Message></Error>`, code)
}

// cutBody answers 200 with data's full Content-Length, sends the first half
// of it and ends the connection: a clean close (FIN), or a reset (RST).
func cutBody(t *testing.T, w http.ResponseWriter, data []byte, reset bool) {
	w.Header().Set("ETag", etagOf(data))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data[:len(data)/2])
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_ = buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0) // close with RST
	}
	_ = conn.Close()
}

// TestReadRetriesCutBody: a small object's body cut half-way (the connection
// closed, or reset) is read again and Read returns the whole object; a
// body cut every time fails after readTries attempts without data; a 404 or
// a 403 is not retried.
func TestReadRetriesCutBody(t *testing.T) {
	f, b := newFakeS3(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789"), 2000)
	for _, k := range []string{"cut", "reset", "always"} {
		f.set(k, data)
	}
	f.fault = func(w http.ResponseWriter, r *http.Request, key string, n int) bool {
		if r.Method != http.MethodGet {
			return false
		}
		switch {
		case key == "cut" && n == 1, key == "always":
			cutBody(t, w, data, false)
			return true
		case key == "reset" && n == 1:
			cutBody(t, w, data, true)
			return true
		case key == "denied":
			s3Error(w, http.StatusForbidden, "AccessDenied")
			return true
		case key == "busy":
			s3Error(w, http.StatusServiceUnavailable, "ServiceUnavailable")
			return true
		}
		return false
	}
	for _, k := range []string{"cut", "reset"} {
		got, etag, err := b.Read(ctx, k)
		if err != nil || !bytes.Equal(got, data) || etag != etagOf(data) {
			t.Errorf("Read(%s) = %d bytes, %q, %v; want the whole %d bytes", k, len(got), etag, err, len(data))
		}
		if n := f.requests(http.MethodGet, k); n != 2 {
			t.Errorf("Read(%s): %d GETs, want 2 (the cut one, then the whole one)", k, n)
		}
	}
	got, _, err := b.Read(ctx, "always")
	if err == nil || got != nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Read(always) = %d bytes, %v; want no data and the cut's error", len(got), err)
	}
	if n := f.requests(http.MethodGet, "always"); n != readTries {
		t.Errorf("Read(always): %d GETs, want %d", n, readTries)
	}
	if _, _, err := b.Read(ctx, "missing"); !errors.Is(err, ErrNotExist) || f.requests(http.MethodGet, "missing") != 1 {
		t.Errorf("Read(missing) = %v after %d GETs; want ErrNotExist after one", err, f.requests(http.MethodGet, "missing"))
	}
	if _, _, err := b.Read(ctx, "denied"); err == nil || f.requests(http.MethodGet, "denied") != 1 {
		t.Errorf("Read(denied) = %v after %d GETs; want a failure after one", err, f.requests(http.MethodGet, "denied"))
	}
	// A 503 is the SDK's to retry (DefaultMaxAttempts in all), not Read's as well.
	if _, _, err := b.Read(ctx, "busy"); err == nil || f.requests(http.MethodGet, "busy") != retry.DefaultMaxAttempts {
		t.Errorf("Read(busy) = %v after %d GETs; want a failure after the SDK's %d", err, f.requests(http.MethodGet, "busy"), retry.DefaultMaxAttempts)
	}
	if got, want := b.Stats().Requests[KindGet], 2+2+readTries+1+1+1; got != want {
		t.Errorf("get count %d, want one per Read attempt (%d)", got, want)
	}
}

// TestReadBodyShort: a body that ends cleanly before the length its answer
// declared is a cut body, not the object.
func TestReadBodyShort(t *testing.T) {
	_, err := readBody(strings.NewReader("abc"), 5)
	var be *bodyReadError
	if !errors.As(err, &be) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("readBody(3 of 5 bytes) = %v; want a bodyReadError", err)
	}
	if d, err := readBody(strings.NewReader("abc"), -1); err != nil || string(d) != "abc" {
		t.Errorf("readBody(unknown length) = %q, %v", d, err)
	}
}

// TestS3Retries429: an S3 429 is retried whatever its code: on PutObject
// with a code the SDK does not list (a proxy's "InternalError"), on
// HeadObject (no body: the SDK names it "TooManyRequests") and on
// UploadPart; and on GetObject. A 412 is not retried.
func TestS3Retries429(t *testing.T) {
	f, b := newFakeS3(t)
	ctx := context.Background()
	f.fault = func(w http.ResponseWriter, r *http.Request, key string, n int) bool {
		if n != 1 || key == "cond" {
			return false
		}
		if key == "big" && r.URL.Query().Get("partNumber") != "2" {
			return false // only the first UploadPart of part 2 meets a 429
		}
		w.Header().Set("Retry-After", "0")
		s3Error(w, http.StatusTooManyRequests, "InternalError")
		return true
	}
	if _, err := b.Put(ctx, "small", strings.NewReader("hello"), PutOptions{Size: 5}); err != nil {
		t.Errorf("Put after a 429: %v", err)
	}
	if n := f.requests(http.MethodPut, "small"); n != 2 {
		t.Errorf("Put: %d PUTs, want 2", n)
	}
	if obj, err := b.Stat(ctx, "small"); err != nil || obj.Size != 5 {
		t.Errorf("Stat after a 429 = %+v, %v", obj, err)
	}
	if n := f.requests(http.MethodHead, "small"); n != 2 {
		t.Errorf("Stat: %d HEADs, want 2", n)
	}
	if got, _, err := b.Read(ctx, "small"); err != nil || string(got) != "hello" {
		t.Errorf("Read after a 429 = %q, %v", got, err)
	}
	big := bytes.Repeat([]byte("x"), MinPartSize+1)
	if _, err := b.Put(ctx, "big", bytes.NewReader(big), PutOptions{Size: int64(len(big))}); err != nil {
		t.Errorf("multipart Put after a 429 on UploadPart: %v", err)
	}
	if n1, n2 := f.requests(http.MethodPut, "big#1"), f.requests(http.MethodPut, "big#2"); n1 != 1 || n2 != 2 {
		t.Errorf("multipart Put: part 1 sent %d times, part 2 %d times; want 1 and 2", n1, n2)
	}
	put(t, b, "cond", "one", PutOptions{})
	if _, err := b.Put(ctx, "cond", strings.NewReader("two"), PutOptions{IfNoneMatch: true}); !errors.Is(err, ErrPreconditionFailed) {
		t.Errorf("Put(If-None-Match on an existing key) = %v, want ErrPreconditionFailed", err)
	}
	if n := f.requests(http.MethodPut, "cond"); n != 2 {
		t.Errorf("%d PUTs of cond, want 2 (the 412 not retried)", n)
	}
}

// TestS3RetriesCutListAndDelete: a listing page or a DeleteObjects answer
// whose body is cut half-way (the SDK fails to decode it) is sent again;
// both are safe to repeat.
func TestS3RetriesCutListAndDelete(t *testing.T) {
	f, b := newFakeS3(t)
	var keys []string
	for i := range 40 {
		keys = append(keys, fmt.Sprintf("k%02d", i))
		f.set(keys[i], []byte("v"))
	}
	f.cutFirst = func(r *http.Request) bool {
		return r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" ||
			r.Method == http.MethodPost && r.URL.Query().Has("delete")
	}
	if err := b.Delete(context.Background(), keys[:10]); err != nil {
		t.Errorf("Delete after a cut answer: %v", err)
	}
	if n := f.requests(http.MethodPost, "/bkt"); n != 2 || f.objects() != 30 {
		t.Errorf("%d DeleteObjects requests, %d objects left; want 2 requests, 30 left", n, f.objects())
	}
	if got := listAll(t, b); len(got) != 30 {
		t.Errorf("List after a cut page: %d objects, want 30", len(got))
	}
	if n := f.requests(http.MethodGet, "/bkt"); n != 2 {
		t.Errorf("%d listing requests, want 2 (the cut one, then the whole one)", n)
	}
}
