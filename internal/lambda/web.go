package lambda

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/serve"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
	"github.com/ghsync/ghsync/internal/webutil"
)

// EnvWebhookSecret is an extra webhook secret taken from the environment (as
// in `ghsync serve`).
const EnvWebhookSecret = serve.EnvWebhookSecret

// processBudget bounds the synchronous projection of stored deliveries after
// each HTTP event.
const processBudget = 5 * time.Second

// answerWithin bounds the whole invocation of an HTTP event: a Function URL
// answers only when the invocation returns, and GitHub gives up on a
// delivery after 10 seconds. The log downloads worked off after the
// projections get what is left of it; a download cut short goes back to the
// queue (no attempt counted) for a later invocation.
const answerWithin = 8 * time.Second

// serveHTTP answers a Function URL / HTTP API event. The URL is public
// (GitHub must reach it), so only what authenticates itself answers: the
// webhook receivers' POSTs (signature-checked by the webhook server's
// handler) and GET /healthz. Every other method and path — the read API,
// /metrics, the UI — answers 404 before anything is opened, so no request
// of an anonymous caller reads the database. After a delivery the stored
// deliveries are projected (Lambda freezes the process between
// invocations, so background work cannot be relied on).
func (h *Handler) serveHTTP(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
	receivers := serve.ReceiversOf(h.cfg)
	var srv *serve.Server
	var openErr error
	gate := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case serve.IsHealth(r):
			serve.Healthz(w, r)
		case receivers.Match(r):
			if srv, openErr = h.server(r.Context()); openErr == nil {
				srv.Handler().ServeHTTP(w, r)
			}
		default:
			webutil.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not found: on AWS Lambda this URL receives webhook deliveries (POST) and answers GET /healthz, nothing else; read deliveries and projections with `ghsync events` or `ghsync serve`"})
		}
	})
	res, err := ServeHTTPEvent(ctx, gate, payload)
	if openErr != nil {
		return nil, invokeErr(ErrTypeConfig, openErr)
	}
	if err != nil {
		return nil, invokeErr(ErrTypeBadEvent, err)
	}
	if srv == nil {
		return marshal(res)
	}
	pctx, cancel := context.WithTimeout(ctx, processBudget)
	defer cancel()
	h.drain(pctx, srv.Webhooks().ProcessPending, "projecting deliveries (will be retried on a later invocation)")
	h.syncDynamo(pctx, srv)
	if dl := srv.Logs(); dl != nil && time.Until(start.Add(answerWithin)) > time.Second {
		lctx, cancel := context.WithDeadline(ctx, start.Add(answerWithin))
		defer cancel()
		sum, err := dl.RunOnce(lctx)
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			h.log.Info("log downloads continue on a later invocation", "summary", sum)
		case err != nil:
			h.log.Warn("downloading job logs (failed ones stay in log_downloads with their error)", "summary", sum, "err", err)
		}
		h.syncDynamo(lctx, srv) // the classifications just recorded
	}
	return marshal(res)
}

// syncDynamo writes the DynamoDB outbox (projections, classifications) in
// this invocation, when webhooks.dynamodb is set: with sql_projections:
// false DynamoDB holds the only copy, and the background syncer does not run
// while Lambda freezes the process. What is left stays queued for a later
// invocation.
func (h *Handler) syncDynamo(ctx context.Context, srv *serve.Server) {
	h.drain(ctx, srv.Webhooks().SyncDynamo, "writing projections to DynamoDB (what failed stays queued for a later invocation)")
}

// drain calls step until it reports no work done, fails (logged as failMsg)
// or ctx ends.
func (h *Handler) drain(ctx context.Context, step func(context.Context) (int, error), failMsg string) {
	for ctx.Err() == nil {
		n, err := step(ctx)
		if err != nil {
			h.log.Warn(failMsg, "err", err)
			return
		}
		if n == 0 {
			return
		}
	}
}

// server returns the webhook server, building it on first use from the
// config's database and webhooks sections.
func (h *Handler) server(ctx context.Context) (*serve.Server, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.web != nil {
		return h.web, nil
	}
	dbURL := h.cfg.Database
	if dbURL == "" || dbURL == config.DefaultDatabase {
		dbURL = LambdaDatabase
		h.log.Warn("webhooks: database is SQLite in /tmp, which is lost when Lambda recycles the execution environment; set database: postgres://… for durable deliveries")
	} else if strings.HasPrefix(dbURL, "sqlite:") {
		h.log.Warn("webhooks: SQLite on Lambda is not durable (each execution environment has its own /tmp); use database: postgres://…")
	}
	opts, err := serve.ConfigOptions(ctx, h.cfg, h.getenv, func(ctx context.Context) (logs.APIClient, error) {
		return h.runner.GitHub(ctx)
	})
	if err != nil {
		return nil, err
	}
	opts.DatabaseURL, opts.Logger = dbURL, h.log
	srv, err := serve.New(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("webhook endpoint: %w", err)
	}
	srv.StartBackground() // archive batches and retries, while invocations keep the process thawed
	h.runner.Env().UseLogDownloader(srv.Logs())
	h.web = srv
	return srv, nil
}
