package github

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ghsync/ghsync/internal/githubtest"
)

// TestListOwnerRepos lists an organisation with an App installation, a
// token and anonymously: fields carried over, a steady listing is one
// conditional request answered 304, a change is seen, a user account falls
// back to /users, and a failed listing is an error, never an empty list.
func TestListOwnerRepos(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{})
	for i := range 150 { // two pages
		r := s.AddRepo("acme", fmt.Sprintf("r%03d", i))
		if i == 7 {
			r.SetTopics("site")
			r.SetArchived(true)
		}
		if i == 8 {
			r.SetPrivate(true)
		}
	}
	s.AddInstallation("acme")
	ctx := context.Background()

	for _, tc := range []struct {
		name string
		cfg  Config
		via  string
		want int
	}{
		{"anonymous", Config{}, "org", 149},
		{"app", Config{AppID: s.AppID, PrivateKey: s.AppPrivateKeyPEM}, "installation", 150},
		{"token", Config{Token: "t0ken"}, "org", 150},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg.Token != "" {
				s.Token = tc.cfg.Token // the fake then refuses other tokens and anonymous access
			}
			c, _ := newFakeClient(t, s, tc.cfg)
			l, nm, err := c.ListOwnerRepos(ctx, "acme", nil)
			if err != nil || nm || l.Via != tc.via || len(l.Pages) != 2 {
				t.Fatalf("first listing: %v pages via %v, notModified %v, %v", l, tc.via, nm, err)
			}
			repos := l.Repos()
			if len(repos) != tc.want || !repos[7].Archived || len(repos[7].Topics) != 1 || repos[7].DefaultBranch != "main" {
				t.Fatalf("listing: %d repos (want %d), r007 = %+v", len(repos), tc.want, repos[7])
			}
			s.ResetCounts()
			l2, nm, err := c.ListOwnerRepos(ctx, "acme", l)
			if err != nil || !nm || len(l2.Repos()) != tc.want {
				t.Fatalf("steady listing: notModified %v, %v", nm, err)
			}
			if s.Total() != 2 || s.NotModified() != 2 {
				t.Errorf("steady listing of two pages: %d requests, %d answered 304; want 2 and 2", s.Total(), s.NotModified())
			}
		})
	}

	c, _ := newFakeClient(t, s, Config{Token: "t0ken"})
	l, _, err := c.ListOwnerRepos(ctx, "acme", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.AddRepo("acme", "zzz-new")
	l2, nm, err := c.ListOwnerRepos(ctx, "acme", l)
	if err != nil || nm || len(l2.Repos()) != 151 {
		t.Fatalf("after a new repository: %d repos, notModified %v, %v", len(l2.Repos()), nm, err)
	}

	// A user account: /orgs is 404, /users lists it.
	s.AddRepo("alice", "dots")
	s.SetUserAccount("alice")
	ul, _, err := c.ListOwnerRepos(ctx, "alice", nil)
	if err != nil || ul.Via != "user" || len(ul.Repos()) != 1 {
		t.Fatalf("user listing: %+v, %v", ul, err)
	}

	// An unknown owner is ErrNotFound.
	if _, _, err := c.ListOwnerRepos(ctx, "nobody", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown owner: %v, want ErrNotFound", err)
	}
	// A failing listing is an error, not an empty listing.
	s.Fail("GET /orgs/{org}/repos", 500, 10)
	if fl, _, err := c.ListOwnerRepos(ctx, "acme", l2); err == nil || fl != nil {
		t.Fatalf("failed listing = %v, %v; want an error and no listing", fl, err)
	}
}
