package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/testkit/mototest"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo/dynamotest"
)

// TestServeDynamoOnly: `ghsync serve` with webhooks.dynamodb.sql_projections:
// false writes projections to DynamoDB and not to the SQL tables; the
// deliveries API and UI page still work; GET /api/events/{table} and
// `ghsync events list` say which DynamoDB table holds the rows; a reconcile
// job is refused at its position in the file.
func TestServeDynamoOnly(t *testing.T) {
	_, client := mototest.StartDynamoDB(t, "serve's DynamoDB-only projections are not tested")
	w, err := dynamotest.New(client, "only-")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CreateTables(context.Background(), []string{"workflow_job"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := `database: sqlite://` + dir + `/data/ghsync.db
webhooks:
  secrets: ["${HOOK_SECRET}"]
  dynamodb:
    table_prefix: only-
    region: us-east-1
    sql_projections: false
`
	cfg := writeFile(t, filepath.Join(dir, "ghsync.yaml"), []byte(base))
	url, stop := startServe(t, map[string]string{"HOOK_SECRET": hookSecret}, cfg)
	if code := postHook(t, url, "workflow_job", "only-1", jobDelivery("acme/app", 9, "completed", "success", "2024-05-01T10:00:00Z")); code != 202 {
		t.Fatal(code)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("only-workflow-job"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{dynamo.KeyAttribute: &types.AttributeValueMemberS{Value: "acme/app/9"}}})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("only-workflow-job acme/app/9: not written after 30s")
		}
	}

	resp, err := http.Get(url + "/api/events/workflow_job")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusConflict || body["dynamodb_table"] != "only-workflow-job" ||
		!strings.Contains(body["error"], "only to DynamoDB") {
		t.Errorf("GET /api/events/workflow_job: %d %v %v", resp.StatusCode, body, err)
	}
	resp, err = http.Get(url + "/api/events/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /api/events/nope: %d, want 400", resp.StatusCode)
	}
	var page struct {
		Deliveries []struct {
			DeliveryID string `json:"delivery_id"`
		} `json:"deliveries"`
	}
	if code := getJSON(t, url+"/api/deliveries", &page); code != 200 || len(page.Deliveries) != 1 || page.Deliveries[0].DeliveryID != "only-1" {
		t.Errorf("GET /api/deliveries: %d %+v", code, page)
	}
	resp, err = http.Get(url + "/ui/deliveries")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(html), "only-1") {
		t.Errorf("GET /ui/deliveries: %d, delivery shown: %v", resp.StatusCode, strings.Contains(string(html), "only-1"))
	}
	if code, errs := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, errs)
	}

	d, err := db.Open(context.Background(), "sqlite://"+dir+"/data/ghsync.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	err = d.QueryRow(context.Background(), "SELECT COUNT(*) FROM workflow_job").Scan(&n)
	d.Close()
	if err != nil || n != 0 {
		t.Errorf("SQL workflow_job rows: %d (%v), want 0", n, err)
	}

	code, out, errs := runCLI(context.Background(), "events", "list", "workflow_job", "--config", cfg)
	if code != ExitUsage || out != "" || !strings.Contains(errs, "workflow_job is in DynamoDB table only-workflow-job") {
		t.Errorf("events list in DynamoDB-only mode: exit %d\nstdout %q\nstderr %q", code, out, errs)
	}
	code, out, errs = runCLI(context.Background(), "events", "deliveries", "--config", cfg)
	if code != 0 || !strings.Contains(out, "only-1") {
		t.Errorf("events deliveries: exit %d\n%s\n%s", code, out, errs)
	}

	bad := writeFile(t, filepath.Join(dir, "bad.yaml"), []byte(base+"jobs:\n  - name: fix\n    kind: reconcile\n    repos: [acme/app]\n"))
	code, _, errs = runCLI(context.Background(), "jobs", "--config", bad)
	if code != ExitUsage || !strings.Contains(errs, "bad.yaml:10:5: jobs[0].kind: reconcile finds stuck jobs in the SQL workflow_job table") {
		t.Errorf("reconcile in DynamoDB-only mode: exit %d, stderr %q", code, errs)
	}
}
