package ui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/scheduler"
)

// TestRunPageRepositoryRows: the run page of a whole-owner job (and of a
// repos_from fan-out) shows one row per repository with its outcome: up to
// date, changed, failed, removed from the listing.
func TestRunPageRepositoryRows(t *testing.T) {
	d := dbtest.SQLite(t)
	h := newUI(t, d, nil)
	sum := json.RawMessage(`{"owner":"acme","listed":40,"listing_not_modified":false,"ok":3,"failed":1,"rows":[
		{"row":{"repo":"site-08"},"source":"github:acme/site-08","dest":"s3://b/sites/site-08/","summary":{"new":0,"modified":0,"deleted":0,"up_to_date":true}},
		{"row":{"repo":"site-11"},"source":"github:acme/site-11","dest":"s3://b/sites/site-11/","summary":{"new":2,"modified":1,"deleted":0}},
		{"row":{"repo":"site-12"},"source":"github:acme/site-12","dest":"s3://b/sites/site-12/","error":"resolve acme/site-12@HEAD: 502 Bad Gateway"},
		{"row":{"repo":"site-09"},"source":"github:acme/site-09","dest":"s3://b/sites/site-09/","removed":{"policy":"managed","deleted":3}}]}`)
	id := seedRun(t, d, scheduler.Run{Job: "org", StartedAt: now.Add(-time.Minute), FinishedAt: now.Add(-time.Minute + time.Second),
		Outcome: scheduler.OutcomeFailed, Error: "1 of 4 repositories of acme failed", Summary: sum})
	code, body := get(t, h, fmt.Sprintf("/ui/jobs/org/runs/%d", id))
	if code != http.StatusOK {
		t.Fatalf("GET run: %d\n%s", code, body)
	}
	mustContain(t, "owner run", body, `<table class="data" id="rows">`,
		`<th scope="row">site-08</th><td>up to date</td><td><code>s3://b/sites/site-08/</code></td>`,
		`<th scope="row">site-11</th><td>2 new, 1 modified</td>`,
		`<th scope="row">site-12</th><td class="bad">failed: resolve acme/site-12@HEAD: 502 Bad Gateway</td>`,
		`<th scope="row">site-09</th><td>left the listing: 3 objects deleted (delete: managed)</td>`)
}
