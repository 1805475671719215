package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	. "github.com/ghsync/ghsync/internal/config"
)

func TestWebhookSectionErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"retention", "webhooks:\n  retention: 10m\n",
			[]string{`ghsync.yaml:2:3: webhooks.retention: must be at least 1h, or 0 to keep deliveries forever (got 10m0s)`}},
		{"download mode", "webhooks:\n  logs:\n    download: some\n    dest: s3://b/ci/\n",
			[]string{`ghsync.yaml:3:5: webhooks.logs.download: must be one of none, failures, all (got "some")`}},
		{"logs without dest", "webhooks:\n  logs:\n    download: failures\n",
			[]string{`ghsync.yaml:3:5: webhooks.logs.download: downloading logs needs a destination: set webhooks.logs.dest or webhooks.archive.dest`}},
		{"repo mode", "webhooks:\n  logs:\n    dest: ci/\n    repos:\n      - pattern: acme/*\n        mode: most\n",
			[]string{`ghsync.yaml:6:9: webhooks.logs.repos[0].mode: must be one of none, failures, all (got "most")`}},
		{"repo pattern", "webhooks:\n  logs:\n    dest: ci/\n    repos:\n      - pattern: \"acme/[\"\n        mode: all\n",
			[]string{`ghsync.yaml:5:9: webhooks.logs.repos[0].pattern: invalid glob pattern "acme/["`}},
		{"repo missing mode", "webhooks:\n  logs:\n    dest: ci/\n    repos:\n      - pattern: acme/*\n",
			[]string{`ghsync.yaml:5:9: webhooks.logs.repos[0].mode: is required`}},
		{"unknown key", "webhooks:\n  logs:\n    downlaod: all\n",
			[]string{`ghsync.yaml:3:5: webhooks.logs.downlaod: unknown field "downlaod" (did you mean "download"?)`}},
		{"context range", "webhooks:\n  logs:\n    context: -1\n",
			[]string{`ghsync.yaml:3:5: webhooks.logs.context: must be between 0 and 1000 (got -1)`}},
		{"concurrency", "webhooks:\n  logs:\n    concurrency: 0\n",
			[]string{`ghsync.yaml:3:5: webhooks.logs.concurrency: must be between 1 and 64 (got 0)`}},
		{"cpu workers", "webhooks:\n  logs:\n    cpu_workers: 65\n",
			[]string{`ghsync.yaml:3:5: webhooks.logs.cpu_workers: must be between 1 and 64, or 0 for half the cores (got 65)`}},
		{"max classify bytes", "webhooks:\n  logs:\n    max_classify_bytes: 0\n",
			[]string{`ghsync.yaml:3:5: webhooks.logs.max_classify_bytes: must be positive`}},
		{"logs dest", "webhooks:\n  logs:\n    dest: /abs\n",
			[]string{`ghsync.yaml:3:5: webhooks.logs.dest: a relative destination must not start with "/" (use a URL such as file:///abs/path for absolute paths)`}},
		{"dynamo prefix", "webhooks:\n  dynamodb:\n    table_prefix: \"torch ci\"\n",
			[]string{`ghsync.yaml:3:5: webhooks.dynamodb.table_prefix: must be letters, digits, '_', '-' or '.' (DynamoDB table name characters), got "torch ci"`}},
		{"dynamo region", "webhooks:\n  dynamodb:\n    region: europe\n",
			[]string{`ghsync.yaml:3:5: webhooks.dynamodb.region: must be an AWS region such as us-east-1 (got "europe")`}},
		{"circleci unknown", "webhooks:\n  circleci:\n    secret: x\n",
			[]string{`ghsync.yaml:3:5: webhooks.circleci.secret: unknown field "secret" (did you mean "secrets"?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorStrings(t, tt.yaml, nil)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s\nyaml:\n%s", diff, tt.yaml)
			}
		})
	}
}

func TestWebhookSectionDefaults(t *testing.T) {
	c, err := Parse([]byte("storage: s3://acme-ci/?region=eu-west-1\nwebhooks:\n  archive:\n    dest: raw/\n"), "ghsync.yaml", mapEnv(nil), kinds)
	if err != nil {
		t.Fatal(err)
	}
	l := c.Webhooks.Logs
	if l.Download != LogsNone || l.Enabled() || l.Context != 12 || l.Concurrency != 4 || l.MaxClassifyBytes != 16<<20 ||
		l.Dest != "s3://acme-ci/raw/?region=eu-west-1" || c.Webhooks.DynamoDB != nil || len(c.Webhooks.CircleCI.Secrets) != 0 {
		t.Errorf("defaults: %+v dynamo %v", l, c.Webhooks.DynamoDB)
	}
	if r := c.Webhooks.Retention.Std(); r != 30*24*time.Hour {
		t.Errorf("webhooks.retention default = %s, want 720h", r)
	}
	y := "storage: s3://acme-ci/?region=eu-west-1\nwebhooks:\n  logs:\n    download: failures\n    dest: logs/\n    context: 0\n" +
		"    repos:\n      - {pattern: \"pytorch/*\", mode: all}\n    max_classify_bytes: 4MiB\n    rules: ci/ruleset.toml\n" +
		"  circleci:\n    secrets: [\"${C1}\", \"${C2}\"]\n  dynamodb: {}\n"
	c, err = Parse([]byte(y), "ghsync.yaml", mapEnv(map[string]string{"C1": "s1"}), kinds)
	if err != nil {
		t.Fatal(err)
	}
	l = c.Webhooks.Logs
	want := WebhookLogs{Download: LogsFailures, Repos: []LogsRepo{{Pattern: "pytorch/*", Mode: LogsAll}}, Dest: "s3://acme-ci/logs/?region=eu-west-1",
		Rules: "ci/ruleset.toml", Context: 0, Concurrency: 4, MaxClassifyBytes: 4 << 20}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	if n := len(c.Webhooks.CircleCI.Secrets); n != 1 {
		t.Errorf("circleci secrets = %d, want 1 (the unset one dropped)", n)
	}
	if d := c.Webhooks.DynamoDB; d == nil || d.TablePrefix != "torchci-" || !d.SQLProjections || c.Webhooks.DynamoOnly() {
		t.Errorf("dynamodb = %+v (sql_projections defaults to true)", d)
	}
}

// TestDynamoOnlyConfig: sql_projections: false selects DynamoDB-only
// projections, and a reconcile job (which reads the SQL workflow_job table)
// is then refused at its kind's position.
func TestDynamoOnlyConfig(t *testing.T) {
	c, err := Parse([]byte("webhooks:\n  dynamodb:\n    sql_projections: false\n"), "ghsync.yaml", mapEnv(nil), kinds)
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Webhooks.DynamoDB; d == nil || d.SQLProjections || !c.Webhooks.DynamoOnly() || d.TablePrefix != "torchci-" {
		t.Errorf("dynamodb = %+v", d)
	}
	c, err = Parse([]byte("webhooks:\n  dynamodb:\n    sql_projections: true\n"), "ghsync.yaml", mapEnv(nil), kinds)
	if err != nil || c.Webhooks.DynamoOnly() {
		t.Errorf("sql_projections: true: only=%v err=%v", c != nil && c.Webhooks.DynamoOnly(), err)
	}
	reconcile := "jobs:\n  - name: fix\n    kind: reconcile\n    repos: [acme/app]\n"
	if _, err := Parse([]byte("webhooks:\n  dynamodb: {}\n"+reconcile), "ghsync.yaml", mapEnv(nil), kinds); err != nil {
		t.Errorf("reconcile with the SQL projections kept: %v", err)
	}
	got := errorStrings(t, "webhooks:\n  dynamodb:\n    sql_projections: false\n"+reconcile, nil)
	want := []string{`ghsync.yaml:6:5: jobs[0].kind: reconcile finds stuck jobs in the SQL workflow_job table, which webhooks.dynamodb.sql_projections: false leaves empty (projections go only to DynamoDB); remove this job or set sql_projections: true`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	got = errorStrings(t, "webhooks:\n  dynamodb:\n    sql_projections: maybe\n", nil)
	if len(got) != 1 || !strings.HasPrefix(got[0], "ghsync.yaml:3:") || !strings.Contains(got[0], "webhooks.dynamodb.sql_projections") {
		t.Errorf("bad boolean: %q", got)
	}
}
