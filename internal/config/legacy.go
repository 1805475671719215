package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// LegacyEnv holds the environment variables used by the original Lambdas,
// accepted so that a team can swap ghsync in without renaming secrets.
type LegacyEnv struct {
	// AppID is app_id: the GitHub App id.
	AppID string
	// PrivateKey is private_key: the App's PEM key, newlines possibly written
	// as '|' (GitHub.PrivateKeyPEM undoes that).
	PrivateKey Secret
	// Bucket is bucket: the status snapshots' bucket.
	Bucket string
	// Branches is branches, split on commas (spaces trimmed, empties dropped).
	Branches []string
	// User is user: the repository owner for status snapshots.
	User string
	// Repo is repo: the repository name for status snapshots.
	Repo string
	// HistorySize is history_size as written ("" when unset).
	HistorySize string
	// TempBucketName is TEMP_BUCKET_NAME (inbox upload bucket).
	TempBucketName string
	// FinalBucketName is FINAL_BUCKET_NAME (inbox destination bucket).
	FinalBucketName string
	// GitHubRepo is GITHUB_REPO (inbox issues repository).
	GitHubRepo string
	// GitHubAPIKey is GITHUB_API_KEY (inbox GitHub token).
	GitHubAPIKey Secret
	// WDIVWebhookURL is WDIV_WEBHOOK_URL (inbox callback).
	WDIVWebhookURL string
	// WDIVAPIKey is WDIV_API_KEY (inbox callback key).
	WDIVAPIKey Secret
	// ErrorReportEmail is ERROR_REPORT_EMAIL.
	ErrorReportEmail string
	// SentryDSN is SENTRY_DSN.
	SentryDSN Secret
}

// Legacy reads the legacy environment names through getenv (nil means an
// empty environment).
func Legacy(getenv func(string) string) LegacyEnv {
	g := orEmpty(getenv)
	var branches []string
	for _, b := range strings.Split(g("branches"), ",") {
		if b = strings.TrimSpace(b); b != "" {
			branches = append(branches, b)
		}
	}
	return LegacyEnv{
		AppID:            strings.TrimSpace(g("app_id")),
		PrivateKey:       NewSecret(g("private_key")),
		Bucket:           g("bucket"),
		Branches:         branches,
		User:             g("user"),
		Repo:             g("repo"),
		HistorySize:      strings.TrimSpace(g("history_size")),
		TempBucketName:   g("TEMP_BUCKET_NAME"),
		FinalBucketName:  g("FINAL_BUCKET_NAME"),
		GitHubRepo:       g("GITHUB_REPO"),
		GitHubAPIKey:     NewSecret(g("GITHUB_API_KEY")),
		WDIVWebhookURL:   g("WDIV_WEBHOOK_URL"),
		WDIVAPIKey:       NewSecret(g("WDIV_API_KEY")),
		ErrorReportEmail: g("ERROR_REPORT_EMAIL"),
		SentryDSN:        NewSecret(g("SENTRY_DSN")),
	}
}

// applyLegacy fills github.app_id / private_key from the legacy environment
// when the file sets neither them nor a token.
func applyLegacy(c *Config, l LegacyEnv) {
	g := &c.GitHub
	if !g.Token.IsZero() {
		return
	}
	if g.AppID == "" {
		g.AppID = l.AppID
	}
	if g.PrivateKey.IsZero() && g.PrivateKeyFile == "" {
		g.PrivateKey = l.PrivateKey
	}
}

// PrivateKeyPEM returns the App's private key as PEM: read from
// PrivateKeyFile, or PrivateKey resolved; a key written on one line with '|'
// for newlines (the legacy convention) is converted back. Errors never
// contain the key.
func (g *GitHub) PrivateKeyPEM(ctx context.Context) ([]byte, error) {
	var key string
	if g.PrivateKeyFile != "" {
		b, err := os.ReadFile(g.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read github.private_key_file: %w", err)
		}
		key = string(b)
	} else {
		s, err := g.PrivateKey.Resolve(ctx)
		if err != nil {
			return nil, fmt.Errorf("resolve github.private_key: %w", err)
		}
		key = s
	}
	if strings.TrimSpace(key) == "" {
		return nil, errors.New("no GitHub App private key configured (github.private_key or github.private_key_file)")
	}
	if !strings.Contains(key, "\n") && strings.Contains(key, "|") {
		key = strings.ReplaceAll(key, "|", "\n")
	}
	return []byte(key), nil
}
