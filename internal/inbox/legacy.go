package inbox

import (
	"fmt"
	"net/url"
	"strings"
)

// The original Lambda's environment variables (drop-in mode).
const (
	EnvTempBucket  = "TEMP_BUCKET_NAME"
	EnvFinalBucket = "FINAL_BUCKET_NAME"
	EnvGitHubRepo  = "GITHUB_REPO"
	EnvGitHubKey   = "GITHUB_API_KEY"
	EnvWebhookURL  = "WDIV_WEBHOOK_URL"
	EnvWebhookKey  = "WDIV_API_KEY"
	EnvErrorEmail  = "ERROR_REPORT_EMAIL"
	EnvSentryDSN   = "SENTRY_DSN"
	EnvAWSRegion   = "AWS_REGION"
)

// LegacySender is the original's sender address.
const LegacySender = "pollingstations@democracyclub.org.uk"

// LegacyJobName names the job defined by the original's environment.
const LegacyJobName = "inbox"

// HasLegacyEnv reports whether the original's environment is present
// (TEMP_BUCKET_NAME is set).
func HasLegacyEnv(getenv func(string) string) bool {
	return strings.TrimSpace(getenv(EnvTempBucket)) != ""
}

// ConfigFromLegacyEnv builds the inbox job the original Lambda's
// environment describes: format wdiv, the original's checks and templates,
// email through Amazon SES in AWS_REGION from the original's sender when
// ERROR_REPORT_EMAIL is set, the callback to WDIV_WEBHOOK_URL with
// WDIV_API_KEY, and enrichment from /api/beta/councils/{group}.json on the
// callback URL's origin. A bare bucket name means s3://NAME; a full store
// URL is used as it is. Missing required variables are named in the error.
func ConfigFromLegacyEnv(getenv func(string) string) (*Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	var missing []string
	for _, k := range []string{EnvTempBucket, EnvFinalBucket, EnvGitHubRepo, EnvWebhookURL} {
		if get(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("inbox from the original's environment: %s not set", strings.Join(missing, ", "))
	}
	c := &Config{
		Name:     LegacyJobName,
		Watch:    bucketURL(get(EnvTempBucket)),
		Final:    bucketURL(get(EnvFinalBucket)),
		Format:   FormatWDIV,
		GitHub:   &GitHubAction{Repo: get(EnvGitHubRepo), Token: get(EnvGitHubKey)},
		Callback: &CallbackAction{URL: get(EnvWebhookURL), Token: get(EnvWebhookKey)},
		// No recipient: the email is logged, not sent (the original's behaviour).
		Email:     &EmailAction{From: LegacySender},
		SentryDSN: get(EnvSentryDSN),
	}
	via := "ses://"
	if r := get(EnvAWSRegion); r != "" {
		via += "?region=" + url.QueryEscape(r)
	}
	c.Email.Via = via
	if to := get(EnvErrorEmail); to != "" {
		c.Email.To = []string{to}
	}
	u, err := url.Parse(c.Callback.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("inbox from the original's environment: %s is not an http(s) URL", EnvWebhookURL)
	}
	c.Enrich = &EnrichAction{URL: u.Scheme + "://" + u.Host + "/api/beta/councils/{group}.json", Field: "name"}
	if errs := c.Validate(); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, fmt.Errorf("inbox from the original's environment: %s", strings.Join(msgs, "; "))
	}
	return c, nil
}

// bucketURL maps a bare bucket name to s3://NAME and keeps store URLs.
func bucketURL(v string) string {
	if strings.Contains(v, "://") {
		return v
	}
	return "s3://" + v
}
