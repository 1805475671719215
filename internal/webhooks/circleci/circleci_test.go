package circleci_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/circleci"
)

const (
	oldSecret = "circle-old"
	newSecret = "circle-new"
)

func sig(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

func jobEvent(id, jobID, status, happened string) []byte {
	return []byte(fmt.Sprintf(`{"id":%q,"type":"job-completed","happened_at":%q,"webhook":{"id":"w1","name":"ghsync"},
"project":{"id":"p1","name":"app","slug":"gh/acme/app"},"organization":{"id":"o1","name":"acme"},
"workflow":{"id":"wf-1","name":"build-test","status":"running","created_at":"2024-05-01T10:00:00Z","stopped_at":null,"url":"https://app.circleci.com/x"},
"pipeline":{"id":"pl1","number":7},"job":{"id":%q,"name":"test","number":42,"status":%q,"started_at":"2024-05-01T10:01:00Z","stopped_at":%q}}`,
		id, happened, jobID, status, happened))
}

func setup(t *testing.T, d *db.DB) (*circleci.Service, *httptest.Server) {
	svc, srv, _ := setupArchive(t, d)
	return svc, srv
}

func setupArchive(t *testing.T, d *db.DB) (*circleci.Service, *httptest.Server, *store.Bucket) {
	t.Helper()
	if err := webhooks.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	bkt, err := store.Open(context.Background(), "mem://", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bkt.Close() })
	svc, err := circleci.New(circleci.Config{DB: d, Secrets: []string{oldSecret, newSecret}, Archive: bkt})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return svc, srv, bkt
}

func post(t *testing.T, url string, body []byte, signature string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("circleci-signature", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func count(t *testing.T, d *db.DB, q string) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCircleCISignatures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		_, srv := setup(t, d)
		body := jobEvent("e1", "j1", "success", "2024-05-01T10:05:00Z")
		refused := []struct {
			name, sig string
		}{
			{"missing", ""},
			{"wrong secret", sig("not-the-secret", body)},
			{"malformed: no version", hex.EncodeToString(make([]byte, 32))},
			{"malformed: not hex", "v1=zzzz"},
			{"malformed: short", "v1=abcd"},
			{"wrong version only", "v2=" + sig(newSecret, body)[3:]},
			{"signature of another body", sig(newSecret, append(body, ' '))},
		}
		for _, c := range refused {
			if code := post(t, srv.URL, body, c.sig); code != 401 {
				t.Errorf("%s: %d, want 401", c.name, code)
			}
		}
		if n := count(t, d, "SELECT COUNT(*) FROM circleci_deliveries"); n != 0 {
			t.Fatalf("refused deliveries stored: %d", n)
		}
		if code := post(t, srv.URL, body, sig(oldSecret, body)); code != 202 {
			t.Fatalf("valid (old secret): %d", code)
		}
		body2 := jobEvent("e2", "j2", "failed", "2024-05-01T10:06:00Z")
		if code := post(t, srv.URL, body2, "v2=ffff,"+sig(newSecret, body2)); code != 202 {
			t.Fatalf("valid (new secret, among other versions): %d", code)
		}
		if code := post(t, srv.URL, body, sig(newSecret, body)); code != 200 {
			t.Fatalf("duplicate id: %d, want 200", code)
		}
		if code := post(t, srv.URL, []byte(`{"no":"id"}`), sig(newSecret, []byte(`{"no":"id"}`))); code != 400 {
			t.Errorf("signed but not an event: %d, want 400", code)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM circleci_deliveries"); n != 2 {
			t.Fatalf("stored = %d, want 2", n)
		}
	})
}

func TestCircleCIProjectionAndArchive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc, srv, bkt := setupArchive(t, d)
		ctx := context.Background()
		newer := jobEvent("e-new", "j1", "failed", "2024-05-01T10:09:00Z")
		older := jobEvent("e-old", "j1", "running", "2024-05-01T10:02:00Z")
		wf := []byte(`{"id":"e-wf","type":"workflow-completed","happened_at":"2024-05-01T10:10:00Z","project":{"slug":"gh/acme/app","name":"app"},"workflow":{"id":"wf-1","name":"build-test","status":"failed","created_at":"2024-05-01T10:00:00Z","stopped_at":"2024-05-01T10:10:00Z"}}`)
		for _, b := range [][]byte{newer, older, wf} {
			if code := post(t, srv.URL, b, sig(newSecret, b)); code != 202 {
				t.Fatalf("post: %d", code)
			}
		}
		var status, jobName, delivery string
		if err := d.QueryRow(ctx, "SELECT status, job_name, delivery_id FROM circleci_job WHERE key = 'gh/acme/app/job/j1'").Scan(&status, &jobName, &delivery); err != nil {
			t.Fatal(err)
		}
		if status != "failed" || jobName != "test" || delivery != "e-new" {
			t.Errorf("older delivery overwrote the newer: %s %s %s", status, jobName, delivery)
		}
		if err := d.QueryRow(ctx, "SELECT status FROM circleci_job WHERE key = 'gh/acme/app/workflow/wf-1'").Scan(&status); err != nil || status != "failed" {
			t.Errorf("workflow row: %q %v", status, err)
		}
		if err := svc.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, "SELECT COUNT(*) FROM circleci_deliveries WHERE archived_at IS NULL"); n != 0 {
			t.Fatalf("%d deliveries not archived", n)
		}
		ids := map[string]int{}
		var keys []string
		if err := bkt.List(ctx, func(o store.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
			t.Fatal(err)
		}
		for _, key := range keys {
			if !keyRE.MatchString(key) {
				t.Errorf("archive key %q does not follow the layout", key)
			}
			obj, err := bkt.Stat(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if obj.ContentType != "application/gzip" {
				t.Errorf("%s: content type %q, want application/gzip", key, obj.ContentType)
			}
			data, _, err := bkt.Read(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(zr)
			for sc.Scan() {
				var l struct {
					DeliveryID string          `json:"delivery_id"`
					Payload    json.RawMessage `json:"payload"`
				}
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil || len(l.Payload) == 0 {
					t.Fatalf("%s: bad line %s", key, sc.Bytes())
				}
				ids[l.DeliveryID]++
			}
		}
		if puts := bkt.Stats().Requests[store.KindPut]; puts != len(keys) {
			t.Errorf("%d archive objects, %d puts counted by the store", len(keys), puts)
		}
		if len(ids) != 3 || ids["e-new"] != 1 || ids["e-old"] != 1 || ids["e-wf"] != 1 {
			t.Errorf("archived ids %v", ids)
		}
	})
}

var keyRE = regexp.MustCompile(`^circleci/event=(job-completed|workflow-completed)/date=2\d{3}-\d{2}-\d{2}/hour=\d{2}/\d{12}-\d{12}\.ndjson\.gz$`)
