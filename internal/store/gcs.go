package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/googleapi"
)

// gcsDriver serves gs:// through Cloud Storage's JSON API (the API rclone
// uses; gcsapi.go speaks it), so keys are sent verbatim and conditional
// writes use generation preconditions.
type gcsDriver struct {
	b      *Bucket
	api    *gcsAPI
	bucket string
}

// gcsScope is the OAuth scope the driver asks for: the one gocloud's gcp
// package asked for (credentials that worked before keep working).
const gcsScope = "https://www.googleapis.com/auth/cloud-platform"

// gcsParams are the query parameters gs:// accepts: those gocloud's gcsblob
// opener took. access_id and private_key_path only served gocloud's signed
// URLs, which ghsync never makes: access_id=- asks for an unauthenticated
// client (as anonymous=true), other values are accepted and unused.
var gcsParams = map[string]bool{"anonymous": true, "access_id": true, "private_key_path": true,
	"universe_domain": true, "grpc": true, "zonal": true}

// openGCS opens gs://. With STORAGE_EMULATOR_HOST set (HOST:PORT or a URL,
// as Google's client libraries accept it) the client talks to that emulator
// without credentials; with ?anonymous=true (or access_id=-) it makes
// unauthenticated requests (public buckets). Otherwise it uses Application
// Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's user
// credentials, the metadata server); finding none is a *CredentialsError
// before any request. universe_domain chooses another Google Cloud universe.
// Only the JSON API is spoken: grpc=true and zonal=true are refused.
func openGCS(ctx context.Context, b *Bucket, t target) (driver, error) {
	p, err := gcsOptions(t)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", t.redacted, err)
	}
	emulator := os.Getenv("STORAGE_EMULATOR_HOST")
	if emulator != "" || p.anonymous {
		for k := range t.query {
			if k != "anonymous" && (k != "access_id" || t.query.Get(k) != "-") {
				return nil, fmt.Errorf("destination %s: query parameter %q is not used with STORAGE_EMULATOR_HOST or anonymous=true", t.redacted, k)
			}
		}
	}
	hc := &http.Client{Transport: &gcsRetryTransport{base: gcsTransport(), pause: 100 * time.Millisecond}}
	api := &gcsAPI{hc: hc, base: gcsEndpoint(p.universe, os.Getenv), pause: 100 * time.Millisecond}
	switch {
	case emulator != "":
		base := emulator
		if !strings.Contains(base, "://") {
			base = "http://" + base
		}
		api.base = strings.TrimSuffix(base, "/") + "/storage/v1/"
	case p.anonymous:
	default:
		creds, err := google.FindDefaultCredentialsWithParams(ctx, google.CredentialsParams{
			Scopes: []string{gcsScope}, UniverseDomain: p.universe})
		if err != nil {
			ce := gcpCredentials
			ce.URL, ce.Cause = t.redacted, err
			return nil, &ce
		}
		hc.Transport = &oauth2.Transport{Source: creds.TokenSource, Base: hc.Transport}
	}
	return &gcsDriver{b: b, api: api, bucket: t.bucket}, nil
}

// gcsEndpoint is the JSON API's base URL outside an emulator, chosen as the
// generated client google.golang.org/api/storage/v1 chose it: in universe
// (the universe_domain parameter, else GOOGLE_CLOUD_UNIVERSE_DOMAIN, else
// googleapis.com), or the mTLS endpoint when GOOGLE_API_USE_MTLS_ENDPOINT
// is "always" in the default universe.
func gcsEndpoint(universe string, getenv func(string) string) string {
	if universe == "" {
		universe = getenv("GOOGLE_CLOUD_UNIVERSE_DOMAIN")
	}
	if universe == "" {
		universe = "googleapis.com"
	}
	if universe == "googleapis.com" && getenv("GOOGLE_API_USE_MTLS_ENDPOINT") == "always" {
		return "https://storage.mtls.googleapis.com/storage/v1/"
	}
	return "https://storage." + universe + "/storage/v1/"
}

// gcsURLParams are the parsed gs:// parameters.
type gcsURLParams struct {
	anonymous bool
	universe  string
}

// gcsOptions checks t's parameters (see gcsParams).
func gcsOptions(t target) (gcsURLParams, error) {
	var p gcsURLParams
	err := eachParam(t.query, gcsParams, "gs:// takes anonymous, access_id, private_key_path, universe_domain and prefix", func(k, v string) error {
		switch k {
		case "anonymous", "grpc", "zonal":
			on, err := parseBool(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			if k == "anonymous" {
				p.anonymous = on
			} else if on {
				return fmt.Errorf("%s=true: ghsync speaks Cloud Storage's JSON API only (no gRPC client is built in)", k)
			}
		case "access_id":
			p.anonymous = p.anonymous || v == "-"
		case "private_key_path":
			if v != "" {
				if _, err := os.Stat(v); err != nil {
					return fmt.Errorf("private_key_path: %w", err)
				}
			}
		case "universe_domain":
			p.universe = v
		}
		return nil
	})
	return p, err
}

// gcsTransport is the HTTP transport of the Cloud Storage client: Go's
// default one, keeping as many idle connections as a sync has uploads.
func gcsTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = maxIdleConnsPerHost
	return tr
}

