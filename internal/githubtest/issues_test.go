package githubtest

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-github/v88/github"
)

type tokenRT struct{ tok string }

func (t tokenRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "token "+t.tok)
	r.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	return http.DefaultTransport.RoundTrip(r)
}

func TestIssuesListCreateComment(t *testing.T) {
	s := New(t, Options{})
	s.Token = "tok"
	s.AddRepo("acme", "data")
	old := s.AddIssue("acme", "data", Issue{Title: "Import X", Labels: []string{"Data Import", "ready"}})
	s.AddIssue("acme", "data", Issue{Title: "Import X", Labels: []string{"Data Import"}, State: "closed"})
	s.AddIssue("acme", "data", Issue{Title: "Other", Labels: []string{"bug"}})

	gh := newClientWith(t, s, &http.Client{Transport: tokenRT{"tok"}})
	ctx := context.Background()

	list, resp, err := gh.Issues.ListByRepo(ctx, "acme", "data", &github.IssueListByRepoOptions{
		State: "open", Labels: []string{"Data Import"}, ListOptions: github.ListOptions{PerPage: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].GetNumber() != old || list[0].GetTitle() != "Import X" || resp.NextPage != 0 {
		t.Fatalf("open issues with label = %d issues (first #%d), next page %d; want #%d only", len(list), list[0].GetNumber(), resp.NextPage, old)
	}
	all, resp, err := gh.Issues.ListByRepo(ctx, "acme", "data", &github.IssueListByRepoOptions{State: "all", ListOptions: github.ListOptions{PerPage: 2}})
	if err != nil || len(all) != 2 || resp.NextPage != 2 {
		t.Fatalf("all issues page 1: %d issues, next %d, err %v; want 2 and a next page", len(all), resp.NextPage, err)
	}

	is, _, err := gh.Issues.Create(ctx, "acme", "data", &github.IssueRequest{Title: github.Ptr("New"), Body: github.Ptr("b"),
		Labels: &[]string{"Data Import"}})
	if err != nil {
		t.Fatal(err)
	}
	if is.GetNumber() != 4 || is.GetHTMLURL() != s.URL+"acme/data/issues/4" {
		t.Errorf("created #%d at %s; want #4 at %sacme/data/issues/4", is.GetNumber(), is.GetHTMLURL(), s.URL)
	}
	cm, _, err := gh.Issues.CreateComment(ctx, "acme", "data", old, &github.IssueComment{Body: github.Ptr("Updated\nx")})
	if err != nil {
		t.Fatal(err)
	}
	if cm.GetHTMLURL() == "" || cm.GetBody() != "Updated\nx" {
		t.Errorf("comment = %+v", cm)
	}
	if _, _, err := gh.Issues.CreateComment(ctx, "acme", "data", 99, &github.IssueComment{Body: github.Ptr("x")}); err == nil {
		t.Error("comment on a missing issue: no error; want 404")
	}
	got := s.Issues("acme", "data")
	if len(got) != 4 || len(got[0].Comments) != 1 || got[0].Comments[0] != "Updated\nx" || got[3].Title != "New" {
		t.Errorf("Issues() = %+v", got)
	}
	anon := newClient(t, s)
	if _, _, err := anon.Issues.Create(ctx, "acme", "data", &github.IssueRequest{Title: github.Ptr("x")}); err == nil {
		t.Error("anonymous create: no error; want 401")
	}
	noViolations(t, s)
}
