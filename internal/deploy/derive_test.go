package deploy

import (
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/schedule"
)

// richConfig uses every kind of access the template derives.
const richConfig = `
github:
  app_id: "1"
  private_key: awssecretsmanager://ghsync/github-key?region=eu-west-1
alerts:
  slack_webhook_url: awsparamstore:///ghsync/slack?region=eu-west-1
database: postgres://ghsync@db.example.com/ghsync
webhooks:
  secrets: [awssecretsmanager://ghsync/webhook]
  archive:
    dest: s3://acme-raw/hooks/
  circleci:
    secrets: [a-literal-circleci-secret]
jobs:
  - name: site
    kind: repo
    schedule: "*/15 9-17 * * 1-5"
    source: github:acme/site@main
    dest: s3://acme-site/public/?region=eu-west-1
  - name: local
    kind: repo
    source: github:acme/x
    dest: file:///tmp/x/
  - name: uploads
    kind: inbox
    watch: s3://acme-uploads/incoming/
    final: s3://acme-final/
`

func TestDeriveAccessAndResources(t *testing.T) {
	cfg, err := jobs.ParseConfig([]byte(richConfig), "test.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := Build(cfg, Options{ConfigURL: "s3://acme-config/ghsync/prod.yaml", Arch: ArchX8664})
	if err != nil {
		t.Fatal(err)
	}
	n := tpl.Needs
	got := map[string]map[string]string{}
	for _, b := range n.Buckets {
		got[b.Bucket] = b.Prefixes
	}
	want := map[string]map[string]string{
		"acme-site":    {"public/": AccessReadWrite},
		"acme-raw":     {"hooks/": AccessReadWrite},
		"acme-uploads": {"incoming/": AccessReadWrite},
		"acme-final":   {"": AccessReadWrite},
		"acme-config":  {"ghsync/prod.yaml": AccessRead},
	}
	if len(got) != len(want) {
		t.Errorf("buckets %v, want %v", got, want)
	}
	for b, ps := range want {
		for p, a := range ps {
			if got[b][p] != a || len(got[b]) != len(ps) {
				t.Errorf("bucket %s: %v, want %v", b, got[b], ps)
			}
		}
	}
	if strings.Join(n.Secrets, ",") != "ghsync/github-key,ghsync/webhook" || strings.Join(n.Parameters, ",") != "ghsync/slack" {
		t.Errorf("secrets %v parameters %v", n.Secrets, n.Parameters)
	}
	if len(n.Watched) != 1 || n.Watched[0] != (Watch{Job: "uploads", Bucket: "acme-uploads", Prefix: "incoming/"}) {
		t.Errorf("watched %v", n.Watched)
	}
	if len(n.Warnings) != 1 || !strings.Contains(n.Warnings[0], "job local writes to a local folder") {
		t.Errorf("warnings %v", n.Warnings)
	}
	out, err := tpl.YAML()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, s := range []string{
		"arn:${AWS::Partition}:s3:::acme-config/ghsync/prod.yaml*",
		"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:ghsync/github-key-*",
		"arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/ghsync/slack",
		"ScheduleExpression: cron(0/15 9-17 ? * 2-6 *)",
		"GHSYNC_CONFIG: s3://acme-config/ghsync/prod.yaml",
		"- x86_64", "InboxUploads:", "AWS::Lambda::Url", "InvokedViaFunctionUrl: true",
		"answers only signed webhook POSTs and GET /healthz; everything else is 404",
		"CircleCIWebhookUrl:", "- api/circleci/webhooks", "- api/github/webhooks",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("template lacks %q", s)
		}
	}
	if strings.Contains(text, "SQLite") {
		t.Errorf("postgres config still warned about SQLite")
	}
}

func TestEventBridgeExpression(t *testing.T) {
	for in, want := range map[string]string{
		"rate(5 minutes)":    "rate(5 minutes)",
		"cron(0 10 * * ? *)": "cron(0 10 * * ? *)",
		"@every 1m":          "rate(1 minute)",
		"@every 90m":         "rate(90 minutes)",
		"@every 2h":          "rate(2 hours)",
		"@every 24h":         "rate(1 day)",
		"@daily":             "cron(0 0 * * ? *)",
		"@weekly":            "cron(0 0 ? * 1 *)",
		"*/5 * * * *":        "cron(0/5 * * * ? *)",
		"0 3 1 * *":          "cron(0 3 1 * ? *)",
		"30 8 * * 0,6":       "cron(30 8 ? * 1,7 *)",
		"0 18 * * MON-FRI":   "cron(0 18 ? * MON-FRI *)",
		"0 12 * * 5-7":       "cron(0 12 ? * 6-7,1 *)",
		"0 0 */2 * *":        "cron(0 0 1/2 * ? *)",
	} {
		s, err := schedule.Parse(in, "")
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got, err := EventBridgeExpression(s)
		if err != nil || got != want {
			t.Errorf("%s → %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"@every 30s", "@every 90s", "0 0 1 * 1", "0 0 * * */2"} {
		s, err := schedule.Parse(bad, "")
		if err != nil {
			t.Fatalf("%s: %v", bad, err)
		}
		if got, err := EventBridgeExpression(s); err == nil {
			t.Errorf("%s → %q, want an error", bad, got)
		}
	}
}
