package webhooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/webhooks/logs"
)

// DefaultMaxBodyBytes is GitHub's own cap on a webhook payload (25 MB).
const DefaultMaxBodyBytes = 25 << 20

// Config configures a [Service]. DB is required; so is at least one secret
// unless InsecureNoSignature is set.
type Config struct {
	// DB holds deliveries and projections; Migrate must have run on it.
	DB *db.DB
	// Secrets are the webhook secrets; a delivery signed with any of them is
	// accepted (rotation: configure old and new, then drop the old).
	Secrets []string
	// InsecureNoSignature accepts unsigned deliveries. Only for local testing.
	InsecureNoSignature bool
	// Disabled keeps the service (worker, archive, queries) but makes the
	// receiver answer 503 to every delivery: what `ghsync serve` does when
	// no secret is configured, so the rest of the server still runs.
	Disabled bool
	// MaxBodyBytes caps the request body (413 above). 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxAttempts is how many times processing a delivery is tried before it is
	// left with its last_error for an operator. 0 means 10.
	MaxAttempts int
	// RetryBase is the first retry delay, doubled per attempt up to 10 minutes.
	// 0 means 1 second.
	RetryBase time.Duration
	// Archive configures the raw archive; a nil Archive.Bucket disables it.
	Archive ArchiveConfig
	// Logs, when set, downloads and classifies the logs of completed
	// workflow jobs: the worker queues them in the projection transaction,
	// Start starts the downloader and Close stops it. Build it with
	// logs.New (same DB). Nil: no logs.
	Logs *logs.Downloader
	// Dynamo writes the projections to DynamoDB too, or only there
	// (Dynamo.Only); a nil Dynamo.Writer disables it.
	Dynamo DynamoConfig
	// Retention is how long stored deliveries are kept (0: forever);
	// payloads leave SQL once processed and archived. See Prune.
	Retention time.Duration
	// PruneInterval is how often Start's background step prunes (0 means
	// 1 minute); each step deletes in bounded batches.
	PruneInterval time.Duration
	// Logger receives operational logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the webhook metrics; nil means a private registry.
	Registerer prometheus.Registerer
}

// ArchiveConfig configures the raw archive of deliveries to a bucket.
type ArchiveConfig struct {
	// Bucket is where archive objects are written (already prefixed as the
	// user configured), through store.Bucket.Put: keys checked against the
	// scheme, requests counted in its Stats. Nil disables the archive. The
	// Service does not close it.
	Bucket *store.Bucket
	// BatchBytes flushes a batch once this many payload bytes are pending.
	// 0 means 64 MiB.
	BatchBytes int64
	// BatchAge flushes a batch once its oldest delivery is this old. 0 means 5 minutes.
	BatchAge time.Duration
	// PerDelivery also writes one object per delivery at EVENT/DELIVERY_ID.json.
	PerDelivery bool
	// Interval is how often pending work is checked. 0 means min(BatchAge/4, 10s).
	Interval time.Duration
}

// Service receives, stores, projects and archives webhook deliveries.
// Create it with [New], serve [Service.Handler], call [Service.Start] to begin
// background processing, and [Service.Close] after the HTTP server has stopped.
type Service struct {
	cfg     Config
	secrets [][]byte
	log     *slog.Logger
	m       *metrics

	committer *committer
	poke      chan struct{}

	startOnce sync.Once
	closeOnce sync.Once
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	archiver  *archiver

	dynamoPoke chan struct{}
}

