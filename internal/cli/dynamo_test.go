package cli

import (
	"context"
	"github.com/ghsync/ghsync/internal/testkit/mototest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ghsync/ghsync/internal/webhooks/dynamo"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo/dynamotest"
)

// TestServeMirrorsToDynamoDB: `ghsync serve` with webhooks.dynamodb builds
// its DynamoDB client from the AWS SDK's standard environment (here
// AWS_ENDPOINT_URL_DYNAMODB pointing at moto_server) and mirrors the
// projections to PREFIX tables; an older workflow_job delivery does not
// overwrite a newer one.
func TestServeMirrorsToDynamoDB(t *testing.T) {
	_, client := mototest.StartDynamoDB(t, "serve's DynamoDB mirror is not tested")
	t.Setenv("AWS_REGION", "eu-west-1") // overridden by webhooks.dynamodb.region
	w, err := dynamotest.New(client, "ci-")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CreateTables(context.Background(), []string{"workflow_job", "issues"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "ghsync.yaml"), []byte(`database: sqlite://`+dir+`/data/ghsync.db
webhooks:
  secrets: ["${HOOK_SECRET}"]
  dynamodb:
    table_prefix: ci-
    region: us-east-1
`))
	base, stop := startServe(t, map[string]string{"HOOK_SECRET": hookSecret}, cfg)
	if code := postHook(t, base, "workflow_job", "new", jobDelivery("acme/app", 9, "completed", "success", "2024-05-01T10:00:00Z")); code != 202 {
		t.Fatal(code)
	}
	if code := postHook(t, base, "issues", "iss", issueDelivery(4)); code != 202 {
		t.Fatal(code)
	}
	get := func(table, key string) map[string]types.AttributeValue {
		out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{dynamo.KeyAttribute: &types.AttributeValueMemberS{Value: key}}})
		if err != nil {
			t.Fatalf("get %s %s: %v", table, key, err)
		}
		return out.Item
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not mirrored after 30s", what)
			}
		}
	}
	waitFor("ci-workflow-job acme/app/9", func() bool { return get("ci-workflow-job", "acme/app/9") != nil })
	waitFor("ci-issues acme/app/5", func() bool { return get("ci-issues", "acme/app/5") != nil })
	// An older in_progress delivery of the same job arrives late.
	if code := postHook(t, base, "workflow_job", "old", jobDelivery("acme/app", 9, "in_progress", "", "2024-05-01T10:00:00Z")); code != 202 {
		t.Fatal(code)
	}
	waitFor("processing of the late delivery", func() bool {
		var page struct {
			Deliveries []struct {
				DeliveryID  string `json:"delivery_id"`
				ProcessedAt string `json:"processed_at"`
			} `json:"deliveries"`
		}
		getJSON(t, base+"/api/deliveries?limit=10", &page)
		for _, d := range page.Deliveries {
			if d.DeliveryID == "old" && d.ProcessedAt != "" {
				return true
			}
		}
		return false
	})
	time.Sleep(2 * time.Second) // past the mirror's 1s interval
	if code, errs := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, errs)
	}
	item := get("ci-workflow-job", "acme/app/9")
	if st, _ := item["status"].(*types.AttributeValueMemberS); st == nil || st.Value != "completed" {
		t.Errorf("the older delivery overwrote the item: status %v", item["status"])
	}
}
