// Package lambda runs ghsync as an AWS Lambda function: the same binary,
// named bootstrap on the provided.al2023 runtime (or any binary started with
// AWS_LAMBDA_RUNTIME_API set), takes invocations from the Lambda Runtime API
// and dispatches on the event's shape (see Classify):
//
//   - {"job": "NAME", "dry_run": true} — direct invokes, EventBridge Scheduler
//     inputs, EventBridge rule constant inputs, or the same in an EventBridge
//     event's detail: run that configured job;
//   - the original status Lambda's input {"branches", "user", "repo",
//     "history_size"} (or none): a status snapshot, written where the
//     configured statuses job for that repository writes, else to the legacy
//     `bucket` environment variable;
//   - S3, SQS-wrapped S3 and EventBridge S3 events: routed to the inbox job
//     watching the bucket (an error until the inbox capability exists);
//   - Function URL / API Gateway HTTP API (payload 2.0) requests: served by
//     the same HTTP handler as `ghsync serve` (webhooks, read API, health).
//
// Failures are returned as errors, which the runtime reports through the
// Runtime API's invocation error endpoint; configuration errors at start-up
// are reported through the init error endpoint (see Main).
package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/serve"
	"github.com/ghsync/ghsync/internal/statuses"
)

// Error types reported to the Runtime API (the errorType of an invocation error).
const (
	ErrTypeBadEvent   = "BadEvent"
	ErrTypeConfig     = "ConfigError"
	ErrTypeJobFailed  = "JobFailed"
	ErrTypeNoInbox    = "InboxUnavailable"
	ErrTypeHTTPFailed = "HTTPHandlerFailed"
)

// LambdaDatabase is the database used for webhooks when the config keeps the
// default relative SQLite path (the package directory is read-only). /tmp is
// per execution environment and lost when it is recycled: not durable.
const LambdaDatabase = "sqlite:///tmp/ghsync/ghsync.db"

// Handler answers Lambda invocations for one configuration. Create it with
// New; it is safe for concurrent use.
type Handler struct {
	cfg    *config.Config
	runner *jobs.Runner
	log    *slog.Logger
	getenv func(string) string

	mu  sync.Mutex
	web *serve.Server // built on the first HTTP event
}

// Response is the JSON answer to a job invocation.
type Response struct {
	// Job is the job that ran ("statuses" for a legacy status input).
	Job string `json:"job"`
	// Kind is the job's kind.
	Kind string `json:"kind"`
	// Via says how the event arrived ("direct", "eventbridge").
	Via string `json:"via"`
	// DryRun echoes the run's dry-run switch.
	DryRun bool `json:"dry_run"`
	// Changed reports whether the run changed anything.
	Changed bool `json:"changed"`
	// Summary is the capability's summary.
	Summary any `json:"summary,omitempty"`
}

// New returns a Handler over cfg. getenv supplies the environment (os.Getenv
// in production); logger receives logs (nil discards them).
func New(cfg *config.Config, logger *slog.Logger, getenv func(string) string) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return &Handler{cfg: cfg, log: logger, getenv: getenv,
		runner: &jobs.Runner{Config: cfg, Logger: logger, Getenv: getenv}}
}

// Invoke handles one invocation payload and returns the response payload.
// Errors are messages.InvokeResponse_Error values whose Type is one of the
// ErrType constants.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	ev, err := Classify(payload)
	if err != nil {
		return nil, invokeErr(ErrTypeBadEvent, err)
	}
	h.log.Info("invocation", "shape", string(ev.Shape), "via", ev.Via, "job", ev.Job)
	switch ev.Shape {
	case ShapeJob:
		return h.runJob(ctx, ev)
	case ShapeLegacyStatuses:
		return h.runLegacy(ctx, ev)
	case ShapeS3:
		return nil, h.routeS3(ev)
	case ShapeHTTP:
		return h.serveHTTP(ctx, ev.Input)
	}
	return nil, invokeErr(ErrTypeBadEvent, fmt.Errorf("event shape %q is not handled", ev.Shape))
}

func (h *Handler) runJob(ctx context.Context, ev *Event) ([]byte, error) {
	res, err := h.runner.Run(ctx, ev.Job, jobs.RunOptions{DryRun: ev.DryRun})
	if err != nil {
		if res != nil && res.Summary != nil {
			h.log.Error("job failed", "job", ev.Job, "summary", res.Summary, "err", err)
		}
		typ := ErrTypeJobFailed
		if errors.Is(err, jobs.ErrUsage) {
			typ = ErrTypeConfig
		}
		return nil, invokeErr(typ, fmt.Errorf("job %s: %s", ev.Job, strings.ReplaceAll(err.Error(), jobs.ErrUsage.Error()+": ", "")))
	}
	return marshal(Response{Job: res.Job, Kind: res.Kind, Via: ev.Via, DryRun: ev.DryRun, Changed: res.Changed, Summary: res.Summary})
}

