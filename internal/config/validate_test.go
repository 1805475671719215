package config_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	. "github.com/ghsync/ghsync/internal/config"
)

// repoHead is a valid repo job; extra keys start at line 6, column 5.
const repoHead = "jobs:\n  - name: site\n    kind: repo\n    source: github:acme/site\n    dest: site/\n"

// statusesHead is a valid statuses job; extra keys start at line 6, column 5.
const statusesHead = "jobs:\n  - name: hud\n    kind: statuses\n    repo: acme/app\n    branches: [main]\n"

// errorStrings parses y and returns every problem's message.
func errorStrings(t *testing.T, y string, env map[string]string) []string {
	t.Helper()
	_, err := Parse([]byte(y), "ghsync.yaml", mapEnv(env), kinds)
	if err == nil {
		return nil
	}
	var out []string
	for _, e := range Errors(err) {
		out = append(out, e.Error())
	}
	if len(out) == 0 {
		t.Fatalf("error is not made of *Error values: %v", err)
	}
	return out
}

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestValidationRules(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string
	}{
		// repo jobs
		{"duplicate job key", repoHead + "    dest: x/\n", nil, []string{`ghsync.yaml:6:5: jobs[0].dest: duplicate key "dest" (first at line 5)`}},
		{"delete value", repoHead + "    delete: some\n", nil, []string{`ghsync.yaml:6:5: jobs[0].delete: must be one of none, managed, all (got "some")`}},
		{"mode", repoHead + "    mode: mirror\n", nil, []string{`ghsync.yaml:6:5: jobs[0].mode: must be one of files, archive (got "mirror")`}},
		{"archive format", repoHead + "    archive_format: rar\n", nil, []string{`ghsync.yaml:6:5: jobs[0].archive_format: must be one of zip, tar.gz (got "rar")`}},
		{"symlinks", repoHead + "    symlinks: maybe\n", nil, []string{`ghsync.yaml:6:5: jobs[0].symlinks: must be one of skip, follow, object (got "maybe")`}},
		{"bad include regexp inline", repoHead + "    include: [\"^a\", \"(\", \"b\"]\n", nil,
			[]string{"ghsync.yaml:6:21: jobs[0].include[1]: invalid regular expression: error parsing regexp: missing closing ): `(`"}},
		{"bad exclude regexp block", repoHead + "    exclude:\n      - '\\.map$'\n      - '[z-a]'\n", nil,
			[]string{"ghsync.yaml:8:9: jobs[0].exclude[1]: invalid regular expression: error parsing regexp: invalid character class range: `z-a`"}},
		{"max_delete percent range", repoHead + "    max_delete: 150%\n", nil, []string{`ghsync.yaml:6:5: jobs[0].max_delete: must be a count or a percentage between 0% and 100% (got "150%")`}},
		{"max_delete word", repoHead + "    max_delete: lots\n", nil, []string{`ghsync.yaml:6:5: jobs[0].max_delete: must be a count or a percentage such as 50% (got "lots")`}},
		{"concurrency zero", repoHead + "    concurrency: 0\n", nil, []string{`ghsync.yaml:6:5: jobs[0].concurrency: must be between 1 and 256 (got 0)`}},
		{"concurrency big", repoHead + "    concurrency: 300\n", nil, []string{`ghsync.yaml:6:5: jobs[0].concurrency: must be between 1 and 256 (got 300)`}},
		{"concurrency word", repoHead + "    concurrency: many\n", nil, []string{`ghsync.yaml:6:5: jobs[0].concurrency: must be an integer (got "many")`}},
		{"content type", repoHead + "    content_type:\n      \"*.x\": notamime\n", nil,
			[]string{`ghsync.yaml:7:7: jobs[0].content_type["*.x"]: must be a media type such as text/html; charset=utf-8 (got "notamime")`}},
		{"cache control glob", repoHead + "    cache_control:\n      \"a/[\": no-cache\n", nil,
			[]string{`ghsync.yaml:7:7: jobs[0].cache_control["a/["]: invalid glob pattern "a/["`}},
		{"cache control empty", repoHead + "    cache_control:\n      \"*.html\": \"\"\n", nil,
			[]string{`ghsync.yaml:7:7: jobs[0].cache_control["*.html"]: must not be empty`}},
		{"manifest absolute", repoHead + "    manifest: /m.json\n", nil, []string{`ghsync.yaml:6:5: jobs[0].manifest: must be a relative key (no leading "/")`}},
		{"key template", repoHead + "    key_template: \"{repo}/{sha}/\"\n", nil, []string{`ghsync.yaml:6:5: jobs[0].key_template: unknown placeholder {sha} (use {owner}, {repo}, {tag})`}},
		{"key template unterminated", repoHead + "    key_template: \"{repo/\"\n", nil, []string{`ghsync.yaml:6:5: jobs[0].key_template: unterminated "{"`}},
		{"limits size", repoHead + "    limits:\n      max_total_size: huge\n", nil,
			[]string{`ghsync.yaml:7:7: jobs[0].limits.max_total_size: must be a size such as 1024, 10MB or 5GiB (got "huge")`}},
		{"limits zero", repoHead + "    limits:\n      max_entries: 0\n", nil, []string{`ghsync.yaml:7:7: jobs[0].limits.max_entries: must be positive`}},
		{"bool", repoHead + "    verify: maybe\n", nil, []string{`ghsync.yaml:6:5: jobs[0].verify: must be true or false (got "maybe")`}},
		{"archive key traversal", repoHead + "    archive_key: ../x.zip\n", nil, []string{`ghsync.yaml:6:5: jobs[0].archive_key: must not contain ".." segments`}},
		{"dest absolute path", strings.Replace(repoHead, "dest: site/", "dest: /srv/site/", 1), nil,
			[]string{`ghsync.yaml:5:5: jobs[0].dest: a relative destination must not start with "/" (use a URL such as file:///abs/path for absolute paths) (got "/srv/site/")`}},
		{"dest scheme", strings.Replace(repoHead, "dest: site/", "dest: ftp://host/x/", 1), nil,
			[]string{`ghsync.yaml:5:5: jobs[0].dest: unsupported store scheme "ftp" (use s3, gs, azblob, file or mem) (got "ftp://host/x/")`}},
		{"dest s3 one slash", strings.Replace(repoHead, "dest: site/", "dest: s3:/bucket/x", 1), nil,
			[]string{`ghsync.yaml:5:5: jobs[0].dest: is not a store URL: a scheme needs "//" after the colon; did you mean s3://bucket/x? (got "s3:/bucket/x")`}},
		{"dest s3 no slash", strings.Replace(repoHead, "dest: site/", "dest: s3:bucket/x", 1), nil,
			[]string{`ghsync.yaml:5:5: jobs[0].dest: is not a store URL: a scheme needs "//" after the colon; did you mean s3://bucket/x? (got "s3:bucket/x")`}},
		{"dest file one slash", strings.Replace(repoHead, "dest: site/", "dest: file:/tmp/xx", 1), nil,
			[]string{`ghsync.yaml:5:5: jobs[0].dest: is not a store URL: a scheme needs "//" after the colon; did you mean file:///tmp/xx? (got "file:/tmp/xx")`}},
		{"dest file relative", strings.Replace(repoHead, "dest: site/", "dest: file:out", 1), nil,
			[]string{`ghsync.yaml:5:5: jobs[0].dest: is not a store URL: a scheme needs "//" after the colon; did you mean file://./out? (got "file:out")`}},
		{"dest unknown scheme-like", strings.Replace(repoHead, "dest: site/", "dest: \"ftp:host/x\"", 1), nil,
			[]string{`ghsync.yaml:5:5: jobs[0].dest: looks like a URL, but "ftp:" is not a store scheme (use s3://, gs://, azblob://, file:// or mem://; a relative prefix must not contain ":" before its first "/") (got "ftp:host/x")`}},
		{"storage s3 one slash", "storage: s3:/bucket\n", nil,
			[]string{`ghsync.yaml:1:1: storage: is not a store URL: a scheme needs "//" after the colon; did you mean s3://bucket? (got "s3:/bucket")`}},
		{"missing source and dest", "jobs:\n  - name: site\n    kind: repo\n", nil,
			[]string{`ghsync.yaml:2:5: jobs[0].source: is required`, `ghsync.yaml:2:5: jobs[0].dest: is required`}},
		{"unknown key with suggestion", repoHead + "    modee: files\n", nil, []string{`ghsync.yaml:6:5: jobs[0].modee: unknown field "modee" (did you mean "mode"?)`}},
		{"key of another kind", repoHead + "    history_size: 3\n", nil,
			[]string{`ghsync.yaml:6:5: jobs[0].history_size: field "history_size" is not valid for kind repo (it belongs to kind statuses)`}},
		// common job fields
		{"bad name", strings.Replace(repoHead, "name: site", "name: Bad_Name", 1), nil,
			[]string{`ghsync.yaml:2:5: jobs[0].name: must match [a-z0-9][a-z0-9._-]* and be at most 64 characters (got "Bad_Name")`}},
		{"missing name", "jobs:\n  - kind: repo\n    source: s\n    dest: d/\n", nil, []string{`ghsync.yaml:2:5: jobs[0].name: is required`}},
		{"duplicate names", repoHead + strings.TrimPrefix(repoHead, "jobs:\n"), nil,
			[]string{`ghsync.yaml:6:5: jobs[1].name: duplicate job name "site" (first used by jobs[0] at line 2)`}},
		{"unknown kind", "jobs:\n  - name: a\n    kind: cron\n", nil,
			[]string{`ghsync.yaml:3:5: jobs[0].kind: must be one of ` + strings.Join(kinds.Names(), ", ") + ` (got "cron")`}},
		{"missing kind", "jobs:\n  - name: a\n", nil, []string{`ghsync.yaml:2:5: jobs[0].kind: is required`}},
		{"timezone", repoHead + "    timezone: Mars/Olympus\n", nil, []string{`ghsync.yaml:6:5: jobs[0].timezone: unknown time zone "Mars/Olympus"`}},
		{"job alert level", repoHead + "    alerts: [error, loud]\n", nil, []string{`ghsync.yaml:6:21: jobs[0].alerts[1]: must be one of error, change, info (got "loud")`}},
		{"job not a mapping", "jobs:\n  - just-a-name\n", nil, []string{`ghsync.yaml:2:5: jobs[0]: a job must be a mapping (got a scalar)`}},
		{"null job", "jobs:\n  -\n  - name: a\n    kind: repo\n    source: s\n    dest: d/\n", nil, []string{`ghsync.yaml:2:4: jobs[0]: a job must be a mapping (got an empty value)`}},
		// statuses jobs
		{"statuses repo", strings.Replace(statusesHead, "acme/app", "acme", 1) + "    dest: hud/\n", nil,
			[]string{`ghsync.yaml:4:5: jobs[0].repo: must be OWNER/REPO (got "acme")`}},
		{"statuses no branches", strings.Replace(statusesHead, "[main]", "[]", 1) + "    dest: hud/\n", nil,
			[]string{`ghsync.yaml:5:5: jobs[0].branches: at least one branch is required`}},
		{"statuses duplicate branch", strings.Replace(statusesHead, "[main]", "[main, main]", 1) + "    dest: hud/\n", nil,
			[]string{`ghsync.yaml:5:22: jobs[0].branches[1]: duplicate branch "main"`}},
		{"statuses history size", statusesHead + "    dest: hud/\n    history_size: 1001\n", nil,
			[]string{`ghsync.yaml:7:5: jobs[0].history_size: must be between 1 and 1000 (got 1001)`}},
		{"statuses format", statusesHead + "    dest: hud/\n    format: v6\n", nil,
			[]string{`ghsync.yaml:7:5: jobs[0].format: must be one of v5, ghsync (got "v6")`}},
		{"statuses missing dest", statusesHead, nil, []string{`ghsync.yaml:2:5: jobs[0].dest: is required`}},
		{"statuses repo-only key", statusesHead + "    dest: hud/\n    mode: archive\n", nil,
			[]string{`ghsync.yaml:7:5: jobs[0].mode: field "mode" is not valid for kind statuses (it belongs to kind repo)`}},
		// top level
		{"storage scheme", "storage: ftp://x/\n", nil, []string{`ghsync.yaml:1:1: storage: unsupported store scheme "ftp" (use s3, gs, azblob, file or mem) (got "ftp://x/")`}},
		{"storage not a url", "storage: ./out\n", nil,
			[]string{`ghsync.yaml:1:1: storage: must be a store URL such as s3://bucket/prefix/?region=…, gs://…, azblob://…, file://./dir or mem:// (got "./out")`}},
		{"database scheme", "database: redis://localhost\n", nil, []string{`ghsync.yaml:1:1: database: unsupported database scheme "redis" (use sqlite, postgres or mysql)`}},
		{"app without key", "github:\n  app_id: 12\n", nil, []string{`ghsync.yaml:2:3: github.app_id: a GitHub App needs private_key or private_key_file`}},
		{"key without app", "github:\n  private_key_file: /k.pem\n", nil, []string{`ghsync.yaml:1:1: github.app_id: is required when a private key is set`}},
		{"key and key file", "github:\n  app_id: 12\n  private_key: ${K}\n  private_key_file: /k.pem\n", map[string]string{"K": "x"},
			[]string{`ghsync.yaml:4:3: github.private_key_file: set either private_key or private_key_file, not both`}},
		{"token and app", "github:\n  app_id: 12\n  private_key: ${K}\n  token: ${T}\n", map[string]string{"K": "x", "T": "y"},
			[]string{`ghsync.yaml:4:3: github.token: set either token or app_id/private_key, not both`}},
		{"app id format", "github:\n  app_id: twelve\n  private_key: ${K}\n", map[string]string{"K": "x"},
			[]string{`ghsync.yaml:2:3: github.app_id: must be a numeric App id or an App client id (got "twelve")`}},
		{"installation id", "github:\n  installation_id: -1\n", nil, []string{`ghsync.yaml:2:3: github.installation_id: must not be negative`}},
		{"api url", "github:\n  api_url: ghe.example.com\n", nil,
			[]string{`ghsync.yaml:2:3: github.api_url: must be an http(s) URL (got "ghe.example.com")`}},
		{"alert level", "alerts:\n  levels: [error, all]\n", nil, []string{`ghsync.yaml:2:19: alerts.levels[1]: must be one of error, change, info (got "all")`}},
		{"alert webhook url", "alerts:\n  webhook_url: mailto:x@y\n", nil, []string{`ghsync.yaml:2:3: alerts.webhook_url: must be an http(s) URL (got "mailto:x@y")`}},
		{"webhook path", "webhooks:\n  path: hooks\n", nil, []string{`ghsync.yaml:2:3: webhooks.path: must start with "/" (got "hooks")`}},
		{"webhook batch age", "webhooks:\n  archive:\n    batch_age: 5\n", nil,
			[]string{`ghsync.yaml:3:5: webhooks.archive.batch_age: must be a duration such as 30s or 5m (got "5")`}},
		{"webhook batch bytes", "webhooks:\n  archive:\n    batch_bytes: 0\n", nil, []string{`ghsync.yaml:3:5: webhooks.archive.batch_bytes: must be positive`}},
		{"webhook archive dest", "webhooks:\n  archive:\n    dest: a/../../b/\n", nil, []string{`ghsync.yaml:3:5: webhooks.archive.dest: must not contain ".." segments`}},
		{"top-level typo", "jbos: []\n", nil, []string{`ghsync.yaml:1:1: jbos: unknown field "jbos" (did you mean "jobs"?)`}},
		{"nested unknown", "github:\n  apps_id: 1\n", nil, []string{`ghsync.yaml:2:3: github.apps_id: unknown field "apps_id" (did you mean "app_id"?)`}},
		{"unknown far from any", "github:\n  zzzzzz: 1\n", nil,
			[]string{`ghsync.yaml:2:3: github.zzzzzz: unknown field "zzzzzz" (known: api_url, app_id, graphql_url, installation_id, private_key, private_key_file, token)`}},
		{"duplicate top key", "storage: mem://\nstorage: mem://\n", nil, []string{`ghsync.yaml:2:1: storage: duplicate key "storage" (first at line 1)`}},
		{"jobs not a list", "jobs:\n  a: b\n", nil, []string{`ghsync.yaml:1:1: jobs: must be a list (got a mapping)`}},
		{"string expected", "storage: [a]\n", nil, []string{`ghsync.yaml:1:1: storage: must be a single value (got a list)`}},
		{"root scalar", "hello\n", nil, []string{`ghsync.yaml:1:1: the configuration must be a mapping (got a scalar)`}},
		{"syntax", "storage: mem://\n database: x\n", nil, []string{`ghsync.yaml:2: invalid YAML: mapping values are not allowed in this context (line 2: " database: x")`}},
		{"syntax tab", "github:\n\tapp_id: 1\n", nil, []string{`ghsync.yaml:2: invalid YAML: found character that cannot start any token (line 2: "\tapp_id: 1")`}},
		{"syntax misindent line 4", "jobs:\n  - name: a\n    kind: repo\n   source: x\n    dest: y\n", nil,
			[]string{`ghsync.yaml:4: invalid YAML: did not find expected '-' indicator (line 4: "   source: x")`}},
		{"syntax line 6", "jobs:\n  - name: a\n    kind: repo\n    source: x\n    dest: y\n  bad: : :\n", nil,
			[]string{`ghsync.yaml:6: invalid YAML: did not find expected '-' indicator (line 6: "  bad: : :")`}},
		{"syntax unclosed flow", "jobs:\n  - name: a\n    kind: repo\n    include: [a, b\n    dest: y\n", nil,
			[]string{`ghsync.yaml:4: invalid YAML: did not find expected ',' or ']' (line 4: "    include: [a, b")`}},
		{"syntax after a multi-line flow list", "jobs:\n  - name: a\n    include: [a,\n      b]\n    kind: repo\n   source: x\n", nil,
			[]string{`ghsync.yaml:6: invalid YAML: did not find expected '-' indicator (line 6: "   source: x")`}},
		// env expansion
		{"env unset in required field", strings.Replace(repoHead, "github:acme/site", "${SRC}", 1), nil,
			[]string{`ghsync.yaml:4:5: jobs[0].source: environment variable SRC is not set (use ${SRC:-default} for a fallback)`}},
		{"env malformed", "storage: ${1X}\n", nil, []string{`ghsync.yaml:1:1: storage: invalid environment variable reference ${1X}`}},
		{"env unterminated", "storage: \"s3://${B\"\n", nil, []string{`ghsync.yaml:1:1: storage: unterminated ${ in "s3://${B"`}},
		{"env value validated", "storage: ${STORE}\n", map[string]string{"STORE": "ftp://x"},
			[]string{`ghsync.yaml:1:1: storage: unsupported store scheme "ftp" (use s3, gs, azblob, file or mem) (got "ftp://x")`}},
		// valid configurations
		{"valid repo", repoHead, nil, nil},
		{"valid statuses", statusesHead + "    dest: s3://hud/v5/\n", nil, nil},
		{"env default", strings.Replace(repoHead, "github:acme/site", "${SRC:-github:acme/other}", 1), nil, nil},
		{"env unset optional", "github:\n  token: ${GITHUB_TOKEN}\n", nil, nil},
		{"empty document", "", nil, nil},
		{"jobs list at top", strings.TrimPrefix(strings.ReplaceAll(repoHead, "\n  ", "\n"), "jobs:\n"), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorStrings(t, tt.yaml, tt.env)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s\nyaml:\n%s", diff, tt.yaml)
			}
		})
	}
}

func TestAllErrorsReported(t *testing.T) {
	y := repoHead + "    delete: some\n    mode: mirror\n    bogus: 1\n" +
		"  - name: site\n    kind: statuses\n"
	got := errorStrings(t, y, nil)
	want := []string{
		`ghsync.yaml:6:5: jobs[0].delete: must be one of none, managed, all (got "some")`,
		`ghsync.yaml:7:5: jobs[0].mode: must be one of files, archive (got "mirror")`,
		`ghsync.yaml:8:5: jobs[0].bogus: unknown field "bogus" (known: alerts, archive_format, archive_key, archived, assets, cache_control, cdn, checksum, concurrency, content_type, delete, dest, exclude, exclude_repos, include, include_repos, invalidate, key_template, kind, limits, manifest, max_delete, mode, name, repos_from, schedule, skip_unstorable, source, symlinks, timezone, topics, verify, visibility)`,
		`ghsync.yaml:9:5: jobs[1].repo: is required`,
		`ghsync.yaml:9:5: jobs[1].branches: at least one branch is required`,
		`ghsync.yaml:9:5: jobs[1].dest: is required`,
		`ghsync.yaml:9:5: jobs[1].name: duplicate job name "site" (first used by jobs[0] at line 2)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
