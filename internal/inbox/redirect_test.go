package inbox

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestCallbackRedirectIsAFailure: a callback answered with a redirect is not
// followed (Go's client would turn a 301/302 POST into a bodyless GET whose
// 200 would count as done): the action fails naming the Location, and the
// ledger leaves it to be tried again.
func TestCallbackRedirectIsAFailure(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			e := newEnv(t)
			var mu sync.Mutex
			var seen []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.Method+" "+r.URL.Path)
				mu.Unlock()
				if r.URL.Path == "/moved/" {
					w.WriteHeader(http.StatusOK) // what the bodyless GET would get
					return
				}
				http.Redirect(w, r, "/moved/", status)
			}))
			defer srv.Close()
			e.cfg.Callback.URL = srv.URL + "/api/beta/uploads/"
			e.upload("incomplete.csv", "x.csv")
			res, err := ProcessSet(context.Background(), e.deps, e.cfg, setPrefix, RunOptions{})
			if err == nil {
				t.Fatal("no error for a redirected callback")
			}
			a := findAction(t, res, ActionCallback)
			if a.Status != StatusFailed || !strings.Contains(a.Error, "/moved/") || !strings.Contains(a.Error, "redirect") {
				t.Errorf("callback = %+v; want failed naming the redirect's Location", a)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1 || seen[0] != "POST /api/beta/uploads/" {
				t.Errorf("requests %q; want the one POST, the redirect not followed", seen)
			}
			rec, found, _ := e.ledger.Get(context.Background(), e.cfg.Name, setPrefix)
			if !found || !slices.Contains(rec.Failed, ActionCallback) {
				t.Errorf("ledger record %+v; want the callback failed (tried again next run)", rec)
			}
		})
	}
}
