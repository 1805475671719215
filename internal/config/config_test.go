package config_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	. "github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/statuses"
)

func TestDefault(t *testing.T) {
	c := Default()
	if c.Storage != "file://./out" || c.Database != "sqlite://./data/ghsync.db" || len(c.Jobs) != 0 {
		t.Errorf("Default() = storage %q database %q jobs %d", c.Storage, c.Database, len(c.Jobs))
	}
	if c.GitHub.APIURL != "https://api.github.com/" || c.GitHub.GraphQLURL != "https://api.github.com/graphql" {
		t.Errorf("github urls %q %q", c.GitHub.APIURL, c.GitHub.GraphQLURL)
	}
	if !cmp.Equal(c.Alerts.Levels, []Level{LevelError, LevelChange}) || c.Webhooks.Path != "/api/github/webhooks" {
		t.Errorf("levels %v path %q", c.Alerts.Levels, c.Webhooks.Path)
	}
	if c.GitHub.AuthKind() != AuthNone {
		t.Errorf("AuthKind = %q", c.GitHub.AuthKind())
	}
	if c.Webhooks.Archive.BatchBytes != 8<<20 || c.Webhooks.Archive.BatchAge.Std() != time.Minute {
		t.Errorf("archive batching %+v", c.Webhooks.Archive)
	}
	// Parsing an empty document gives the same thing.
	e, err := Parse(nil, "empty.yaml", nil, kinds)
	if err != nil {
		t.Fatal(err)
	}
	e.File = ""
	if diff := cmp.Diff(c, e, cmpopts.IgnoreUnexported(Config{}), cmp.AllowUnexported(Secret{})); diff != "" {
		t.Errorf("empty document differs from Default() (-want +got):\n%s", diff)
	}
}

func TestRepoDefaultsAndAccessors(t *testing.T) {
	y := "storage: s3://bucket?region=eu-west-1\nalerts:\n  levels: [error]\n" + repoHead +
		"    schedule: rate(5 minutes)\n    include: ['^public/']\n    exclude: ['\\.map$']\n" +
		"    cache_control:\n      \"*.html\": no-cache\n      \"assets/**\": \"public, max-age=31536000, immutable\"\n" +
		"    content_type:\n      \"*.tiff\": image/tiff\n" +
		"    max_delete: 200\n    limits:\n      max_entry_size: 1.5 GiB\n"
	c, err := Parse([]byte(y), "g.yaml", nil, kinds)
	if err != nil {
		t.Fatal(err)
	}
	j, ok := c.Job("site")
	if !ok {
		t.Fatal("Job(site) not found")
	}
	if _, ok := c.Job("nope"); ok {
		t.Error("Job(nope) found")
	}
	r := jobs.RepoOf(j)
	if r == nil || jobs.StatusesOf(j) != nil {
		t.Fatalf("job kinds: %+v", j)
	}
	if r.Dest != "s3://bucket/site/?region=eu-west-1" {
		t.Errorf("Dest = %q", r.Dest)
	}
	want := jobs.RepoSettings{Mode: reposync.ModeFiles, ArchiveFormat: reposync.ArchiveZip, Delete: reposync.DeleteManaged, Symlinks: reposync.SymlinksSkip,
		Manifest: ".ghsync/manifest.json", Concurrency: 16, KeyTemplate: "{repo}/{tag}/", MaxDelete: jobs.MaxDelete{Count: 200}}
	got := jobs.RepoSettings{Mode: r.Mode, ArchiveFormat: r.ArchiveFormat, Delete: r.Delete, Symlinks: r.Symlinks,
		Manifest: r.Manifest, Concurrency: r.Concurrency, KeyTemplate: r.KeyTemplate, MaxDelete: r.MaxDelete}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if r.Limits.MaxEntrySize != Size(1.5*(1<<30)) || r.Limits.MaxTotalSize != 50<<30 || r.Limits.MaxEntries != 1_000_000 {
		t.Errorf("limits %+v", r.Limits)
	}
	if !cmp.Equal(j.Alerts, []Level{LevelError}) || !j.WantsAlert(LevelError) || j.WantsAlert(LevelChange) {
		t.Errorf("job alerts %v (want the global [error])", j.Alerts)
	}
	if j.Schedule != "rate(5 minutes)" || j.SchedulePos != (Pos{Line: 9, Column: 5}) {
		t.Errorf("schedule %q at %+v", j.Schedule, j.SchedulePos)
	}
	if f := c.JobField("site", "schedule"); f != "jobs[0].schedule" {
		t.Errorf("JobField = %q", f)
	}
	if e := c.FieldError("jobs[0].schedule", "bad %s", "cron"); e.Error() != "g.yaml:9:5: jobs[0].schedule: bad cron" {
		t.Errorf("FieldError = %q", e.Error())
	}
	if e := c.FieldError("jobs[0].timezone", "x"); e.Line != 5 {
		t.Errorf("FieldError for an absent field should point at the job: %+v", e)
	}
	if len(r.Include) != 1 || r.Include[0].String() != r.IncludePatterns[0] || len(r.Exclude) != len(r.ExcludePatterns) {
		t.Errorf("compiled filters %v / %v from %v / %v", r.Include, r.Exclude, r.IncludePatterns, r.ExcludePatterns)
	}
	if len(r.CacheControl) == 0 || r.CacheControl[0].Value == "" || len(r.ContentType) == 0 {
		t.Errorf("glob rules: cache %v, types %v", r.CacheControl, r.ContentType)
	}
}

