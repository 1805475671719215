package serve

import (
	"context"
	"fmt"
	"strings"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/webhooks/classify"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
)

// EnvWebhookSecret is an extra webhook secret taken from the environment.
const EnvWebhookSecret = "GHSYNC_WEBHOOK_SECRET"

// EnvServeToken is the serve token taken from the environment when
// serve.auth.token is not set.
const EnvServeToken = "GHSYNC_SERVE_TOKEN"

// ConfigAuth sets opts.AuthToken and opts.InsecurePublicRead from cfg's
// serve.auth section, the token falling back to GHSYNC_SERVE_TOKEN from
// getenv. A token that is set but resolves empty, or is shorter than
// MinTokenLength, is a *config.Error at serve.auth.token (never silently no
// token); errors never hold the token.
func ConfigAuth(ctx context.Context, cfg *config.Config, getenv func(string) string, opts *Options) error {
	a := cfg.Serve.Auth
	opts.InsecurePublicRead = a.InsecurePublicRead
	where := "serve.auth.token"
	tok := ""
	if !a.Token.IsZero() {
		v, err := a.Token.Resolve(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if v == "" {
			return cfg.FieldError(where, "%s resolves to an empty value", a.Token.Describe())
		}
		tok = v
	} else if getenv != nil {
		tok, where = strings.TrimSpace(getenv(EnvServeToken)), EnvServeToken
	}
	if tok != "" && len(tok) < MinTokenLength {
		msg := fmt.Sprintf("the token must be at least %d characters (e.g. from `openssl rand -hex 32`)", MinTokenLength)
		if where == EnvServeToken {
			return &config.Error{Field: EnvServeToken, Msg: msg}
		}
		return cfg.FieldError(where, "%s", msg)
	}
	opts.AuthToken = tok
	return nil
}

// ConfigOptions builds the Options of cfg's database and webhooks sections,
// as `ghsync serve` and the Lambda's HTTP path both use them: secrets
// resolved (plus GHSYNC_WEBHOOK_SECRET from getenv), the archive, the log
// downloads (classifier loaded from webhooks.logs.rules, an error at its
// file:line:col when the rules file is bad), CircleCI and DynamoDB. gh is
// called for the GitHub client only when logs are enabled. Addr and Logger
// are left to the caller.
func ConfigOptions(ctx context.Context, cfg *config.Config, getenv func(string) string, gh func(context.Context) (logs.APIClient, error)) (Options, error) {
	w := cfg.Webhooks
	opts := Options{DatabaseURL: cfg.Database, InsecureNoSignature: w.InsecureNoSignature,
		WebhookPath: w.Path, ArchiveDest: w.Archive.Dest, ArchiveBatchBytes: int64(w.Archive.BatchBytes),
		ArchiveBatchAge: w.Archive.BatchAge.Std(), PerDelivery: w.Archive.PerDelivery,
		Retention: w.Retention.Std()}
	for i, s := range w.Secrets {
		v, err := s.Resolve(ctx)
		if err != nil {
			return opts, fmt.Errorf("webhooks.secrets[%d]: %w", i, err)
		}
		opts.Secrets = append(opts.Secrets, v)
	}
	if getenv != nil {
		if env := strings.TrimSpace(getenv(EnvWebhookSecret)); env != "" {
			opts.Secrets = append(opts.Secrets, env)
		}
	}
	for i, s := range w.CircleCI.Secrets {
		v, err := s.Resolve(ctx)
		if err != nil {
			return opts, fmt.Errorf("webhooks.circleci.secrets[%d]: %w", i, err)
		}
		opts.CircleCISecrets = append(opts.CircleCISecrets, v)
	}
	if d := w.DynamoDB; d != nil {
		opts.Dynamo = &DynamoOptions{TablePrefix: d.TablePrefix, Region: d.Region, Only: !d.SQLProjections}
	}
	if w.Logs.Enabled() {
		lo, err := logsOptions(ctx, cfg, gh)
		if err != nil {
			return opts, err
		}
		opts.Logs = lo
	}
	return opts, nil
}

// logsOptions builds LogsOptions from webhooks.logs.
func logsOptions(ctx context.Context, cfg *config.Config, gh func(context.Context) (logs.APIClient, error)) (*LogsOptions, error) {
	l := cfg.Webhooks.Logs
	p := logs.Policy{Default: logs.Mode(l.Download)}
	for _, r := range l.Repos {
		p.Repos = append(p.Repos, logs.RepoMode{Pattern: r.Pattern, Mode: logs.Mode(r.Mode)})
	}
	c, err := LogsClassifier(cfg)
	if err != nil {
		return nil, err
	}
	if gh == nil {
		return nil, fmt.Errorf("webhooks.logs: no GitHub client")
	}
	client, err := gh(ctx)
	if err != nil {
		return nil, fmt.Errorf("webhooks.logs: %w", err)
	}
	return &LogsOptions{GitHub: client, Dest: l.Dest, Policy: p, Classifier: c, Concurrency: l.Concurrency,
		CPUWorkers: l.CPUWorkers, MaxClassifyBytes: int(l.MaxClassifyBytes)}, nil
}

// LogsRuleset loads the ruleset webhooks.logs.rules names (a relative path
// is taken from the working directory, as everywhere serve reads it), or
// returns the built-in ruleset when the key is unset. A rules file that
// cannot be read or parsed is a *config.Error at the key's file:line:col,
// its message naming the rules file (and the TOML line or rule at fault).
func LogsRuleset(cfg *config.Config) (*classify.Ruleset, error) {
	l := cfg.Webhooks.Logs
	if l.Rules == "" {
		return classify.DefaultRuleset(), nil
	}
	rs, err := classify.LoadRuleset(l.Rules)
	if err != nil {
		return nil, cfg.FieldError("webhooks.logs.rules", "%v", err)
	}
	return rs, nil
}

// LogsClassifier compiles the classifier of webhooks.logs: LogsRuleset with
// webhooks.logs.context lines of context. Errors are *config.Error at
// webhooks.logs.rules.
func LogsClassifier(cfg *config.Config) (*classify.Classifier, error) {
	rs, err := LogsRuleset(cfg)
	if err != nil {
		return nil, err
	}
	c, err := classify.New(rs, classify.ContextLines(cfg.Webhooks.Logs.Context))
	if err != nil {
		return nil, cfg.FieldError("webhooks.logs.rules", "%v", err)
	}
	return c, nil
}
