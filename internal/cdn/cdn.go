// Package cdn invalidates a CDN's cache for exactly the object keys a sync
// wrote or deleted: CloudFront (CreateInvalidation) and Cloudflare (purge by
// URL). One run is a pipeline: plan the CDN paths (Paths), collapse them to
// wildcards above a count (Collapse), cut them into the API's batches (Batch),
// apply each batch, and report; paths whose invalidation failed are owed and
// recorded next to the manifest (Owed), so the next run retries them.
package cdn

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Target is one CDN a job invalidates.
type Target interface {
	// URL names the target as configured, without its query
	// ("cloudfront://E2ABCDEF123456"); the owed record is keyed by it.
	URL() string
	// Limits are the API's limits on what one run may send.
	Limits() Limits
	// Invalidate invalidates paths (CDN paths starting with "/"; one ending
	// in "*" is a wildcard covering everything under it) in one API call and
	// returns the CDN's id for the request.
	Invalidate(ctx context.Context, paths []string) (id string, err error)
}

// Limits bound what a run sends to one target.
type Limits struct {
	// Batch is the most paths one API call takes.
	Batch int
	// MaxExact is the most exact (non-wildcard) paths one run may send
	// (0 = no limit); above it the run falls back to wildcards.
	MaxExact int
	// MaxWildcards is the most wildcard paths one run may send; above it
	// the run sends the single wildcard for everything under the prefix.
	MaxWildcards int
}

// Settings configure how keys become CDN paths and when to use wildcards.
type Settings struct {
	// PathPrefix is prepended to each key (relative to the job's
	// destination) to form the path the CDN serves it at: "" when the CDN's
	// origin (path) is the destination prefix itself, "/site" when the
	// destination is s3://bucket/site/ and the origin is the bucket root.
	PathPrefix string
	// WildcardAbove is the count of paths above which a target receives one
	// wildcard per top-level directory instead (0 = DefaultWildcardAbove).
	WildcardAbove int
	// BaseURL turns paths into URLs for Cloudflare ("https://www.example.com").
	BaseURL string
	// Token is Cloudflare's API token (resolved); TokenErr is why it could
	// not be resolved (the Cloudflare targets then fail, saying so).
	Token    string
	TokenErr error
}

// DefaultWildcardAbove is Settings.WildcardAbove's default.
const DefaultWildcardAbove = 500

// Schemes are the URL schemes of the supported targets.
var Schemes = []string{"cloudfront", "cloudflare"}

// ParseURL checks a target URL ("cloudfront://ID", "cloudflare://ZONE",
// each with an optional ?endpoint=) and returns its scheme and id.
func ParseURL(raw string) (scheme, id string, q url.Values, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", nil, fmt.Errorf("invalid CDN URL %q: %w", raw, err)
	}
	switch u.Scheme {
	case "cloudfront", "cloudflare":
	default:
		return "", "", nil, fmt.Errorf("invalid CDN URL %q: want cloudfront://DISTRIBUTION_ID or cloudflare://ZONE_ID", raw)
	}
	if u.Host == "" || strings.Trim(u.Path, "/") != "" || u.User != nil {
		return "", "", nil, fmt.Errorf("invalid CDN URL %q: want %s://ID with nothing after the id", raw, u.Scheme)
	}
	q = u.Query()
	for k := range q {
		if k != "endpoint" {
			return "", "", nil, fmt.Errorf("invalid CDN URL %q: unknown parameter %q (only endpoint)", raw, k)
		}
	}
	return u.Scheme, u.Host, q, nil
}
