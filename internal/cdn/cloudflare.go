package cdn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// DefaultCloudflareAPI is Cloudflare's API base URL.
const DefaultCloudflareAPI = "https://api.cloudflare.com/client/v4"

// Cloudflare's purge limits (developers.cloudflare.com/cache/how-to/purge-cache/):
// the single-file and prefix purge pages allow 30 URLs (or prefixes) per
// API call on every plan (the limits table now says 100 operations per
// request; 30 is what every plan and older account accepts), and the Free
// plan allows 5 purge requests per minute, so a run falls back to prefixes
// well before it would need many calls.
const (
	cloudflareBatch        = 30
	cloudflareMaxWildcards = 30
)

// cloudflare purges URLs of one zone.
type cloudflare struct {
	zone, api, base, token string
	client                 *http.Client
}

// NewCloudflare returns the target for zone: paths become base + path
// (base like "https://www.example.com"), wildcards become prefix purges
// ("www.example.com/docs/"); api is the API base URL ("" = DefaultCloudflareAPI).
func NewCloudflare(zone, api, base, token string, client *http.Client) Target {
	if api == "" {
		api = DefaultCloudflareAPI
	}
	if client == nil {
		client = http.DefaultClient
	}
	return &cloudflare{zone: zone, api: strings.TrimSuffix(api, "/"), base: strings.TrimSuffix(base, "/"), token: token, client: client}
}

func (c *cloudflare) URL() string { return "cloudflare://" + c.zone }

func (c *cloudflare) Limits() Limits {
	return Limits{Batch: cloudflareBatch, MaxWildcards: cloudflareMaxWildcards}
}

// purgeRequest is the body of POST /zones/{zone}/purge_cache (one of its forms).
type purgeRequest struct {
	Files    []string `json:"files,omitempty"`
	Prefixes []string `json:"prefixes,omitempty"`
}

// envelope is Cloudflare's v4 response envelope.
type envelope struct {
	Success bool `json:"success"`
	Errors  []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
	Result *struct {
		ID string `json:"id"`
	} `json:"result"`
}

// Invalidate purges the batch's exact paths by URL and its wildcards by
// prefix, in one call when the batch holds only one kind (Collapse and
// Batch keep them apart except for the few files beside wildcards; a
// mixed batch is sent as two calls).
func (c *cloudflare) Invalidate(ctx context.Context, paths []string) (string, error) {
	var req purgeRequest
	for _, p := range paths {
		if IsWildcard(p) {
			u, err := url.Parse(c.base + strings.TrimSuffix(p, "*"))
			if err != nil {
				return "", fmt.Errorf("Cloudflare zone %s: prefix for %s: %w", c.zone, p, err)
			}
			req.Prefixes = append(req.Prefixes, u.Host+u.EscapedPath())
		} else {
			req.Files = append(req.Files, c.base+p)
		}
	}
	if len(req.Files) > 0 && len(req.Prefixes) > 0 {
		id, err := c.purge(ctx, purgeRequest{Files: req.Files})
		if err != nil {
			return "", err
		}
		id2, err := c.purge(ctx, purgeRequest{Prefixes: req.Prefixes})
		return id + "," + id2, err
	}
	return c.purge(ctx, req)
}

func (c *cloudflare) purge(ctx context.Context, req purgeRequest) (string, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	what := fmt.Sprintf("%d URLs", len(req.Files))
	if len(req.Prefixes) > 0 {
		what = fmt.Sprintf("%d prefixes", len(req.Prefixes))
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.api+"/zones/"+url.PathEscape(c.zone)+"/purge_cache", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.client.Do(hr)
	if err != nil {
		return "", fmt.Errorf("Cloudflare zone %s: purge %s: %w", c.zone, what, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("Cloudflare zone %s: purge %s: reading the response: %w", c.zone, what, err)
	}
	var env envelope
	jerr := json.Unmarshal(data, &env)
	if resp.StatusCode/100 != 2 || jerr != nil || !env.Success {
		msg := resp.Status
		for _, e := range env.Errors {
			msg += fmt.Sprintf("; %d: %s", e.Code, e.Message)
		}
		if jerr != nil && resp.StatusCode/100 == 2 {
			msg += "; response is not Cloudflare's JSON envelope"
		}
		return "", fmt.Errorf("Cloudflare zone %s: purge %s: %s", c.zone, what, msg)
	}
	if env.Result == nil {
		return "", nil
	}
	return env.Result.ID, nil
}
