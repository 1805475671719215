package config

import (
	"os"
	"path/filepath"
	"strings"
)

// Relative paths in a configuration file resolve against the file's folder,
// as in docker-compose: `ghsync … --config ../../ghsync.yaml` run from
// another folder reads and writes the same places as a run beside the file.
// This covers file:// store URLs (storage, destinations, watched areas, the
// webhook archive and log destinations), sqlite:// database URLs (database,
// a job's database), local paths (a repo job's folder or checkout source,
// github.private_key_file, webhooks.logs.rules, file: secrets). Absolute
// paths and other schemes are left alone. A configuration that is not a
// file (GHSYNC_CONFIG_YAML, the embedded defaults) resolves against the
// working directory, as does a file in the working directory (whose paths
// are then kept as written).

// Dir returns the absolute folder relative paths in c resolve against: the
// config file's folder, or "" when that is the working directory or c is
// not a file.
func (c *Config) Dir() string {
	return c.dir
}

// configDir computes Dir for a config read from file.
func configDir(file string) string {
	if file == "" || file == EnvConfigYAML {
		return ""
	}
	abs, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		return ""
	}
	if wd, err := os.Getwd(); err == nil && sameDir(wd, abs) {
		return ""
	}
	return abs
}

// sameDir reports whether a and b name the same folder.
func sameDir(a, b string) bool {
	if a == b {
		return true
	}
	sa, ea := os.Stat(a)
	sb, eb := os.Stat(b)
	return ea == nil && eb == nil && os.SameFile(sa, sb)
}

// Path resolves a local path written in the configuration: a relative one
// is joined onto Dir; "" and absolute paths are returned as they are.
func (c *Config) Path(p string) string {
	if c.dir == "" || p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// URL resolves the path of a file:// store URL or sqlite:// database URL
// written in the configuration (file://./out/x → file:///DIR/out/x, keeping
// the query); other URLs, absolute paths and in-memory SQLite are returned
// as they are.
func (c *Config) URL(u string) string {
	if c.dir == "" {
		return u
	}
	for _, scheme := range []string{"file://", "sqlite://", "sqlite3://"} {
		rest, ok := cutPrefixFold(u, scheme)
		if !ok {
			continue
		}
		path, query, hasQuery := strings.Cut(rest, "?")
		if path == "" || strings.HasPrefix(path, "/") || path == ":memory:" {
			return u
		}
		out := u[:len(scheme)] + filepath.ToSlash(filepath.Join(c.dir, path))
		if strings.HasSuffix(path, "/") {
			out += "/"
		}
		if hasQuery {
			out += "?" + query
		}
		return out
	}
	return u
}

// cutPrefixFold is strings.CutPrefix ignoring the prefix's case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// resolvePaths applies Dir to the common settings that hold paths (the
// kinds resolve theirs through the Checker: Dest, Database, Path).
func resolvePaths(c *Config) {
	if c.dir == "" {
		return
	}
	c.Storage = c.URL(c.Storage)
	c.Database = c.URL(c.Database)
	c.GitHub.PrivateKeyFile = c.Path(c.GitHub.PrivateKeyFile)
	c.GitHub.PrivateKey = c.secretPath(c.GitHub.PrivateKey)
	c.GitHub.Token = c.secretPath(c.GitHub.Token)
	c.Alerts.SlackWebhookURL = c.secretPath(c.Alerts.SlackWebhookURL)
	for i, s := range c.Webhooks.Secrets {
		c.Webhooks.Secrets[i] = c.secretPath(s)
	}
	c.Webhooks.Archive.Dest = c.URL(c.Webhooks.Archive.Dest)
	c.Webhooks.Logs.Dest = c.URL(c.Webhooks.Logs.Dest)
	c.Webhooks.Logs.Rules = c.Path(c.Webhooks.Logs.Rules)
}

// secretPath resolves a file: secret's relative path.
func (c *Config) secretPath(s Secret) Secret {
	if s.isFile() {
		s.ref = "file:" + c.Path(strings.TrimPrefix(s.ref, "file:"))
	}
	return s
}
