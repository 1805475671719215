package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/ghsync/ghsync/internal/testkit/mototest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo/dynamotest"
)

// startMoto starts moto_server (DynamoDB emulator) on a free loopback port
// and returns a DynamoDB client for it. Without moto_server the test is
// skipped loudly, or fails when GHSYNC_REQUIRE_MOTO=1.
func startMoto(t *testing.T) *dynamodb.Client {
	t.Helper()
	return mototest.DynamoClient(mototest.Start(t, "DynamoDB projections are not tested"))
}

func getItem(t *testing.T, c *dynamodb.Client, table, key string) map[string]types.AttributeValue {
	t.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{dynamo.KeyAttribute: &types.AttributeValueMemberS{Value: key}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("get %s %s: %v", table, key, err)
	}
	return out.Item
}

func syncAll(t *testing.T, svc *webhooks.Service) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		n, err := svc.SyncDynamo(context.Background())
		if err != nil {
			t.Fatalf("sync dynamo: %v", err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("dynamo sync never finished")
}

// TestDynamoMirror posts every example payload and checks each projection
// lands in its DynamoDB table under the right dynamoKey; then an older
// workflow_job delivery does not overwrite a newer one, and a job log's
// classification becomes an attribute.
func TestDynamoMirror(t *testing.T) {
	raw, err := os.ReadFile(examplesFile(t))
	if err != nil {
		t.Fatal(err)
	}
	client := startMoto(t)
	var sets []exampleSet
	if err := json.Unmarshal(raw, &sets); err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// Tables per dialect, so the subtests do not see each other's items.
		testDynamoMirror(t, client, sets, d, "ghsynctest-"+string(d.Dialect())+"-")
	})
}

func testDynamoMirror(t *testing.T, client *dynamodb.Client, sets []exampleSet, d *db.DB, prefix string) {
	w, err := dynamotest.New(client, prefix)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := w.CreateTables(ctx, webhooks.Tables); err != nil {
		t.Fatal(err)
	}
	r := newLogsRig(t, d, "mem", nil, func(c *webhooks.Config) { c.Dynamo = webhooks.DynamoConfig{Writer: w} })
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
	syncAll(t, r.svc)
	seen := map[string]bool{}
	for _, e := range want {
		item := getItem(t, client, w.TableName(e.table), e.key)
		if item == nil {
			t.Errorf("%s: no item %q", w.TableName(e.table), e.key)
			continue
		}
		if k, ok := item[dynamo.KeyAttribute].(*types.AttributeValueMemberS); !ok || k.Value != e.key {
			t.Errorf("%s %s: dynamoKey %v", e.table, e.key, item[dynamo.KeyAttribute])
		}
		seen[e.table] = true
	}
	if len(seen) != len(webhooks.Tables) {
		t.Errorf("tables exercised: %v", seen)
	}
	t.Logf("%d example projections checked in DynamoDB", len(want))

	// Ordering: completed (newer) first, then an older in_progress delivery.
	if code := r.post(t, "workflow_job", "wj-new", jobPayload("acme/app", 4242, "completed", "2024-05-01T10:00:00Z", "2024-05-01T10:30:00Z")); code != 202 {
		t.Fatal(code)
	}
	r.process(t)
	syncAll(t, r.svc)
	if code := r.post(t, "workflow_job", "wj-old", jobPayload("acme/app", 4242, "in_progress", "2024-05-01T10:00:00Z", "")); code != 202 {
		t.Fatal(code)
	}
	r.process(t)
	syncAll(t, r.svc)
	item := getItem(t, client, w.TableName("workflow_job"), "acme/app/4242")
	if st, _ := item["status"].(*types.AttributeValueMemberS); st == nil || st.Value != "completed" {
		t.Fatalf("older delivery overwrote the newer item: status %v", item["status"])
	}
	// The conditional write itself refuses an older order key.
	applied, err := w.Put(ctx, dynamo.Item{Table: "workflow_job", Key: "acme/app/4242", OrderKey: "1|2024-05-01T10:00:00.000000Z",
		DeliveryID: "stale", UpdatedAt: "2024-05-01T10:00:00.000000Z", Object: json.RawMessage(`{"status":"in_progress"}`)})
	if err != nil || applied {
		t.Fatalf("stale conditional put: applied=%v err=%v", applied, err)
	}
	item = getItem(t, client, w.TableName("workflow_job"), "acme/app/4242")
	if st, _ := item["status"].(*types.AttributeValueMemberS); st == nil || st.Value != "completed" {
		t.Fatalf("stale put overwrote: %v", item["status"])
	}

	// The job log's classification becomes an attribute of its item.
	r.addJob(t, 4242, logFixture(4242, 5))
	r.process(t)
	if sum, err := r.dl.RunOnce(ctx); err != nil || sum.Stored != 1 {
		t.Fatalf("logs: %+v %v", sum, err)
	}
	syncAll(t, r.svc)
	item = getItem(t, client, w.TableName("workflow_job"), "acme/app/4242")
	c, ok := item["classification"].(*types.AttributeValueMemberM)
	if !ok {
		t.Fatalf("no classification attribute: %v", item["classification"])
	}
	if rule, _ := c.Value["rule"].(*types.AttributeValueMemberS); rule == nil || !strings.Contains(rule.Value, "pytest") {
		t.Errorf("classification rule %v", c.Value["rule"])
	}
}
