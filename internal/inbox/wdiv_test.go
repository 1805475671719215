package inbox

import (
	"slices"
	"strings"
	"testing"
)

// The five upload sets of the original's behaviour, format wdiv: report
// (JSON-equal to the golden file, also as report.json and the callback
// body), final bucket objects, issues and comments, emails, callbacks.

func TestWDIVIdoxValid(t *testing.T) {
	e := newEnv(t)
	e.upload("idox_eros.csv", "idox eros.csv")
	res := e.process(setPrefix+"idox eros.csv", RunOptions{})
	if !res.Passed {
		t.Fatalf("set failed: %+v", res.Report)
	}
	if got, want := e.finalKeys(), []string{setPrefix + "idox eros.csv", setPrefix + "report.json"}; !slices.Equal(got, want) {
		t.Errorf("final keys = %q; want %q", got, want)
	}
	issues := e.gh.Issues("DemocracyClub", "UK-Polling-Stations")
	if len(issues) != 1 {
		t.Fatalf("issues = %d; want 1", len(issues))
	}
	is := issues[0]
	if is.Title != "Import E07000223-Example Council for 2026-05-07" || !slices.Equal(is.Labels, []string{"Data Import", "ready"}) {
		t.Errorf("issue title %q labels %q", is.Title, is.Labels)
	}
	golden(t, "idox.issue.md", []byte(is.Body))
	golden(t, "idox.report.json", e.finalReport())
	cbs := e.callbacks()
	if len(cbs) != 1 || !jsonEqual(t, []byte(cbs[0]), e.finalReport()) {
		t.Errorf("callbacks = %q; want one equal to report.json", cbs)
	}
	if n := len(e.smtp.Mails()); n != 0 {
		t.Errorf("emails = %d; want 0", n)
	}
}

func TestWDIVDemocracyCountsPair(t *testing.T) {
	e := newEnv(t)
	e.upload("dc_districts.csv", "districts.csv")
	e.upload("dc_stations.csv", "stations.csv")
	res := e.process(setPrefix+"stations.csv", RunOptions{})
	if !res.Passed {
		t.Fatalf("pair failed: %+v", res.Report)
	}
	want := []string{setPrefix + "districts.csv", setPrefix + "report.json", setPrefix + "stations.csv"}
	if got := e.finalKeys(); !slices.Equal(got, want) {
		t.Errorf("final keys = %q; want %q", got, want)
	}
	issues := e.gh.Issues("DemocracyClub", "UK-Polling-Stations")
	if len(issues) != 1 {
		t.Fatalf("issues = %d; want 1", len(issues))
	}
	golden(t, "dc_pair.issue.md", []byte(issues[0].Body))
	golden(t, "dc_pair.report.json", e.finalReport())
	if cbs := e.callbacks(); len(cbs) != 1 || !jsonEqual(t, []byte(cbs[0]), e.finalReport()) {
		t.Errorf("callbacks = %q; want one equal to report.json", cbs)
	}
	if n := len(e.smtp.Mails()); n != 0 {
		t.Errorf("emails = %d; want 0", n)
	}
}

func TestWDIVDemocracyCountsAlone(t *testing.T) {
	e := newEnv(t)
	e.upload("dc_districts.csv", "districts.csv")
	res := e.process(setPrefix+"districts.csv", RunOptions{})
	if res.Passed {
		t.Fatal("a lone Democracy Counts file passed")
	}
	if got := e.finalKeys(); len(got) != 0 {
		t.Errorf("final keys = %q; want none", got)
	}
	if n := len(e.gh.Issues("DemocracyClub", "UK-Polling-Stations")); n != 0 {
		t.Errorf("issues = %d; want 0", n)
	}
	if n := len(e.smtp.Mails()); n != 0 {
		t.Errorf("emails = %d; want 0 (file 1 of 2)", n)
	}
	cbs := e.callbacks()
	if len(cbs) != 1 {
		t.Fatalf("callbacks = %d; want 1", len(cbs))
	}
	golden(t, "dc_alone.report.json", []byte(cbs[0]))
}

func TestWDIVIncomplete(t *testing.T) {
	e := newEnv(t)
	e.upload("incomplete.csv", "incomplete.csv")
	res := e.process(setPrefix+"incomplete.csv", RunOptions{})
	if res.Passed {
		t.Fatal("incomplete file passed")
	}
	if got := e.finalKeys(); len(got) != 0 {
		t.Errorf("final keys = %q; want none", got)
	}
	if n := len(e.gh.Issues("DemocracyClub", "UK-Polling-Stations")); n != 0 {
		t.Errorf("issues = %d; want 0", n)
	}
	mails := e.smtp.Mails()
	if len(mails) != 1 {
		t.Fatalf("emails = %d; want 1", len(mails))
	}
	m := mails[0]
	if !m.TLS || m.AuthUser != "mailer" || m.From != "pollingstations@example.org" || !slices.Equal(m.To, []string{"errors@example.org"}) {
		t.Errorf("mail envelope: tls %v auth %q from %q to %q", m.TLS, m.AuthUser, m.From, m.To)
	}
	golden(t, "incomplete.email.txt", []byte("Subject: "+m.Subject+"\n\n"+m.Body))
	cbs := e.callbacks()
	if len(cbs) != 1 {
		t.Fatalf("callbacks = %d; want 1", len(cbs))
	}
	golden(t, "incomplete.report.json", []byte(cbs[0]))
}

func TestWDIVExistingIssueGetsComment(t *testing.T) {
	e := newEnv(t)
	n := e.gh.AddIssue("DemocracyClub", "UK-Polling-Stations", githubtestIssue("Import E07000223-Example Council for 2026-05-07", "Data Import"))
	e.upload("idox_eros.csv", "idox eros.csv")
	res := e.process(setPrefix, RunOptions{})
	if !res.Passed {
		t.Fatalf("set failed: %+v", res.Report)
	}
	issues := e.gh.Issues("DemocracyClub", "UK-Polling-Stations")
	if len(issues) != 1 {
		t.Fatalf("issues = %d; want the existing one only", len(issues))
	}
	if len(issues[0].Comments) != 1 || !strings.HasPrefix(issues[0].Comments[0], "Updated\nEMS: Idox Eros (Halarose)\nFiles:") {
		t.Errorf("comments = %q; want one starting Updated\\nEMS: …", issues[0].Comments)
	}
	if res.Report.GitHubIssue != issues[0].HTMLURL || strings.Contains(res.Report.GitHubIssue, "#") || issues[0].Number != n {
		t.Errorf("report github_issue = %q; want %q without a fragment", res.Report.GitHubIssue, issues[0].HTMLURL)
	}
	golden(t, "idox.report.json", e.finalReport())
}
