package deploy

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/store"
)

// Access levels on a bucket prefix.
const (
	AccessRead      = jobs.AccessRead
	AccessReadWrite = jobs.AccessReadWrite
)

// BucketAccess is what the function needs on one S3 bucket.
type BucketAccess struct {
	// Bucket is the bucket name.
	Bucket string
	// Prefixes maps each key prefix used ("" = the whole bucket, else
	// "a/b/") to AccessRead or AccessReadWrite.
	Prefixes map[string]string
	// Users names what uses the bucket (e.g. "job site", "webhook archive").
	Users []string
}

// Needs is the AWS access a configuration needs, derived from its jobs.
type Needs struct {
	// Buckets are the S3 buckets used, sorted by name.
	Buckets []BucketAccess
	// Secrets are the Secrets Manager secret names or ARNs referenced.
	Secrets []string
	// Parameters are the SSM Parameter Store parameter names referenced.
	Parameters []string
	// Actions are other IAM actions jobs call (e.g. ses:SendEmail), sorted.
	Actions []string
	// Distributions are the CloudFront distribution ids jobs invalidate
	// (cloudfront:CreateInvalidation on each one only), sorted.
	Distributions []string
	// Dynamo, when webhooks.dynamodb is set, is the DynamoDB tables the
	// projections are mirrored to.
	Dynamo *DynamoAccess
	// Watched are the upload buckets (and prefixes) whose object-created
	// events must reach the function (jobs whose kind handles them).
	Watched []Watch
	// Warnings are destinations the template cannot grant (non-S3 stores,
	// local folders that do not survive in Lambda).
	Warnings []string
}

// DynamoAccess is the DynamoDB tables the webhook mirror writes: every
// table named TablePrefix + something, in Region ("" = the stack's).
type DynamoAccess struct {
	TablePrefix, Region string
	// Only: projections are written only to DynamoDB
	// (webhooks.dynamodb.sql_projections: false), which also sets job log
	// classifications with UpdateItem.
	Only bool
}

// Watch is a watched upload location.
type Watch struct {
	Job, Bucket, Prefix string
}

// Derive computes the access cfg's jobs need, from what each job's kind
// says it needs (jobs.Kind.Needs). configURL is the s3:// URL the function
// loads its configuration from ("" when it is in the package).
func Derive(cfg *config.Config, configURL string) *Needs {
	reg := jobs.Builtin()
	n := &Needs{}
	buckets := map[string]*BucketAccess{}
	var addPrefix func(b, prefix, access, user string)
	add := func(ref, access, user string) {
		if ref == "" {
			return
		}
		b, prefix, ok := store.BucketOf(ref)
		if !ok || !strings.Contains(ref, "://") && !strings.HasPrefix(user, "watch") {
			n.warnNonS3(ref, user)
			return
		}
		addPrefix(b, prefix, access, user)
	}
	addPrefix = func(b, prefix, access, user string) {
		ba := buckets[b]
		if ba == nil {
			ba = &BucketAccess{Bucket: b, Prefixes: map[string]string{}}
			buckets[b] = ba
		}
		if ba.Prefixes[prefix] != AccessReadWrite {
			ba.Prefixes[prefix] = access
		}
		ba.Users = appendUnique(ba.Users, user)
	}
	for _, w := range reg.Watches(cfg) {
		n.Watched = append(n.Watched, Watch{Job: w.Job.Name, Bucket: w.Bucket, Prefix: w.Prefix})
	}
	for _, j := range cfg.Jobs {
		needs := reg.Needs(j)
		for _, s := range needs.Stores {
			user := "job " + j.Name
			if s.Watch {
				user = "watch " + j.Name // a bare bucket name is accepted for watched areas
			}
			add(s.URL, s.Access, user)
		}
		for _, sec := range needs.Secrets {
			n.addSecretRefs([]string{sec.Describe()})
		}
		for _, a := range needs.AWSActions {
			n.Actions = appendUnique(n.Actions, a)
		}
		for _, d := range needs.CloudFront {
			n.Distributions = appendUnique(n.Distributions, d)
		}
	}
	if cfg.Webhooks.Archive.Dest != "" && webhooksOn(cfg) {
		add(cfg.Webhooks.Archive.Dest, AccessReadWrite, "webhook archive")
	}
	if l := cfg.Webhooks.Logs; l.Enabled() && l.Dest != "" && webhooksOn(cfg) {
		add(l.Dest, AccessReadWrite, "webhook job logs")
	}
	if d := cfg.Webhooks.DynamoDB; d != nil && webhooksOn(cfg) {
		n.Dynamo = &DynamoAccess{TablePrefix: d.TablePrefix, Region: d.Region, Only: !d.SQLProjections}
	}
	if configURL != "" {
		dir, key := splitKey(configURL)
		if b, prefix, ok := store.BucketOf(dir); ok && key != "" {
			addPrefix(b, prefix+key, AccessRead, "config")
		} else {
			n.Warnings = append(n.Warnings, fmt.Sprintf("config URL %s is not an s3:// object URL; the function cannot be granted access to it", store.Redact(configURL)))
		}
	}
	g := cfg.GitHub
	refs := []config.Secret{g.PrivateKey, g.Token, cfg.Alerts.SlackWebhookURL}
	refs = append(refs, cfg.Webhooks.Secrets...)
	refs = append(refs, cfg.Webhooks.CircleCI.Secrets...)
	for _, s := range refs {
		n.addSecretRefs([]string{s.Describe()})
	}
	names := make([]string, 0, len(buckets))
	for b := range buckets {
		names = append(names, b)
	}
	sort.Strings(names)
	for _, b := range names {
		n.Buckets = append(n.Buckets, *buckets[b])
	}
	return n
}

