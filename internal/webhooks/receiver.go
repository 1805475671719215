package webhooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/go-github/v88/github"
)

// Handler returns the receiver for POST /api/github/webhooks (mount it at the
// configured path). It answers:
//
//   - 405 for a method other than POST;
//   - 413 when the body exceeds MaxBodyBytes;
//   - 401 when X-Hub-Signature-256 is missing, not sha256, or matches no secret
//     (unless InsecureNoSignature); SHA-1 X-Hub-Signature alone is refused;
//   - 400 when X-GitHub-Event or X-GitHub-Delivery is missing or the body is
//     not a JSON object;
//   - 202 once a new delivery is durably committed (200 for ping), 200 for a
//     delivery id already stored (nothing new is stored or processed);
//   - 503 when the database could not commit it (GitHub may redeliver).
//
// Nothing is stored unless the answer is 2xx.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(s.receive)
}

func (s *Service) receive(w http.ResponseWriter, r *http.Request) {
	event := r.Header.Get(github.EventTypeHeader)
	outcome := func(o string) { s.m.deliveries.WithLabelValues(s.m.eventLabel(event), o).Inc() }
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed, "error", "method not allowed")
		return
	}
	if s.cfg.Disabled {
		outcome("disabled")
		reply(w, http.StatusServiceUnavailable, "error", "webhook endpoint disabled: no webhook secret configured (webhooks.secrets or GHSYNC_WEBHOOK_SECRET)")
		return
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		outcome("too_large")
		reply(w, http.StatusRequestEntityTooLarge, "error", s.tooLarge())
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			outcome("too_large")
			reply(w, http.StatusRequestEntityTooLarge, "error", s.tooLarge())
			return
		}
		outcome("bad_request")
		reply(w, http.StatusBadRequest, "error", "could not read body")
		return
	}
	if !s.cfg.InsecureNoSignature {
		if err := VerifySignature(r.Header.Get(github.SHA256SignatureHeader), body, s.secrets); err != nil {
			outcome("unauthorized")
			s.log.Warn("webhook refused: bad signature", "event", event,
				"delivery", r.Header.Get(github.DeliveryIDHeader), "remote", r.RemoteAddr, "err", err)
			reply(w, http.StatusUnauthorized, "error", "invalid signature")
			return
		}
	}
	d, err := ParseDelivery(r.Header, body)
	if err != nil {
		outcome("bad_request")
		reply(w, http.StatusBadRequest, "error", err.Error())
		return
	}
	dup, err := s.committer.commit(r.Context(), d, time.Now())
	if err != nil {
		outcome("error")
		s.log.Error("webhook not stored", "event", d.Event, "delivery", d.DeliveryID, "err", err)
		reply(w, http.StatusServiceUnavailable, "error", "delivery not stored, try again")
		return
	}
	switch {
	case dup:
		outcome("duplicate")
		reply(w, http.StatusOK, "duplicate", d.DeliveryID)
	case d.Event == "ping":
		outcome("stored")
		reply(w, http.StatusOK, "pong", d.DeliveryID)
	default:
		outcome("stored")
		reply(w, http.StatusAccepted, "stored", d.DeliveryID)
	}
}

// tooLarge is the 413 answer's message, stating the limit.
func (s *Service) tooLarge() string {
	return fmt.Sprintf("body too large: the limit is %d MB (%d bytes), GitHub's own cap on a webhook payload", s.cfg.MaxBodyBytes>>20, s.cfg.MaxBodyBytes)
}

func reply(w http.ResponseWriter, code int, key, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{key: msg})
}
