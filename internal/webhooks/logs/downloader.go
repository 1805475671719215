// Package logs downloads, stores and classifies the logs of completed GitHub
// Actions jobs (docs/webhooks.md, "CI job logs and their classification").
//
// The webhook worker queues a job in the same transaction that projects its
// completed workflow_job delivery ([Downloader.EnqueueTx]); the Downloader
// works the queue off in the background with bounded concurrency, so
// receiving deliveries never waits for a download:
//
//	GET /repos/{o}/{r}/actions/jobs/{id}/logs   (API credentials; 302 not followed)
//	GET <Location>                              (plain client: no GitHub token)
//	→ gzip → DEST/log/OWNER/REPO/JOB_ID         (metadata conclusion, job-id, repo)
//	→ classify (the last MaxClassifyBytes)      → DEST/log/OWNER/REPO/JOB_ID.classification.json
//	→ workflow_job.classification, classification_rule
//
// A log that is not there yet (404 right after completion) and other
// transient failures are retried with exponential backoff; after MaxAttempts
// the row is left in state "failed" with its last error (and counted in
// ghsync_webhook_log_downloads_total{result="failed"}). 410 (logs expired or
// deleted) is final at once ("gone").
//
// Life cycle: New, then Start/Stop for a server (webhooks.Service does this
// when Config.Logs is set), or RunOnce for a one-shot run (Lambda, tests).
package logs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/webhooks/classify"
)

// APIClient is the GitHub side the Downloader needs; *github.Client
// satisfies it.
type APIClient interface {
	// HTTPClient returns a client authenticated for owner's repositories.
	HTTPClient(ctx context.Context, owner string) (*http.Client, error)
	// BaseURL is the API root with a trailing slash.
	BaseURL() string
}

// Defaults of Options.
const (
	DefaultConcurrency      = 4
	DefaultMaxClassifyBytes = 16 << 20
	DefaultMaxAttempts      = 12
	DefaultRetryBase        = 15 * time.Second
	DefaultLease            = 15 * time.Minute
)

// Options configures a Downloader. DB, GitHub and Bucket are required.
type Options struct {
	DB     *db.DB
	GitHub APIClient
	// BlobClient fetches the redirect target. It must not add credentials;
	// nil means a plain client with a 10-minute timeout.
	BlobClient *http.Client
	// Bucket is DEST (already scoped to its prefix); logs go to
	// log/OWNER/REPO/JOB_ID. The Downloader does not close it.
	Bucket *store.Bucket
	// Classifier classifies each log; nil means the built-in ruleset.
	Classifier *classify.Classifier
	// Policy chooses the jobs whose logs are downloaded.
	Policy Policy
	// Concurrency bounds downloads in flight (default 4).
	Concurrency int
	// CPUWorkers bounds the downloads compressing or classifying at the
	// same time (default half the cores, at least 1), so that working off a
	// backlog of logs leaves the webhook receiver the other cores.
	CPUWorkers int
	// MaxClassifyBytes caps what is classified: a longer log is stored whole
	// and classified on its last MaxClassifyBytes (default 16 MiB). It is
	// also the memory one download holds.
	MaxClassifyBytes int
	// MaxAttempts is how many tries a log gets (default 12).
	MaxAttempts int
	// RetryBase is the first retry delay, doubled per attempt up to 10
	// minutes (default 15 s: GitHub often answers 404 for a few seconds
	// after a job completes).
	RetryBase time.Duration
	// Lease is how long a claimed download may run before another worker may
	// take it over (a crashed server's downloads resume). Default 15 minutes.
	Lease time.Duration
	// Logger receives operational logs (never a download URL: they are signed).
	Logger *slog.Logger
	// Registerer receives the metrics; nil means a private registry.
	Registerer prometheus.Registerer
	// AfterRecord, when set, runs in the transaction that records a job's
	// classification (on its log_downloads row and its workflow_job row, key
	// OWNER/REPO/JOB_ID); an error rolls the record back and the download is
	// retried. webhooks.New sets it to queue the classification for DynamoDB.
	AfterRecord func(ctx context.Context, tx *db.Tx, jobKey string) error
}

