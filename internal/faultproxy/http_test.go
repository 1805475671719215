package faultproxy

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// upstream answers GET /data with a 4000-byte body and counts the requests
// that reached it.
func upstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	body := strings.Repeat("0123456789", 400)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "http://"+r.Host+"/data", http.StatusFound)
		default:
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, body)
		}
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

func start(t *testing.T, up string, cfg Config) *Proxy {
	t.Helper()
	p, err := NewHTTP(up, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// client never retries and never reuses a connection, so each request is
// observed as sent.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, method, url string) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader("payload"))
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestEachKindAsTheClientSeesIt(t *testing.T) {
	for _, tc := range []struct {
		kind   Kind
		upHits int64
		check  func(t *testing.T, resp *http.Response, body []byte, err error)
	}{
		{ServerError, 0, func(t *testing.T, resp *http.Response, _ []byte, err error) {
			if err != nil || resp.StatusCode < 500 || resp.StatusCode > 503 {
				t.Fatalf("want 500/502/503, got %v %v", resp, err)
			}
		}},
		{TooMany, 0, func(t *testing.T, resp *http.Response, _ []byte, err error) {
			if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
				t.Fatalf("want 429 with Retry-After: 1, got %v %v", resp, err)
			}
		}},
		{Reset, 1, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err == nil || len(body) >= 4000 {
				t.Fatalf("want an error mid-body, got %d bytes, err %v", len(body), err)
			}
		}},
		{Short, 1, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) || resp.ContentLength != 4000 || len(body) >= 4000 || len(body) == 0 {
				t.Fatalf("want a body shorter than Content-Length 4000, got %d bytes, err %v", len(body), err)
			}
		}},
		{Slow, 1, func(t *testing.T, resp *http.Response, body []byte, err error) {
			if err != nil || resp.StatusCode != 200 || len(body) != 4000 {
				t.Fatalf("want the whole answer, got %v %d bytes %v", resp, len(body), err)
			}
		}},
		{Acted, 1, func(t *testing.T, resp *http.Response, _ []byte, err error) {
			if err != nil || resp.StatusCode != 502 {
				t.Fatalf("want 502, got %v %v", resp, err)
			}
		}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			up, hits := upstream(t)
			p := start(t, up.URL, Config{Seed: 1, Rates: Rates{tc.kind: 1}, MaxDelay: 20 * time.Millisecond})
			resp, body, err := get(t, "POST", p.URL+"/data")
			if tc.kind == Reset && resp == nil && err != nil {
				err = errors.Join(err, errors.New("reset before the body")) // also a reset as the client sees it
			}
			tc.check(t, resp, body, err)
			if hits.Load() != tc.upHits {
				t.Fatalf("upstream saw %d requests, want %d", hits.Load(), tc.upHits)
			}
			if c := p.Counts(); c[tc.kind] != 1 || p.Injected() != 1 {
				t.Fatalf("counts %v, want one %s", c, tc.kind)
			}
			if d := p.Decisions(); len(d) != 1 || d[0].Kind != tc.kind || d[0].Method != "POST" || d[0].Path != "/data" {
				t.Fatalf("decisions %v", d)
			}
		})
	}
}

func TestFilterAndDisable(t *testing.T) {
	up, hits := upstream(t)
	p := start(t, up.URL, Config{Seed: 2, Rates: Rates{ServerError: 1}, Filter: Methods("PUT")})
	if resp, body, err := get(t, "GET", p.URL+"/data"); err != nil || resp.StatusCode != 200 || len(body) != 4000 {
		t.Fatalf("ineligible GET: %v %d %v", resp, len(body), err)
	}
	if resp, _, _ := get(t, "PUT", p.URL+"/data"); resp.StatusCode < 500 {
		t.Fatalf("eligible PUT got %d", resp.StatusCode)
	}
	p.SetEnabled(false)
	if resp, _, _ := get(t, "PUT", p.URL+"/data"); resp.StatusCode != 200 {
		t.Fatalf("disabled proxy answered %d", resp.StatusCode)
	}
	if hits.Load() != 2 || p.Injected() != 1 || len(p.Decisions()) != 1 {
		t.Fatalf("hits %d injected %d decisions %v", hits.Load(), p.Injected(), p.Decisions())
	}
}

func TestRedirectPointsAtTheProxy(t *testing.T) {
	up, _ := upstream(t)
	p := start(t, up.URL, Config{Seed: 3})
	resp, _, err := get(t, "GET", p.URL+"/redirect")
	if err != nil || resp.StatusCode != 302 || resp.Header.Get("Location") != p.URL+"/data" {
		t.Fatalf("redirect: %v %v", resp, err)
	}
}

// The same seed gives the same decisions for the same sequence of requests.
func TestSeedReplays(t *testing.T) {
	run := func() []Kind {
		up, _ := upstream(t)
		p := start(t, up.URL, Config{Seed: 42, MaxDelay: time.Millisecond,
			Rates: Rates{ServerError: .15, TooMany: .1, Reset: .1, Short: .1, Slow: .1, Acted: .1}})
		var kinds []Kind
		for i := 0; i < 40; i++ {
			get(t, "GET", p.URL+"/data")
		}
		for _, d := range p.Decisions() {
			kinds = append(kinds, d.Kind)
		}
		return kinds
	}
	a, b := run(), run()
	if len(a) != 40 || strings.Join(kindStrings(a), ",") != strings.Join(kindStrings(b), ",") {
		t.Fatalf("same seed, different decisions:\n%v\n%v", a, b)
	}
	distinct := map[Kind]bool{}
	for _, k := range a {
		distinct[k] = true
	}
	if len(distinct) < 4 {
		t.Fatalf("40 decisions drew only %v", distinct)
	}
}

func kindStrings(ks []Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}
