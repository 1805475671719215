//go:build integration

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
)

// exampleOutcome checks what one example's documented commands left in the
// work folder (w: the folder; out: the transcript).
type exampleOutcome func(t *testing.T, w, out string)

// TestExamplesRunAsDocumented runs every example's documented local
// commands (the "#   $ " lines of its header, through
// scripts/walk-examples.sh, with scripts/fakeapis.sh starting the fakes)
// with the built ghsync on PATH, in a git repository holding a copy of
// examples/, and checks what each left: objects written, rows stored,
// email caught. A documented command that stops working fails here.
func TestExamplesRunAsDocumented(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(binary(t), filepath.Join(bin, "ghsync")); err != nil {
		t.Fatal(err)
	}
	w := t.TempDir()
	tmp := filepath.Join(w, "tmp") // stands for /tmp in the commands: runs never share fakes
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob(filepath.Join(root, "examples", "*.yaml"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(b), " /tmp/", " "+tmp+"/")
		writeTree(t, w, map[string]string{"examples/" + filepath.Base(name): text})
	}
	for _, link := range []string{"scripts", "internal"} {
		if err := os.Symlink(filepath.Join(root, link), filepath.Join(w, link)); err != nil {
			t.Fatal(err)
		}
	}
	// docs-mirror (ghsync.yaml) mirrors "this clone": the work folder is one.
	runGit(t, w, "init", "-q")
	runGit(t, w, "add", "examples")
	runGit(t, w, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "examples")

	outcomes := map[string]exampleOutcome{
		"minimal.yaml": func(t *testing.T, w, out string) {
			wantFiles(t, w, "examples/out/site/public/index.html", "examples/out/site/.ghsync/manifest.json")
			wantText(t, out, "up to date: github:acme/site@main", "1 not modified")
		},
		"ghsync.yaml": func(t *testing.T, w, out string) {
			wantFiles(t, w, "examples/store/site/public/index.html", "examples/store/templates/templates/v1.0/assets/templates.zip",
				"examples/store/releases/app-v2.0.0.tar.gz", "examples/store/docs/examples/minimal.yaml", "examples/store/hud/acme/app/main.json")
			if _, err := os.Stat(filepath.Join(w, "examples/store/site/public/app.js.map")); err == nil {
				t.Error("site: the excluded app.js.map was written")
			}
			wantText(t, out, "0 failed")
			wantAlerts(t, w, `"text"`)
		},
		"inbox-local.yaml": func(t *testing.T, w, out string) {
			wantFiles(t, w, "examples/final/E07000223/2026-05-07/1700000000/report.json", "examples/final/E07000223/2026-05-07/1700000000/dc_stations.csv")
			wantText(t, out, "no AWS credentials for SES", "no GitHub token or App configured: issue not raised")
			if !regexp.MustCompile(`(?m)^  github +done `).MatchString(out) {
				t.Error("with the fake GitHub, the issue was not raised")
			}
			mails, _ := filepath.Glob(filepath.Join(w, "tmp/ghsync-fakes/mail/*.eml"))
			if len(mails) != 1 {
				t.Fatalf("the SMTP catcher caught %d messages, want 1", len(mails))
			}
			b, _ := os.ReadFile(mails[0])
			wantText(t, string(b), "Error with data for council E07000224", "Incomplete file")
		},
		"inbox.yaml": func(t *testing.T, w, out string) {
			wantFiles(t, w, "tmp/inbox.cfn.yaml")
			wantText(t, out, "dc_stations.csv: valid (41 rows")
		},
		"lambda.yaml": func(t *testing.T, w, out string) {
			wantFiles(t, w, "tmp/ghsync.cfn.yaml", "examples/lambda-store/site/public/index.html",
				"examples/lambda-store/docs/index.md", "examples/lambda-store/hud/acme/app/main.json")
			wantAlerts(t, w, `"text"`)
		},
		"skill-app-sync.yaml": func(t *testing.T, w, out string) {
			wantFiles(t, w, "examples/skill-templates/python-tpl/v1.0/src/main.txt", "examples/skill-templates/go-tpl/v2.1/src/main.txt")
			d, err := db.Open(context.Background(), "sqlite://"+filepath.Join(w, "examples/data/brn.db"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for table, want := range map[string]int{"assessment": 3, "badges": 2, "assertions": 1} {
				var n int
				if err := d.QueryRow(context.Background(), "select count(*) from "+table).Scan(&n); err != nil || n != want {
					t.Errorf("table %s: %d rows (%v), want %d", table, n, err, want)
				}
			}
			wantText(t, out, "2 rows: 2 ok, 0 failed")
		},
		"torchci.yaml": func(t *testing.T, w, out string) {
			wantFiles(t, w, "tmp/torchci.cfn.yaml", "examples/data/torchci.db")
			wantText(t, out, "2 missing; 2 redeliveries requested", "(dry run: nothing requested)", "requested 0b1c2d3e-0000-11ef-8000-000000000002")
		},
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "GHSYNC_REQUIRE_CONTRACTS=1")
	env = withoutGitHubEnv(env)
	for _, name := range names {
		base := filepath.Base(name)
		check, ok := outcomes[base]
		if !ok {
			t.Errorf("examples/%s: no outcome check in this test: add one", base)
			continue
		}
		t.Run(strings.TrimSuffix(base, ".yaml"), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(w, "scripts", "walk-examples.sh"), "examples/"+base)
			cmd.Dir, cmd.Env = w, env
			b, err := cmd.CombinedOutput()
			out := string(b)
			defer func() {
				if t.Failed() {
					t.Logf("transcript:\n%s", out)
				}
			}()
			if err != nil {
				t.Fatalf("the documented commands failed: %v", err)
			}
			check(t, w, out)
		})
	}
}

// withoutGitHubEnv drops the variables that would point ghsync elsewhere
// than the examples' commands say (a developer's own token, an AWS profile).
func withoutGitHubEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_FILE", "GITHUB_API_URL",
			"GITHUB_APP_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN", "SSL_CERT_FILE", "GHSYNC_STORAGE", "GHSYNC_DATABASE":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func runGit(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func wantFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("missing %s: %v", n, err)
		}
	}
}

// wantAlerts checks that the fakes' Slack catcher got alerts containing sub.
func wantAlerts(t *testing.T, w, sub string) {
	t.Helper()
	alerts, _ := filepath.Glob(filepath.Join(w, "tmp/ghsync-fakes/alerts/*.json"))
	if len(alerts) == 0 {
		t.Error("no alert reached the Slack catcher")
	}
	for _, a := range alerts {
		b, _ := os.ReadFile(a)
		wantText(t, string(b), sub)
	}
}

func wantText(t *testing.T, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("the transcript lacks %q", s)
		}
	}
}
