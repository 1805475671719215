package webhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-github/v88/github"
)

const hookIDHeader = "X-GitHub-Hook-ID"

// Delivery is one webhook delivery as received and stored.
type Delivery struct {
	// DeliveryID is the X-GitHub-Delivery header, unique per delivery (a
	// redelivery keeps it).
	DeliveryID string `json:"delivery_id"`
	// Event is the X-GitHub-Event header (issues, workflow_job, …).
	Event string `json:"event"`
	// Action is the payload's "action", when it has one.
	Action string `json:"action,omitempty"`
	// HookID is the X-GitHub-Hook-ID header, 0 when absent.
	HookID int64 `json:"hook_id,omitempty"`
	// InstallationID is the payload's installation.id, 0 when absent.
	InstallationID int64 `json:"installation_id,omitempty"`
	// Repo is the payload's repository.full_name (OWNER/REPO), when present.
	Repo string `json:"repo,omitempty"`
	// Headers holds the X-GitHub-* headers, User-Agent and Content-Type (never
	// the signature).
	Headers map[string]string `json:"headers"`
	// Payload is the JSON payload exactly as GitHub sent it.
	Payload []byte `json:"-"`
}

// ErrBadRequest marks a delivery that is malformed (missing header, invalid
// JSON); the receiver answers 400.
var ErrBadRequest = errors.New("bad webhook request")

// ErrSignature marks a delivery whose signature is missing or does not match any
// configured secret; the receiver answers 401.
var ErrSignature = errors.New("webhook signature invalid")

// VerifySignature checks the X-Hub-Signature-256 value sig ("sha256=<hex>")
// against body with each secret in turn, in constant time per secret. Only
// SHA-256 is accepted: a SHA-1 signature (X-Hub-Signature) is refused. It
// returns nil when some secret matches, else an error wrapping ErrSignature.
func VerifySignature(sig string, body []byte, secrets [][]byte) error {
	if sig == "" {
		return fmt.Errorf("%w: missing %s", ErrSignature, github.SHA256SignatureHeader)
	}
	if !strings.HasPrefix(sig, "sha256=") {
		return fmt.Errorf("%w: %s must be sha256=<hex>", ErrSignature, github.SHA256SignatureHeader)
	}
	for _, s := range secrets {
		if github.ValidateSignature(sig, body, s) == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: no configured secret matches", ErrSignature)
}

// ParseDelivery validates the headers and body of a (signature-checked)
// delivery and extracts the fields stored with it. body is the raw request
// body; form-encoded bodies (payload=…) are accepted like GitHub sends them
// when the hook's content type is application/x-www-form-urlencoded. Errors
// wrap ErrBadRequest.
func ParseDelivery(h http.Header, body []byte) (*Delivery, error) {
	event := strings.TrimSpace(h.Get(github.EventTypeHeader))
	id := strings.TrimSpace(h.Get(github.DeliveryIDHeader))
	if event == "" {
		return nil, fmt.Errorf("%w: missing %s header", ErrBadRequest, github.EventTypeHeader)
	}
	if id == "" {
		return nil, fmt.Errorf("%w: missing %s header", ErrBadRequest, github.DeliveryIDHeader)
	}
	if len(event) > 100 || len(id) > 200 {
		return nil, fmt.Errorf("%w: header too long", ErrBadRequest)
	}
	payload := body
	if ct, _, _ := mime.ParseMediaType(h.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: form body: %v", ErrBadRequest, err)
		}
		payload = []byte(form.Get("payload"))
	}
	// Fields are decoded one by one so that an unexpected shape of one of them
	// does not reject a signed delivery: it is still stored.
	var head struct {
		Action       json.RawMessage `json:"action"`
		Installation json.RawMessage `json:"installation"`
		Repository   json.RawMessage `json:"repository"`
	}
	if t := bytes.TrimLeft(payload, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrBadRequest)
	}
	// Unmarshal checks that the whole body is valid JSON before decoding.
	if err := json.Unmarshal(payload, &head); err != nil {
		return nil, fmt.Errorf("%w: body is not valid JSON: %v", ErrBadRequest, err)
	}
	d := &Delivery{DeliveryID: id, Event: event, Payload: payload, Headers: map[string]string{}}
	var action string
	if json.Unmarshal(head.Action, &action) == nil {
		d.Action = action
	}
	var inst struct {
		ID int64 `json:"id"`
	}
	if json.Unmarshal(head.Installation, &inst) == nil {
		d.InstallationID = inst.ID
	}
	var repo struct {
		FullName string `json:"full_name"`
	}
	if json.Unmarshal(head.Repository, &repo) == nil {
		d.Repo = repo.FullName
	}
	if v := h.Get(hookIDHeader); v != "" {
		d.HookID, _ = strconv.ParseInt(v, 10, 64)
	}
	for k, vs := range h {
		ck := http.CanonicalHeaderKey(k)
		if len(vs) == 0 || strings.HasPrefix(ck, "X-Hub-Signature") {
			continue
		}
		if strings.HasPrefix(ck, "X-Github-") || ck == "User-Agent" || ck == "Content-Type" {
			d.Headers[ck] = vs[0]
		}
	}
	return d, nil
}
