package statuses

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/githubtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenRepo builds the commits every golden case covers (must-be-true 5).
func goldenRepo(e *env) {
	at := func(m int) time.Time { return time.Date(2024, 5, 1, 12, m, 0, 0, time.UTC) }
	var runs []githubtest.CheckRun
	for _, c := range []string{"SUCCESS", "FAILURE", "CANCELLED", "SKIPPED", "NEUTRAL", "TIMED_OUT", "ACTION_REQUIRED", "STALE"} {
		runs = append(runs, githubtest.CheckRun{Name: "job " + c, Conclusion: c,
			StartedAt: at(1), CompletedAt: at(2)})
	}
	runs = append(runs,
		githubtest.CheckRun{Name: "job queued", Status: "QUEUED"},
		githubtest.CheckRun{Name: "job in progress", Status: "IN_PROGRESS", StartedAt: at(3)},
		githubtest.CheckRun{Name: "job waiting", Status: "WAITING"})
	for _, br := range []string{"main", "feature/x/y"} {
		// 1. GitHub Actions runs of every conclusion, queued and in progress.
		e.repo.CommitInfo(br, githubtest.CommitInfo{
			Message: "Add CI matrix (#12)\n\nEvery conclusion GitHub has.\nSecond line.", AuthorName: "Mona Lisa", AuthorLogin: "mona",
			Date: at(10), PullRequest: 12,
			Suites: []githubtest.CheckSuite{{Workflow: "pull", RunNumber: 7, Runs: runs}},
		})
		// 2. A suite from another app (not Actions) next to an Actions one.
		e.repo.CommitInfo(br, githubtest.CommitInfo{
			Message: "Use CircleCI too", AuthorName: "Hubot", AuthorLogin: "hubot", Date: at(20),
			Suites: []githubtest.CheckSuite{
				{AppName: "CircleCI Checks", AppSlug: "circleci-checks", Runs: []githubtest.CheckRun{
					{Name: "build", Conclusion: "SUCCESS", DetailsURL: "https://circleci.com/gh/acme/app/1"},
					{Name: "deploy", Status: "IN_PROGRESS", DetailsURL: "https://circleci.com/gh/acme/app/2"}}},
				{Workflow: "lint", Runs: []githubtest.CheckRun{{Name: "flake8", Conclusion: "SUCCESS"}}},
			},
		})
		// 3. Legacy commit statuses only.
		e.repo.CommitInfo(br, githubtest.CommitInfo{
			Message: "Old-style CI <&> \"quotes\"", AuthorName: "Octo Cat", AuthorLogin: "octocat", Date: at(30),
			Statuses: []githubtest.StatusContext{
				{Context: "ci/jenkins: build", State: "SUCCESS", TargetURL: "https://jenkins.example/job/1"},
				{Context: "ci/jenkins: test", State: "FAILURE", TargetURL: "https://jenkins.example/job/2"},
				{Context: "codecov/patch", State: "PENDING"},
				{Context: "ci/error", State: "ERROR", TargetURL: "https://jenkins.example/job/3"},
			},
		})
		// 4. No linked GitHub user: the git author name.
		e.repo.CommitInfo(br, githubtest.CommitInfo{
			Message: "Commit from an unknown email", AuthorName: "Someone Without Account", AuthorEmail: "x@example.com", Date: at(40),
			Suites: []githubtest.CheckSuite{{Workflow: "pull", Runs: []githubtest.CheckRun{{Name: "build", Conclusion: "SUCCESS"}}}},
		})
	}
}

// Must-be-true 5: golden files pin the v5 output (and the ghsync one).
func TestGolden(t *testing.T) {
	for _, format := range []string{FormatV5, FormatGhsync} {
		t.Run(format, func(t *testing.T) {
			e := newEnv(t)
			goldenRepo(e)
			o := e.opts("main", "feature/x/y")
			o.Format = format
			if _, err := Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{"acme/app/main.json", "acme/app/feature_x_y.json"} {
				got, _ := e.read(t, key)
				if !json.Valid(got) {
					t.Fatalf("%s is not JSON", key)
				}
				golden := filepath.Join("testdata", format+"_"+filepath.Base(key))
				if *update {
					var pretty bytes.Buffer
					_ = json.Indent(&pretty, got, "", "  ")
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					_ = os.WriteFile(golden+".pretty", pretty.Bytes(), 0o644)
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/statuses -run TestGolden -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from %s:\n got %s\nwant %s", key, golden, got, want)
				}
			}
			attrs, err := e.bucket.Stat(context.Background(), "acme/app/main.json")
			if err != nil {
				t.Fatal(err)
			}
			if attrs.ContentEncoding != "gzip" || attrs.ContentType != "application/json" || attrs.CacheControl != "no-cache" {
				t.Errorf("headers: encoding %q type %q cache %q", attrs.ContentEncoding, attrs.ContentType, attrs.CacheControl)
			}
		})
	}
}

func TestKeyAndGraphQLURL(t *testing.T) {
	if k := Key("acme", "app", "release/2.0"); k != "acme/app/release_2.0.json" {
		t.Errorf("Key = %s", k)
	}
	if k := Key("acme", "app", "a/b/c"); k != "acme/app/a_b_c.json" {
		t.Errorf("Key = %s", k)
	}
	for in, want := range map[string]string{
		"":                                "https://api.github.com/graphql",
		"https://api.github.com/":         "https://api.github.com/graphql",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com/api/graphql",
		"https://ghe.example.com/api/v3":  "https://ghe.example.com/api/graphql",
		"http://127.0.0.1:9999/":          "http://127.0.0.1:9999/graphql",
	} {
		if got := GraphQLURL(in); got != want {
			t.Errorf("GraphQLURL(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRunStatus(t *testing.T) {
	for _, c := range [][3]string{
		{"COMPLETED", "TIMED_OUT", "timed_out"}, {"COMPLETED", "ACTION_REQUIRED", "action_required"},
		{"IN_PROGRESS", "", "pending"}, {"QUEUED", "", "queued"}, {"WAITING", "", "queued"}, {"REQUESTED", "", "queued"},
	} {
		if got := runStatus(c[0], c[1]); got != c[2] {
			t.Errorf("runStatus(%s, %s) = %s, want %s", c[0], c[1], got, c[2])
		}
	}
}