// webhooksOn reports whether the config has a webhooks section: written in
// the file (its secrets may come from variables unset where the template is
// generated), or with secrets or the insecure switch set.
func webhooksOn(cfg *config.Config) bool {
	return len(cfg.Webhooks.Secrets) > 0 || cfg.Webhooks.InsecureNoSignature || cfg.Pos("webhooks").Line > 0
}

func (n *Needs) warnNonS3(ref, user string) {
	switch {
	case strings.HasPrefix(ref, "file:"):
		n.Warnings = append(n.Warnings, fmt.Sprintf("%s writes to a local folder (%s), which does not survive in Lambda", user, store.Redact(ref)))
	case strings.HasPrefix(ref, "mem:"):
		n.Warnings = append(n.Warnings, fmt.Sprintf("%s uses an in-memory store (%s)", user, store.Redact(ref)))
	default:
		n.Warnings = append(n.Warnings, fmt.Sprintf("%s uses %s: its credentials are not managed by this template", user, store.Redact(ref)))
	}
}

// addSecretRefs records secret-store references (Secret.Describe forms).
func (n *Needs) addSecretRefs(refs []string) {
	for _, r := range refs {
		r, _, _ = strings.Cut(r, "?")
		switch {
		case strings.HasPrefix(r, "awssecretsmanager://"):
			n.Secrets = appendUnique(n.Secrets, strings.TrimPrefix(r, "awssecretsmanager://"))
		case strings.HasPrefix(r, "awsparamstore://"):
			n.Parameters = appendUnique(n.Parameters, strings.TrimPrefix(strings.TrimPrefix(r, "awsparamstore://"), "/"))
		}
	}
}

// splitKey splits s3://bucket/dir/key?q into (s3://bucket/dir/?q, key).
func splitKey(ref string) (string, string) {
	base, query, _ := strings.Cut(ref, "?")
	i := strings.LastIndex(base, "/")
	if i < len("s3://") {
		return ref, ""
	}
	dir := base[:i+1]
	if query != "" {
		dir += "?" + query
	}
	return dir, base[i+1:]
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func sortStrings(s []string) { sort.Strings(s) }
