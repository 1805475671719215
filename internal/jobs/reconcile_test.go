package jobs

import (
	"strings"
	"testing"
)

// TestReconcileMaxJobsSetting: max_jobs defaults to 500 and is checked.
func TestReconcileMaxJobsSetting(t *testing.T) {
	cfg, err := ParseConfig([]byte("jobs:\n  - name: fix\n    kind: reconcile\n    repos: [acme/*]\n  - name: big\n    kind: reconcile\n    repos: [acme/*]\n    max_jobs: 2000\n"),
		"test.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if n := ReconcileOf(cfg.Jobs[0]).MaxJobs; n != 500 {
		t.Errorf("default max_jobs = %d, want 500", n)
	}
	if n := ReconcileOf(cfg.Jobs[1]).MaxJobs; n != 2000 {
		t.Errorf("max_jobs = %d, want 2000", n)
	}
	_, err = ParseConfig([]byte("jobs:\n  - name: fix\n    kind: reconcile\n    repos: [acme/*]\n    max_jobs: 0\n"), "test.yaml", func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "test.yaml:5:5: jobs[0].max_jobs") {
		t.Errorf("max_jobs: 0: err = %v; want an error at test.yaml:5:5", err)
	}
}
