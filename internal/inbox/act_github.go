package inbox

import (
	"context"
	"fmt"
	"strings"

	gogithub "github.com/google/go-github/v88/github"

	"github.com/ghsync/ghsync/internal/github"
)

// issuePayload is what the GitHub action sends (shown in dry runs and when
// no credential is configured).
type issuePayload struct {
	Repo    string   `json:"repo"`
	Title   string   `json:"title"`
	Body    string   `json:"body"`
	Labels  []string `json:"labels"`
	Comment string   `json:"comment,omitempty"`
	URL     string   `json:"url,omitempty"`
}

// githubIssue raises the set's issue, or comments "Updated\n"+body on the
// open issue that has the same title and the first label. It sets
// rep.GitHubIssue to the issue's page URL (no #fragment).
//
// retry says an earlier run of the same content tried this action and saw
// it fail; GitHub may have acted all the same (the answer was lost). Then
// an open issue whose body is exactly this body, or whose last comment is
// exactly this comment, is that earlier run's work: it is adopted, not
// raised or commented on again.
func (j *job) githubIssue(ctx context.Context, deps *Deps, rep *Report, opts RunOptions, retry bool) ActionResult {
	g := j.cfg.GitHub
	if g == nil || g.Repo == "" {
		return ActionResult{Action: ActionGitHub, Status: StatusSkipped, Detail: "github is not configured"}
	}
	vars := templateVars(rep)
	p := issuePayload{Repo: g.Repo, Title: j.title.Render(vars), Body: j.body.Render(vars), Labels: []string{}}
	for _, l := range j.labels {
		if s := l.Render(vars); s != "" {
			p.Labels = append(p.Labels, s)
		}
	}
	a := ActionResult{Action: ActionGitHub, Target: g.Repo}
	if opts.DryRun {
		a.Status, a.Payload, a.Detail = StatusDryRun, p, "would create the issue, or comment on the open one with this title"
		return a
	}
	client := deps.GitHub
	if g.Token != "" {
		c, err := github.New(github.Config{BaseURL: deps.GitHubBaseURL, Token: g.Token, HTTPClient: deps.HTTP, Logger: deps.Logger})
		if err != nil {
			a.Status, a.Error = StatusFailed, fmt.Sprintf("GitHub client: %v", err)
			return a
		}
		client = c
	}
	if client == nil || client.Anonymous() {
		a.Status, a.Payload, a.Detail = StatusNoCredential, p, "no GitHub token or App configured: issue not raised"
		return a
	}
	rc, err := client.For(ctx, j.owner, j.repo)
	if err != nil {
		a.Status, a.Error = StatusFailed, err.Error()
		return a
	}
	gh, err := rc.REST()
	if err != nil {
		a.Status, a.Error = StatusFailed, err.Error()
		return a
	}
	existing, err := findOpenIssue(ctx, gh, j.owner, j.repo, p.Title, p.Labels)
	if err != nil {
		a.Status, a.Error = StatusFailed, fmt.Sprintf("look for an open issue: %v", err)
		return a
	}
	if existing != nil && retry && existing.GetBody() == p.Body {
		p.URL = stripFragment(existing.GetHTMLURL())
		rep.GitHubIssue = p.URL
		a.Status, a.Payload, a.Detail = StatusDone, p, fmt.Sprintf("#%d was raised by an earlier run whose answer was lost", existing.GetNumber())
		return a
	}
	if existing != nil {
		p.Comment = "Updated\n" + p.Body
		if retry {
			last, err := lastComment(ctx, gh, j.owner, j.repo, existing.GetNumber())
			if err != nil {
				a.Status, a.Error = StatusFailed, fmt.Sprintf("read the comments of #%d: %v", existing.GetNumber(), err)
				return a
			}
			if last == p.Comment {
				p.URL = stripFragment(existing.GetHTMLURL())
				rep.GitHubIssue = p.URL
				a.Status, a.Payload, a.Detail = StatusDone, p, fmt.Sprintf("commented on #%d by an earlier run whose answer was lost", existing.GetNumber())
				return a
			}
		}
		_, _, err := gh.Issues.CreateComment(github.Once(ctx), j.owner, j.repo, existing.GetNumber(), &gogithub.IssueComment{Body: gogithub.Ptr(p.Comment)})
		if err != nil {
			a.Status, a.Error = StatusFailed, fmt.Sprintf("comment on #%d: %v", existing.GetNumber(), err)
			return a
		}
		p.URL = stripFragment(existing.GetHTMLURL())
		rep.GitHubIssue = p.URL
		a.Status, a.Payload, a.Detail = StatusDone, p, fmt.Sprintf("commented on #%d", existing.GetNumber())
		return a
	}
	issue, _, err := gh.Issues.Create(github.Once(ctx), j.owner, j.repo, &gogithub.IssueRequest{
		Title: gogithub.Ptr(p.Title), Body: gogithub.Ptr(p.Body), Labels: &p.Labels})
	if err != nil {
		a.Status, a.Error = StatusFailed, fmt.Sprintf("create issue: %v", err)
		return a
	}
	p.URL = stripFragment(issue.GetHTMLURL())
	rep.GitHubIssue = p.URL
	a.Status, a.Payload, a.Detail = StatusDone, p, fmt.Sprintf("created #%d", issue.GetNumber())
	return a
}

// findOpenIssue lists the open issues carrying the first label (the
// repository's issue list, which, unlike the search API, sees an issue the
// moment it is created) and returns the one whose title is identical.
func findOpenIssue(ctx context.Context, gh *gogithub.Client, owner, repo, title string, labels []string) (*gogithub.Issue, error) {
	o := &gogithub.IssueListByRepoOptions{State: "open", ListOptions: gogithub.ListOptions{PerPage: 100}}
	if len(labels) > 0 {
		o.Labels = labels[:1]
	}
	for page := 0; page < 50; page++ {
		issues, resp, err := gh.Issues.ListByRepo(ctx, owner, repo, o)
		if err != nil {
			return nil, err
		}
		for _, is := range issues {
			if !is.IsPullRequest() && is.GetTitle() == title {
				return is, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		o.ListOptions.Page = resp.NextPage
	}
	return nil, nil
}

func stripFragment(u string) string {
	if i := strings.IndexByte(u, '#'); i >= 0 {
		return u[:i]
	}
	return u
}

// lastComment returns the body of the newest comment on issue n ("" when
// it has none), reading the comment pages oldest first.
func lastComment(ctx context.Context, gh *gogithub.Client, owner, repo string, n int) (string, error) {
	o := &gogithub.IssueListCommentsOptions{ListOptions: gogithub.ListOptions{PerPage: 100}}
	last := ""
	for page := 0; page < 50; page++ {
		cs, resp, err := gh.Issues.ListComments(ctx, owner, repo, n, o)
		if err != nil {
			return "", err
		}
		if len(cs) > 0 {
			last = cs[len(cs)-1].GetBody()
		}
		if resp.NextPage == 0 {
			return last, nil
		}
		o.Page = resp.NextPage
	}
	return last, fmt.Errorf("more than 5,000 comments on #%d", n)
}
