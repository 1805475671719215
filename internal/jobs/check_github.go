package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	gogithub "github.com/google/go-github/v88/github"

	"github.com/ghsync/ghsync/internal/config"
)

// githubCredential says which GitHub credentials the Env uses and where
// they come from ("a token from GITHUB_TOKEN"), and whether there are any.
func (e *Env) githubCredential() (string, bool) {
	g := e.Config.GitHub
	file := e.Config.File
	if file == "" {
		file = "the configuration"
	}
	switch {
	case g.AppID != "":
		return fmt.Sprintf("the GitHub App %s (github.app_id in %s)", g.AppID, file), true
	case !g.Token.IsZero():
		return "a token from github.token in " + file, true
	case e.Getenv("GITHUB_APP_ID") != "" || e.Getenv("app_id") != "":
		return "the GitHub App from GITHUB_APP_ID", true
	case e.Getenv("GITHUB_TOKEN") != "":
		return "a token from GITHUB_TOKEN", true
	}
	return "no credentials (anonymous: public repositories, 60 requests an hour)", false
}

// githubFix says what to set for GitHub credentials.
const githubFix = "set GITHUB_TOKEN (or github.token) to a token that can read the repository, or a GitHub App's github.app_id and github.private_key"

// checkGitHub checks that the configured GitHub credentials can read
// owner/repo, and reports where they came from and the rate limit left.
// what says why the job needs it ("source", "issues").
func checkGitHub(ctx context.Context, env *Env, owner, repo, what string) Check {
	name := "github " + what
	cred, _ := env.githubCredential()
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	gh, err := env.GitHub(ctx)
	if err != nil {
		return checkFail(name, fmt.Sprintf("%s: %v", cred, err), githubFix)
	}
	rest, err := gh.REST(ctx, owner)
	if err != nil {
		return checkFail(name, fmt.Sprintf("%s cannot reach %s/%s: %v", cred, owner, repo, err), githubFix)
	}
	_, _, err = rest.Repositories.Get(ctx, owner, repo)
	var ge *gogithub.ErrorResponse
	if errors.As(err, &ge) && ge.Response != nil {
		switch ge.Response.StatusCode {
		case http.StatusUnauthorized:
			return checkFail(name, fmt.Sprintf("GitHub refused %s (401 %s)", cred, ge.Message), githubFix)
		case http.StatusNotFound, http.StatusForbidden:
			return checkFail(name, fmt.Sprintf("%s/%s is not visible to %s (%d)", owner, repo, cred, ge.Response.StatusCode),
				fmt.Sprintf("check the repository name, or give %s read access to %s/%s", cred, owner, repo))
		}
	}
	if err != nil {
		return checkFail(name, fmt.Sprintf("%s/%s with %s: %v", owner, repo, cred, err), githubFix)
	}
	detail := fmt.Sprintf("%s/%s readable with %s", owner, repo, cred)
	if left, reset, known := gh.RateRemaining(); known {
		detail += fmt.Sprintf("; rate limit: %d requests left (resets %s)", left, reset.UTC().Format(time.TimeOnly)+" UTC")
	}
	return checkOK(name, detail)
}

// checkGitHubApp checks that a GitHub App is configured and can sign in
// (its installations listed), for kinds that need an App (redeliver).
func checkGitHubApp(ctx context.Context, env *Env, job *config.Job) Check {
	const name = "github app"
	cred, found := env.githubCredential()
	if !found || (env.Config.GitHub.AppID == "" && env.Getenv("GITHUB_APP_ID") == "" && env.Getenv("app_id") == "") {
		return checkFail(name, job.Kind+" jobs need a GitHub App; found "+cred,
			"set github.app_id and github.private_key (or GITHUB_APP_ID and GITHUB_PRIVATE_KEY)")
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if _, err := env.appClient(ctx); err != nil {
		return checkFail(name, fmt.Sprintf("%s: %v", cred, err), "set github.app_id and github.private_key to the App's id and PEM key")
	}
	return checkOK(name, cred+" configured")
}
