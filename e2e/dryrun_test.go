package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/apisync/apisynctest"
	"github.com/ghsync/ghsync/internal/githubtest"
)

// tree lists every path under dir (folders with a trailing "/"), sorted.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// Looking writes nothing: `ghsync jobs` (which reads each repo job's
// manifest) and every verb's --dry-run leave the working folder exactly as
// it was — no destination folder of a file:// job (the store used to
// create it on open), no inbox `final` folder, no SQLite database or its
// folder (an Airtable job's target database used to be created).
func TestDryRunsAndJobsWriteNothing(t *testing.T) {
	binary(t) // built before the runs' one-minute timeouts start
	gh := githubtest.New(t, githubtest.Options{})
	gh.Token = "ghp_dry"
	app := gh.AddRepo("acme", "app")
	app.Commit("main", map[string]string{"a.txt": "A"})
	at := apisynctest.NewAirtable(t, "patDRY")
	at.SetRecords("appAAAAAAAAAAAAAA", "Assessments", []apisynctest.AirtableRecord{
		{ID: "rec00000000000001", CreatedTime: "2024-01-01T00:00:00.000Z", Fields: map[string]any{"Name": "Python"}}})
	b, err := os.ReadFile(filepath.Join("..", "internal", "inbox", "testdata", "files", "incomplete.csv"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"src/a.txt": "A",
		"uploads/E07000223/2026-05-07/1700000000/stations.csv": string(b),
		"ghsync.yaml": `database: sqlite://./state/ghsync.db
jobs:
  - name: site
    kind: repo
    source: dir:src
    dest: file://./out/site/
  - name: mirror
    kind: repo
    source: github:acme/app@main
    dest: file://./mirror/
  - name: hud
    kind: statuses
    repo: acme/app
    branches: [main]
    dest: file://./hud/
  - name: uploads
    kind: inbox
    watch: file://./uploads/
    final: file://./final/
    format: wdiv
  - name: table
    kind: airtable
    base: appAAAAAAAAAAAAAA
    table: Assessments
    token: patDRY
    target: assessment
    api_url: ` + at.URL() + `
    database: sqlite://./brn/brn.db
`})
	env := map[string]string{"GITHUB_API_URL": gh.URL, "GITHUB_TOKEN": gh.Token}
	before := tree(t, dir)
	for _, args := range [][]string{
		{"jobs"},
		{"jobs", "--json"},
		{"run", "site", "--dry-run"},
		{"run", "mirror", "--dry-run"},
		{"run", "hud", "--dry-run"},
		{"run", "uploads", "--dry-run"},
		{"run", "table", "--dry-run"},
		{"sync", "dir:src", "file://./adhoc/", "--dry-run"},
		{"sync", "github:acme/app@main", "./adhoc2", "--dry-run"},
		{"statuses", "acme/app", "file://./hud2/", "--branch", "main", "--dry-run"},
	} {
		r := exe(t, dir, env, args...)
		if r.code != 0 {
			t.Errorf("%s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		if after := tree(t, dir); !slices.Equal(before, after) {
			t.Errorf("`ghsync %s` wrote to the working folder:\nbefore %v\nafter  %v", strings.Join(args, " "), before, after)
			before = after
		}
	}
	// The dry run still plans against the destination as configured.
	r := exe(t, dir, env, "run", "site", "--dry-run", "--json")
	if !strings.Contains(r.stdout, `"dest": "file://./out/site/"`) {
		t.Errorf("dry run summary does not name the configured destination:\n%s", r.stdout)
	}
}
