package serve

import (
	"net/http"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/webutil"
)

// Receivers are the webhook receiver routes: POSTs that authenticate
// themselves by their signatures (X-Hub-Signature-256,
// circleci-signature), and so answer on any listener without a token.
type Receivers struct {
	// GitHubPath is where GitHub posts (webhooks.path).
	GitHubPath string
	// CircleCI reports whether the CircleCI receiver is mounted on
	// CircleCIPath (webhooks.circleci.secrets is set).
	CircleCI bool
}

// ReceiversOf returns the receivers cfg configures, without resolving any
// secret or opening anything.
func ReceiversOf(cfg *config.Config) Receivers {
	p := cfg.Webhooks.Path
	if p == "" {
		p = config.DefaultWebhookPath
	}
	return Receivers{GitHubPath: p, CircleCI: len(cfg.Webhooks.CircleCI.Secrets) > 0}
}

// Match reports whether r is a delivery to one of the receivers: a POST
// whose path is exactly a receiver's path (no other spelling, no query
// needed).
func (rc Receivers) Match(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	return r.URL.Path == rc.GitHubPath || (rc.CircleCI && r.URL.Path == CircleCIPath)
}

// IsHealth reports whether r is GET (or HEAD) /healthz, which says only
// that the process is up.
func IsHealth(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == "/healthz"
}

// Healthz answers /healthz: 200 {"status":"ok"} while the process is up. It
// touches nothing (no database), so it can answer on any listener.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	webutil.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
