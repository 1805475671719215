package lambda

import (
	"errors"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/statuses"
)

func TestFromLegacy(t *testing.T) {
	env := map[string]string{"bucket": "ossci-job-status", "branches": "master, main", "user": "pytorch", "repo": "vision",
		"history_size": "50", "app_id": "1234", "private_key": "-----BEGIN RSA PRIVATE KEY-----|abc|-----END RSA PRIVATE KEY-----"}
	getenv := func(k string) string { return env[k] }

	job, err := FromLegacy("statuses", getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := jobs.StatusesOf(job)
	if s.Repo != "pytorch/vision" || !reflect.DeepEqual(s.Branches, []string{"master", "main"}) || s.HistorySize != 50 ||
		s.Dest != "s3://ossci-job-status/" || s.Format != statuses.FormatV5 || job.Kind != jobs.KindStatuses {
		t.Fatalf("env only: %+v", s)
	}

	job, err = FromLegacy("statuses", getenv, []byte(`{"branches": "main,release/2.0", "user": "acme", "repo": "app", "history_size": 100}`))
	if err != nil {
		t.Fatal(err)
	}
	s = jobs.StatusesOf(job)
	if s.Repo != "acme/app" || !reflect.DeepEqual(s.Branches, []string{"main", "release/2.0"}) || s.HistorySize != 100 {
		t.Fatalf("event overrides: %+v", s)
	}

	job, err = FromLegacy("statuses", getenv, []byte(`{"branches": ["a", "b/c"], "history_size": "7"}`))
	if err != nil || jobs.StatusesOf(job).HistorySize != 7 || len(jobs.StatusesOf(job).Branches) != 2 || jobs.StatusesOf(job).Repo != "pytorch/vision" {
		t.Fatalf("list branches / string size: %v %+v", err, job)
	}

	for _, bad := range []string{`{"history_size": "many"}`, `{"history_size": 5000}`, `[1,2]`, `{"branches": 3}`} {
		_, err := FromLegacy("statuses", getenv, []byte(bad))
		var ce *config.Error
		if err == nil || !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want a *config.Error", bad, err)
		}
	}
	if _, err := FromLegacy("statuses", func(string) string { return "" }, []byte(`{}`)); err == nil {
		t.Error("empty environment and event accepted")
	}
}

// TestLegacyStatusesJob is the job built from the legacy environment alone
// (moved from the config package with the code).
func TestLegacyStatusesJob(t *testing.T) {
	vars := map[string]string{"bucket": "hud-bucket", "branches": "main, release/2.0,,", "user": "pytorch", "repo": "pytorch", "history_size": "50"}
	job, err := legacyStatusesJob("hud", config.Legacy(func(k string) string { return vars[k] }))
	if err != nil {
		t.Fatal(err)
	}
	want := &jobs.StatusesSettings{Repo: "pytorch/pytorch", Branches: []string{"main", "release/2.0"}, HistorySize: 50, Dest: "s3://hud-bucket/", Format: statuses.FormatV5}
	if diff := cmp.Diff(want, jobs.StatusesOf(job)); diff != "" || job.Kind != jobs.KindStatuses || job.Name != "hud" {
		t.Errorf("StatusesJob (-want +got):\n%s", diff)
	}
}

func TestLegacyStatusesJobErrors(t *testing.T) {
	vars := map[string]string{"history_size": "lots", "branches": " , "}
	_, err := legacyStatusesJob("hud", config.Legacy(func(k string) string { return vars[k] }))
	var got []string
	for _, e := range config.Errors(err) {
		got = append(got, e.Error())
	}
	want := []string{
		"environment: user: is required",
		"environment: repo: is required",
		"environment: branches: at least one branch is required",
		"environment: bucket: is required",
		`environment: history_size: must be an integer between 1 and 1000 (got "lots")`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
