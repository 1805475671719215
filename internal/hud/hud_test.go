package hud

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b)
}

func TestPages(t *testing.T) {
	h := newHandler(t, goldenBucket(t), time.Minute)
	code, body := get(t, h, "/")
	if code != 200 || !strings.Contains(body, `href="/b/acme/app/main.json"`) || !strings.Contains(body, "acme/app") {
		t.Fatalf("index %d: %s", code, body)
	}
	code, body = get(t, h, "/b/acme/app/main.json")
	if code != 200 {
		t.Fatalf("grid %d: %s", code, body)
	}
	for _, want := range []string{
		`<span id="shown">19</span> of 19 jobs`, `data-refresh="60"`,
		`Old-style CI &lt;&amp;&gt; &#34;quotes&#34;`, `<td class="author">Someone Without Account</td>`,
		`class="cell s-timed_out"`, `href="https://circleci.com/gh/acme/app/1"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("grid lacks %s", want)
		}
	}
	if n := strings.Count(body, `<tr class="commit"`); n != 4 {
		t.Errorf("%d rows, want 4", n)
	}
	_, body = get(t, h, "/b/acme/app/main.json?filter=CIRCLECI")
	if !strings.Contains(body, `<span id="shown">2</span> of 19 jobs`) || strings.Count(body, `class="job hidden"`) != 17 {
		t.Errorf("server-side filter not applied")
	}
	if code, _ := get(t, h, "/b/acme/app/nope.json"); code != http.StatusNotFound {
		t.Errorf("missing snapshot: %d", code)
	}
	if code, _ := get(t, h, "/b/../x.json"); code == http.StatusOK {
		t.Errorf("traversal key served")
	}
	code, body = get(t, h, "/assets/hud.js")
	if code != 200 || !strings.Contains(body, "replaceState") {
		t.Errorf("asset %d", code)
	}
}
