package dynamo

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestObjectAttributes(t *testing.T) {
	got, err := objectAttributes([]byte(`{"id":12345678901234567890,"f":1.5e3,"s":"x","e":"","b":true,"n":null,"l":[1,"a"],"m":{"k":false}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]types.AttributeValue{
		"id": &types.AttributeValueMemberN{Value: "12345678901234567890"}, // exact digits, no float rounding
		"f":  &types.AttributeValueMemberN{Value: "1.5e3"},
		"s":  &types.AttributeValueMemberS{Value: "x"},
		"e":  &types.AttributeValueMemberS{Value: ""},
		"b":  &types.AttributeValueMemberBOOL{Value: true},
		"n":  &types.AttributeValueMemberNULL{Value: true},
		"l":  &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberS{Value: "a"}}},
		"m":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberBOOL{Value: false}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
	for _, bad := range []string{`[1]`, `"s"`, `{`} {
		if _, err := objectAttributes([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	w, _ := New(nil, "")
	if w != nil {
		t.Error("New(nil) returned a writer")
	}
}

func TestTableName(t *testing.T) {
	w := &Writer{prefix: DefaultPrefix}
	for table, want := range map[string]string{"workflow_job": "torchci-workflow-job", "issues": "torchci-issues",
		"pull_request": "torchci-pull-request", "push": "torchci-push", "issues_label_event": "torchci-issues-label-event"} {
		if got := w.TableName(table); got != want {
			t.Errorf("%s → %s, want %s", table, got, want)
		}
	}
}
