package serve

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
)

// ErrUnprotected marks the refusal to start a server whose read API, UI and
// metrics would answer anyone on a listener that is not loopback-only (no
// Options.AuthToken and no Options.InsecurePublicRead). It is a
// configuration error: `ghsync serve` exits 2.
var ErrUnprotected = errors.New("the read API, web UI and /metrics would be public without a token")

// LoopbackOnly reports whether the listen address addr (HOST:PORT) accepts
// connections from this machine only: a loopback IP (127.0.0.0/8, ::1) or
// the name localhost. An empty host (":8080"), 0.0.0.0, ::, any other IP
// and any other name are not loopback-only.
func LoopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	host, _, _ = strings.Cut(host, "%") // fe80::1%lo
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkExposure decides who may read the server: with a token, callers
// that present it; without one, anyone who reaches a loopback-only
// listener, or anyone at all when the operator opted out (logged as a
// warning at every start). A public listener without a token and without
// the opt-out is refused with ErrUnprotected, naming what to set.
func checkExposure(opts Options, log *slog.Logger) error {
	switch {
	case opts.AuthToken != "":
		log.Info("serve: the read API, web UI and /metrics need the token (Authorization: Bearer, or sign in at "+LoginPath+"); webhook receivers, /healthz and /readyz are open",
			"addr", opts.Addr)
	case LoopbackOnly(opts.Addr):
	case opts.InsecurePublicRead:
		log.Warn("serve: INSECURE: serve.auth.insecure_public_read is set: the read API, web UI and /metrics answer WITHOUT a token on a listener that is not loopback-only; anyone who reaches it reads deliveries (private repositories' data), job runs and metrics. Only do this behind your own authentication; set serve.auth.token instead",
			"addr", opts.Addr)
	default:
		return fmt.Errorf("%w on listen address %s, which is not loopback-only: set serve.auth.token in the config "+
			"(token: ${%s}, file:/path or awssecretsmanager://NAME; at least %d characters, e.g. from `openssl rand -hex 32`) "+
			"or the %s environment variable, and send it as Authorization: Bearer TOKEN; or listen on 127.0.0.1; "+
			"or, on a private network behind your own authentication, opt out with serve.auth.insecure_public_read: true",
			ErrUnprotected, opts.Addr, EnvServeToken, MinTokenLength, EnvServeToken)
	}
	return nil
}
