package lambda

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/serve"
)

// EnvWebhookSecret is an extra webhook secret taken from the environment (as
// in `ghsync serve`).
const EnvWebhookSecret = "GHSYNC_WEBHOOK_SECRET"

// processBudget bounds the synchronous projection of stored deliveries after
// each HTTP event.
const processBudget = 5 * time.Second

// serveHTTP answers a Function URL / HTTP API event with the webhook server's
// handler, then projects the deliveries stored so far (Lambda freezes the
// process between invocations, so background work cannot be relied on).
func (h *Handler) serveHTTP(ctx context.Context, payload []byte) ([]byte, error) {
	srv, err := h.server(ctx)
	if err != nil {
		return nil, invokeErr(ErrTypeConfig, err)
	}
	res, err := ServeHTTPEvent(ctx, srv.Handler(), payload)
	if err != nil {
		return nil, invokeErr(ErrTypeBadEvent, err)
	}
	pctx, cancel := context.WithTimeout(ctx, processBudget)
	defer cancel()
	for {
		n, err := srv.Webhooks().ProcessPending(pctx)
		if err != nil {
			h.log.Warn("projecting deliveries (will be retried on a later invocation)", "err", err)
			break
		}
		if n == 0 {
			break
		}
	}
	return marshal(res)
}

// server returns the webhook server, building it on first use from the
// config's database and webhooks sections.
func (h *Handler) server(ctx context.Context) (*serve.Server, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.web != nil {
		return h.web, nil
	}
	w := h.cfg.Webhooks
	dbURL := h.cfg.Database
	if dbURL == "" || dbURL == config.DefaultDatabase {
		dbURL = LambdaDatabase
		h.log.Warn("webhooks: database is SQLite in /tmp, which is lost when Lambda recycles the execution environment; set database: postgres://… for durable deliveries")
	} else if strings.HasPrefix(dbURL, "sqlite:") {
		h.log.Warn("webhooks: SQLite on Lambda is not durable (each execution environment has its own /tmp); use database: postgres://…")
	}
	opts := serve.Options{DatabaseURL: dbURL, InsecureNoSignature: w.InsecureNoSignature, WebhookPath: w.Path,
		ArchiveDest: w.Archive.Dest, ArchiveBatchBytes: int64(w.Archive.BatchBytes), ArchiveBatchAge: w.Archive.BatchAge.Std(),
		PerDelivery: w.Archive.PerDelivery, Logger: h.log}
	for i, s := range w.Secrets {
		v, err := s.Resolve(ctx)
		if err != nil {
			return nil, fmt.Errorf("webhooks.secrets[%d]: %w", i, err)
		}
		opts.Secrets = append(opts.Secrets, v)
	}
	if env := strings.TrimSpace(h.getenv(EnvWebhookSecret)); env != "" {
		opts.Secrets = append(opts.Secrets, env)
	}
	srv, err := serve.New(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("webhook endpoint: %w", err)
	}
	srv.Webhooks().Start() // archive batches and retries, while invocations keep the process thawed
	h.web = srv
	return srv, nil
}

// inboxSourceKeys are the keys of an inbox job that may name the watched
// upload location, in order of preference. The inbox capability does not
// exist yet; this is the routing contract it is expected to keep.
var inboxSourceKeys = []string{"watch", "source", "upload", "temp_bucket", "bucket"}

// InboxSource returns the upload location an inbox job watches (a store URL
// such as s3://uploads/incoming/, or a bare bucket name), or "" when job is
// not an inbox job or names none.
func InboxSource(job *config.Job) string {
	if job == nil || job.Kind != config.KindInbox || job.Spec == nil {
		return ""
	}
	n := job.Spec
	for _, want := range inboxSourceKeys {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == want && n.Content[i+1].Value != "" {
				return n.Content[i+1].Value
			}
		}
	}
	return ""
}

// BucketOf returns the bucket name of an s3:// URL or a bare bucket name, and
// the key prefix ("" or "a/b/"); ok is false for other schemes.
func BucketOf(ref string) (bucket, prefix string, ok bool) {
	if !strings.Contains(ref, "://") {
		if ref == "" || strings.ContainsAny(ref, "/?") {
			return "", "", false
		}
		return ref, "", true
	}
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return "", "", false
	}
	p := strings.Trim(u.Path, "/")
	if extra := strings.Trim(u.Query().Get("prefix"), "/"); extra != "" {
		p = strings.Trim(p+"/"+extra, "/")
	}
	if p != "" {
		p += "/"
	}
	return u.Host, p, true
}

// WatchingJob returns the inbox job watching bucket, or nil.
func WatchingJob(cfg *config.Config, bucket string) *config.Job {
	for _, j := range cfg.Jobs {
		if b, _, ok := BucketOf(InboxSource(j)); ok && b == bucket {
			return j
		}
	}
	return nil
}