func (d *gcsDriver) put(ctx context.Context, key string, r io.Reader, o PutOptions) (Object, error) {
	obj := &gcsObj{Name: key, CacheControl: o.CacheControl, ContentEncoding: o.ContentEncoding, Metadata: o.Metadata}
	var ifGen *int64 // the generation precondition (0: no live object)
	switch {
	case o.IfNoneMatch:
		ifGen = new(int64)
	case o.IfMatch != "":
		// The ETag is compared here and the write is made conditional on
		// the generation that carried it: atomic, since any other write in
		// between creates a new generation.
		d.b.stats.add(KindHead, 1)
		cur, err := d.attrs(ctx, key)
		if err != nil {
			return Object{}, fmt.Errorf("check condition: %w", err)
		}
		if err := conditionHolds(o, true, cur.Etag); err != nil {
			return Object{}, err
		}
		ifGen = &cur.Generation
	}
	// Read up to one part first: a shorter body goes in one request without
	// a part-sized buffer; a longer one as a resumable upload of part-sized
	// chunks (nothing is written unless every chunk arrives).
	h, err := d.b.bufs.readHead(r, d.b.part, o.Size)
	if err != nil {
		return Object{}, fmt.Errorf("read body: %w", err)
	}
	defer h.release()
	obj.ContentType = o.ContentType
	if obj.ContentType == "" {
		obj.ContentType = sniffType(h.data)
	}
	d.b.stats.add(KindPut, 1)
	var res *gcsObj
	n := int64(len(h.data))
	if h.whole {
		res, err = d.api.insertMultipart(ctx, d.bucket, obj, h.data, ifGen)
	} else {
		// Chunks short of the last are multiples of 256 KiB.
		chunk := (int(d.b.part) + gcsChunkUnit - 1) / gcsChunkUnit * gcsChunkUnit
		buf := d.b.bufs.get(chunk + 1)
		defer d.b.bufs.put(buf)
		res, n, err = d.api.insertResumable(ctx, d.bucket, obj, io.MultiReader(bytes.NewReader(h.data), h.rest), chunk, *buf, ifGen)
	}
	if err != nil {
		var se *gcsSourceError
		if errors.As(err, &se) {
			return Object{}, fmt.Errorf("read body: %w", se.err)
		}
		return Object{}, fmt.Errorf("objects.insert: %w", err)
	}
	d.b.stats.uploaded(n)
	return gcsObject(res), nil
}

// gcsChunkUnit is what the sizes of a resumable upload's chunks (all but
// the last) are multiples of.
const gcsChunkUnit = 256 << 10

// gcsObject converts the API's object resource.
func gcsObject(a *gcsObj) Object {
	md := a.Metadata
	if md == nil {
		md = map[string]string{}
	}
	o := Object{Key: a.Name, Size: int64(a.Size), ETag: a.Etag, Metadata: md, ContentType: a.ContentType,
		CacheControl: a.CacheControl, ContentEncoding: a.ContentEncoding}
	if a.Md5Hash != "" {
		o.MD5, _ = base64.StdEncoding.DecodeString(a.Md5Hash)
	}
	if a.Updated != "" {
		o.ModTime, _ = time.Parse(time.RFC3339Nano, a.Updated)
	}
	return o
}

// attrs returns the object's resource (objects.get).
func (d *gcsDriver) attrs(ctx context.Context, key string) (*gcsObj, error) {
	return d.api.getObject(ctx, d.bucket, key)
}

// read makes a HEAD for the ETag (the GET response does not carry it) and
// reads that generation, so content and ETag agree.
func (d *gcsDriver) read(ctx context.Context, key string) ([]byte, string, error) {
	rc, obj, err := d.open(ctx, key)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	data, err := readBody(rc, -1) // a cut is retried by Bucket.Read, not by gcsRetryTransport
	if err != nil {
		return nil, "", err
	}
	return data, obj.ETag, nil
}

func (d *gcsDriver) stat(ctx context.Context, key string) (Object, error) {
	d.b.stats.add(KindHead, 1)
	a, err := d.attrs(ctx, key)
	if err != nil {
		return Object{}, err
	}
	return gcsObject(a), nil
}

func (d *gcsDriver) listPage(ctx context.Context, prefix, token string) ([]Object, string, error) {
	d.b.stats.add(KindList, 1)
	page, err := d.api.listObjects(ctx, d.bucket, prefix, token, listPage)
	if err != nil {
		var ge *googleapi.Error
		if errors.As(err, &ge) && ge.Code == http.StatusNotFound {
			// A listing has nothing else to miss (`ghsync check` tells the user so).
			return nil, "", fmt.Errorf("bucket does not exist (%s): %w", d.bucket, err)
		}
		return nil, "", err
	}
	out := make([]Object, 0, len(page.Items))
	for _, a := range page.Items {
		o := gcsObject(a)
		o.Metadata = nil
		out = append(out, o)
	}
	return out, page.NextPageToken, nil
}

func (d *gcsDriver) delete(ctx context.Context, keys []string) error {
	return deleteEach(ctx, d.b, keys, func(ctx context.Context, k string) error {
		return d.api.deleteObject(ctx, d.bucket, k)
	})
}

// open makes a HEAD for the ETag (a GET response does not carry it) and
// reads that generation, so content and ETag agree.
func (d *gcsDriver) open(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	d.b.stats.add(KindHead, 1)
	a, err := d.attrs(ctx, key)
	if err != nil {
		return nil, Object{}, err
	}
	d.b.stats.add(KindGet, 1)
	rc, err := d.api.media(ctx, d.bucket, key, a.Generation)
	if err != nil {
		return nil, Object{}, err
	}
	return rc, gcsObject(a), nil
}

// copy rewrites src to dst inside the store (objects.rewrite, repeated with
// its token until done), keeping the object's attributes.
func (d *gcsDriver) copy(ctx context.Context, dst, src string) error {
	token := ""
	for {
		res, err := d.api.rewriteObject(ctx, d.bucket, src, dst, token)
		if err != nil {
			return fmt.Errorf("rewrite: %w", err)
		}
		if res.Done {
			return nil
		}
		token = res.RewriteToken
	}
}
