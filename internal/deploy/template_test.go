package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
)

// EnvRequireCfnLint makes a missing cfn-lint a test failure (CI sets it).
const EnvRequireCfnLint = "GHSYNC_REQUIRE_CFNLINT"

// exampleEnv supplies the variables the examples reference.
func exampleEnv(name string) string {
	return map[string]string{
		"GITHUB_APP_ID":         "123456",
		"GITHUB_PRIVATE_KEY":    "-----BEGIN RSA PRIVATE KEY-----|fake|-----END RSA PRIVATE KEY-----",
		"SLACK_WEBHOOK_URL":     "https://hooks.slack.com/services/T/B/fake",
		"GITHUB_WEBHOOK_SECRET": "fake-webhook-secret",
		"AIRTABLE_TOKEN":        "patFAKE.fake",
		"BADGR_USERNAME":        "ops@example.com",
		"BADGR_PASSWORD":        "fake-password",
	}[name]
}

func exampleConfigs(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "examples", pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no example configs found in examples/")
	}
	return files
}

func loadExample(t *testing.T, f string) *config.Config {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jobs.ParseConfig(data, "examples/"+filepath.Base(f), exampleEnv)
	if err != nil {
		t.Fatalf("load %s: %v", f, err)
	}
	return cfg
}

// TestTemplatesPassCfnLint generates the template of every example config,
// in YAML and JSON and for both architectures, and runs cfn-lint on them.
func TestTemplatesPassCfnLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv(EnvRequireCfnLint) == "1" {
			t.Fatalf("cfn-lint not found on PATH and %s=1", EnvRequireCfnLint)
		}
		t.Skip("SKIPPED LOUDLY: cfn-lint not on PATH; CloudFormation templates are NOT linted (pip install cfn-lint; set " + EnvRequireCfnLint + "=1 in CI)")
	}
	dir := t.TempDir()
	var paths []string
	rich := filepath.Join(dir, "rich.yaml")
	if err := os.WriteFile(rich, []byte(richConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range append(exampleConfigs(t), rich) {
		cfg := loadExample(t, f)
		base := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		for _, v := range []struct {
			arch, ext string
			opts      Options
		}{
			{ArchARM64, "yaml", Options{}},
			{ArchX8664, "json", Options{ConfigURL: "s3://acme-config/ghsync/prod.yaml"}},
		} {
			v.opts.Arch = v.arch
			tpl, err := Build(cfg, v.opts)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out, err := tpl.YAML()
			if v.ext == "json" {
				out, err = tpl.JSON()
			}
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, base+"-"+v.arch+"."+v.ext)
			if err := os.WriteFile(p, out, 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
	}
	cmd := exec.Command(lint, append([]string{"--regions", "us-east-1", "eu-west-1", "--"}, paths...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		for _, p := range paths {
			b, _ := os.ReadFile(p)
			t.Logf("%s:\n%s", p, b)
		}
		t.Fatalf("cfn-lint failed: %v\n%s", err, out)
	}
	t.Logf("cfn-lint passed on %d templates", len(paths))
}

// TestPolicyNamesOnlyConfiguredBuckets checks that the function role grants
// S3 access to exactly the buckets and prefixes the configuration uses.
func TestPolicyNamesOnlyConfiguredBuckets(t *testing.T) {
	for _, f := range exampleConfigs(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg := loadExample(t, f)
			want := map[string]bool{}
			for _, j := range cfg.Jobs {
				for _, s := range jobs.Builtin().Needs(j).Stores {
					if dest := s.URL; strings.HasPrefix(dest, "s3://") {
						want[strings.SplitN(strings.TrimPrefix(dest, "s3://"), "/", 2)[0]] = true
					}
				}
			}
			for _, d := range []string{cfg.Webhooks.Archive.Dest, cfg.Webhooks.Logs.Dest} {
				if strings.HasPrefix(d, "s3://") && (d != cfg.Webhooks.Logs.Dest || cfg.Webhooks.Logs.Enabled()) {
					want[strings.SplitN(strings.TrimPrefix(d, "s3://"), "/", 2)[0]] = true
				}
			}
			tpl, err := Build(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := policyBuckets(t, tpl)
			if strings.Join(keys(got), ",") != strings.Join(keys(want), ",") {
				t.Errorf("policy names buckets %v, config uses %v", keys(got), keys(want))
			}
		})
	}
}

// policyBuckets parses the rendered template and collects the bucket names
// of every s3 ARN in the function role's policy.
func policyBuckets(t *testing.T, tpl *Template) map[string]bool {
	t.Helper()
	out, err := tpl.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	role := doc["Resources"].(map[string]any)["FunctionRole"]
	got := map[string]bool{}
	walk(role, func(s string) {
		if i := strings.Index(s, ":s3:::"); i >= 0 {
			b := strings.SplitN(s[i+len(":s3:::"):], "/", 2)[0]
			got[b] = true
		}
	})
	return got
}

func walk(v any, f func(string)) {
	switch x := v.(type) {
	case string:
		f(x)
	case map[string]any:
		for _, c := range x {
			walk(c, f)
		}
	case []any:
		for _, c := range x {
			walk(c, f)
		}
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// A repo job with invalidate: cloudfront://ID is granted
// cloudfront:CreateInvalidation on that distribution only.
func TestPolicyGrantsInvalidationOnTheDistributionOnly(t *testing.T) {
	cfg, err := jobs.ParseConfig([]byte(`jobs:
  - name: site
    kind: repo
    source: github:acme/site@main
    dest: s3://site-bucket/www/
    invalidate: [cloudfront://E2ABCDEF123456, cloudflare://zone1]
    cdn:
      base_url: https://www.example.com
      token: awssecretsmanager://cloudflare-token
`), "t.yaml", exampleEnv)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := Build(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := tpl.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var found []any
	walkStatements(doc["Resources"].(map[string]any)["FunctionRole"], func(st map[string]any) {
		if fmt.Sprint(st["Action"]) == "[cloudfront:CreateInvalidation]" {
			found = append(found, st["Resource"])
		}
		if strings.Contains(fmt.Sprint(st["Action"]), "cloudfront:") && fmt.Sprint(st["Action"]) != "[cloudfront:CreateInvalidation]" {
			t.Errorf("unexpected CloudFront grant %v", st)
		}
	})
	want := "[map[Fn::Sub:arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/E2ABCDEF123456]]"
	if len(found) != 1 || fmt.Sprint(found[0]) != want {
		t.Fatalf("CreateInvalidation granted on %v, want exactly %s", found, want)
	}
	if !strings.Contains(string(out), "cloudflare-token") {
		t.Errorf("the Cloudflare token secret is not granted:\n%s", out)
	}
}

// walkStatements calls f with every map holding an Action.
func walkStatements(v any, f func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["Action"]; ok {
			f(x)
		}
		for _, c := range x {
			walkStatements(c, f)
		}
	case []any:
		for _, c := range x {
			walkStatements(c, f)
		}
	}
}
