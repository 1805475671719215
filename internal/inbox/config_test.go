package inbox

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateNamesKeys(t *testing.T) {
	c := &Config{Format: "csv", KeyPattern: "{group}/{file}/x",
		Checks:   []CheckSpec{{Check: "rows"}, {Check: "size"}, {Check: "encoding", Encodings: []string{"utf-16"}}, {Check: "magic"}},
		GitHub:   &GitHubAction{Repo: "nope", Title: "Import {grop}"},
		Email:    &EmailAction{To: []string{"not-an-address"}, From: "a@b.c", Via: "ftp://x"},
		Callback: &CallbackAction{URL: "mailto:x"},
		Enrich:   &EnrichAction{}}
	errs := c.Validate()
	var got []string
	for _, e := range errs {
		got = append(got, e.Field)
	}
	for _, want := range []string{"format", "watch", "key_pattern", "checks[1].check", "checks[2].encodings[0]", "checks[3].check",
		"github.repo", "email.to[0]", "email.via", "callback.url", "enrich.url"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("no error for %s (got %v)", want, errs)
		}
	}
	// A template error names the field and the placeholder (key_pattern was
	// bad, so check the title with a valid pattern).
	c2 := &Config{Watch: "mem://x", GitHub: &GitHubAction{Repo: "o/r", Title: "Import {grop}"}}
	errs = c2.Validate()
	if len(errs) != 1 || errs[0].Field != "github.title" || !strings.Contains(errs[0].Msg, "{grop}") {
		t.Errorf("Validate = %v; want one github.title error naming {grop}", errs)
	}
	if errs := (&Config{Watch: "mem://x", Checks: []CheckSpec{{Check: "size", Min: ptr[int64](5), Max: ptr[int64](4)}}}).Validate(); len(errs) != 1 || errs[0].Field != "checks[0]" {
		t.Errorf("size min > max: %v; want one checks[0] error", errs)
	}
	if errs := (&Config{Watch: "mem://x"}).Validate(); len(errs) != 0 {
		t.Errorf("minimal config: %v", errs)
	}
}

func TestKeyPattern(t *testing.T) {
	p, err := ParseKeyPattern("")
	if err != nil {
		t.Fatal(err)
	}
	segs, prefix, ok := p.Match("E1/2026-05-07/2026-04-01T10:00:00Z/a b.csv")
	if !ok || prefix != "E1/2026-05-07/2026-04-01T10:00:00Z/" || segs["group"] != "E1" || segs["file"] != "a b.csv" {
		t.Errorf("Match = %v %q %v", segs, prefix, ok)
	}
	for _, k := range []string{"E1/2026/t/report.json", "E1/2026/a.csv", "E1/2026/t/x/a.csv", ".ghsync/a/b/c", "E1//t/a.csv"} {
		if _, _, ok := p.Match(k); ok {
			t.Errorf("Match(%q) = ok; want no match", k)
		}
	}
	if _, pre, ok := p.SetOf("E1/2026/t/"); !ok || pre != "E1/2026/t/" {
		t.Errorf("SetOf(prefix) = %q %v", pre, ok)
	}
	for _, bad := range []string{"{group}", "{file}/{group}", "{a}/{a}/{file}", "x{a}/{file}", "{name}/{file}", "/{file}", "{A}/{file}"} {
		if _, err := ParseKeyPattern(bad); err == nil {
			t.Errorf("ParseKeyPattern(%q): no error", bad)
		}
	}
	q, err := ParseKeyPattern("uploads/{gss}/{file}")
	if err != nil {
		t.Fatal(err)
	}
	if segs, pre, ok := q.Match("uploads/E1/x.csv"); !ok || pre != "uploads/E1/" || segs["gss"] != "E1" {
		t.Errorf("literal segment: %v %q %v", segs, pre, ok)
	}
}

func TestTemplate(t *testing.T) {
	kp, _ := ParseKeyPattern("")
	tp, err := ParseTemplate("{{literal}} {group}-{name}:{files}", kp)
	if err != nil {
		t.Fatal(err)
	}
	r := &Report{Segments: map[string]string{"group": "G"}, Name: "N", Files: []FileReport{{Key: "k1"}, {Key: "k2"}}}
	if got := tp.Render(templateVars(r)); got != "{literal} G-N:\n- `k1`\n- `k2`" {
		t.Errorf("Render = %q", got)
	}
	for _, bad := range []string{"{nope}", "{group", "a}b"} {
		if _, err := ParseTemplate(bad, kp); err == nil {
			t.Errorf("ParseTemplate(%q): no error", bad)
		}
	}
}

func TestConfigFromLegacyEnv(t *testing.T) {
	env := map[string]string{
		"TEMP_BUCKET_NAME": "wdiv-temp", "FINAL_BUCKET_NAME": "s3://wdiv-final/?region=eu-west-2",
		"GITHUB_REPO": "DemocracyClub/UK-Polling-Stations", "GITHUB_API_KEY": "k",
		"WDIV_WEBHOOK_URL": "https://wheredoivote.co.uk/api/beta/uploads/", "WDIV_API_KEY": "w",
		"ERROR_REPORT_EMAIL": "ops@example.org", "AWS_REGION": "eu-west-2",
	}
	c, err := ConfigFromLegacyEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Watch != "s3://wdiv-temp" || c.Final != "s3://wdiv-final/?region=eu-west-2" || c.Format != FormatWDIV ||
		c.GitHub.Token != "k" || c.Callback.Token != "w" || c.Email.To[0] != "ops@example.org" ||
		c.Email.From != LegacySender || c.Email.Via != "ses://?region=eu-west-2" ||
		c.Enrich.URL != "https://wheredoivote.co.uk/api/beta/councils/{group}.json" {
		t.Errorf("config = %+v", c)
	}
	delete(env, "ERROR_REPORT_EMAIL")
	if c, err = ConfigFromLegacyEnv(func(k string) string { return env[k] }); err != nil || len(c.Email.To) != 0 {
		t.Errorf("without ERROR_REPORT_EMAIL: %+v %v", c, err)
	}
	delete(env, "TEMP_BUCKET_NAME")
	delete(env, "WDIV_WEBHOOK_URL")
	_, err = ConfigFromLegacyEnv(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "TEMP_BUCKET_NAME, WDIV_WEBHOOK_URL") {
		t.Errorf("err = %v; want both missing variables named", err)
	}
}

func TestCheckFilesCLI(t *testing.T) {
	files, _ := filepath.Glob("testdata/files/*")
	var out bytes.Buffer
	ok, err := CheckFiles(context.Background(), &out, files, nil, true)
	if err != nil || ok {
		t.Fatalf("CheckFiles = %v, %v; want false (some fixtures fail), nil", ok, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(files) {
		t.Fatalf("%d lines for %d files", len(lines), len(files))
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		for _, k := range []string{"file", "valid", "rows", "encoding", "delimiter", "profile", "errors"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %q lacks %s", l, k)
			}
		}
	}
	golden(t, "check.jsonl", out.Bytes())
	out.Reset()
	ok, err = CheckFiles(context.Background(), &out, []string{"testdata/files/tab_named.csv", "testdata/files/windows1252.csv"}, nil, false)
	if err != nil || !ok {
		t.Fatalf("valid files: %v %v", ok, err)
	}
	golden(t, "check.txt", out.Bytes())
	if _, err := CheckFiles(context.Background(), &out, []string{"testdata/nope.csv"}, nil, false); err == nil {
		t.Error("missing file: no error")
	}
	if _, err := os.Stat("testdata/files/binary.csv"); err != nil {
		t.Fatal(err)
	}
}
