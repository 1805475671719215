package config

import (
	"regexp"
	"sync"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// Defaults of the webhooks.logs section (docs/webhooks.md, "CI job logs and their
// classification").
const (
	DefaultLogsConcurrency      = 4
	DefaultLogsMaxClassifyBytes = 16 << 20
	DefaultLogsContext          = 12
)

// Log download modes (webhooks.logs.download and repos[].mode).
const (
	LogsNone     = "none"
	LogsFailures = "failures"
	LogsAll      = "all"
)

// WebhookLogs configures the download and classification of the logs of
// completed GitHub Actions jobs.
type WebhookLogs struct {
	// Download is the default mode: none (default), failures or all.
	Download string `yaml:"download"`
	// Repos override Download for repositories matching a glob on
	// OWNER/REPO; the first matching entry wins.
	Repos []LogsRepo `yaml:"repos"`
	// Dest is where logs go (DEST/log/OWNER/REPO/JOB_ID); default the
	// archive's dest. Relative ones are joined onto Config.Storage.
	Dest string `yaml:"dest"`
	// Rules is a classifier rules file (PyTorch's ruleset.toml format);
	// "" means the built-in ruleset. A relative path is taken from the
	// config file's folder (see Config.Path).
	Rules string `yaml:"rules"`
	// Context is how many '+' lines are kept with a match (default 12; 0: none).
	Context int `yaml:"context"`
	// Concurrency bounds the downloads in flight (default 4).
	Concurrency int `yaml:"concurrency"`
	// CPUWorkers bounds the downloads compressing or classifying at once
	// (0, the default: half the cores, at least 1), so that a backlog of
	// logs leaves the webhook receiver the other cores.
	CPUWorkers int `yaml:"cpu_workers"`
	// MaxClassifyBytes: a longer log is stored whole and classified on its
	// last MaxClassifyBytes (default 16MiB).
	MaxClassifyBytes Size `yaml:"max_classify_bytes"`
}

// LogsRepo is one per-repository download mode.
type LogsRepo struct {
	// Pattern is a glob on OWNER/REPO ("acme/*", "acme/app", "**").
	Pattern string `yaml:"pattern" cfg:"required"`
	// Mode is none, failures or all.
	Mode string `yaml:"mode" cfg:"required"`
}

// Enabled reports whether any repository's logs are downloaded.
func (l *WebhookLogs) Enabled() bool {
	if l.Download != "" && l.Download != LogsNone {
		return true
	}
	for _, r := range l.Repos {
		if r.Mode != LogsNone {
			return true
		}
	}
	return false
}

// WebhookCircleCI configures the CircleCI webhook endpoint
// (POST /api/circleci/webhooks); no secret: endpoint not mounted.
type WebhookCircleCI struct {
	// Secrets are the accepted signing secrets (several allow rotation);
	// entries that expand to "" are dropped.
	Secrets []Secret `yaml:"secrets"`
}

// WebhookDynamoDB mirrors the webhook projections to DynamoDB tables named
// like torchci's (PREFIX + table with '-' for '_').
type WebhookDynamoDB struct {
	// TablePrefix prefixes every table name (default "torchci-").
	TablePrefix string `yaml:"table_prefix"`
	// Region is the tables' AWS region (default: the SDK's, AWS_REGION).
	Region string `yaml:"region"`
	// SQLProjections keeps the SQL projection tables as well (default
	// true). false writes projections only to DynamoDB: deliveries (the
	// durable store, dedup, retries) stay in the database, the projection
	// tables stay empty, so `ghsync events list`, GET /api/events and jobs
	// of kind reconcile (which read them) are refused.
	SQLProjections bool `yaml:"sql_projections"`
}

// DynamoOnly reports whether projections are written only to DynamoDB
// (webhooks.dynamodb set with sql_projections: false).
func (w *Webhooks) DynamoOnly() bool {
	return w.DynamoDB != nil && !w.DynamoDB.SQLProjections
}

// DefaultWebhookRetention is webhooks.retention's default: 30 days.
const DefaultWebhookRetention = 30 * 24 * time.Hour

// DefaultDynamoPrefix is webhooks.dynamodb.table_prefix's default.
const DefaultDynamoPrefix = "torchci-"

var (
	dynamoPrefixRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_.-]{1,200}$`) })
	awsRegionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// applyWebhookDefaults fills the unset keys of webhooks.logs, circleci and
// dynamodb (has tells an absent key from an explicit zero).
func applyWebhookDefaults(w *Webhooks, has func(string) bool) {
	if !has("webhooks.retention") {
		w.Retention = Duration(DefaultWebhookRetention)
	}
	l := &w.Logs
	if l.Download == "" {
		l.Download = LogsNone
	}
	if !has("webhooks.logs.context") {
		l.Context = DefaultLogsContext
	}
	if !has("webhooks.logs.concurrency") {
		l.Concurrency = DefaultLogsConcurrency
	}
	if !has("webhooks.logs.max_classify_bytes") {
		l.MaxClassifyBytes = DefaultLogsMaxClassifyBytes
	}
	secrets := w.CircleCI.Secrets[:0]
	for _, s := range w.CircleCI.Secrets {
		if !s.IsZero() {
			secrets = append(secrets, s)
		}
	}
	w.CircleCI.Secrets = secrets
	if w.DynamoDB != nil && w.DynamoDB.TablePrefix == "" {
		w.DynamoDB.TablePrefix = DefaultDynamoPrefix
	}
	if w.DynamoDB != nil && !has("webhooks.dynamodb.sql_projections") {
		w.DynamoDB.SQLProjections = true
	}
}

// validateWebhookExtras checks webhooks.logs and webhooks.dynamodb.
func validateWebhookExtras(w *Webhooks, p *problems) {
	if r := w.Retention.Std(); r != 0 && r < time.Hour {
		p.field("webhooks.retention", "must be at least 1h, or 0 to keep deliveries forever (got %s)", r)
	}
	l := &w.Logs
	oneOf(l.Download, "webhooks.logs.download", p, LogsNone, LogsFailures, LogsAll)
	for i, r := range l.Repos {
		f := indexPath("webhooks.logs.repos", i)
		if r.Pattern == "" {
			p.field(f+".pattern", "is required")
		} else if !doublestar.ValidatePattern(r.Pattern) {
			p.field(f+".pattern", "invalid glob pattern %q", truncate(r.Pattern, 60))
		}
		if r.Mode == "" {
			p.field(f+".mode", "is required")
		} else {
			oneOf(r.Mode, f+".mode", p, LogsNone, LogsFailures, LogsAll)
		}
	}
	if l.Dest != "" {
		if m := checkDest(l.Dest); m != "" {
			p.field("webhooks.logs.dest", "%s", m)
		}
	} else if l.Enabled() && w.Archive.Dest == "" {
		p.field("webhooks.logs.download", "downloading logs needs a destination: set webhooks.logs.dest or webhooks.archive.dest")
	}
	if l.Context < 0 || l.Context > 1000 {
		p.field("webhooks.logs.context", "must be between 0 and 1000 (got %d)", l.Context)
	}
	if l.Concurrency < 1 || l.Concurrency > 64 {
		p.field("webhooks.logs.concurrency", "must be between 1 and 64 (got %d)", l.Concurrency)
	}
	if l.CPUWorkers < 0 || l.CPUWorkers > 64 {
		p.field("webhooks.logs.cpu_workers", "must be between 1 and 64, or 0 for half the cores (got %d)", l.CPUWorkers)
	}
	if l.MaxClassifyBytes <= 0 {
		p.field("webhooks.logs.max_classify_bytes", "must be positive")
	} else if l.MaxClassifyBytes > 1<<30 {
		p.field("webhooks.logs.max_classify_bytes", "must be at most 1GiB (it is held in memory per download)")
	}
	if d := w.DynamoDB; d != nil {
		if !dynamoPrefixRE().MatchString(d.TablePrefix) {
			p.field("webhooks.dynamodb.table_prefix", "must be letters, digits, '_', '-' or '.' (DynamoDB table name characters), got %q", truncate(d.TablePrefix, 60))
		}
		if d.Region != "" && !awsRegionRE.MatchString(d.Region) {
			p.field("webhooks.dynamodb.region", "must be an AWS region such as us-east-1 (got %q)", truncate(d.Region, 40))
		}
	}
}

// resolveWebhookDests joins webhooks.logs.dest onto Storage, defaulting to
// the archive's (already resolved) dest.
func resolveWebhookDests(c *Config) {
	l := &c.Webhooks.Logs
	switch {
	case l.Dest != "":
		l.Dest = ResolveDest(c.Storage, l.Dest)
	default:
		l.Dest = c.Webhooks.Archive.Dest
	}
}
