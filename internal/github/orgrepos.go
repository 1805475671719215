package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	gogithub "github.com/google/go-github/v88/github"
)

// OwnerRepo is one repository of an owner's listing: what a job over a
// whole organisation filters on.
type OwnerRepo struct {
	Name          string   `json:"name"`
	Private       bool     `json:"private,omitempty"`
	Visibility    string   `json:"visibility,omitempty"` // public, private or internal
	Archived      bool     `json:"archived,omitempty"`
	Fork          bool     `json:"fork,omitempty"`
	Topics        []string `json:"topics,omitempty"`
	DefaultBranch string   `json:"default_branch,omitempty"`
}

// RepoListing is an owner's repositories as last listed, with the
// validators that make the next listing conditional. Keep it between runs
// (it is JSON) and pass it back to ListOwnerRepos.
type RepoListing struct {
	// Owner is the account listed.
	Owner string `json:"owner"`
	// Via is the listing used: "installation" (GET /installation/repositories),
	// "org" (GET /orgs/{org}/repos) or "user" (GET /users/{username}/repos).
	Via string `json:"via"`
	// Pages are the listing's pages, in order.
	Pages []ListingPage `json:"pages"`
}

// ListingPage is one page of a listing and its ETag.
type ListingPage struct {
	ETag  string      `json:"etag,omitempty"`
	Repos []OwnerRepo `json:"repos"`
}

// Repos returns every repository of the listing, in GitHub's order.
func (l *RepoListing) Repos() []OwnerRepo {
	var out []OwnerRepo
	for _, p := range l.Pages {
		out = append(out, p.Repos...)
	}
	return out
}

// listPageSize is the page size asked for (GitHub's maximum).
const listPageSize = 100

type ifNoneMatchKey struct{}

// conditional is a RoundTripper that sends the If-None-Match validator
// stored in the request's context, so go-github's own list calls can be
// conditional.
type conditional struct{ next http.RoundTripper }

func (t conditional) RoundTrip(req *http.Request) (*http.Response, error) {
	if etag, _ := req.Context().Value(ifNoneMatchKey{}).(string); etag != "" {
		req = req.Clone(req.Context())
		req.Header.Set("If-None-Match", etag)
	}
	return t.next.RoundTrip(req)
}

// ListOwnerRepos lists every repository the credentials can see in owner:
// with a GitHub App, the repositories of its installation on owner
// (GET /installation/repositories); with a token or anonymously the
// organization's (GET /orgs/{org}/repos), or the user's
// (GET /users/{username}/repos) when owner is not an organization. Each
// page is requested conditionally on prev's validator for it, so an
// unchanged listing of up to 100 repositories costs one request answered
// 304 (free of rate limit); notModified is then true and the listing is
// prev's. Any failure returns an error and no listing: a caller must never
// take a failed listing for an empty one.
func (c *Client) ListOwnerRepos(ctx context.Context, owner string, prev *RepoListing) (l *RepoListing, notModified bool, err error) {
	if owner == "" || strings.Contains(owner, "/") {
		return nil, false, fmt.Errorf("list repositories: owner %q: want an organization or user login", owner)
	}
	if prev != nil && !strings.EqualFold(prev.Owner, owner) {
		prev = nil
	}
	hc, err := c.ownerClient(ctx, owner, "")
	if err != nil {
		return nil, false, fmt.Errorf("list repositories of %s: %w", owner, err)
	}
	hc = &http.Client{Transport: conditional{next: hc.Transport}}
	rest, err := c.rest(hc)
	if err != nil {
		return nil, false, err
	}
	vias := []string{"org", "user"}
	switch {
	case c.app != nil:
		vias = []string{"installation"}
	case prev != nil && prev.Via == "user":
		vias = []string{"user"}
	}
	for i, via := range vias {
		p := prev
		if p != nil && p.Via != via {
			p = nil
		}
		l, notModified, err = c.listVia(ctx, rest, owner, via, p)
		if err == nil || !errors.Is(err, ErrNotFound) || i == len(vias)-1 {
			return l, notModified, err
		}
	}
	return nil, false, err
}

