package dynamo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ghsync/ghsync/internal/testkit/mototest"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo/dynamotest"
)

// Against moto: an item is written with its JSON attributes in DynamoDB's
// types (read back by the SDK), an older order key does not replace it,
// SetClassification updates an existing item and never creates one, and a
// missing table's error names the table and AWS's code.
func TestWriterAgainstMoto(t *testing.T) {
	_, sdk := mototest.StartDynamoDB(t, "the DynamoDB writer is not tested")
	ctx := context.Background()
	w, err := dynamotest.New(sdk, "wt-")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.CreateTables(ctx, []string{"workflow_job"}); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateTables(ctx, []string{"workflow_job"}); err != nil {
		t.Errorf("creating an existing table: %v", err)
	}
	put := func(order, name string) bool {
		t.Helper()
		ok, err := w.Put(ctx, dynamo.Item{Table: "workflow_job", Key: "o/r/1", OrderKey: order, DeliveryID: "d" + order, UpdatedAt: "2026-12-06",
			Object: []byte(`{"id":12345678901234567890,"name":"` + name + `","steps":[{"n":1}],"ok":true,"none":null}`)})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !put("2", "new") || put("1", "old") {
		t.Fatal("the order guard: the first put must apply, the older one not")
	}
	get := func() map[string]types.AttributeValue {
		t.Helper()
		out, err := sdk.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("wt-workflow-job"),
			Key: map[string]types.AttributeValue{dynamo.KeyAttribute: &types.AttributeValueMemberS{Value: "o/r/1"}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	item := get()
	if n, ok := item["id"].(*types.AttributeValueMemberN); !ok || n.Value != "12345678901234567890" {
		t.Errorf("id %#v", item["id"])
	}
	if s, ok := item["name"].(*types.AttributeValueMemberS); !ok || s.Value != "new" {
		t.Errorf("name %#v (an older put replaced the item?)", item["name"])
	}
	if l, ok := item["steps"].(*types.AttributeValueMemberL); !ok || len(l.Value) != 1 {
		t.Errorf("steps %#v", item["steps"])
	} else if m, ok := l.Value[0].(*types.AttributeValueMemberM); !ok || numberOf(m.Value["n"]) != "1" {
		t.Errorf("steps[0] %#v", l.Value[0])
	}
	if _, ok := item["none"].(*types.AttributeValueMemberNULL); !ok {
		t.Errorf("none %#v", item["none"])
	}
	if ok, err := w.SetClassification(ctx, "workflow_job", "o/r/1", []byte(`{"rule":"oom"}`)); err != nil || !ok {
		t.Fatalf("classify an existing item: %v %v", ok, err)
	}
	if c, ok := get()["classification"].(*types.AttributeValueMemberM); !ok || stringOf(c.Value["rule"]) != "oom" {
		t.Errorf("classification %#v", get()["classification"])
	}
	if ok, err := w.SetClassification(ctx, "workflow_job", "o/r/2", []byte(`null`)); err != nil || ok {
		t.Errorf("classify a missing item: applied %v, %v (want false, nil)", ok, err)
	}
	_, err = w.Put(ctx, dynamo.Item{Table: "absent", Key: "k", OrderKey: "1", Object: []byte(`{}`)})
	if err == nil || !strings.Contains(err.Error(), "wt-absent") || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("missing table: %v", err)
	}
}

func numberOf(av types.AttributeValue) string {
	if n, ok := av.(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return ""
}

func stringOf(av types.AttributeValue) string {
	if s, ok := av.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
