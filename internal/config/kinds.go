package config

import (
	"fmt"
	"mime"
	"regexp"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// KindSchema is what the loader needs from a job kind: a settings value to
// decode the job's kind-specific keys into, and a check that applies the
// kind's defaults and rules. Job kinds live outside this package (see
// internal/jobs); Load and Parse receive them as a Kinds value.
type KindSchema interface {
	// NewSettings returns a pointer to a new, zero settings struct. Its
	// exported fields with a `yaml:"key"` tag are the kind's keys (decoded
	// strictly, like the rest of the file); `cfg:"required"` marks keys whose
	// ${VAR} must be set. Field types may be strings, bools, ints, slices,
	// nested structs, Secret, Size, Duration, GlobMap, *yaml.Node, or any
	// type implementing ScalarDecoder.
	NewSettings() any
	// Check applies the kind's defaults to settings (a value NewSettings
	// returned, decoded) and validates it, reporting every problem through c
	// so that it carries the file, line and column of the offending key.
	// Destinations are resolved against the config's storage here.
	Check(settings any, c *Checker)
}

// Kinds is the set of job kinds a configuration may use (implemented by
// jobs.Registry).
type Kinds interface {
	// Schema returns the kind called name.
	Schema(name string) (KindSchema, bool)
	// Names lists the kinds' names in the order users should see them.
	Names() []string
}

// ScalarDecoder is implemented by setting types parsed from one scalar
// string (e.g. "50%"); an error is reported at the key with its message.
type ScalarDecoder interface {
	DecodeScalar(s string) error
}

// Checker reports problems about one job's settings, at the position of the
// key they concern, and offers the checks kinds share.
type Checker struct {
	cfg  *Config
	p    *problems
	path string // the job's field path: "jobs[2]"
}

// NewChecker returns a Checker for a job that is not part of a loaded file
// (e.g. one built from a legacy environment); problems are collected with
// File set to file and returned by Err.
func NewChecker(cfg *Config, file string) *Checker {
	return &Checker{cfg: cfg, p: &problems{file: file, pos: map[string]Pos{}, failed: map[string]bool{}}}
}

// Err returns the problems reported so far, joined, or nil.
func (c *Checker) Err() error { return c.p.err() }

// Field returns the full field path of key ("jobs[2].dest"); key may be "".
func (c *Checker) Field(key string) string { return joinPath(c.path, key) }

// Has reports whether key was written in the file (to tell an absent key
// from an explicit zero when applying defaults).
func (c *Checker) Has(key string) bool { _, ok := c.p.pos[c.Field(key)]; return ok }

// Failed reports whether a problem was already reported about key.
func (c *Checker) Failed(key string) bool { return c.p.failed[c.Field(key)] }

// Errorf reports a problem about key.
func (c *Checker) Errorf(key, format string, args ...any) { c.p.field(c.Field(key), format, args...) }

// Storage returns the configuration's default store URL.
func (c *Checker) Storage() string { return c.cfg.Storage }

// Config returns the configuration being checked (its common sections are
// already defaulted).
func (c *Checker) Config() *Config { return c.cfg }

// Required reports "is required" about key when v is empty; it returns
// whether v is set.
func (c *Checker) Required(key, v string) bool {
	if v == "" {
		c.Errorf(key, "is required")
		return false
	}
	return true
}

// OneOf checks an enumerated value.
func (c *Checker) OneOf(key, v string, allowed ...string) { oneOf(v, c.Field(key), c.p, allowed...) }

// Range checks that an integer lies in [lo, hi].
func (c *Checker) Range(key string, v, lo, hi int) {
	if v < lo || v > hi {
		c.Errorf(key, "must be between %d and %d (got %d)", lo, hi, v)
	}
}

// Positive checks that a number is above zero.
func (c *Checker) Positive(key string, v int64) {
	if v <= 0 {
		c.Errorf(key, "must be positive")
	}
}

// Dest checks a required destination (a store URL or a prefix relative to
// the config's storage) and, when it is valid, resolves it in place with
// ResolveDest (a relative file:// folder against the config file's folder,
// see Config.URL).
func (c *Checker) Dest(key string, dest *string) {
	if *dest == "" {
		c.Errorf(key, "is required")
		return
	}
	if m := checkDest(*dest); m != "" {
		c.Errorf(key, "%s (got %q)", m, truncate(*dest, 60))
		return
	}
	*dest = c.cfg.URL(ResolveDest(c.cfg.Storage, *dest))
}

// Key checks a relative object key or prefix (no leading "/", no "..").
func (c *Checker) Key(key, v string) {
	if m := checkKey(v); m != "" {
		c.Errorf(key, "%s", m)
	}
}

// OwnerRepo checks a required OWNER/REPO value.
func (c *Checker) OwnerRepo(key, v string) {
	switch {
	case v == "":
		c.Errorf(key, "is required")
	case !ownerRepoRE().MatchString(v):
		c.Errorf(key, "must be OWNER/REPO (got %q)", truncate(v, 60))
	}
}

// DatabaseURL checks a database URL (sqlite://, postgres:// or mysql://).
func (c *Checker) DatabaseURL(key, v string) { checkDatabase(v, c.Field(key), c.p) }

// Database checks a database URL like DatabaseURL and resolves a relative
// sqlite:// path in place against the config file's folder (Config.URL).
func (c *Checker) Database(key string, v *string) {
	checkDatabase(*v, c.Field(key), c.p)
	*v = c.cfg.URL(*v)
}

// Path resolves a local path setting in place against the config file's
// folder (Config.Path).
func (c *Checker) Path(p *string) { *p = c.cfg.Path(*p) }

// HTTPURL checks an http(s) URL.
func (c *Checker) HTTPURL(key, v string) { checkHTTPURL(v, c.Field(key), c.p) }

// Regexps compiles RE2 patterns, reporting each bad one at key[i].
func (c *Checker) Regexps(key string, pats []string) []*regexp.Regexp {
	return compileAll(pats, c.Field(key), c.p)
}

// Globs validates doublestar patterns and, with checkValue, their values
// (checkValue returns a problem description or "").
func (c *Checker) Globs(key string, g GlobMap, checkValue func(string) string) {
	checkGlobs(g, c.Field(key), c.p, checkValue)
}

// MediaType returns a problem description when v is not a media type
// ("text/html; charset=utf-8"), else "".
func MediaType(v string) string {
	if mt, _, err := mime.ParseMediaType(v); err != nil || !strings.Contains(mt, "/") {
		return fmt.Sprintf("must be a media type such as text/html; charset=utf-8 (got %q)", truncate(v, 60))
	}
	return ""
}

// checkGlobs validates doublestar patterns and their values.
func checkGlobs(g GlobMap, field string, p *problems, checkValue func(string) string) {
	for _, r := range g {
		kp := keyPath(field, r.Pattern)
		if r.Pattern == "" || !doublestar.ValidatePattern(r.Pattern) {
			p.field(kp, "invalid glob pattern %q", truncate(r.Pattern, 60))
			continue
		}
		if checkValue == nil {
			continue
		}
		if m := checkValue(r.Value); m != "" {
			p.field(kp, "%s", m)
		}
	}
}