// listVia lists owner's repositories with one listing, page by page.
func (c *Client) listVia(ctx context.Context, rest *gogithub.Client, owner, via string, prev *RepoListing) (*RepoListing, bool, error) {
	l := &RepoListing{Owner: owner, Via: via}
	allCached := prev != nil
	for page := 1; ; page++ {
		var old *ListingPage
		if prev != nil && page <= len(prev.Pages) {
			old = &prev.Pages[page-1]
		}
		pctx := ctx
		if old != nil && old.ETag != "" {
			pctx = context.WithValue(ctx, ifNoneMatchKey{}, old.ETag)
		}
		got, resp, route, err := listPage(pctx, rest, owner, via, page)
		switch {
		case resp != nil && resp.StatusCode == http.StatusNotModified && old != nil:
			l.Pages = append(l.Pages, *old)
		case err != nil:
			return nil, false, listError(owner, route, resp, err)
		default:
			allCached = false
			var repos []OwnerRepo
			for _, r := range got {
				if !strings.EqualFold(r.GetOwner().GetLogin(), owner) {
					continue // an installation chosen by ID may cover another account
				}
				repos = append(repos, OwnerRepo{Name: r.GetName(), Private: r.GetPrivate(), Visibility: r.GetVisibility(),
					Archived: r.GetArchived(), Fork: r.GetFork(), Topics: r.Topics, DefaultBranch: r.GetDefaultBranch()})
			}
			l.Pages = append(l.Pages, ListingPage{ETag: resp.Header.Get("ETag"), Repos: repos})
			if resp.NextPage == 0 {
				return l, false, nil
			}
			continue
		}
		// A page answered 304: go on while the previous listing had more
		// pages, or its last page was full (a new page may follow it).
		if page >= len(prev.Pages) && len(old.Repos) < listPageSize {
			return l, allCached && len(l.Pages) == len(prev.Pages), nil
		}
	}
}

// listPage requests one page with go-github's list call for via.
func listPage(ctx context.Context, rest *gogithub.Client, owner, via string, page int) ([]*gogithub.Repository, *gogithub.Response, string, error) {
	lo := gogithub.ListOptions{Page: page, PerPage: listPageSize}
	switch via {
	case "installation":
		route := "GET /installation/repositories"
		r, resp, err := rest.Apps.ListRepos(WithRoute(ctx, route), &lo)
		if err != nil {
			return nil, resp, route, err
		}
		return r.Repositories, resp, route, nil
	case "user":
		route := "GET /users/{username}/repos"
		r, resp, err := rest.Repositories.ListByUser(WithRoute(ctx, route), owner, &gogithub.RepositoryListByUserOptions{Type: "owner", ListOptions: lo})
		return r, resp, route, err
	default:
		route := "GET /orgs/{org}/repos"
		r, resp, err := rest.Repositories.ListByOrg(WithRoute(ctx, route), owner, &gogithub.RepositoryListByOrgOptions{Type: "all", ListOptions: lo})
		return r, resp, route, err
	}
}

// listError describes a failed listing; a GitHub answer becomes a
// *StatusError (so errors.Is(err, ErrNotFound) holds for a 404).
func listError(owner, route string, resp *gogithub.Response, err error) error {
	var er *gogithub.ErrorResponse
	if resp != nil && resp.Response != nil && errors.As(err, &er) {
		path := ""
		if resp.Request != nil {
			path = resp.Request.URL.Path
		}
		method, _, _ := strings.Cut(route, " ")
		se := &StatusError{Method: method, Path: path, StatusCode: resp.StatusCode, Message: er.Message,
			What: "account " + owner + " (or its repositories)"}
		if resp.StatusCode == http.StatusNotModified {
			se.Message = "not modified, but no previous listing to reuse"
		}
		err = se
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is in the message already
	}
	return fmt.Errorf("list repositories of %s (%s): %w", owner, route, err)
}
