package dynamo

import (
	"encoding/json"
	"testing"
)

// A JSON object becomes item attributes in DynamoDB's JSON: numbers keep
// their exact digits as N strings, null is NULL, nesting is M and L.
func TestObjectAttributes(t *testing.T) {
	got, err := objectAttributes([]byte(`{"id":12345678901234567890,"f":1.5e3,"s":"x","e":"","b":true,"n":null,"l":[1,"a"],"m":{"k":false}}`))
	if err != nil {
		t.Fatal(err)
	}
	wire, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b":{"BOOL":true},"e":{"S":""},"f":{"N":"1.5e3"},"id":{"N":"12345678901234567890"},` +
		`"l":{"L":[{"N":"1"},{"S":"a"}]},"m":{"M":{"k":{"BOOL":false}}},"n":{"NULL":true},"s":{"S":"x"}}`
	if string(wire) != want {
		t.Fatalf("got  %s\nwant %s", wire, want)
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
