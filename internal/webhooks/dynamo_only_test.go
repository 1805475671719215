package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/testkit/mototest"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo/dynamotest"
)

// switchProxy forwards to moto_server, or answers 503 while down, standing
// in for a DynamoDB outage.
type switchProxy struct {
	*httptest.Server
	down atomic.Bool
}

func newSwitchProxy(t *testing.T, endpoint string) *switchProxy {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			http.Error(w, "DynamoDB is down (test)", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// dynamoClient makes one attempt per request: the outage test must see
// the proxy's failures.
func dynamoClient(endpoint string) *dynamodb.Client {
	return mototest.DynamoClient(endpoint, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
}

func attrS(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// TestDynamoOnly: with Dynamo.Only every projected example payload lands in
// DynamoDB under its dynamoKey and no SQL projection row is written; the
// ordering guard holds (in the outbox and in DynamoDB); a job's log
// classification survives later puts of the job, whether recorded before or
// after them; a DynamoDB outage loses nothing.
func TestDynamoOnly(t *testing.T) {
	raw, err := os.ReadFile(examplesFile(t))
	if err != nil {
		t.Fatal(err)
	}
	var sets []exampleSet
	if err := json.Unmarshal(raw, &sets); err != nil {
		t.Fatal(err)
	}
	endpoint := mototest.Start(t, "DynamoDB-only projections are not tested")
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		testDynamoOnly(t, endpoint, sets, d, "ghsynconly-"+string(d.Dialect())+"-")
	})
}

func testDynamoOnly(t *testing.T, endpoint string, sets []exampleSet, d *db.DB, prefix string) {
	ctx := context.Background()
	direct := dynamoClient(endpoint)
	proxy := newSwitchProxy(t, endpoint)
	w, err := dynamotest.New(dynamoClient(proxy.URL), prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CreateTables(ctx, webhooks.Tables); err != nil {
		t.Fatal(err)
	}
	r := newLogsRig(t, d, "mem", nil, func(c *webhooks.Config) { c.Dynamo = webhooks.DynamoConfig{Writer: w, Only: true} })
	get := func(table, key string) map[string]types.AttributeValue {
		t.Helper()
		return getItem(t, direct, w.TableName(table), key)
	}

	// Every example payload.
	var want []expect
	for _, s := range sets {
		for i, ex := range s.Examples {
			id := fmt.Sprintf("ex-%s-%d", s.Name, i)
			var compact bytes.Buffer
			if err := json.Compact(&compact, ex); err != nil {
				t.Fatal(err)
			}
			if code := r.post(t, s.Name, id, compact.Bytes()); code/100 != 2 {
				t.Fatalf("%s #%d: %d", s.Name, i, code)
			}
			want = append(want, expectedKeys(t, s.Name, id, ex)...)
		}
	}
	r.process(t)
	if n := r.count(t, "SELECT COUNT(*) FROM deliveries WHERE processed_at IS NULL"); n != 0 {
		t.Fatalf("%d deliveries left unprocessed", n)
	}
	for _, table := range webhooks.Tables {
		if n := r.count(t, "SELECT COUNT(*) FROM "+table); n != 0 {
			t.Errorf("SQL projection table %s has %d rows in DynamoDB-only mode", table, n)
		}
	}
	syncAll(t, r.svc)
	seen := map[string]bool{}
	for _, e := range want {
		item := get(e.table, e.key)
		if item == nil {
			t.Errorf("%s: no item %q", w.TableName(e.table), e.key)
			continue
		}
		if k := attrS(item, dynamo.KeyAttribute); k != e.key {
			t.Errorf("%s %s: dynamoKey %q", e.table, e.key, k)
		}
		if attrS(item, "ghsync_order_key") == "" && e.table != "push" && e.table != "pull_request_review" && e.table != "pull_request_review_comment" {
			t.Errorf("%s %s: no ghsync_order_key", e.table, e.key)
		}
		seen[e.table] = true
	}
	if len(seen) != len(webhooks.Tables) {
		t.Errorf("tables exercised: %v", seen)
	}
	if n := r.count(t, "SELECT COUNT(*) FROM dynamo_outbox"); n != 0 {
		t.Errorf("%d outbox rows left after sync", n)
	}

	// Ordering inside the outbox: newer then older in one batch, both pending.
	post := func(id string, body []byte) {
		t.Helper()
		if code := r.post(t, "workflow_job", id, body); code != 202 {
			t.Fatalf("post %s: %d", id, code)
		}
	}
	post("wj-new", jobPayload("acme/app", 4242, "completed", "2024-05-01T10:00:00Z", "2024-05-01T10:30:00Z"))
	post("wj-old", jobPayload("acme/app", 4242, "in_progress", "2024-05-01T10:00:00Z", ""))
	r.process(t)
	syncAll(t, r.svc)
	item := get("workflow_job", "acme/app/4242")
	if attrS(item, "status") != "completed" || attrS(item, "ghsync_delivery_id") != "wj-new" {
		t.Fatalf("older pending delivery replaced the newer: status %q delivery %q", attrS(item, "status"), attrS(item, "ghsync_delivery_id"))
	}
	// Ordering in DynamoDB: an older delivery after the newer was written.
	post("wj-older", jobPayload("acme/app", 4242, "queued", "", ""))
	r.process(t)
	syncAll(t, r.svc)
	if item = get("workflow_job", "acme/app/4242"); attrS(item, "ghsync_delivery_id") != "wj-new" {
		t.Fatalf("older delivery overwrote the newer item: delivery %q status %q", attrS(item, "ghsync_delivery_id"), attrS(item, "status"))
	}

	// Classification recorded after the item was written (UpdateItem), then
	// kept by a later full put of the job.
	r.addJob(t, 4242, logFixture(4242, 5)) // completed 10:05: older than wj-new, queues the log
	r.process(t)
	if sum, err := r.dl.RunOnce(ctx); err != nil || sum.Stored != 1 {
		t.Fatalf("logs: %+v %v", sum, err)
	}
	syncAll(t, r.svc)
	item = get("workflow_job", "acme/app/4242")
	checkClassified(t, item, "after the item was written")
	if attrS(item, "ghsync_delivery_id") != "wj-new" || attrS(item, "completed_at") != "2024-05-01T10:30:00Z" {
		t.Errorf("classification update changed the item: delivery %q completed_at %q", attrS(item, "ghsync_delivery_id"), attrS(item, "completed_at"))
	}
	post("wj-later", jobPayload("acme/app", 4242, "completed", "2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z"))
	r.process(t)
	syncAll(t, r.svc)
	item = get("workflow_job", "acme/app/4242")
	if attrS(item, "ghsync_delivery_id") != "wj-later" {
		t.Fatalf("later delivery not written: %q", attrS(item, "ghsync_delivery_id"))
	}
	checkClassified(t, item, "after a later put of the job")

	// Classification recorded while the job's item is still pending: the put
	// carries it.
	r.addJob(t, 4343, logFixture(4343, 5))
	r.process(t)
	if sum, err := r.dl.RunOnce(ctx); err != nil || sum.Stored != 1 {
		t.Fatalf("logs: %+v %v", sum, err)
	}
	if n := r.count(t, "SELECT COUNT(*) FROM dynamo_outbox WHERE key = 'acme/app/4343' AND kind = 'item'"); n != 1 {
		t.Fatalf("job 4343: want its item pending, %d", n)
	}
	syncAll(t, r.svc)
	checkClassified(t, get("workflow_job", "acme/app/4343"), "recorded before the item was written")

	// Classification recorded after the item was written, nothing pending:
	// set with UpdateItem, the rest of the item unchanged.
	r.addJob(t, 4646, logFixture(4646, 5))
	r.process(t)
	syncAll(t, r.svc)
	if item := get("workflow_job", "acme/app/4646"); item == nil || item["classification"] != nil {
		t.Fatalf("job 4646 before its log: %v", item)
	}
	if sum, err := r.dl.RunOnce(ctx); err != nil || sum.Stored != 1 {
		t.Fatalf("logs: %+v %v", sum, err)
	}
	if n := r.count(t, "SELECT COUNT(*) FROM dynamo_outbox WHERE key = 'acme/app/4646' AND kind = 'classification'"); n != 1 {
		t.Fatalf("job 4646: want its classification queued, %d", n)
	}
	syncAll(t, r.svc)
	item = get("workflow_job", "acme/app/4646")
	checkClassified(t, item, "set on the written item")
	if attrS(item, "ghsync_delivery_id") != "job-4646-done" || attrS(item, "status") != "completed" {
		t.Errorf("classification update changed the item: %v", item)
	}

	// A classification never creates a partial item (which would block the
	// job's later conditional puts).
	applied, err := w.SetClassification(ctx, "workflow_job", "acme/app/999999", json.RawMessage(`{"rule":"x"}`))
	if err != nil || applied {
		t.Fatalf("classification of a missing item: applied=%v err=%v", applied, err)
	}
	if item := get("workflow_job", "acme/app/999999"); item != nil {
		t.Fatalf("partial item created: %v", item)
	}

	// DynamoDB down: nothing lost, written once it is back.
	proxy.down.Store(true)
	post("wj-down", jobPayload("acme/app", 5555, "in_progress", "2024-05-01T12:00:00Z", ""))
	if code := r.post(t, "issues", "is-down", issuePayload("acme/app", 77, "opened", "open", "down", "2024-05-01T12:00:00Z")); code != 202 {
		t.Fatal(code)
	}
	r.process(t)
	if _, err := r.svc.SyncDynamo(ctx); err == nil {
		t.Fatal("sync with DynamoDB down: no error")
	}
	if n := r.count(t, "SELECT COUNT(*) FROM dynamo_outbox WHERE last_error IS NOT NULL"); n != 2 {
		t.Fatalf("outbox rows with an error while down: %d, want 2", n)
	}
	if item := get("workflow_job", "acme/app/5555"); item != nil {
		t.Fatal("item written while down?")
	}
	proxy.down.Store(false)
	time.Sleep(50 * time.Millisecond) // past the (millisecond-based) backoff
	syncAll(t, r.svc)
	if item := get("workflow_job", "acme/app/5555"); attrS(item, "status") != "in_progress" {
		t.Fatalf("job queued while DynamoDB was down not written after: %v", item)
	}
	if item := get("issues", "acme/app/77"); attrS(item, "title") != "down" {
		t.Fatalf("issue queued while DynamoDB was down not written after: %v", item)
	}

	// ApplyObject (REST refreshes) in the same mode: queued, not upserted.
	obj := json.RawMessage(`{"id":5555,"status":"completed","conclusion":"success","started_at":"2024-05-01T12:00:00Z","completed_at":"2024-05-01T12:10:00Z"}`)
	ok, err := webhooks.ApplyObject(ctx, d, "workflow_job", "acme/app", obj, "reconcile:test", webhooks.ApplyOptions{Dynamo: true, DynamoOnly: true})
	if err != nil || !ok {
		t.Fatalf("apply: %v %v", ok, err)
	}
	syncAll(t, r.svc)
	if item := get("workflow_job", "acme/app/5555"); attrS(item, "status") != "completed" || attrS(item, "ghsync_delivery_id") != "reconcile:test" {
		t.Fatalf("applied object not in DynamoDB: %v", item)
	}
	for _, table := range webhooks.Tables {
		if n := r.count(t, "SELECT COUNT(*) FROM "+table); n != 0 {
			t.Errorf("SQL projection table %s has %d rows in DynamoDB-only mode", table, n)
		}
	}
}

func checkClassified(t *testing.T, item map[string]types.AttributeValue, when string) {
	t.Helper()
	c, ok := item["classification"].(*types.AttributeValueMemberM)
	if !ok {
		t.Fatalf("classification %s: no classification attribute (%v)", when, item["classification"])
	}
	if rule, _ := c.Value["rule"].(*types.AttributeValueMemberS); rule == nil || rule.Value == "" {
		t.Errorf("classification %s: rule %v", when, c.Value["rule"])
	}
	if attrS(item, "ghsync_order_key") == "" {
		t.Errorf("classification %s: item lost ghsync_order_key", when)
	}
}
