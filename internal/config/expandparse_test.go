package config_test

import (
	"testing"

	. "github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
)

// TestExpandIntoTypedFields checks that expanded values are decoded by the
// field's type, and that quoting does not prevent expansion.
func TestExpandIntoTypedFields(t *testing.T) {
	y := repoHead + "    concurrency: ${CONC}\n    verify: ${VERIFY:-true}\n    max_delete: \"${MAXDEL}\"\n"
	c, err := Parse([]byte(y), "f.yaml", mapEnv(map[string]string{"CONC": "32", "MAXDEL": "10%"}), kinds)
	if err != nil {
		t.Fatal(err)
	}
	r := jobs.RepoOf(c.Jobs[0])
	if r.Concurrency != 32 || !r.Verify || !r.MaxDelete.IsPercent || r.MaxDelete.Percent != 10 {
		t.Errorf("got concurrency %d verify %v max_delete %+v", r.Concurrency, r.Verify, r.MaxDelete)
	}
}

// TestEnvNotExpandedInKeys: keys are taken literally.
func TestEnvNotExpandedInKeys(t *testing.T) {
	_, err := Parse([]byte("${KEY}: x\n"), "f.yaml", mapEnv(map[string]string{"KEY": "storage"}), kinds)
	if err == nil {
		t.Fatal("a ${VAR} key was expanded")
	}
}
