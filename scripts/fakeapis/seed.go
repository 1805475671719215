package fakeapis

import (
	"fmt"
	"time"

	"github.com/ghsync/ghsync/internal/apisync/apisynctest"
	"github.com/ghsync/ghsync/internal/githubtest"
)

// seedGitHub creates the repositories examples/*.yaml name:
//   - acme/site@main        minimal.yaml, ghsync.yaml (site), lambda.yaml (site)
//   - acme/templates        a release v1.0 with an asset (ghsync.yaml: templates)
//   - acme/app              tag v2.0.0 (release-zip), branches main and
//     release/2.0 with check runs (the hud statuses jobs)
//   - acme/docs@main        lambda.yaml (nightly-docs)
//   - brn-org/*-tpl         skill-app-sync.yaml's template repositories, one
//     release each, as the Airtable rows below name them
//   - DemocracyClub/UK-Polling-Stations  the inbox examples' issues
//
// and an installation on acme for the App, with two failed hook deliveries
// (torchci.yaml's redeliver job).
func seedGitHub(gh *githubtest.Server) {
	site := gh.AddRepo("acme", "site")
	site.Commit("main", map[string]string{
		"README.md":               "# acme/site\n",
		"public/index.html":       "<!doctype html><title>acme</title><p>Hello from acme/site.\n",
		"public/app.js":           "console.log('acme');\n",
		"public/app.js.map":       "{\"version\":3}\n",
		"public/site.webmanifest": "{\"name\":\"acme\"}\n",
		"public/assets/logo.svg":  "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
	})

	tpl := gh.AddRepo("acme", "templates")
	tpl.Tag("v1.0", tpl.Commit("main", map[string]string{"page.html.tmpl": "<h1>{{.Title}}</h1>\n", "email.txt.tmpl": "Hello {{.Name}}\n"}))
	tpl.AddRelease("v1.0", githubtest.Asset{Name: "templates.zip", ContentType: "application/zip", Content: []byte("PK\x05\x06" + string(make([]byte, 18)))})

	app := gh.AddRepo("acme", "app")
	v2 := app.Commit("main", map[string]string{"README.md": "# acme/app\n", "cmd/app/main.go": "package main\n\nfunc main() {}\n", "go.mod": "module example.com/app\n"})
	app.Tag("v2.0.0", v2)
	app.AddRelease("v2.0.0")
	suites := func(lint, test string) []githubtest.CheckSuite {
		return []githubtest.CheckSuite{{Workflow: "CI", Runs: []githubtest.CheckRun{
			{Name: "lint", Conclusion: lint}, {Name: "test", Conclusion: test}}}}
	}
	gh.SetChecks(v2, suites("SUCCESS", "SUCCESS"), nil)
	gh.SetChecks(app.Commit("main", map[string]string{"cmd/app/main.go": "package main\n\nfunc main() { println(1) }\n"}), suites("SUCCESS", "FAILURE"), nil)
	gh.SetChecks(app.Commit("release/2.0", map[string]string{"README.md": "# acme/app 2.0\n"}), suites("SUCCESS", ""), nil)

	gh.AddRepo("acme", "docs").Commit("main", map[string]string{"index.md": "# Docs\n", "guide/start.md": "Start here.\n"})

	for _, t := range []struct{ repo, tag string }{{"python-tpl", "v1.0"}, {"go-tpl", "v2.1"}} {
		r := gh.AddRepo("brn-org", t.repo)
		r.Tag(t.tag, r.Commit("main", map[string]string{"README.md": t.repo + "\n", "src/main.txt": "hello " + t.repo + "\n"}))
		r.AddRelease(t.tag)
	}
	gh.AddRepo("DemocracyClub", "UK-Polling-Stations").Commit("main", map[string]string{"README.md": "# UK-Polling-Stations\n"})
	inst := gh.AddInstallation("acme")
	// Two deliveries the App made an hour ago, never received (torchci.yaml's
	// recover job asks GitHub to redeliver them).
	for i, ev := range []string{"workflow_job", "check_run"} {
		gh.AddHookDelivery(githubtest.HookDelivery{GUID: fmt.Sprintf("0b1c2d3e-0000-11ef-8000-00000000000%d", i+1), Event: ev, Action: "completed",
			DeliveredAt: time.Now().Add(-time.Hour), Status: "failed to connect", StatusCode: 502, InstallationID: inst})
	}
}

// assessments is the Airtable table skill-app-sync.yaml copies; its rows
// name the brn-org template repositories above (one draft has none).
var assessments = []apisynctest.AirtableRecord{
	{ID: "rec00000000000001", CreatedTime: "2024-01-01T00:00:00.000Z", Fields: map[string]any{"Name": "Python", "template_repo": "python-tpl", "latest_release": "v1.0"}},
	{ID: "rec00000000000002", CreatedTime: "2024-01-01T00:00:00.000Z", Fields: map[string]any{"Name": "Go", "template_repo": "go-tpl", "latest_release": "v2.1"}},
	{ID: "rec00000000000003", CreatedTime: "2024-01-01T00:00:00.000Z", Fields: map[string]any{"Name": "Draft"}},
}

var badgeClasses = []map[string]any{
	{"entityType": "BadgeClass", "entityId": "BC01", "name": "Python", "issuer": badgrIssuer, "createdAt": "2024-01-02T03:04:05Z"},
	{"entityType": "BadgeClass", "entityId": "BC02", "name": "Go", "issuer": badgrIssuer, "createdAt": "2024-01-02T03:04:05Z"},
}

var assertions = []map[string]any{
	{"entityType": "Assertion", "entityId": "AS01", "badgeclass": "BC01", "issuer": badgrIssuer,
		"recipient": map[string]any{"identity": "a@example.org", "type": "email", "hashed": false}, "issuedOn": "2024-02-03T04:05:06Z", "revoked": false},
}
