package jobs

import (
	"errors"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/github"
)

// TestOwnerJobConfig: the whole-owner settings are checked at load, each
// error at its own key, and an owner job's dest is one managed area.
func TestOwnerJobConfig(t *testing.T) {
	org := "  - name: org\n    kind: repo\n    source: github:acme/*\n    dest: sites/\n"
	for _, tc := range []struct {
		name, jobs string
		want       string // "" = accepted
	}{
		{"owner job", org + "    include_repos: [site-*]\n    exclude_repos: [site-old]\n    topics: [site]\n    visibility: public\n    archived: false\n", ""},
		{"release owner job", "  - name: org\n    kind: repo\n    source: github:acme/*@release:latest\n    dest: rel/\n", ""},
		{"filters without an owner source", "  - name: one\n    kind: repo\n    source: github:acme/site\n    dest: one/\n    topics: [site]\n", "jobs[0].topics: chooses repositories of a whole owner"},
		{"placeholder in dest", "  - name: org\n    kind: repo\n    source: github:acme/*\n    dest: sites/{repo}/\n", "jobs[0].dest: with source github:OWNER/*"},
		{"bad glob", org + "    include_repos: [\"[\"]\n", "jobs[0].include_repos[0]"},
		{"bad visibility", org + "    visibility: secret\n", "jobs[0].visibility: must be one of public, private, internal"},
		{"another job inside the owner's area", org + "  - name: b\n    kind: repo\n    source: dir:.\n    dest: sites/site-01/\n", "overlaps"},
		{"statuses over an owner", "  - name: hud\n    kind: statuses\n    repos: acme/*\n    dest: hud/\n    topics: [site]\n    delete: none\n", ""},
		{"statuses repo and repos", "  - name: hud\n    kind: statuses\n    repo: acme/a\n    repos: acme/*\n    branches: [main]\n    dest: hud/\n", "set repo (one repository) or repos"},
		{"statuses repos not a glob", "  - name: hud\n    kind: statuses\n    repos: acme/site\n    dest: hud/\n", "jobs[0].repos: want OWNER/*"},
		{"statuses delete all", "  - name: hud\n    kind: statuses\n    repos: acme/*\n    dest: hud/\n    delete: all\n", "jobs[0].delete: must be one of none, managed"},
		{"statuses filter without repos", "  - name: hud\n    kind: statuses\n    repo: acme/a\n    branches: [main]\n    dest: hud/\n    archived: false\n", "jobs[0].archived: goes with repos: OWNER/*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := "storage: s3://acme/www/?region=eu-west-1\njobs:\n" + tc.jobs
			_, err := Builtin().Parse([]byte(y), "k.yaml", nil)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestOwnerFilterKeep: globs are case-insensitive, topics match exactly
// (any of), visibility and archived as set.
func TestOwnerFilterKeep(t *testing.T) {
	no := false
	f := OwnerFilter{Include: []string{"Site-*"}, Exclude: []string{"site-old"}, Topics: []string{"web"}, Visibility: "public", Archived: &no}
	repo := func(name string, topics []string, vis string, archived bool) github.OwnerRepo {
		return github.OwnerRepo{Name: name, Topics: topics, Visibility: vis, Archived: archived}
	}
	for _, tc := range []struct {
		r    github.OwnerRepo
		want bool
	}{
		{repo("site-a", []string{"x", "web"}, "public", false), true},
		{repo("SITE-b", []string{"web"}, "public", false), true},
		{repo("site-old", []string{"web"}, "public", false), false},
		{repo("tool", []string{"web"}, "public", false), false},
		{repo("site-c", []string{"website"}, "public", false), false},
		{repo("site-d", []string{"web"}, "private", false), false},
		{repo("site-e", []string{"web"}, "public", true), false},
		{github.OwnerRepo{Name: "site-f", Topics: []string{"web"}}, true}, // no visibility field: public unless private
	} {
		if got := f.Keep(tc.r); got != tc.want {
			t.Errorf("Keep(%+v) = %v, want %v", tc.r, got, tc.want)
		}
	}
	if got := repoDest("s3://b/sites?region=x", "a"); got != "s3://b/sites/a/?region=x" {
		t.Errorf("repoDest = %q", got)
	}
	if got := repoDest("file://.?prefix=out", "a"); got != "file://.?prefix=out%2Fa%2F" {
		t.Errorf("repoDest with ?prefix = %q", got)
	}
}

// TestAdHocWholeOwnerRefused: `ghsync sync github:acme/* DST` is a usage
// error that says to configure a job.
func TestAdHocWholeOwnerRefused(t *testing.T) {
	r := runner(t, "jobs: []\n", nil)
	_, err := SyncRepo(t.Context(), r.Env(), "", &RepoSettings{Source: "github:acme/*", Dest: "mem://adhoc-owner/"}, RunOptions{})
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "configure it as a repo job") {
		t.Fatalf("ad-hoc whole-owner sync: %v; want a usage error saying to configure a job", err)
	}
}