// New validates cfg and returns a Service whose receiver can commit
// deliveries immediately. It refuses a configuration with no secret unless
// InsecureNoSignature is set.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil {
		return nil, errors.New("webhooks: Config.DB is required")
	}
	var secrets [][]byte
	for _, s := range cfg.Secrets {
		if s != "" {
			secrets = append(secrets, []byte(s))
		}
	}
	if len(secrets) == 0 && !cfg.InsecureNoSignature && !cfg.Disabled {
		return nil, errors.New("webhooks: no webhook secret configured (set webhooks.secrets or GHSYNC_WEBHOOK_SECRET, or insecure_no_signature: true for local testing)")
	}
	if cfg.Dynamo.Only && cfg.Dynamo.Writer == nil {
		return nil, errors.New("webhooks: Config.Dynamo.Only (projections only in DynamoDB) needs Config.Dynamo.Writer")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, secrets: secrets, log: cfg.Logger, m: m, poke: make(chan struct{}, 1), dynamoPoke: make(chan struct{}, 1)}
	switch {
	case cfg.Logs != nil && cfg.Dynamo.Only:
		cfg.Logs.SetAfterRecord(func(ctx context.Context, tx *db.Tx, jobKey string) error {
			return queueDynamoClassification(ctx, tx, jobKey)
		})
	case cfg.Logs != nil && cfg.Dynamo.Writer != nil:
		cfg.Logs.SetAfterRecord(func(ctx context.Context, tx *db.Tx, jobKey string) error {
			return s.queueDynamo(ctx, tx, "workflow_job", jobKey)
		})
	}
	s.committer = newCommitter(cfg.DB, cfg.Logger, m, s.wake)
	if cfg.Archive.Bucket != nil {
		s.archiver = newArchiver(cfg.DB, cfg.Archive, cfg.Logger, m)
	}
	if cfg.InsecureNoSignature {
		cfg.Logger.Warn("webhook signatures are NOT checked (insecure_no_signature)")
	}
	return s, nil
}

// wake tells the worker there may be new deliveries, without blocking.
func (s *Service) wake() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// Start begins background processing (projections, retries, archive) of
// stored deliveries, including those left unprocessed by a previous run. It
// returns immediately; call Close to stop.
func (s *Service) Start() {
	s.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.workLoop(ctx) }()
		if s.archiver != nil {
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.archiver.loop(ctx) }()
		}
		if s.cfg.Logs != nil {
			s.cfg.Logs.Start()
		}
		if s.cfg.Dynamo.Writer != nil {
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.dynamoLoop(ctx) }()
		}
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.pruneLoop(ctx) }()
	})
}

// Prune applies the retention once (see the package function Prune): it
// deletes payloads of processed, archived deliveries and, with Retention
// set, deliveries received longer ago, in bounded batches.
func (s *Service) Prune(ctx context.Context) (PruneStats, error) {
	return Prune(ctx, s.cfg.DB, PruneOptions{Retention: s.cfg.Retention, Archive: s.archiver != nil, MaxAttempts: s.cfg.MaxAttempts})
}

// pruneLoop calls Prune every PruneInterval (sooner while a call reports
// more to do) until ctx ends.
func (s *Service) pruneLoop(ctx context.Context) {
	every := s.cfg.PruneInterval
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := s.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("pruning webhook deliveries (will retry)", "err", err)
		case st.Payloads+st.Deliveries+st.Requests > 0:
			s.log.Debug("pruned webhook deliveries", "payloads", st.Payloads, "deliveries", st.Deliveries, "redelivery_requests", st.Requests)
		}
		s.m.pruned.WithLabelValues("payload").Add(float64(st.Payloads))
		s.m.pruned.WithLabelValues("delivery").Add(float64(st.Deliveries))
		next := every
		if st.More {
			next = every / 10
		}
		t.Reset(next)
	}
}

// Close stops accepting commits (the receiver answers 503 afterwards), stops
// the worker after its current batch, and flushes the archive of every stored
// delivery, giving up when ctx ends. Call it after the HTTP server has
// finished its in-flight requests.
func (s *Service) Close(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() {
		s.committer.close()
		if s.cancel != nil {
			s.cancel()
		}
		s.wg.Wait()
		if s.cfg.Logs != nil {
			if lerr := s.cfg.Logs.Stop(ctx); lerr != nil {
				err = lerr
			}
		}
		if s.archiver != nil {
			if ferr := s.archiver.flush(ctx, true); ferr != nil {
				err = errors.Join(err, fmt.Errorf("final archive flush: %w", ferr))
			}
		}
	})
	return err
}
