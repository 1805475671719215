package cdn

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ghsync/ghsync/internal/testkit/mototest"
)

// CreateInvalidation is a signed REST-XML POST: against moto it creates
// exactly the invalidation asked for; a throttling answer is retried with
// the same caller reference (so CloudFront can recognise the retry); an
// unknown distribution fails with AWS's code, naming the distribution.
func TestCloudFrontSignedRESTXML(t *testing.T) {
	endpoint := mototest.Start(t, "CloudFront CreateInvalidation is not tested")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_MAX_ATTEMPTS", "3")
	c := mototest.CloudFrontClient(endpoint)
	id := mototest.CreateDistribution(t, c)
	moto, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}

	// In front of moto: answer the first request 400 Throttling (as
	// CloudFront does), relay the rest; record every request.
	var mu sync.Mutex
	var seen []struct{ auth, path, ref string }
	proxy := httputil.NewSingleHostReverseProxy(moto)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var batch invalidationBatch
		_ = xml.Unmarshal(body, &batch)
		mu.Lock()
		seen = append(seen, struct{ auth, path, ref string }{r.Header.Get("Authorization"), r.URL.Path, batch.CallerReference})
		first := len(seen) == 1
		mu.Unlock()
		if first {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `<?xml version="1.0"?><ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()

	ctx := context.Background()
	client, err := newCloudFrontClient(ctx, url.Values{"endpoint": {front.URL}})
	if err != nil {
		t.Fatal(err)
	}
	reqID, err := NewCloudFront(id, client).Invalidate(ctx, []string{"/a b.html", "/docs/*"})
	if err != nil {
		t.Fatal(err)
	}
	if reqID == "" {
		t.Error("no invalidation id returned")
	}
	if got := mototest.Invalidations(t, c, id); len(got) != 1 || !slices.Equal(got[0], []string{"/a b.html", "/docs/*"}) {
		t.Fatalf("invalidations in moto %q, want one with the two paths", got)
	}
	if len(seen) != 2 || seen[0].ref == "" || seen[0].ref != seen[1].ref {
		t.Fatalf("requests %+v: want 2 (throttled, retried) with one caller reference", seen)
	}
	for _, s := range seen {
		if s.path != "/2020-05-31/distribution/"+id+"/invalidation" || !strings.Contains(s.auth, "/us-east-1/cloudfront/aws4_request") {
			t.Errorf("request %s signed %q: want the invalidation path signed for cloudfront in us-east-1", s.path, s.auth)
		}
	}

	// An unknown distribution: AWS's error code, the distribution named.
	_, err = NewCloudFront("ENOSUCH", client).Invalidate(ctx, []string{"/x"})
	t.Logf("unknown distribution: %v", err)
	if err == nil || !strings.Contains(err.Error(), "ENOSUCH") || !strings.Contains(err.Error(), "NoSuchDistribution") {
		t.Errorf("unknown distribution: err = %v", err)
	}
}
