package ui

import (
	"strings"
	"testing"
	"time"
)

func TestShortSummary(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{``, ""},
		{`null`, ""},
		{`{"new":3,"modified":1,"deleted":0}`, "3 new, 1 modified"},
		{`{"new":0,"modified":0,"deleted":2,"repaired":1,"dry_run":true}`, "2 deleted, 1 repaired (dry run)"},
		{`{"new":0,"modified":0,"deleted":0,"up_to_date":true}`, "up to date"},
		{`{"new":0,"modified":0,"deleted":0}`, "no changes"},
		{`{"branches_written":1,"branches_unchanged":0,"branches_failed":2}`, "1 branches written, 2 failed"},
		{`{"branches_written":0,"branches_unchanged":0,"branches_failed":0}`, "no branches"},
		{`{"records":12,"pages":3,"errors":0,"duration_ms":99,"zeta":1}`, "3 pages, 12 records, 1 zeta"},
		{`{"name":"x"}`, "done"},
		{`[1,2]`, "(summary is not a JSON object)"},
	} {
		if got := parseSummary([]byte(tc.raw)).Short; got != tc.want {
			t.Errorf("%s: %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestSummaryPathsAndFields(t *testing.T) {
	v := parseSummary([]byte(`{"new":120,"modified":1,"deleted":0,"dest":"s3://b/p?secret_key=abc","nested":{"u":"https://u:pw@h/x"},
		"paths":{"new":["a","b"],"modified":["c"],"deleted":[]}}`))
	if len(v.Paths) != 2 || v.Paths[0].Kind != "new" || v.Paths[0].Count != 120 || len(v.Paths[0].Paths) != 2 ||
		v.Paths[1].Kind != "modified" || v.Paths[1].Count != 1 {
		t.Errorf("paths: %+v", v.Paths)
	}
	for _, f := range v.Fields {
		if f.Key == "dest" && strings.Contains(f.Value, "abc") {
			t.Errorf("dest not redacted: %q", f.Value)
		}
	}
	if strings.Contains(v.Raw, "abc") || strings.Contains(v.Raw, ":pw@") || !strings.Contains(v.Raw, `"new": 120`) {
		t.Errorf("raw summary: %s", v.Raw)
	}
}

func TestRedactText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"no urls here", "no urls here"},
		{"get https://user:pw@host/x: 403.", "get https://REDACTED@host/x: 403."},
		{"(see s3://bucket/key?access_key=AK&region=x)", "(see s3://bucket/key?access_key=REDACTED&region=x)"},
	} {
		if got := redactText(tc.in); got != tc.want {
			t.Errorf("redactText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, ""},
		{now.Add(-2 * time.Second), "just now"},
		{now.Add(-30 * time.Second), "30s ago"},
		{now.Add(-59 * time.Minute), "59 min ago"},
		{now.Add(-47 * time.Hour), "47 h ago"},
		{now.Add(-72 * time.Hour), "3 days ago"},
		{now.Add(5 * time.Minute), "in 5 min"},
	} {
		if got := ago(now, tc.t); got != tc.want {
			t.Errorf("ago(%v) = %q, want %q", now.Sub(tc.t), got, tc.want)
		}
	}
	for d, want := range map[time.Duration]string{0: "—", 850 * time.Millisecond: "850ms", 12340 * time.Millisecond: "12.3s",
		245 * time.Second: "4m05s", 130 * time.Minute: "2h10m"} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}
