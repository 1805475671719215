package config

import (
	"strings"
	"time"
)

// Default webhook archive batching.
const (
	DefaultBatchBytes = 8 << 20
	DefaultBatchAge   = time.Minute
)

// applyDefaults fills unset fields. It uses c.pos to tell "absent" from an
// explicit zero, so that an explicit 0 can still be rejected by validation.
func applyDefaults(c *Config) {
	has := func(f string) bool { _, ok := c.pos[f]; return ok }
	if c.Storage == "" {
		c.Storage = DefaultStorage
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.GitHub.APIURL == "" {
		c.GitHub.APIURL = DefaultAPIURL
	}
	if c.GitHub.GraphQLURL == "" {
		c.GitHub.GraphQLURL = graphQLFor(c.GitHub.APIURL)
	}
	if len(c.Alerts.Levels) == 0 && !has("alerts.levels") {
		c.Alerts.Levels = []Level{LevelError, LevelChange}
	}
	if c.Webhooks.Path == "" {
		c.Webhooks.Path = DefaultWebhookPath
	}
	if !has("webhooks.archive.batch_bytes") {
		c.Webhooks.Archive.BatchBytes = DefaultBatchBytes
	}
	if !has("webhooks.archive.batch_age") {
		c.Webhooks.Archive.BatchAge = Duration(DefaultBatchAge)
	}
	// Entries that expanded to nothing (unset ${VAR}) are dropped.
	secrets := c.Webhooks.Secrets[:0]
	for _, s := range c.Webhooks.Secrets {
		if !s.IsZero() {
			secrets = append(secrets, s)
		}
	}
	c.Webhooks.Secrets = secrets
	applyWebhookDefaults(&c.Webhooks, has)
	for i, j := range c.Jobs {
		if j == nil {
			continue
		}
		p := indexPath("jobs", i)
		if j.Alerts == nil && !has(p+".alerts") {
			j.Alerts = append([]Level(nil), c.Alerts.Levels...)
		}
	}
}

// graphQLFor derives the GraphQL endpoint from a REST base URL:
// api.github.com → /graphql; GHES https://HOST/api/v3 → https://HOST/api/graphql.
func graphQLFor(api string) string {
	base := strings.TrimRight(api, "/")
	if strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://") == "api.github.com" {
		return DefaultGraphQLURL
	}
	if b, ok := strings.CutSuffix(base, "/api/v3"); ok {
		return b + "/api/graphql"
	}
	return base + "/graphql"
}

// resolveDests joins the webhook archive's relative destination onto Storage
// (after validation; jobs resolve theirs in their kind's Check).
func resolveDests(c *Config) {
	if c.Webhooks.Archive.Dest != "" {
		c.Webhooks.Archive.Dest = ResolveDest(c.Storage, c.Webhooks.Archive.Dest)
	}
	resolveWebhookDests(c)
}
