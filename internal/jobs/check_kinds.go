package jobs

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"golang.org/x/oauth2"

	"github.com/ghsync/ghsync/internal/apisync"
	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/reposync/source"
)

// Preflight implements Preflighter: the source is readable (GitHub access
// and rate limit, a local folder present) and a repos_from database answers.
func (repoKind) Preflight(ctx context.Context, env *Env, job *config.Job, _ CheckOptions) []Check {
	r := RepoOf(job)
	var out []Check
	if r.ReposFrom != nil {
		u := r.ReposFrom.Database
		if u == "" {
			u = env.Config.Database
		}
		out = append(out, checkDatabase(ctx, env, job, "repos_from.database", u, false))
	}
	if strings.Contains(r.Source, "{") {
		return append(out, checkOK("source", r.Source+": a template, filled per row at run time"))
	}
	sp, err := source.ParseSpec(r.Source)
	if err != nil {
		return append(out, checkFail("source", err.Error(), "set source: of job "+job.Name))
	}
	switch sp.Kind {
	case source.KindGitHub:
		out = append(out, checkGitHub(ctx, env, sp.Owner, sp.Repo, "source"))
	case source.KindCheckout, source.KindDir:
		if _, err := os.Stat(sp.Path); err != nil {
			out = append(out, checkFail("source", fmt.Sprintf("%s: %v", sp.Path, err), "set source: of job "+job.Name+" to an existing folder"))
		} else {
			out = append(out, checkOK("source", fmt.Sprintf("%s %s is present", sp.Kind, sp.Path)))
		}
	}
	return out
}

// Preflight implements Preflighter: GitHub access to the repository.
func (statusesKind) Preflight(ctx context.Context, env *Env, job *config.Job, _ CheckOptions) []Check {
	owner, repo, _ := strings.Cut(StatusesOf(job).Repo, "/")
	return []Check{checkGitHub(ctx, env, owner, repo, "repository")}
}

// Preflight implements Preflighter: a GitHub App is configured.
func (redeliverKind) Preflight(ctx context.Context, env *Env, job *config.Job, _ CheckOptions) []Check {
	return []Check{checkGitHubApp(ctx, env, job)}
}

// Preflight implements Preflighter: GitHub credentials are configured.
func (reconcileKind) Preflight(_ context.Context, env *Env, _ *config.Job, _ CheckOptions) []Check {
	cred, found := env.githubCredential()
	if !found {
		return []Check{checkFail("github", "found "+cred, githubFix)}
	}
	return []Check{checkOK("github", "using "+cred)}
}

// Preflight implements Preflighter: the Airtable token reads the table
// (one record requested) and the target database answers.
func (airtableKind) Preflight(ctx context.Context, env *Env, job *config.Job, _ CheckOptions) []Check {
	a := job.Settings.(*apisync.AirtableConfig)
	root := strings.TrimRight(a.APIURL, "/")
	if root == "" {
		root = apisync.DefaultAirtableURL
	}
	u := root + "/v0/" + url.PathEscape(a.Base) + "/" + url.PathEscape(a.Table) + "?pageSize=1"
	out := []Check{apiSignIn(ctx, env, "airtable sign-in", u, "Bearer "+a.Token.Reveal(),
		fmt.Sprintf("table %s of base %s", a.Table, a.Base), "set token: of job "+job.Name+" to an Airtable personal access token that can read base "+a.Base)}
	if a.Database != "" && a.Database != env.Config.Database {
		out = append(out, checkDatabase(ctx, env, job, "database", a.Database, false))
	}
	return out
}

// Preflight implements Preflighter: the Badgr user signs in (password
// grant) and the target database answers.
func (badgrKind) Preflight(ctx context.Context, env *Env, job *config.Job, _ CheckOptions) []Check {
	b := job.Settings.(*apisync.BadgrConfig)
	root := strings.TrimRight(b.APIURL, "/")
	conf := &oauth2.Config{ClientID: b.ClientID, Endpoint: oauth2.Endpoint{TokenURL: root + "/o/token", AuthStyle: oauth2.AuthStyleInParams}}
	if b.Scope != "" {
		conf.Scopes = strings.Fields(b.Scope)
	}
	hc := env.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	cctx, cancel := context.WithTimeout(context.WithValue(ctx, oauth2.HTTPClient, hc), checkTimeout)
	defer cancel()
	var out []Check
	if _, err := conf.PasswordCredentialsToken(cctx, b.Username, b.Password.Reveal()); err != nil {
		msg := err.Error()
		if re, ok := err.(*oauth2.RetrieveError); ok {
			msg = fmt.Sprintf("status %d %s", re.Response.StatusCode, re.ErrorCode)
		}
		out = append(out, checkFail("badgr sign-in", fmt.Sprintf("%s refused %s: %s", conf.Endpoint.TokenURL, b.Username, msg),
			"set username: and password: of job "+job.Name+" to a Badgr account's"))
	} else {
		out = append(out, checkOK("badgr sign-in", "signed in to "+root+" as "+b.Username))
	}
	if b.Database != "" && b.Database != env.Config.Database {
		out = append(out, checkDatabase(ctx, env, job, "database", b.Database, false))
	}
	return out
}

// apiSignIn GETs u with the Authorization header auth and reports the
// answer.
func apiSignIn(ctx context.Context, env *Env, name, u, auth, what, fix string) Check {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return checkFail(name, err.Error(), fix)
	}
	req.Header.Set("Authorization", auth)
	hc := env.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return checkFail(name, err.Error(), fix)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	host := req.URL.Host
	if resp.StatusCode != http.StatusOK {
		return checkFail(name, fmt.Sprintf("%s answered %s for %s", host, resp.Status, what), fix)
	}
	return checkOK(name, fmt.Sprintf("%s reads %s", host, what))
}