func TestStatusesDefaults(t *testing.T) {
	y := statusesHead + "    dest: hud/\n"
	c, err := Parse([]byte(y), "g.yaml", nil, kinds)
	if err != nil {
		t.Fatal(err)
	}
	s := jobs.StatusesOf(c.Jobs[0])
	if s.HistorySize != 100 || s.Format != statuses.FormatV5 || s.Dest != "file://./out/hud/" || !cmp.Equal(s.Branches, []string{"main"}) {
		t.Errorf("statuses %+v", s)
	}
	if jobs.RepoOf(c.Jobs[0]) != nil {
		t.Errorf("a statuses job has repo settings")
	}
}

func TestResolveDest(t *testing.T) {
	tests := []struct{ storage, dest, want string }{
		{"s3://b?region=r", "site/", "s3://b/site/?region=r"},
		{"s3://b/base?region=r", "x/", "s3://b/base/x/?region=r"},
		{"s3://b/base/", "/x/", "s3://b/base/x/"},
		{"file://./out", "site/", "file://./out/site/"},
		{"mem://", "x/", "mem:///x/"},
		{"s3://b", "gs://other/p/", "gs://other/p/"},
		{"s3://b?region=r", "", "s3://b?region=r"},
	}
	for _, tt := range tests {
		if got := ResolveDest(tt.storage, tt.dest); got != tt.want {
			t.Errorf("ResolveDest(%q, %q) = %q, want %q", tt.storage, tt.dest, got, tt.want)
		}
	}
}

func TestGraphQLDerived(t *testing.T) {
	for api, want := range map[string]string{
		"https://api.github.com":          "https://api.github.com/graphql",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com/api/graphql",
		"http://127.0.0.1:8080/github/":   "http://127.0.0.1:8080/github/graphql",
	} {
		c, err := Parse([]byte("github:\n  api_url: "+api+"\n"), "f", nil, kinds)
		if err != nil {
			t.Fatal(err)
		}
		if c.GitHub.GraphQLURL != want {
			t.Errorf("api %q → graphql %q, want %q", api, c.GitHub.GraphQLURL, want)
		}
	}
}

func TestMergeKeysAndAliases(t *testing.T) {
	y := "x-common: &common\n  kind: repo\n  delete: all\n  exclude: ['^tmp/']\n" +
		"jobs:\n  - <<: *common\n    name: a\n    source: s\n    dest: a/\n  - <<: *common\n    name: b\n    source: s\n    dest: b/\n    delete: none\n"
	c, err := Parse([]byte(y), "f.yaml", nil, kinds)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := jobs.RepoOf(c.Jobs[0]), jobs.RepoOf(c.Jobs[1]); a.Delete != reposync.DeleteAll || b.Delete != reposync.DeleteNone || len(b.Exclude) != 1 {
		t.Errorf("x- anchors: %+v %+v", a, b)
	}
	if _, err := Parse([]byte("jobs: []\ny-common: 1\n"), "f.yaml", nil, kinds); err == nil {
		t.Error("non x- unknown key accepted")
	}
	y = "jobs:\n  - &a\n    name: a\n    kind: repo\n    source: s\n    dest: a/\n    delete: all\n  - <<: *a\n    name: b\n    delete: none\n"
	c, err = Parse([]byte(y), "f.yaml", nil, kinds)
	if err != nil {
		t.Fatal(err)
	}
	if c.Jobs[1].Name != "b" || jobs.RepoOf(c.Jobs[1]).Delete != reposync.DeleteNone || jobs.RepoOf(c.Jobs[1]).Source != "s" || jobs.RepoOf(c.Jobs[0]).Delete != reposync.DeleteAll {
		t.Errorf("merge: %+v %+v", jobs.RepoOf(c.Jobs[0]), jobs.RepoOf(c.Jobs[1]))
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]Size{"1024": 1024, "10MB": 10e6, "5GiB": 5 << 30, "1.5 kib": 1536, "2 tb": 2e12, "7b": 7} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-5", "5 parsecs", "1e3", "99999999999 TiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): want error", in)
		}
	}
}

func TestMaxDeleteLimit(t *testing.T) {
	if s := (jobs.MaxDelete{Percent: 12.5, IsPercent: true}).String(); s != "12.5%" {
		t.Errorf("String = %q", s)
	}
}

// kinds are the job kinds of this build, as every runtime loads them.
var kinds = jobs.Builtin()
