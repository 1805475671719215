package githubtest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v88/github"
)

// TestOwnerListings lists an owner's repositories through go-github's own
// calls (installation, organization, user), with topics, archived and
// visibility as GitHub reports them, paginated and conditional.
func TestOwnerListings(t *testing.T) {
	s := New(t, Options{})
	for i := range 45 {
		r := s.AddRepo("acme", fmt.Sprintf("r%02d", i))
		switch {
		case i == 0:
			r.SetArchived(true)
		case i == 1:
			r.SetTopics("site", "docs")
		case i == 2:
			r.SetPrivate(true)
		}
	}
	s.AddRepo("other", "x")
	ctx := context.Background()

	anon := newClientWith(t, s, s.Client())
	list, resp, err := anon.Repositories.ListByOrg(ctx, "acme", &github.RepositoryListByOrgOptions{ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 44 || resp.NextPage != 0 {
		t.Fatalf("anonymous org listing: %d repos, next page %d; want 44 public, one page", len(list), resp.NextPage)
	}
	if !list[0].GetArchived() || list[0].GetName() != "r00" || strings.Join(list[1].Topics, ",") != "site,docs" || list[1].GetVisibility() != "public" {
		t.Errorf("listing fields: %s archived=%v, %s topics=%v", list[0].GetName(), list[0].GetArchived(), list[1].GetName(), list[1].Topics)
	}
	// Default page size and the Link header.
	list, resp, err = anon.Repositories.ListByOrg(ctx, "acme", nil)
	if err != nil || len(list) != 30 || resp.NextPage != 2 || resp.LastPage != 2 {
		t.Fatalf("first default page: %d repos, next %d, last %d, %v", len(list), resp.NextPage, resp.LastPage, err)
	}

	// A conditional request for an unchanged page is 304, free of rate limit.
	r1, body := do(t, s, http.MethodGet, "orgs/acme/repos?per_page=100")
	etag := r1.Header.Get("ETag")
	if r1.StatusCode != 200 || etag == "" || len(body) == 0 {
		t.Fatalf("listing: %d etag %q", r1.StatusCode, etag)
	}
	r2, _ := do(t, s, http.MethodGet, "orgs/acme/repos?per_page=100", "If-None-Match", etag)
	if r2.StatusCode != http.StatusNotModified {
		t.Fatalf("unchanged listing: %d, want 304", r2.StatusCode)
	}
	s.AddRepo("acme", "new")
	if r3, _ := do(t, s, http.MethodGet, "orgs/acme/repos?per_page=100", "If-None-Match", etag); r3.StatusCode != 200 {
		t.Fatalf("listing after a new repository: %d, want 200", r3.StatusCode)
	}

	// A user account has no /orgs listing; /users has it.
	s.AddRepo("alice", "dots")
	s.SetUserAccount("alice")
	if _, resp, err := anon.Repositories.ListByOrg(ctx, "alice", nil); err == nil || resp.StatusCode != 404 {
		t.Errorf("org listing of a user: %v", err)
	}
	if ul, _, err := anon.Repositories.ListByUser(ctx, "alice", nil); err != nil || len(ul) != 1 {
		t.Errorf("user listing: %d, %v", len(ul), err)
	}

	// The installation sees its account's repositories, private ones too.
	instID := s.AddInstallation("acme")
	atr, err := ghinstallation.NewAppsTransport(http.DefaultTransport, s.AppID, s.AppPrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	atr.BaseURL = strings.TrimSuffix(s.URL, "/")
	inst := newClientWith(t, s, &http.Client{Transport: ghinstallation.NewFromAppsTransport(atr, instID)})
	ir, _, err := inst.Apps.ListRepos(ctx, &github.ListOptions{PerPage: 100})
	if err != nil || ir.GetTotalCount() != 46 || len(ir.Repositories) != 46 {
		t.Fatalf("installation listing: %v, %v", ir, err)
	}
	noViolations(t, s)
}
