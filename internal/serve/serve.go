// Package serve is ghsync's long-running HTTP server (`ghsync serve`): the
// GitHub webhook receiver, health and metrics endpoints, and the read API, on
// one mux that later work (UI, schedules) extends with [Server.Handle].
//
// Routes:
//
//	POST /api/github/webhooks   (Options.WebhookPath) webhook receiver, see package webhooks
//	GET  /healthz               200 while the process is up
//	GET  /readyz                200 when the database answers, else 503
//	GET  /metrics               Prometheus metrics (a registry per Server)
//	GET  /api/deliveries        ?event=&since=&limit=&cursor=
//	GET  /api/events/{table}    ?repo=&status=&classification=&since=&limit=&cursor=
//	POST /api/circleci/webhooks CircleCI webhooks (when Options.CircleCISecrets is set)
//	GET|POST /ui/login, POST /ui/logout  browser sign-in (when Options.AuthToken is set)
//
// Who may call them: the receivers (signature-checked), /healthz, /readyz
// and the sign-in form are public ([Server.HandlePublic]); every other
// route, including those added with [Server.Handle], needs
// Options.AuthToken when it is set (auth.go). Without a token New refuses
// an Addr that is not loopback-only unless Options.InsecurePublicRead
// (exposure.go).
//
// Usage from the CLI:
//
//	err := serve.Run(ctx, serve.Options{Addr: "127.0.0.1:8080", DatabaseURL: "sqlite://./data/ghsync.db",
//		Secrets: secrets, ArchiveDest: "s3://bucket/prefix", Logger: log})
//
// or, to mount more handlers and background services (the scheduler) first:
//
//	srv, err := serve.New(ctx, opts)
//	srv.Handle("GET /ui/", uiHandler)
//	srv.AddService(sched) // started after the listener, stopped before the database closes
//	err = srv.Run(ctx)    // until ctx is cancelled; then graceful shutdown
package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/circleci"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
)

// Options configures a [Server]. Zero values take the documented defaults.
type Options struct {
	// Addr is the listen address; default 127.0.0.1:8080.
	Addr string
	// DatabaseURL is sqlite://PATH or postgres://…; default sqlite://./data/ghsync.db.
	DatabaseURL string
	// Secrets are the webhook secrets (several during a rotation). Required
	// unless InsecureNoSignature.
	Secrets []string
	// InsecureNoSignature accepts unsigned webhooks (local testing only).
	InsecureNoSignature bool
	// WebhookPath is where GitHub posts; default /api/github/webhooks.
	WebhookPath string
	// MaxBodyBytes caps a webhook body; default 25 MB (GitHub's cap).
	MaxBodyBytes int64
	// ArchiveDest is the raw-archive destination URL (see store.Open); empty
	// disables the archive.
	ArchiveDest string
	// ArchiveBatchBytes and ArchiveBatchAge trigger a batch flush; defaults
	// 64 MiB and 5 minutes.
	ArchiveBatchBytes int64
	ArchiveBatchAge   time.Duration
	// PerDelivery also archives one object per delivery (EVENT/DELIVERY_ID.json).
	PerDelivery bool
	// Retention is how long webhook deliveries are kept (webhooks.retention;
	// 0: forever); see webhooks.Prune.
	Retention time.Duration
	// ShutdownTimeout bounds the graceful shutdown (in-flight requests and the
	// final archive flush); default 30 seconds.
	ShutdownTimeout time.Duration
	// Logs, when set, downloads and classifies the logs of completed
	// workflow jobs in the background.
	Logs *LogsOptions
	// CircleCISecrets, when any is non-empty, mounts the CircleCI receiver
	// on POST /api/circleci/webhooks (several secrets for rotation).
	CircleCISecrets []string
	// Dynamo, when set, mirrors the projections to DynamoDB.
	Dynamo *DynamoOptions
	// AuthToken, when set, is required on every route but the public ones
	// (the webhook receivers, /healthz, /readyz and the sign-in form):
	// "Authorization: Bearer TOKEN", or the session cookie the sign-in form
	// at LoginPath sets. Without it the read API, UI and metrics are open,
	// which New allows only on a loopback-only Addr or with
	// InsecurePublicRead.
	AuthToken string
	// InsecurePublicRead lets a server without AuthToken listen on an
	// address that is not loopback-only (for a private network behind its
	// own authentication); New logs a warning saying so.
	InsecurePublicRead bool
	// Logger receives logs; nil discards them.
	Logger *slog.Logger
}

