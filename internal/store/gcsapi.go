package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/api/googleapi"
)

// gcsAPI speaks the part of Cloud Storage's JSON API (v1) the gs:// driver
// uses, with requests shaped as the generated client
// google.golang.org/api/storage/v1 shapes them (same paths, parameters,
// bodies, upload protocols and *googleapi.Error errors). It replaces that
// client because the generated package imports google.golang.org/api/option
// and transport/http, which link gRPC, its protobuf descriptors and
// OpenTelemetry into the binary although only HTTP/JSON is ever spoken
// (issue 17). Requests go through hc; the caller's transport adds
// credentials and retries the requests that are safe to repeat
// (gcsRetryTransport); uploads are retried here (see sendUpload).
type gcsAPI struct {
	hc    *http.Client
	base  string        // the JSON API's base URL, ending in "/storage/v1/"
	pause time.Duration // the first pause before an upload request is sent again
}

// gcsObj is the object resource, with the fields ghsync reads or writes.
type gcsObj struct {
	Name            string            `json:"name,omitempty"`
	Size            uint64            `json:"size,omitempty,string"`
	Etag            string            `json:"etag,omitempty"`
	Generation      int64             `json:"generation,omitempty,string"`
	Md5Hash         string            `json:"md5Hash,omitempty"`
	Updated         string            `json:"updated,omitempty"`
	ContentType     string            `json:"contentType,omitempty"`
	CacheControl    string            `json:"cacheControl,omitempty"`
	ContentEncoding string            `json:"contentEncoding,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
}

// newRequest builds a request to tmpl (relative to the base URL, with
// {bucket}/{object} style variables expanded and escaped as the generated
// client does) with query q plus alt=json and prettyPrint=false. A non-nil
// body is sent as JSON (and can be sent again: GetBody is set).
func (a *gcsAPI) newRequest(ctx context.Context, method, tmpl string, vars map[string]string, q url.Values, body []byte) (*http.Request, error) {
	if q == nil {
		q = url.Values{}
	}
	q.Set("alt", "json")
	q.Set("prettyPrint", "false")
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, googleapi.ResolveRelative(a.base, tmpl)+"?"+q.Encode(), r)
	if err != nil {
		return nil, err
	}
	googleapi.Expand(req.URL, vars)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// call sends req and decodes a 2xx answer's JSON into out (when not nil);
// any other status is a *googleapi.Error.
func (a *gcsAPI) call(req *http.Request, out any) error {
	resp, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	return decodeGCS(resp, out)
}

// decodeGCS checks resp (a *googleapi.Error unless 2xx), decodes its JSON
// body into out when out is not nil, and closes the body.
func decodeGCS(resp *http.Response, out any) error {
	defer googleapi.CloseBody(resp)
	if err := googleapi.CheckResponse(resp); err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s answer: %w", resp.Request.Method, err)
	}
	return nil
}

// getObject returns the object's resource (objects.get).
func (a *gcsAPI) getObject(ctx context.Context, bucket, key string) (*gcsObj, error) {
	req, err := a.newRequest(ctx, http.MethodGet, "b/{bucket}/o/{object}", map[string]string{"bucket": bucket, "object": key}, nil, nil)
	if err != nil {
		return nil, err
	}
	var o gcsObj
	if err := a.call(req, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// gcsList is one page of objects.list.
type gcsList struct {
	Items         []*gcsObj `json:"items"`
	NextPageToken string    `json:"nextPageToken"`
}

// listObjects returns one page of the objects under prefix (objects.list
// with maxResults and only the fields a listing needs).
func (a *gcsAPI) listObjects(ctx context.Context, bucket, prefix, token string, max int) (*gcsList, error) {
	q := url.Values{"prefix": {prefix}, "maxResults": {strconv.Itoa(max)},
		"fields": {"items(name,size,etag,md5Hash,updated),nextPageToken"}}
	if token != "" {
		q.Set("pageToken", token)
	}
	req, err := a.newRequest(ctx, http.MethodGet, "b/{bucket}/o", map[string]string{"bucket": bucket}, q, nil)
	if err != nil {
		return nil, err
	}
	var page gcsList
	if err := a.call(req, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// deleteObject deletes the live object (objects.delete).
func (a *gcsAPI) deleteObject(ctx context.Context, bucket, key string) error {
	req, err := a.newRequest(ctx, http.MethodDelete, "b/{bucket}/o/{object}", map[string]string{"bucket": bucket, "object": key}, nil, nil)
	if err != nil {
		return err
	}
	return a.call(req, nil)
}

// gcsRewrite is the answer of objects.rewrite.
type gcsRewrite struct {
	Done         bool   `json:"done"`
	RewriteToken string `json:"rewriteToken"`
}

// rewriteObject makes one objects.rewrite call copying src to dst inside
// bucket, continuing the rewrite named by token when it is not "".
func (a *gcsAPI) rewriteObject(ctx context.Context, bucket, src, dst, token string) (*gcsRewrite, error) {
	var q url.Values
	if token != "" {
		q = url.Values{"rewriteToken": {token}}
	}
	req, err := a.newRequest(ctx, http.MethodPost, "b/{sourceBucket}/o/{sourceObject}/rewriteTo/b/{destinationBucket}/o/{destinationObject}",
		map[string]string{"sourceBucket": bucket, "sourceObject": src, "destinationBucket": bucket, "destinationObject": dst}, q, []byte("{}\n"))
	if err != nil {
		return nil, err
	}
	var res gcsRewrite
	if err := a.call(req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// insertBucket creates bucket in project (buckets.insert).
func (a *gcsAPI) insertBucket(ctx context.Context, project, bucket string) error {
	body, err := json.Marshal(map[string]string{"name": bucket})
	if err != nil {
		return err
	}
	req, err := a.newRequest(ctx, http.MethodPost, "b", nil, url.Values{"project": {project}}, body)
	if err != nil {
		return err
	}
	return a.call(req, nil)
}

// media opens the stored bytes of generation gen of the object (a GET of
// its media). Accept-Encoding: gzip keeps the service from transcoding
// (gunzipping) an object stored with Content-Encoding: gzip, and, being set
// here, keeps Go's transport from gunzipping it on the way.
func (a *gcsAPI) media(ctx context.Context, bucket, key string, gen int64) (io.ReadCloser, error) {
	req, err := a.newRequest(ctx, http.MethodGet, "b/{bucket}/o/{object}", map[string]string{"bucket": bucket, "object": key},
		url.Values{"generation": {strconv.FormatInt(gen, 10)}}, nil)
	if err != nil {
		return nil, err
	}
	q := req.URL.Query()
	q.Set("alt", "media")
	req.URL.RawQuery = q.Encode()
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, err
	}
	if err := googleapi.CheckResponse(resp); err != nil {
		googleapi.CloseBody(resp)
		return nil, err
	}
	return resp.Body, nil
}

// randomToken returns 16 random bytes in hex: multipart boundaries and
// upload idempotency tokens.
func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// uploadQuery is the query of an upload request: the upload type and, when
// ifGen is not nil, the generation precondition (0: only if no live object).
func uploadQuery(kind string, ifGen *int64) url.Values {
	q := url.Values{"uploadType": {kind}}
	if ifGen != nil {
		q.Set("ifGenerationMatch", strconv.FormatInt(*ifGen, 10))
	}
	return q
}

// insertMultipart writes obj with content data in one request
// (uploadType=multipart: the resource as JSON, then the media), sent again
// on a transient failure (see sendUpload).
func (a *gcsAPI) insertMultipart(ctx context.Context, bucket string, obj *gcsObj, data []byte, ifGen *int64) (*gcsObj, error) {
	if strings.ContainsAny(obj.ContentType, "\r\n") {
		return nil, fmt.Errorf("content type %q contains a line break", obj.ContentType)
	}
	meta, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	boundary := randomToken()
	head := []byte("--" + boundary + "\r\nContent-Type: application/json\r\n\r\n" + string(meta) +
		"\r\n--" + boundary + "\r\nContent-Type: " + obj.ContentType + "\r\n\r\n")
	tail := []byte("\r\n--" + boundary + "--\r\n")
	body := func() io.Reader {
		return io.MultiReader(bytes.NewReader(head), bytes.NewReader(data), bytes.NewReader(tail))
	}
	token := randomToken()
	resp, err := a.sendUpload(ctx, func() (*http.Request, error) {
		req, err := a.newRequest(ctx, http.MethodPost, "/upload/storage/v1/b/{bucket}/o", map[string]string{"bucket": bucket},
			uploadQuery("multipart", ifGen), nil)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(body())
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(body()), nil }
		req.ContentLength = int64(len(head) + len(data) + len(tail))
		req.Header.Set("Content-Type", "multipart/related; boundary="+boundary)
		req.Header.Set("X-Goog-Gcs-Idempotency-Token", token)
		return req, nil
	})
	if err != nil {
		return nil, err
	}
	var res gcsObj
	if err := decodeGCS(resp, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// insertResumable writes obj with the content read from r as a resumable
// upload (uploadType=resumable): a session is started, then r is sent in
// chunks of chunk bytes (a multiple of 256 KiB), each sent again on a
// transient failure; nothing is stored unless the last chunk arrives. It
// returns the stored resource and how many bytes were read from r; a read
// error of r is returned as *gcsSourceError.
func (a *gcsAPI) insertResumable(ctx context.Context, bucket string, obj *gcsObj, r io.Reader, chunk int, buf []byte, ifGen *int64) (*gcsObj, int64, error) {
	meta, err := json.Marshal(obj)
	if err != nil {
		return nil, 0, err
	}
	resp, err := a.sendUpload(ctx, func() (*http.Request, error) {
		req, err := a.newRequest(ctx, http.MethodPost, "/upload/storage/v1/b/{bucket}/o", map[string]string{"bucket": bucket},
			uploadQuery("resumable", ifGen), meta)
		if err == nil {
			req.Header.Set("Content-Type", "application/json; charset=UTF-8")
			req.Header.Set("X-Upload-Content-Type", obj.ContentType)
		}
		return req, err
	})
	if err != nil {
		return nil, 0, err
	}
	session := resp.Header.Get("Location")
	if err := decodeGCS(resp, nil); err != nil {
		return nil, 0, err
	}
	if session == "" {
		return nil, 0, errors.New("start resumable upload: the answer has no Location")
	}
	// buf holds one chunk and one byte more: a full chunk followed by a
	// byte is not the last one; that byte starts the next chunk.
	buf = buf[:chunk+1]
	var off int64
	carried := 0
	for {
		n, err := io.ReadFull(r, buf[carried:])
		n += carried
		last := err != nil
		if last && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, off, &gcsSourceError{err}
		}
		size := min(n, chunk)
		rng := fmt.Sprintf("bytes %d-%d/*", off, off+int64(size)-1)
		switch {
		case last && size == 0:
			rng = fmt.Sprintf("bytes */%d", off)
		case last:
			rng = fmt.Sprintf("bytes %d-%d/%d", off, off+int64(size)-1, off+int64(size))
		}
		data := buf[:size]
		token := randomToken()
		resp, err := a.sendUpload(ctx, func() (*http.Request, error) {
			// POST, as the generated client sends chunks (Google also takes PUT).
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, session, bytes.NewReader(data))
			if err == nil {
				req.Header.Set("Content-Range", rng)
				req.Header.Set("Content-Type", obj.ContentType)
				req.Header.Set("X-Goog-Gcs-Idempotency-Token", token)
				// Google's upload endpoint answers a chunk short of the
				// end with 308; this asks for 200 with
				// X-Http-Status-Code-Override: 308 instead.
				req.Header.Set("X-GUploader-No-308", "yes")
			}
			return req, err
		})
		if err != nil {
			return nil, off, err
		}
		off += int64(size)
		if last {
			var res gcsObj
			if err := decodeGCS(resp, &res); err != nil {
				return nil, off, err
			}
			return &res, off, nil
		}
		if resp.StatusCode != http.StatusPermanentRedirect && resp.Header.Get("X-Http-Status-Code-Override") != "308" {
			if err := decodeGCS(resp, nil); err != nil {
				return nil, off, err
			}
			return nil, off, fmt.Errorf("resumable upload: status %d after %d bytes, before the last chunk", resp.StatusCode, off)
		}
		googleapi.CloseBody(resp)
		buf[0] = buf[chunk]
		carried = 1
	}
}

// gcsSourceError is a read error of the body being uploaded (not the
// store's).
type gcsSourceError struct{ err error }

func (e *gcsSourceError) Error() string { return e.err.Error() }
func (e *gcsSourceError) Unwrap() error { return e.err }
