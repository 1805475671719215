package config

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	// Embedded zone data, so that timezone validation (and schedules) behave
	// the same on minimal images without /usr/share/zoneinfo.
	_ "time/tzdata"
)

var (
	jobNameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	ownerRepoRE = sync.OnceValue(func() *regexp.Regexp { // compiled on first use: counted repeats cost ~300 KB at init
		return regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)
	})
	appIDRE = regexp.MustCompile(`^(?:[0-9]+|Iv[0-9A-Za-z.]+)$`)
)

// maxJobName bounds job names (they become schedule and metric names).
const maxJobName = 64

// validate checks every rule and records problems in p.
func validate(c *Config, kinds Kinds, p *problems) {
	validateGitHub(&c.GitHub, p)
	if m := checkStoreURL(c.Storage); m != "" {
		p.field("storage", "%s (got %q)", m, truncate(c.Storage, 60))
	}
	validateDatabase(c.Database, p)
	validateLevels(c.Alerts.Levels, "alerts.levels", p)
	if c.Alerts.WebhookURL != "" {
		checkHTTPURL(c.Alerts.WebhookURL, "alerts.webhook_url", p)
	}
	w := &c.Webhooks
	if !strings.HasPrefix(w.Path, "/") {
		p.field("webhooks.path", "must start with \"/\" (got %q)", truncate(w.Path, 60))
	}
	if w.Archive.Dest != "" {
		if m := checkDest(w.Archive.Dest); m != "" {
			p.field("webhooks.archive.dest", "%s", m)
		}
	}
	if w.Archive.BatchBytes <= 0 {
		p.field("webhooks.archive.batch_bytes", "must be positive")
	}
	if w.Archive.BatchAge <= 0 {
		p.field("webhooks.archive.batch_age", "must be positive")
	}
	validateWebhookExtras(w, p)
	validateServe(&c.Serve, p)
	names := map[string]int{}
	for i, j := range c.Jobs {
		path := indexPath("jobs", i)
		if j == nil {
			p.field(path, "a job must be a mapping (got an empty value)")
			continue
		}
		if p.failed[path] {
			continue // reported while decoding
		}
		validateJob(c, kinds, j, path, p)
		if j.Name == "" {
			continue
		}
		if first, dup := names[j.Name]; dup {
			p.field(path+".name", "duplicate job name %q (first used by jobs[%d] at line %d)", j.Name, first, c.Jobs[first].Pos.Line)
			continue
		}
		names[j.Name] = i
	}
}

func validateGitHub(g *GitHub, p *problems) {
	if g.AppID != "" && !appIDRE.MatchString(g.AppID) {
		p.field("github.app_id", "must be a numeric App id or an App client id (got %q)", truncate(g.AppID, 40))
	}
	hasKey := !g.PrivateKey.IsZero() || g.PrivateKeyFile != ""
	switch {
	case !g.PrivateKey.IsZero() && g.PrivateKeyFile != "":
		p.field("github.private_key_file", "set either private_key or private_key_file, not both")
	case g.AppID != "" && !hasKey:
		p.field("github.app_id", "a GitHub App needs private_key or private_key_file")
	case g.AppID == "" && hasKey:
		p.field("github.app_id", "is required when a private key is set")
	}
	if g.AppID != "" && !g.Token.IsZero() {
		p.field("github.token", "set either token or app_id/private_key, not both")
	}
	if g.InstallationID < 0 {
		p.field("github.installation_id", "must not be negative")
	}
	if checkHTTPURL(g.APIURL, "github.api_url", p) {
		checkHTTPURL(g.GraphQLURL, "github.graphql_url", p) // derived from api_url when unset
	}
}

func validateDatabase(db string, p *problems) { checkDatabase(db, "database", p) }

func checkDatabase(db, field string, p *problems) {
	u, err := url.Parse(db)
	if err != nil || !hasScheme(db) {
		p.field(field, "must be a URL such as sqlite://./data/ghsync.db, postgres://user@host/db or mysql://user@host:3306/db")
		return
	}
	switch u.Scheme {
	case "sqlite", "postgres", "postgresql", "mysql":
	default:
		p.field(field, "unsupported database scheme %q (use sqlite, postgres or mysql)", truncate(u.Scheme, 20))
	}
}

// checkHTTPURL reports whether s is an absolute http(s) URL, recording a
// problem when it is not.
func checkHTTPURL(s, field string, p *problems) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.field(field, "must be an http(s) URL (got %q)", truncate(s, 60))
		return false
	}
	return true
}

func validateLevels(ls []Level, field string, p *problems) {
	for i, l := range ls {
		switch l {
		case LevelError, LevelChange, LevelInfo:
		default:
			p.field(indexPath(field, i), "must be one of error, change, info (got %q)", truncate(string(l), 40))
		}
	}
}

// oneOf checks an enumerated value.
func oneOf(v, field string, p *problems, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	p.field(field, "must be one of %s (got %q)", strings.Join(allowed, ", "), truncate(v, 40))
}

func validateJob(c *Config, kinds Kinds, j *Job, path string, p *problems) {
	switch {
	case j.Name == "":
		p.field(path+".name", "is required")
	case len(j.Name) > maxJobName || !jobNameRE.MatchString(j.Name):
		p.field(path+".name", "must match [a-z0-9][a-z0-9._-]* and be at most %d characters (got %q)", maxJobName, truncate(j.Name, 70))
	}
	if j.Kind == "" {
		p.field(path+".kind", "is required")
		return
	}
	schema, ok := kindSchema(kinds, j.Kind)
	if !ok {
		oneOf(j.Kind, path+".kind", p, kindNames(kinds)...)
		return
	}
	if j.Timezone != "" {
		if _, err := time.LoadLocation(j.Timezone); err != nil {
			p.field(path+".timezone", "unknown time zone %q", truncate(j.Timezone, 40))
		}
	}
	validateLevels(j.Alerts, path+".alerts", p)
	if j.Settings == nil {
		j.Settings = schema.NewSettings() // the job's mapping held only common keys
	}
	schema.Check(j.Settings, &Checker{cfg: c, p: p, path: path})
}

// compileAll compiles RE2 patterns, reporting each bad one at field[i].
func compileAll(pats []string, field string, p *problems) []*regexp.Regexp {
	out := make([]*regexp.Regexp, 0, len(pats))
	for i, s := range pats {
		re, err := regexp.Compile(s)
		if err != nil {
			p.field(indexPath(field, i), "invalid regular expression: %v", err)
			continue
		}
		out = append(out, re)
	}
	return out
}
