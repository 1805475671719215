package webhooks_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/ghsync/ghsync/internal/webhooks"
)

// FuzzParseDelivery checks that ParseDelivery never panics and that whatever it
// accepts satisfies the invariants the store relies on.
func FuzzParseDelivery(f *testing.F) {
	f.Add("issues", "id-1", "application/json", []byte(`{"action":"opened","installation":{"id":1},"repository":{"full_name":"o/r"}}`))
	f.Add("push", "x", "application/x-www-form-urlencoded", []byte(`payload=%7B%22a%22%3A1%7D`))
	f.Add("", "", "", []byte(`{`))
	f.Add("star", "y", "application/json", []byte(`{"repository":"notanobject","installation":{"id":"str"},"action":5}`))
	f.Fuzz(func(t *testing.T, event, id, ct string, body []byte) {
		h := http.Header{}
		h.Set("X-GitHub-Event", event)
		h.Set("X-GitHub-Delivery", id)
		h.Set("Content-Type", ct)
		h.Set("X-Hub-Signature-256", "sha256=abc")
		d, err := webhooks.ParseDelivery(h, body)
		if err != nil {
			if !errors.Is(err, webhooks.ErrBadRequest) {
				t.Fatalf("error does not wrap ErrBadRequest: %v", err)
			}
			return
		}
		if d.Event == "" || d.DeliveryID == "" {
			t.Fatalf("accepted without event/delivery: %+v", d)
		}
		var obj map[string]any
		if err := json.Unmarshal(d.Payload, &obj); err != nil {
			t.Fatalf("accepted payload is not a JSON object: %v", err)
		}
		if _, ok := d.Headers["X-Hub-Signature-256"]; ok {
			t.Fatal("signature kept in stored headers")
		}
	})
}
