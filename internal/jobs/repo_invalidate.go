package jobs

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/ghsync/ghsync/internal/cdn"
	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/store"
)

// CDNSettings tune a repo job's CDN invalidation (its `cdn:` key; the
// targets are `invalidate:`).
type CDNSettings struct {
	// PathPrefix is prepended to each key under dest to form the path the
	// CDN serves it at ("" when the CDN's origin is dest itself).
	PathPrefix string `yaml:"path_prefix"`
	// WildcardAbove is the count of changed paths above which one wildcard
	// per top-level folder is sent instead (default cdn.DefaultWildcardAbove).
	WildcardAbove int `yaml:"wildcard_above"`
	// BaseURL turns paths into URLs for Cloudflare ("https://www.example.com").
	BaseURL string `yaml:"base_url"`
	// Token is the Cloudflare API token (Zone › Cache Purge permission).
	Token config.Secret `yaml:"token"`
}

// cdnSettings returns the job's cdn: settings (zero when absent).
func (r *RepoSettings) cdnSettings() CDNSettings {
	if r.CDN == nil {
		return CDNSettings{}
	}
	return *r.CDN
}

// checkInvalidate validates invalidate: and cdn:.
func checkInvalidate(r *RepoSettings, c *config.Checker) {
	cs := r.cdnSettings()
	if len(r.Invalidate) == 0 {
		if c.Has("cdn") {
			c.Errorf("cdn", "is set but invalidate: names no CDN (cloudfront://DISTRIBUTION_ID or cloudflare://ZONE_ID)")
		}
		return
	}
	if r.ReposFrom != nil {
		c.Errorf("invalidate", "is not supported with repos_from (each row has its own destination)")
	}
	cloudflare := false
	for i, u := range r.Invalidate {
		scheme, _, _, err := cdn.ParseURL(u)
		if err != nil {
			c.Errorf(fmt.Sprintf("invalidate[%d]", i), "%v", err)
		}
		cloudflare = cloudflare || scheme == "cloudflare"
	}
	if cloudflare {
		if cs.BaseURL == "" {
			c.Errorf("cdn.base_url", "is required for cloudflare:// (the site's URL, e.g. https://www.example.com)")
		} else if u, err := url.Parse(cs.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
			c.Errorf("cdn.base_url", "must be an http(s) URL such as https://www.example.com")
		}
		if cs.Token.IsZero() {
			c.Errorf("cdn.token", "is required for cloudflare:// (a Cloudflare API token with Cache Purge permission; use ${ENV} or a secret reference)")
		}
	}
	if c.Has("cdn.wildcard_above") && cs.WildcardAbove < 1 {
		c.Errorf("cdn.wildcard_above", "must be at least 1")
	}
	if strings.ContainsAny(cs.PathPrefix, "*?#") {
		c.Errorf("cdn.path_prefix", "must be a plain path such as /site")
	}
}

// invalidateNeeds adds what the job's invalidation uses to n: CreateInvalidation
// on each CloudFront distribution, the Cloudflare token.
func invalidateNeeds(r *RepoSettings, n *Needs) {
	for _, u := range r.Invalidate {
		if scheme, id, _, err := cdn.ParseURL(u); err == nil && scheme == "cloudfront" {
			n.CloudFront = append(n.CloudFront, id)
		}
	}
	if tok := r.cdnSettings().Token; len(r.Invalidate) > 0 && !tok.IsZero() {
		n.Secrets = append(n.Secrets, tok)
	}
}

// owedKey is the key of the owed-invalidation record: beside the manifest.
func owedKey(r *RepoSettings) string {
	m := r.Manifest
	if m == "" {
		m = reposync.DefaultManifestKey
	}
	return path.Join(path.Dir(m), cdn.OwedName)
}

// invalidate runs the CDN invalidation after a sync: the keys the sync
// wrote or deleted plus those owed by earlier runs. Nothing to invalidate
// calls no CDN.
func invalidate(ctx context.Context, env *Env, r *RepoSettings, sum *reposync.Summary, dryRun bool) (*cdn.Report, error) {
	cs := r.cdnSettings()
	token, tokenErr := cs.Token.Resolve(ctx) // on failure the Cloudflare targets fail (their paths owed) saying why
	s := cdn.Settings{PathPrefix: cs.PathPrefix, WildcardAbove: cs.WildcardAbove, BaseURL: cs.BaseURL, Token: token, TokenErr: tokenErr}
	targets := cdn.Open(ctx, r.Invalidate, s)
	b, err := env.OpenStore(ctx, r.Dest, store.Options{})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	var keys []string
	if sum != nil {
		keys = sum.Keys
	}
	return cdn.Run(ctx, cdn.Request{Targets: targets, Settings: s, Keys: keys, Bucket: b, OwedKey: owedKey(r), DryRun: dryRun})
}

// repoRunSummary is a repo run's summary with its CDN invalidation (the
// JSON form of a job with invalidate:).
type repoRunSummary struct {
	*reposync.Summary
	Invalidation *cdn.Report `json:"invalidation,omitempty"`
}
