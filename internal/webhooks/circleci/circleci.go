// Package circleci receives CircleCI webhooks (docs/webhooks.md,
// "CircleCI"): POST /api/circleci/webhooks, verified with the
// circleci-signature header (v1=<hex HMAC-SHA256 of the body>, several
// secrets for rotation), stored durably before the 2xx answer
// (circleci_deliveries, deduplicated on the payload's id) and projected in
// the same transaction into circleci_job (one row per workflow or job,
// newest happened_at wins), then archived to the bucket as batched NDJSON.gz
// under circleci/event=TYPE/date=YYYY-MM-DD/hour=HH/FIRSTID-LASTID.ndjson.gz.
//
// The tables are created by webhooks.Migrate.
//
//	svc, err := circleci.New(circleci.Config{DB: d, Secrets: s, Archive: bkt})
//	mux.Handle("POST /api/circleci/webhooks", svc.Handler())
//	svc.Start()             // archive loop
//	… svc.Close(ctx)        // final archive flush
package circleci

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/store"
)

// SignatureHeader is the header CircleCI signs its webhooks in.
const SignatureHeader = "circleci-signature"

// DefaultMaxBodyBytes caps a CircleCI webhook body.
const DefaultMaxBodyBytes = 5 << 20

// Config configures a Service. DB and at least one secret are required.
type Config struct {
	DB      *db.DB
	Secrets []string
	// Archive, when not nil, receives the batched NDJSON.gz archive (already
	// scoped to the user's prefix), written with store.Bucket.Put. The
	// Service does not close it.
	Archive *store.Bucket
	// ArchiveInterval is how often pending deliveries are archived (default 1 minute).
	ArchiveInterval time.Duration
	// MaxBodyBytes caps the body (413 above); 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	Logger       *slog.Logger
	// Registerer receives ghsync_circleci_deliveries_total{outcome}; nil: a private registry.
	Registerer prometheus.Registerer
}

// Service receives, stores, projects and archives CircleCI webhooks.
type Service struct {
	cfg       Config
	secrets   [][]byte
	log       *slog.Logger
	delivered *prometheus.CounterVec
	archived  *prometheus.CounterVec

	startOnce sync.Once
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// New validates cfg.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil {
		return nil, errors.New("circleci: Config.DB is required")
	}
	var secrets [][]byte
	for _, s := range cfg.Secrets {
		if s != "" {
			secrets = append(secrets, []byte(s))
		}
	}
	if len(secrets) == 0 {
		return nil, errors.New("circleci: no webhook secret configured (webhooks.circleci.secrets)")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ArchiveInterval <= 0 {
		cfg.ArchiveInterval = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	s := &Service{cfg: cfg, secrets: secrets, log: cfg.Logger,
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_circleci_deliveries_total",
			Help: "CircleCI webhooks received, by outcome (stored, duplicate, unauthorized, bad_request, too_large, error).",
		}, []string{"outcome"}),
		archived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ghsync_circleci_archive_objects_total",
			Help: "CircleCI archive objects written, by result (ok, error).",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{s.delivered, s.archived} {
		if err := cfg.Registerer.Register(c); err != nil {
			return nil, fmt.Errorf("register circleci metrics: %w", err)
		}
	}
	return s, nil
}

// ErrSignature marks a missing or wrong circleci-signature.
var ErrSignature = errors.New("circleci signature invalid")

// VerifySignature checks a circleci-signature header value (comma-separated
// "vN=<hex>" entries; only v1, HMAC-SHA256 of body, is understood) against
// each secret in constant time.
func VerifySignature(header string, body []byte, secrets [][]byte) error {
	if strings.TrimSpace(header) == "" {
		return fmt.Errorf("%w: missing %s header", ErrSignature, SignatureHeader)
	}
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		v, hexSig, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v != "v1" {
			continue
		}
		b, err := hex.DecodeString(hexSig)
		if err != nil || len(b) != sha256.Size {
			continue
		}
		sigs = append(sigs, b)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("%w: no v1=<64 hex digits> entry in %s", ErrSignature, SignatureHeader)
	}
	for _, key := range secrets {
		m := hmac.New(sha256.New, key)
		m.Write(body)
		want := m.Sum(nil)
		for _, s := range sigs {
			if hmac.Equal(s, want) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: no configured secret matches", ErrSignature)
}

// Handler returns the receiver. Answers: 405 (not POST), 413 (too large),
// 401 (signature missing, malformed or wrong), 400 (not a CircleCI event
// JSON object with id and type), 202 stored, 200 duplicate id, 503 database
// unavailable. Nothing is stored unless the answer is 2xx.
func (s *Service) Handler() http.Handler { return http.HandlerFunc(s.receive) }

func (s *Service) receive(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "error", "method not allowed")
		return
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		s.delivered.WithLabelValues("too_large").Inc()
		reply(w, http.StatusRequestEntityTooLarge, "error", "body too large")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.delivered.WithLabelValues("too_large").Inc()
			reply(w, http.StatusRequestEntityTooLarge, "error", "body too large")
			return
		}
		s.delivered.WithLabelValues("bad_request").Inc()
		reply(w, http.StatusBadRequest, "error", "could not read body")
		return
	}
	if err := VerifySignature(r.Header.Get(SignatureHeader), body, s.secrets); err != nil {
		s.delivered.WithLabelValues("unauthorized").Inc()
		s.log.Warn("circleci webhook refused: bad signature", "remote", r.RemoteAddr, "err", err)
		reply(w, http.StatusUnauthorized, "error", "invalid signature")
		return
	}
	ev, err := Parse(body)
	if err != nil {
		s.delivered.WithLabelValues("bad_request").Inc()
		reply(w, http.StatusBadRequest, "error", err.Error())
		return
	}
	dup, err := s.store(r.Context(), ev, body, time.Now())
	if err != nil {
		s.delivered.WithLabelValues("error").Inc()
		s.log.Error("circleci webhook not stored", "id", ev.ID, "err", err)
		reply(w, http.StatusServiceUnavailable, "error", "delivery not stored, try again")
		return
	}
	if dup {
		s.delivered.WithLabelValues("duplicate").Inc()
		reply(w, http.StatusOK, "duplicate", ev.ID)
		return
	}
	s.delivered.WithLabelValues("stored").Inc()
	reply(w, http.StatusAccepted, "stored", ev.ID)
}

func reply(w http.ResponseWriter, code int, key, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{key: msg})
}

// Start begins archiving in the background (when an archive is configured).
func (s *Service) Start() {
	s.startOnce.Do(func() {
		if s.cfg.Archive == nil {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			t := time.NewTicker(s.cfg.ArchiveInterval)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				if err := s.FlushArchive(ctx); err != nil && ctx.Err() == nil {
					s.log.Error("archiving circleci deliveries (will retry)", "err", err)
				}
			}
		}()
	})
}

// Close stops the archive loop and archives what is pending, giving up when
// ctx ends.
func (s *Service) Close(ctx context.Context) error {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.cfg.Archive == nil {
		return nil
	}
	return s.FlushArchive(ctx)
}