// Downloader works off the log_downloads queue.
type Downloader struct {
	o    Options
	log  *slog.Logger
	m    *metrics
	poke chan struct{}

	rec  recorder
	gate cpuGate
	gz   gzipWriters

	startOnce sync.Once
	stopOnce  sync.Once
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New validates o and returns a Downloader. It makes no request.
func New(o Options) (*Downloader, error) {
	switch {
	case o.DB == nil:
		return nil, errors.New("logs: Options.DB is required")
	case o.GitHub == nil:
		return nil, errors.New("logs: Options.GitHub is required")
	case o.Bucket == nil:
		return nil, errors.New("logs: Options.Bucket is required (webhooks.logs.dest or webhooks.archive.dest)")
	}
	if err := o.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("logs: %w", err)
	}
	if o.Classifier == nil {
		c, err := classify.New(classify.DefaultRuleset(), classify.Options{})
		if err != nil {
			return nil, fmt.Errorf("logs: built-in ruleset: %w", err)
		}
		o.Classifier = c
	}
	if o.BlobClient == nil {
		o.BlobClient = &http.Client{Timeout: 10 * time.Minute}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.CPUWorkers <= 0 {
		o.CPUWorkers = defaultCPUWorkers()
	}
	if o.MaxClassifyBytes <= 0 {
		o.MaxClassifyBytes = DefaultMaxClassifyBytes
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.RetryBase <= 0 {
		o.RetryBase = DefaultRetryBase
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry()
	}
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	return &Downloader{o: o, log: o.Logger, m: m, poke: make(chan struct{}, 1), gate: make(cpuGate, o.CPUWorkers)}, nil
}

// SetAfterRecord sets Options.AfterRecord; call it before Start.
func (d *Downloader) SetAfterRecord(fn func(ctx context.Context, tx *db.Tx, jobKey string) error) {
	d.o.AfterRecord = fn
}

// Wake tells the Downloader new work may be queued, without blocking.
func (d *Downloader) Wake() {
	select {
	case d.poke <- struct{}{}:
	default:
	}
}

// Start begins working off the queue in the background, including work left
// by a previous run. It returns immediately.
func (d *Downloader) Start() {
	d.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		d.cancel = cancel
		d.wg.Add(1)
		go func() { defer d.wg.Done(); d.loop(ctx) }()
	})
}

// Stop stops claiming work, cancels the downloads in flight (they are put
// back in the queue) and waits for them, or for ctx.
func (d *Downloader) Stop(ctx context.Context) error {
	d.stopOnce.Do(func() {
		if d.cancel != nil {
			d.cancel()
		}
	})
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("logs: stop: %w", ctx.Err())
	}
}

func (d *Downloader) loop(ctx context.Context) {
	sem := make(chan struct{}, d.o.Concurrency)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		free := d.o.Concurrency - len(sem)
		if free > 0 {
			jobs, err := d.claim(ctx, free, db.Now())
			if err != nil && ctx.Err() == nil {
				d.log.Error("claim log downloads", "err", err)
			}
			for _, j := range jobs {
				sem <- struct{}{}
				d.wg.Add(1)
				go func() {
					defer d.wg.Done()
					d.process(ctx, j)
					<-sem
					d.Wake()
				}()
			}
		}
		t.Reset(time.Second)
		select {
		case <-ctx.Done():
			return
		case <-d.poke:
			// Let a few more downloads finish or arrive so that one claim
			// transaction covers them.
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		case <-t.C:
		}
	}
}

// Summary counts what one RunOnce did; it is JSON-encodable.
type Summary struct {
	Stored     int    `json:"stored"`
	Classified int    `json:"classified"`
	Retried    int    `json:"retried"`
	Failed     int    `json:"failed"`
	Error      string `json:"error,omitempty"`
}

// SetError records the run's error in the summary's JSON form.
func (s *Summary) SetError(msg string) { s.Error = msg }

// RunOnce works off every download due now with bounded concurrency and
// returns the counts; downloads that must be retried stay queued. It returns
// an error (with the summary) when some log failed for good.
func (d *Downloader) RunOnce(ctx context.Context) (*Summary, error) {
	var sum Summary
	var mu sync.Mutex
	asOf := db.Now() // a retry scheduled during this run waits for the next
	for {
		jobs, err := d.claim(ctx, 4*d.o.Concurrency, asOf) // small batches: leases stay short
		if err != nil {
			return &sum, err
		}
		if len(jobs) == 0 {
			break
		}
		sem := make(chan struct{}, d.o.Concurrency)
		var wg sync.WaitGroup
		for _, j := range jobs {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := d.process(ctx, j)
				<-sem
				mu.Lock()
				defer mu.Unlock()
				switch r {
				case resultStored:
					sum.Stored++
					sum.Classified++
				case resultRetry:
					sum.Retried++
				case resultFailed:
					sum.Failed++
				}
			}()
		}
		wg.Wait()
		if ctx.Err() != nil {
			return &sum, ctx.Err()
		}
	}
	if sum.Failed > 0 {
		return &sum, fmt.Errorf("logs: %d log download(s) failed for good; see log_downloads.last_error", sum.Failed)
	}
	return &sum, nil
}
