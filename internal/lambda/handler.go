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
//   - S3, SQS-wrapped S3 and EventBridge S3 events: each object routed to the
//     jobs watching its bucket and prefix (kinds that handle object-created
//     events, such as the inbox);
//   - Function URL / API Gateway HTTP API (payload 2.0) requests: the
//     webhook deliveries (POST to webhooks.path, and to the CircleCI path
//     when configured) are served by the same handler as in `ghsync serve`,
//     GET /healthz answers; everything else is 404 without opening the
//     database (the URL is public: the read API and metrics are not served).
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
)

// Error types reported to the Runtime API (the errorType of an invocation error).
const (
	ErrTypeBadEvent   = "BadEvent"
	ErrTypeConfig     = "ConfigError"
	ErrTypeJobFailed  = "JobFailed"
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
		runner: &jobs.Runner{Config: cfg, Logger: logger, Getenv: getenv, StateInStores: true}}
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
		return h.routeS3(ctx, ev)
	case ShapeHTTP:
		return h.serveHTTP(ctx, ev.Input)
	}
	return nil, invokeErr(ErrTypeBadEvent, fmt.Errorf("event shape %q is not handled", ev.Shape))
}

func (h *Handler) runJob(ctx context.Context, ev *Event) ([]byte, error) {
	res, err := h.runner.Run(ctx, ev.Job, jobs.RunOptions{DryRun: ev.DryRun})
	return h.respond(ev, res, err, "job "+ev.Job)
}

// respond turns a run's outcome into the invocation's answer: the Response,
// or an error typed ConfigError (usage) or JobFailed, prefixed with what ran.
func (h *Handler) respond(ev *Event, res *jobs.Result, err error, what string) ([]byte, error) {
	if err != nil {
		if res != nil && res.Summary != nil {
			h.log.Error("job failed", "job", res.Job, "summary", res.Summary, "err", err)
		}
		typ := ErrTypeJobFailed
		if errors.Is(err, jobs.ErrUsage) {
			typ = ErrTypeConfig
		}
		return nil, invokeErr(typ, fmt.Errorf("%s: %w", what, err))
	}
	return marshal(Response{Job: res.Job, Kind: res.Kind, Via: ev.Via, DryRun: ev.DryRun, Changed: res.Changed, Summary: res.Summary})
}

// runLegacy runs the status snapshot the original status Lambda would have
// run for its input, through the same Run path as configured jobs (alerts,
// result). The destination, format and alerts are those of the configured
// statuses job for the same repository when there is one, else the job
// writes v5 to s3://$bucket/.
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
	job, err := FromLegacy(jobs.KindStatuses, getenv, ev.Input)
	if err != nil {
		return nil, invokeErr(ErrTypeBadEvent, fmt.Errorf("status Lambda input: %w", err))
	}
	sj := jobs.StatusesOf(job)
	if cj := jobs.StatusesJobFor(h.cfg, sj.Repo); cj != nil {
		c := jobs.StatusesOf(cj)
		sj.Dest, sj.Format = c.Dest, c.Format
		job.Name, job.Alerts = cj.Name, cj.Alerts
	} else if placeholder {
		return nil, invokeErr(ErrTypeConfig, fmt.Errorf("status Lambda input for %s: no statuses job for that repository in %s and no `bucket` environment variable", sj.Repo, h.configName()))
	}
	res, err := h.runner.RunJob(ctx, job, jobs.RunOptions{DryRun: ev.DryRun})
	if err != nil && !errors.Is(err, jobs.ErrUsage) {
		return nil, invokeErr(ErrTypeJobFailed, fmt.Errorf("status snapshot of %s: %w", sj.Repo, err))
	}
	return h.respond(ev, res, err, "status snapshot of "+sj.Repo)
}

// routeS3 passes each object of an S3 event to the jobs watching its
// bucket and prefix (kinds that handle object-created events), each job
// once per event with all of its objects. Every job runs even when another
// failed; the answer lists each job's result, and the invocation fails
// when any job failed or an object has no watching job.
func (h *Handler) routeS3(ctx context.Context, ev *Event) ([]byte, error) {
	if len(ev.Objects) == 0 {
		return nil, invokeErr(ErrTypeBadEvent, errors.New("S3 event without objects"))
	}
	reg := h.runner.Registry()
	var order []*config.Job
	perJob := map[*config.Job][]jobs.Object{}
	var unrouted []string
	for _, o := range ev.Objects {
		watching := reg.Watching(h.cfg, o.Bucket, o.Key)
		if len(watching) == 0 {
			unrouted = append(unrouted, fmt.Sprintf("s3://%s/%s", o.Bucket, o.Key))
			continue
		}
		for _, j := range watching {
			if _, ok := perJob[j]; !ok {
				order = append(order, j)
			}
			perJob[j] = append(perJob[j], jobs.Object{Bucket: o.Bucket, Key: o.Key, Size: o.Size, ETag: o.ETag})
		}
	}
	if len(order) == 0 {
		return nil, invokeErr(ErrTypeConfig, fmt.Errorf("S3 event for %s: no job in %s watches that bucket and prefix", strings.Join(unrouted, ", "), h.configName()))
	}
	var out []Response
	var errs []error
	usage := true
	for _, j := range order {
		res, err := h.runner.HandleObjects(ctx, j, perJob[j], jobs.RunOptions{DryRun: ev.DryRun})
		if err != nil {
			errs = append(errs, fmt.Errorf("job %s: %w", j.Name, err))
			usage = usage && errors.Is(err, jobs.ErrUsage)
			if res != nil && res.Summary != nil {
				h.log.Error("job failed", "job", j.Name, "summary", res.Summary, "err", err)
			}
			continue
		}
		out = append(out, Response{Job: res.Job, Kind: res.Kind, Via: ev.Via, DryRun: ev.DryRun, Changed: res.Changed, Summary: res.Summary})
	}
	if len(unrouted) > 0 {
		errs = append(errs, fmt.Errorf("no job watches %s", strings.Join(unrouted, ", ")))
		usage = false
	}
	if len(errs) > 0 {
		typ := ErrTypeJobFailed
		if usage {
			typ = ErrTypeConfig
		}
		return nil, invokeErr(typ, errors.Join(errs...))
	}
	if len(out) == 1 {
		return marshal(out[0])
	}
	return marshal(out)
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
