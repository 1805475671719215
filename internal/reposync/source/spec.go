package source

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
)

// Kind of a source spec.
type Kind string

// Source kinds.
const (
	KindGitHub   Kind = "github"
	KindGit      Kind = "git"      // any git remote (git+https, git+ssh, git+file)
	KindCheckout Kind = "checkout" // a local git checkout's HEAD commit
	KindDir      Kind = "dir"      // a plain folder, as it is
)

// Spec is a parsed SRC argument.
type Spec struct {
	Kind    Kind
	Owner   string // github
	Repo    string // github
	Ref     string // branch, tag or SHA; "" = default branch / HEAD
	Release string // github: "latest" or a tag when the source is a release
	URL     string // git: the remote URL without the "git+" prefix
	Path    string // checkout, dir
}

var (
	ownerRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`) })
	repoRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`) })
)

// ParseSpec parses the source forms of repo sync:
//
//	github:OWNER/REPO[@REF], github:OWNER/REPO@release:latest|TAG,
//	https://github.com/OWNER/REPO[/tree/REF], git+https://…, git+ssh://…,
//	git+file://…[#REF], dir:PATH, github:OWNER/* (every repository of
//	OWNER, optionally @REF or @release:…; see [Spec.WholeOwner]), and a
//	local path (a git checkout when it holds one, else a plain folder). Errors say what is wrong with the input.
func ParseSpec(s string) (Spec, error) {
	switch {
	case s == "":
		return Spec{}, fmt.Errorf("empty source")
	case strings.HasPrefix(s, "github:"):
		return parseGitHub(s, strings.TrimPrefix(s, "github:"))
	case strings.HasPrefix(s, "https://github.com/"), strings.HasPrefix(s, "http://github.com/"):
		u, err := url.Parse(s)
		if err != nil {
			return Spec{}, fmt.Errorf("source %q: %w", s, err)
		}
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(parts) < 2 {
			return Spec{}, fmt.Errorf("source %q: expected https://github.com/OWNER/REPO[/tree/REF]", s)
		}
		rest := parts[0] + "/" + strings.TrimSuffix(parts[1], ".git")
		if len(parts) > 3 && parts[2] == "tree" {
			rest += "@" + strings.Join(parts[3:], "/")
		} else if len(parts) > 2 {
			return Spec{}, fmt.Errorf("source %q: expected https://github.com/OWNER/REPO[/tree/REF]", s)
		}
		return parseGitHub(s, rest)
	case strings.HasPrefix(s, "git+"):
		raw := strings.TrimPrefix(s, "git+")
		ref := ""
		if i := strings.LastIndex(raw, "#"); i >= 0 {
			raw, ref = raw[:i], raw[i+1:]
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "ssh" && u.Scheme != "file") {
			return Spec{}, fmt.Errorf("source %q: expected git+https://, git+ssh:// or git+file:// followed by a remote URL", s)
		}
		if u.Scheme == "file" {
			if err := checkLocalRepo(s, u.Path); err != nil {
				return Spec{}, err
			}
		}
		return Spec{Kind: KindGit, URL: raw, Ref: ref}, nil
	case strings.HasPrefix(s, "dir:"):
		return localSpec(s, strings.TrimPrefix(s, "dir:"), true)
	case strings.Contains(s, "://"):
		return Spec{}, fmt.Errorf("source %q: unknown scheme; use github:OWNER/REPO, a GitHub URL, git+URL, dir:PATH or a local path", s)
	default:
		return localSpec(s, s, false)
	}
}

// AllRepos is the repository part of a spec naming every repository of an
// owner: github:OWNER/* (a job over a whole organisation).
const AllRepos = "*"

// WholeOwner reports whether s names every repository of its owner
// (github:OWNER/*[@REF|@release:…]); such a spec is expanded per
// repository with ForRepo before it is synced.
func (s Spec) WholeOwner() bool { return s.Kind == KindGitHub && s.Repo == AllRepos }

// ForRepo returns the source of one repository of a whole-owner spec,
// keeping its ref or release: github:acme/*@release:latest gives
// github:acme/NAME@release:latest.
func (s Spec) ForRepo(name string) string {
	out := "github:" + s.Owner + "/" + name
	switch {
	case s.Release != "":
		out += "@release:" + s.Release
	case s.Ref != "":
		out += "@" + s.Ref
	}
	return out
}

func parseGitHub(orig, rest string) (Spec, error) {
	repoPart, ref, _ := strings.Cut(rest, "@")
	owner, repo, ok := strings.Cut(repoPart, "/")
	// github:OWNER/* is every repository of the owner (jobs only).
	wholeOwner := repo == AllRepos && strings.HasPrefix(orig, "github:") && ownerRe().MatchString(owner)
	if !wholeOwner && (!ok || !ownerRe().MatchString(owner) || !repoRe().MatchString(repo)) {
		return Spec{}, fmt.Errorf("source %q: expected github:OWNER/REPO[@REF] with a valid owner and repository name", orig)
	}
	sp := Spec{Kind: KindGitHub, Owner: owner, Repo: repo}
	if strings.HasPrefix(ref, "release:") {
		sp.Release = strings.TrimPrefix(ref, "release:")
		if sp.Release == "" {
			return Spec{}, fmt.Errorf("source %q: @release: needs \"latest\" or a tag", orig)
		}
		return sp, nil
	}
	if strings.Contains(rest, "@") && ref == "" {
		return Spec{}, fmt.Errorf("source %q: empty ref after @", orig)
	}
	sp.Ref = ref
	return sp, nil
}

func localSpec(orig, p string, forceDir bool) (Spec, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return Spec{}, fmt.Errorf("source %q: %w", orig, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return Spec{}, fmt.Errorf("source %q: %w", orig, err)
	}
	if !fi.IsDir() {
		return Spec{}, fmt.Errorf("source %q: not a directory", orig)
	}
	if !forceDir && isGitCheckout(abs) {
		return Spec{Kind: KindCheckout, Path: abs}, nil
	}
	return Spec{Kind: KindDir, Path: abs}, nil
}

// checkLocalRepo checks that a git+file:// source names an existing git
// repository (a checkout holding .git, or a bare repository holding HEAD),
// so a missing one is bad input like a missing folder, not a failed run.
func checkLocalRepo(orig, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("source %q: no git repository at %s: %w", orig, path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("source %q: %s is not a directory", orig, path)
	}
	if isGitCheckout(path) {
		return nil
	}
	if _, err := os.Stat(filepath.Join(path, "HEAD")); err != nil {
		return fmt.Errorf("source %q: %s is not a git repository (no .git, no HEAD)", orig, path)
	}
	return nil
}

// isGitCheckout reports whether dir is the top of a git checkout (holds
// .git). A subfolder of a checkout is synced as a plain folder.
func isGitCheckout(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, ".git"))
	return err == nil
}