// runLegacy runs the status snapshot the original status Lambda would have
// run for its input. The destination is the configured statuses job for the
// same repository when there is one, else s3://$bucket/.
func (h *Handler) runLegacy(ctx context.Context, ev *Event) ([]byte, error) {
	placeholder := false
	getenv := func(k string) string {
		v := h.getenv(k)
		if k == "bucket" && v == "" {
			placeholder = true
			return "ghsync-placeholder"
		}
		return v
	}
	job, err := statuses.FromLegacy(getenv, ev.Input)
	if err != nil {
		return nil, invokeErr(ErrTypeBadEvent, fmt.Errorf("status Lambda input: %w", err))
	}
	sj := job.Statuses
	if cj := h.statusesJobFor(sj.Repo); cj != nil {
		sj.Dest, sj.Format = cj.Statuses.Dest, cj.Statuses.Format
		job.Name = cj.Name
	} else if placeholder {
		return nil, invokeErr(ErrTypeConfig, fmt.Errorf("status Lambda input for %s: no statuses job for that repository in %s and no `bucket` environment variable", sj.Repo, h.configName()))
	}
	sum, err := h.runner.Statuses(ctx, sj, jobs.RunOptions{DryRun: ev.DryRun})
	if err != nil {
		return nil, invokeErr(ErrTypeJobFailed, fmt.Errorf("status snapshot of %s: %s", sj.Repo, strings.ReplaceAll(err.Error(), jobs.ErrUsage.Error()+": ", "")))
	}
	resp := Response{Job: job.Name, Kind: config.KindStatuses, Via: ev.Via, DryRun: ev.DryRun, Summary: sum}
	if sum != nil {
		resp.Changed = sum.Changed()
	}
	return marshal(resp)
}

func (h *Handler) statusesJobFor(repo string) *config.Job {
	for _, j := range h.cfg.Jobs {
		if j.Statuses != nil && strings.EqualFold(j.Statuses.Repo, repo) {
			return j
		}
	}
	return nil
}

// routeS3 finds the inbox job watching each object's bucket. The inbox
// capability does not exist yet, so this always fails, saying where the
// event would have gone.
func (h *Handler) routeS3(ev *Event) error {
	if len(ev.Objects) == 0 {
		return invokeErr(ErrTypeBadEvent, errors.New("S3 event without objects"))
	}
	seen := map[string]bool{}
	var parts []string
	for _, o := range ev.Objects {
		if seen[o.Bucket] {
			continue
		}
		seen[o.Bucket] = true
		job := WatchingJob(h.cfg, o.Bucket)
		if job == nil {
			return invokeErr(ErrTypeConfig, fmt.Errorf("S3 event for bucket %q: no inbox job in %s watches that bucket", o.Bucket, h.configName()))
		}
		parts = append(parts, fmt.Sprintf("bucket %q → job %q", o.Bucket, job.Name))
	}
	return invokeErr(ErrTypeNoInbox, fmt.Errorf("inbox capability not available yet: %d object(s) via %s (%s)", len(ev.Objects), ev.Via, strings.Join(parts, ", ")))
}

func (h *Handler) configName() string {
	if h.cfg.File == "" {
		return "the embedded defaults"
	}
	return h.cfg.File
}

func invokeErr(typ string, err error) error {
	return messages.InvokeResponse_Error{Type: typ, Message: err.Error()}
}

func marshal(v any) ([]byte, error) {
	out, err := json.Marshal(v)
	if err != nil {
		return nil, invokeErr(ErrTypeJobFailed, fmt.Errorf("encode response: %w", err))
	}
	return out, nil
}

// Close releases the webhook server (database, archive flush) if one was
// built. ctx bounds the archive flush.
func (h *Handler) Close(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.web == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- h.web.Close() }()
	select {
	case err := <-done:
		h.web = nil
		return err
	case <-ctx.Done():
		return fmt.Errorf("close webhook server: %w", ctx.Err())
	case <-time.After(10 * time.Second):
		return errors.New("close webhook server: timed out after 10s")
	}
}
