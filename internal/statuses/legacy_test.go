package statuses

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ghsync/ghsync/internal/config"
)

func TestFromLegacy(t *testing.T) {
	env := map[string]string{"bucket": "ossci-job-status", "branches": "master, main", "user": "pytorch", "repo": "vision",
		"history_size": "50", "app_id": "1234", "private_key": "-----BEGIN RSA PRIVATE KEY-----|abc|-----END RSA PRIVATE KEY-----"}
	getenv := func(k string) string { return env[k] }

	job, err := FromLegacy(getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := job.Statuses
	if s.Repo != "pytorch/vision" || !reflect.DeepEqual(s.Branches, []string{"master", "main"}) || s.HistorySize != 50 ||
		s.Dest != "s3://ossci-job-status/" || s.Format != config.FormatV5 || job.Kind != config.KindStatuses {
		t.Fatalf("env only: %+v", s)
	}

	job, err = FromLegacy(getenv, []byte(`{"branches": "main,release/2.0", "user": "acme", "repo": "app", "history_size": 100}`))
	if err != nil {
		t.Fatal(err)
	}
	s = job.Statuses
	if s.Repo != "acme/app" || !reflect.DeepEqual(s.Branches, []string{"main", "release/2.0"}) || s.HistorySize != 100 {
		t.Fatalf("event overrides: %+v", s)
	}

	job, err = FromLegacy(getenv, []byte(`{"branches": ["a", "b/c"], "history_size": "7"}`))
	if err != nil || job.Statuses.HistorySize != 7 || len(job.Statuses.Branches) != 2 || job.Statuses.Repo != "pytorch/vision" {
		t.Fatalf("list branches / string size: %v %+v", err, job)
	}

	for _, bad := range []string{`{"history_size": "many"}`, `{"history_size": 5000}`, `[1,2]`, `{"branches": 3}`} {
		_, err := FromLegacy(getenv, []byte(bad))
		var ce *config.Error
		if err == nil || !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want a *config.Error", bad, err)
		}
	}
	if _, err := FromLegacy(func(string) string { return "" }, []byte(`{}`)); err == nil {
		t.Error("empty environment and event accepted")
	}
}
