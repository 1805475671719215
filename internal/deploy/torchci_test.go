package deploy

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTorchCIAccess: the webhook extras of examples/torchci.yaml are
// granted exactly: the logs bucket read-write, conditional PutItem on the
// PREFIX tables of the configured region only, and the CircleCI secret.
func TestTorchCIAccess(t *testing.T) {
	cfg := loadExample(t, filepath.Join("..", "..", "examples", "torchci.yaml"))
	n := Derive(cfg, "")
	if n.Dynamo == nil || n.Dynamo.TablePrefix != "torchci-" || n.Dynamo.Region != "us-east-1" {
		t.Errorf("dynamo access %+v", n.Dynamo)
	}
	var logs *BucketAccess
	for i := range n.Buckets {
		if n.Buckets[i].Bucket == "acme-ci-logs" {
			logs = &n.Buckets[i]
		}
	}
	if logs == nil || logs.Prefixes[""] != AccessReadWrite {
		t.Errorf("logs bucket: %+v", n.Buckets)
	}
	if strings.Join(n.Secrets, ",") != "ghsync/github-app-key,ghsync/webhook-secret,ghsync/circleci-webhook-secret" {
		t.Errorf("secrets %v", n.Secrets)
	}
	tpl, err := Build(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := tpl.YAML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Count(s, "dynamodb:") != 2 || !strings.Contains(s, "- dynamodb:PutItem\n") ||
		!strings.Contains(s, "arn:${AWS::Partition}:dynamodb:us-east-1:${AWS::AccountId}:table/torchci-*") {
		t.Errorf("template's DynamoDB grant:\n%s", grep(s, "dynamodb"))
	}

	if strings.Contains(s, "dynamodb:UpdateItem") {
		t.Errorf("mirror mode grants UpdateItem:\n%s", grep(s, "dynamodb"))
	}

	// DynamoDB-only projections also set classifications with UpdateItem.
	cfg.Webhooks.DynamoDB.SQLProjections = false
	if n := Derive(cfg, ""); n.Dynamo == nil || !n.Dynamo.Only {
		t.Errorf("dynamo access with sql_projections: false: %+v", n.Dynamo)
	}
	tpl, err = Build(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := tpl.YAML(); !strings.Contains(string(out), "- dynamodb:PutItem\n") || !strings.Contains(string(out), "- dynamodb:UpdateItem\n") {
		t.Errorf("DynamoDB-only grant:\n%s", grep(string(out), "dynamodb"))
	}
	cfg.Webhooks.DynamoDB.SQLProjections = true

	// Without webhooks.dynamodb: no DynamoDB access at all.
	cfg.Webhooks.DynamoDB = nil
	if n := Derive(cfg, ""); n.Dynamo != nil {
		t.Errorf("dynamo access without webhooks.dynamodb: %+v", n.Dynamo)
	}
	tpl, err = Build(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := tpl.YAML(); strings.Contains(string(out), "dynamodb") {
		t.Errorf("template grants DynamoDB without webhooks.dynamodb:\n%s", grep(string(out), "dynamodb"))
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
