package serve

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/ghsync/ghsync/internal/awsapi"
	"github.com/ghsync/ghsync/internal/store"
	"github.com/ghsync/ghsync/internal/webhooks"
	"github.com/ghsync/ghsync/internal/webhooks/circleci"
	"github.com/ghsync/ghsync/internal/webhooks/classify"
	"github.com/ghsync/ghsync/internal/webhooks/dynamo"
	"github.com/ghsync/ghsync/internal/webhooks/logs"

	"github.com/ghsync/ghsync/internal/slogx"
)

// CircleCIPath is where CircleCI posts its webhooks.
const CircleCIPath = "/api/circleci/webhooks"

// LogsOptions configures the download and classification of the logs of
// completed workflow jobs (docs/webhooks.md, "CI job logs and their
// classification"). GitHub and Dest are required.
type LogsOptions struct {
	// GitHub is the API client the log URLs are asked from (the redirect
	// target is fetched without its credentials).
	GitHub logs.APIClient
	// Dest is the store URL + prefix logs go to (DEST/log/OWNER/REPO/JOB_ID).
	Dest string
	// Policy chooses the jobs whose logs are downloaded.
	Policy logs.Policy
	// Classifier classifies the logs; nil means the built-in ruleset.
	Classifier *classify.Classifier
	// Concurrency bounds downloads in flight (default 4).
	Concurrency int
	// CPUWorkers bounds downloads compressing or classifying at once
	// (default half the cores, at least 1).
	CPUWorkers int
	// MaxClassifyBytes: a longer log is classified on its tail (default 16 MiB).
	MaxClassifyBytes int
	// BlobClient fetches the redirect target (nil: a plain client); tests.
	BlobClient *http.Client
	// RetryBase is the first retry delay of a log not there yet (default 15s); tests.
	RetryBase time.Duration
}

// DynamoOptions writes the projections to DynamoDB tables, as a mirror of
// the SQL projection tables or (Only) instead of them.
type DynamoOptions struct {
	// TablePrefix prefixes the table names ("" means torchci-).
	TablePrefix string
	// Only writes projections only to DynamoDB
	// (webhooks.dynamodb.sql_projections: false): the SQL projection tables
	// stay empty and GET /api/events/{table} answers 409 naming the
	// DynamoDB table.
	Only bool
	// Region overrides the AWS SDK's region ("" keeps AWS_REGION / the
	// shared configuration).
	Region string
	// Client, when not nil, is used as is (tests); otherwise one is built
	// (awsapi, dynamo.Service) from the AWS SDK's default configuration
	// (environment, shared files, role; AWS_ENDPOINT_URL_DYNAMODB for an
	// emulator).
	Client *awsapi.Client
}

// openLogs builds the log downloader of opts.Logs (nil when not configured).
// The bucket it opens is closed by Close.
func (s *Server) openLogs(ctx context.Context) (*logs.Downloader, error) {
	lo := s.opts.Logs
	if lo == nil {
		return nil, nil
	}
	if lo.GitHub == nil {
		return nil, errors.New("webhooks.logs: no GitHub client for the log downloads")
	}
	if lo.Dest == "" {
		return nil, errors.New("webhooks.logs: no destination (set webhooks.logs.dest or webhooks.archive.dest)")
	}
	// Logs are streamed up in small parts: one download holds little memory.
	b, err := store.Open(ctx, lo.Dest, store.Options{Logger: s.log, PartSize: store.MinPartSize, Concurrency: 2})
	if err != nil {
		return nil, fmt.Errorf("open the logs destination (webhooks.logs.dest): %w", err)
	}
	s.logsBucket = b
	dl, err := logs.New(logs.Options{DB: s.db, GitHub: lo.GitHub, Bucket: b, Classifier: lo.Classifier, Policy: lo.Policy,
		Concurrency: lo.Concurrency, CPUWorkers: lo.CPUWorkers, MaxClassifyBytes: lo.MaxClassifyBytes, BlobClient: lo.BlobClient, RetryBase: lo.RetryBase,
		Logger: s.log, Registerer: s.reg})
	if err != nil {
		return nil, err
	}
	return dl, nil
}

// openDynamo builds the DynamoDB mirror of opts.Dynamo (nil when not configured).
func (s *Server) openDynamo(ctx context.Context) (*dynamo.Writer, error) {
	do := s.opts.Dynamo
	if do == nil {
		return nil, nil
	}
	client := do.Client
	if client == nil {
		lo := []func(*awsconfig.LoadOptions) error{awsconfig.WithLogger(slogx.AWS(s.log))}
		if do.Region != "" {
			lo = append(lo, awsconfig.WithRegion(do.Region))
		}
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx, lo...)
		if err != nil {
			return nil, fmt.Errorf("webhooks.dynamodb: AWS configuration: %w", err)
		}
		if client, err = awsapi.New(ctx, awsCfg, dynamo.Service, ""); err != nil {
			return nil, fmt.Errorf("webhooks.dynamodb: %w", err)
		}
	}
	w, err := dynamo.New(client, do.TablePrefix)
	if err != nil {
		return nil, fmt.Errorf("webhooks.dynamodb: %w", err)
	}
	return w, nil
}

// openCircleCI builds the CircleCI receiver when a secret is configured and
// mounts it on CircleCIPath; archive is the raw archive bucket (or nil).
func (s *Server) openCircleCI(archive *webhooks.ArchiveConfig) error {
	if !hasSecret(s.opts.CircleCISecrets) {
		return nil
	}
	cs, err := circleci.New(circleci.Config{DB: s.db, Secrets: s.opts.CircleCISecrets, Archive: archive.Bucket,
		Logger: s.log, Registerer: s.reg})
	if err != nil {
		return err
	}
	s.circle = cs
	return nil
}

// Logs returns the log downloader (nil when logs are not configured), for
// one-shot runtimes (Lambda: RunOnce after each event) and the reconcile job.
func (s *Server) Logs() *logs.Downloader { return s.logs }

// CircleCI returns the CircleCI receiver (nil when no secret is configured).
func (s *Server) CircleCI() *circleci.Service { return s.circle }

// StartBackground starts the background work without listening: the webhook
// worker, archive, log downloads, DynamoDB mirror and CircleCI archive.
// Serve calls it; a runtime that only uses Handler (Lambda) calls it itself.
func (s *Server) StartBackground() {
	s.hooks.Start()
	if s.circle != nil {
		s.circle.Start()
	}
}

// closeCircleCI flushes the CircleCI archive (after HTTP has stopped).
func (s *Server) closeCircleCI(ctx context.Context) error {
	if s.circle == nil {
		return nil
	}
	c := s.circle
	s.circle = nil
	if err := c.Close(ctx); err != nil {
		return fmt.Errorf("circleci: %w", err)
	}
	return nil
}