// Server is an assembled ghsync HTTP server. Create it with [New]; it owns the
// database and bucket it opened and releases them when Run returns.
type Server struct {
	opts   Options
	log    *slog.Logger
	db     *db.DB
	bucket *store.Bucket
	hooks  *webhooks.Service
	// logs, logsBucket, circle: see ci.go (nil when not configured).
	logs       *logs.Downloader
	logsBucket *store.Bucket
	circle     *circleci.Service
	mux        *http.ServeMux
	reg        *prometheus.Registry
	latency    *prometheus.HistogramVec
	services   []Service
	auth       *auth // nil: no token, every route open
	routeList  []Route
}

// Route is one registered mux pattern and whether it answers without the
// token.
type Route struct {
	Pattern string
	Public  bool
}

// Service is a background component that lives as long as the server, such
// as the job scheduler. Start must return once the service runs; Stop must
// finish or hand back its work before ctx ends, and release the service.
// Stop is also called, to release resources, on a service whose Start failed
// or was never called.
type Service interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// New checks who may read the server (a listener that is not loopback-only
// needs Options.AuthToken or Options.InsecurePublicRead, else an error
// matching ErrUnprotected before anything is opened), opens the database
// (running migrations), the archive bucket when configured, and assembles
// the routes. When no webhook secret is configured
// and InsecureNoSignature is false, the webhook endpoint refuses deliveries
// (503, logged at startup) while everything else runs. Call Run, or Close if
// Run is never called.
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if opts.DatabaseURL == "" {
		opts.DatabaseURL = "sqlite://./data/ghsync.db"
	}
	if opts.WebhookPath == "" {
		opts.WebhookPath = "/api/github/webhooks"
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := checkExposure(opts, opts.Logger); err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: opts.Logger, mux: http.NewServeMux(), reg: prometheus.NewRegistry()}
	if opts.AuthToken != "" {
		s.auth = newAuth(opts.AuthToken, opts.Logger)
	}
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ghsync_http_request_duration_seconds",
		Help:    "HTTP request latency by route and status code.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"route", "code"})
	s.reg.MustRegister(s.latency)

	var err error
	if s.db, err = db.Open(ctx, opts.DatabaseURL, opts.Logger); err != nil {
		return nil, err
	}
	if err := webhooks.Migrate(ctx, s.db); err != nil {
		s.Close()
		return nil, err
	}
	archive := webhooks.ArchiveConfig{BatchBytes: opts.ArchiveBatchBytes, BatchAge: opts.ArchiveBatchAge, PerDelivery: opts.PerDelivery}
	if opts.ArchiveDest != "" {
		if s.bucket, err = store.Open(ctx, opts.ArchiveDest, store.Options{Logger: opts.Logger}); err != nil {
			s.Close()
			return nil, fmt.Errorf("open webhook archive: %w", err)
		}
		archive.Bucket = s.bucket
	}
	disabled := !opts.InsecureNoSignature && !hasSecret(opts.Secrets)
	if disabled {
		opts.Logger.Warn("webhook endpoint DISABLED: no webhook secret configured; it answers 503 until webhooks.secrets or GHSYNC_WEBHOOK_SECRET is set",
			"path", opts.WebhookPath)
	}
	if s.logs, err = s.openLogs(ctx); err != nil {
		s.Close()
		return nil, err
	}
	dw, err := s.openDynamo(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.hooks, err = webhooks.New(webhooks.Config{
		DB: s.db, Secrets: opts.Secrets, InsecureNoSignature: opts.InsecureNoSignature, Disabled: disabled,
		MaxBodyBytes: opts.MaxBodyBytes, Archive: archive, Logs: s.logs, Dynamo: webhooks.DynamoConfig{Writer: dw, Only: s.dynamoOnly()},
		Retention: opts.Retention, Logger: opts.Logger, Registerer: s.reg,
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	if err := s.openCircleCI(&archive); err != nil {
		s.Close()
		return nil, err
	}
	s.routes()
	return s, nil
}

// Handle registers h on the server's mux (http.ServeMux pattern syntax, e.g.
// "GET /ui/"), behind the token when Options.AuthToken is set. Requests are
// measured in the latency histogram under pattern. Register before Run.
func (s *Server) Handle(pattern string, h http.Handler) {
	if s.auth != nil {
		h = s.auth.guard(h)
	}
	s.routeList = append(s.routeList, Route{Pattern: pattern})
	s.mux.Handle(pattern, s.measure(pattern, h))
}

// HandlePublic is Handle without the token: only for routes that
// authenticate themselves (webhook receivers check signatures) or reveal
// nothing (health).
func (s *Server) HandlePublic(pattern string, h http.Handler) {
	s.routeList = append(s.routeList, Route{Pattern: pattern, Public: true})
	s.mux.Handle(pattern, s.measure(pattern, h))
}

// Routes lists the registered patterns in registration order.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routeList...) }

// AuthRequired reports whether the token guards the routes registered with
// Handle.
func (s *Server) AuthRequired() bool { return s.auth != nil }

// AddService registers a background service: Serve starts services in the
// order added once it listens, and stops them in reverse order during the
// graceful shutdown (after HTTP has stopped, before the database closes).
// Register before Run. A service that was added but never started (Run not
// called, or an earlier service failed) is stopped by Close or Serve.
func (s *Server) AddService(svc Service) {
	s.services = append(s.services, svc)
}

// Handler returns the server's complete HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// DB returns the server's database (for handlers mounted with Handle).
func (s *Server) DB() *db.DB { return s.db }

// Registry returns the server's Prometheus registry, to add metrics to.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Webhooks returns the webhook service (for tests and later features).
func (s *Server) Webhooks() *webhooks.Service { return s.hooks }

// Run listens on Options.Addr and serves until ctx is cancelled, then shuts
// down gracefully: stops accepting, finishes in-flight requests, stops
// processing, flushes the archive, and closes the database.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		s.Close()
		return fmt.Errorf("listen on %s: %w", s.opts.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on an existing listener (which it closes).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		IdleTimeout: 120 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.StartBackground()
	s.log.Info("ghsync serve listening", "addr", ln.Addr().String(), "database", s.db.String(),
		"webhook_path", s.opts.WebhookPath, "archive", s.bucketURL(), "logs", s.logs != nil, "circleci", s.circle != nil,
		"dynamodb", s.opts.Dynamo != nil, "dynamodb_only", s.dynamoOnly())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var serveErr error
	if err := s.startServices(ctx); err != nil {
		serveErr = err
	} else {
		select {
		case <-ctx.Done():
		case serveErr = <-errc:
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	s.log.Info("ghsync serve shutting down")
	var errs []error
	if !errors.Is(serveErr, http.ErrServerClosed) && serveErr != nil {
		errs = append(errs, fmt.Errorf("serve: %w", serveErr))
	}
	if err := hs.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	errs = append(errs, s.stopServices(sctx))
	if err := s.closeCircleCI(sctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.hooks.Close(sctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// startServices starts the registered services in order; on failure it
// stops every service (started or not) and returns the error.
func (s *Server) startServices(ctx context.Context) error {
	for i, svc := range s.services {
		if err := svc.Start(ctx); err != nil {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
			defer cancel()
			return errors.Join(fmt.Errorf("start service %d: %w", i, err), s.stopServices(sctx))
		}
	}
	return nil
}

// stopServices stops the registered services in reverse order and forgets
// them, so that they are stopped once.
func (s *Server) stopServices(ctx context.Context) error {
	var errs []error
	for i := len(s.services) - 1; i >= 0; i-- {
		errs = append(errs, s.services[i].Stop(ctx))
	}
	s.services = nil
	return errors.Join(errs...)
}

// Close releases the database and bucket without a graceful shutdown; use it
// only when Run was never called. It is safe to call more than once.
func (s *Server) Close() error {
	var errs []error
	if len(s.services) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
		errs = append(errs, s.stopServices(ctx))
		cancel()
	}
	errs = append(errs, s.closeCircleCI(context.Background()))
	if s.hooks != nil {
		errs = append(errs, s.hooks.Close(context.Background()))
	} else if s.logs != nil {
		errs = append(errs, s.logs.Stop(context.Background())) // New failed after building it
	}
	if s.bucket != nil {
		errs = append(errs, s.bucket.Close())
	}
	if s.logsBucket != nil {
		errs = append(errs, s.logsBucket.Close())
		s.logsBucket = nil
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	return errors.Join(errs...)
}

func (s *Server) bucketURL() string {
	if s.bucket == nil {
		return "(disabled)"
	}
	return s.bucket.URL()
}

// Run builds a Server from opts and runs it until ctx is cancelled.
func Run(ctx context.Context, opts Options) error {
	s, err := New(ctx, opts)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// hasSecret reports whether any configured webhook secret is non-empty.
func hasSecret(secrets []string) bool {
	for _, x := range secrets {
		if x != "" {
			return true
		}
	}
	return false
}
