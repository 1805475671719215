package lambda

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/testkit/mototest"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo/dynamotest"
)

// TestHTTPEventWritesDynamoOnly: with webhooks.dynamodb.sql_projections:
// false, a delivery arriving as a Function URL event is in DynamoDB when the
// invocation returns (Lambda freezes the process afterwards, so the
// background syncer cannot be relied on), and not in the SQL table.
func TestHTTPEventWritesDynamoOnly(t *testing.T) {
	_, client := mototest.StartDynamoDB(t, "DynamoDB-only projections on Lambda are not tested")
	ctx := context.Background()
	w, err := dynamotest.New(client, "lambdaonly-")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CreateTables(ctx, webhooks.Tables); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	yml := `database: sqlite://` + dir + `/hooks.db
webhooks:
  secrets: ["${HOOK_SECRET}"]
  dynamodb:
    table_prefix: lambdaonly-
    region: us-east-1
    sql_projections: false
`
	env := map[string]string{"HOOK_SECRET": testSecret}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Parse([]byte(yml), "GHSYNC_CONFIG_YAML", getenv, jobs.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	h := New(cfg, nil, getenv)
	defer h.Close(ctx)
	body := `{"action":"in_progress","workflow_job":{"id":88,"run_id":1,"status":"in_progress","name":"build","head_sha":"abc",` +
		`"started_at":"2024-05-01T10:00:00Z"},"repository":{"full_name":"acme/app"}}`
	payload := signedHookEvent("workflow_job", "d-88", body)
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		StatusCode int `json:"statusCode"`
	}
	if json.Unmarshal(out, &res); res.StatusCode/100 != 2 {
		t.Fatalf("response %s", out)
	}
	// No waiting: the invocation itself must have written the item.
	got, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(w.TableName("workflow_job")),
		Key: map[string]types.AttributeValue{"dynamoKey": &types.AttributeValueMemberS{Value: "acme/app/88"}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Item) == 0 {
		t.Fatal("workflow_job acme/app/88 is not in DynamoDB when the invocation returned")
	}
	srv, err := h.server(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := srv.DB().QueryRow(ctx, "SELECT COUNT(*) FROM workflow_job").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("SQL workflow_job has %d rows with sql_projections: false", n)
	}
}
