package faultproxy

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Kind names one injected fault.
type Kind string

// The HTTP fault kinds, in the order a decision tries them.
const (
	// ServerError answers 500, 502 or 503 without contacting the upstream.
	ServerError Kind = "5xx"
	// TooMany answers 429 with Retry-After (Config.RetryAfter) without
	// contacting the upstream.
	TooMany Kind = "429"
	// Reset forwards the request, sends the upstream's status, headers and
	// part of its body, then resets the connection (TCP RST). A body of fewer
	// than two bytes is reset before the status line.
	Reset Kind = "reset"
	// Short forwards the request, sends the upstream's headers with the full
	// Content-Length but only part of the body, then closes cleanly (FIN).
	Short Kind = "short"
	// Slow waits a random delay of at most Config.MaxDelay, then relays.
	Slow Kind = "slow"
	// Acted forwards the request (the upstream acts on it), discards the
	// upstream's answer and answers 502.
	Acted Kind = "acted502"
)

// The SMTP fault kinds.
const (
	// DropMidData closes both connections after part of a message's DATA:
	// the upstream never accepts the message.
	DropMidData Kind = "smtp-drop-mid-data"
	// ActedReset relays the whole message, lets the upstream accept it, and
	// resets the client's connection instead of relaying the final reply.
	ActedReset Kind = "smtp-acted-reset"
)

// HTTPKinds lists the HTTP kinds in decision order.
var HTTPKinds = []Kind{ServerError, TooMany, Reset, Short, Slow, Acted}

// SMTPKinds lists the SMTP kinds in decision order.
var SMTPKinds = []Kind{DropMidData, ActedReset}

// Rates maps a kind to the probability that an eligible request gets it.
// The sum should not exceed 1; kinds absent are never injected.
type Rates map[Kind]float64

// Decision is the proxy's choice for one eligible request.
type Decision struct {
	// Seq numbers eligible requests from 0 in arrival order.
	Seq int64
	// Method and Path identify the request ("DATA" and the recipients for SMTP).
	Method, Path string
	// Kind is the injected fault, "" for none.
	Kind Kind
	// Detail is the kind's parameter (status, delay, bytes sent).
	Detail string
}

// String renders the decision on one line, as Config.Logf receives it.
func (d Decision) String() string {
	k := string(d.Kind)
	if k == "" {
		k = "pass"
	}
	s := fmt.Sprintf("#%d %s %s: %s", d.Seq, d.Method, d.Path, k)
	if d.Detail != "" {
		s += " (" + d.Detail + ")"
	}
	return s
}

// draw is what one decision needs from the random source.
type draw struct {
	kind Kind
	rng  *rand.Rand // for the kind's parameters
}

// decider holds the seed, rates, counters and log shared by both proxies.
type decider struct {
	seed  uint64
	rates Rates
	order []Kind
	logf  func(format string, args ...any)

	mu        sync.Mutex
	enabled   bool
	seq       int64
	counts    map[Kind]int64
	decisions []Decision
}

func newDecider(seed uint64, rates Rates, order []Kind, logf func(string, ...any)) *decider {
	return &decider{seed: seed, rates: rates, order: order, logf: logf, enabled: true, counts: map[Kind]int64{}}
}

// next draws the decision for the next eligible request: a pure function of
// (seed, sequence number).
func (d *decider) next() (int64, draw) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.enabled {
		return -1, draw{}
	}
	n := d.seq
	d.seq++
	rng := rand.New(rand.NewPCG(d.seed, uint64(n)))
	roll := rng.Float64()
	for _, k := range d.order {
		if roll < d.rates[k] {
			return n, draw{kind: k, rng: rng}
		}
		roll -= d.rates[k]
	}
	return n, draw{rng: rng}
}

// record logs and counts a decision; kinds are counted when injected, so a
// decision downgraded by its circumstances is counted as what was done.
func (d *decider) record(dec Decision) {
	d.mu.Lock()
	if dec.Kind != "" {
		d.counts[dec.Kind]++
	}
	d.decisions = append(d.decisions, dec)
	d.mu.Unlock()
	if d.logf != nil {
		d.logf("faultproxy: %s", dec)
	}
}

// SetEnabled turns fault injection on or off (on at start). While off every
// request is relayed untouched and no decision is drawn.
func (d *decider) SetEnabled(on bool) {
	d.mu.Lock()
	d.enabled = on
	d.mu.Unlock()
}

// Counts returns the number of faults injected per kind so far.
func (d *decider) Counts() map[Kind]int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[Kind]int64, len(d.counts))
	for k, v := range d.counts {
		out[k] = v
	}
	return out
}

// Injected returns the total number of faults injected so far.
func (d *decider) Injected() int64 {
	var n int64
	for _, v := range d.Counts() {
		n += v
	}
	return n
}

// Decisions returns every decision so far (faults and passes), by sequence
// number.
func (d *decider) Decisions() []Decision {
	d.mu.Lock()
	out := append([]Decision(nil), d.decisions...)
	d.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// Faults returns the decisions that injected a fault, one line each.
func (d *decider) Faults() string {
	var b strings.Builder
	for _, dec := range d.Decisions() {
		if dec.Kind != "" {
			b.WriteString(dec.String())
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Filter says whether a request is eligible for a fault.
type Filter func(*http.Request) bool

// Methods accepts requests with one of the methods.
func Methods(methods ...string) Filter {
	return func(r *http.Request) bool {
		for _, m := range methods {
			if r.Method == m {
				return true
			}
		}
		return false
	}
}

// PathContains accepts requests whose path contains one of the parts.
func PathContains(parts ...string) Filter {
	return func(r *http.Request) bool {
		for _, p := range parts {
			if strings.Contains(r.URL.Path, p) {
				return true
			}
		}
		return false
	}
}

// Not inverts a filter.
func Not(f Filter) Filter { return func(r *http.Request) bool { return !f(r) } }

// All accepts requests every filter accepts.
func All(fs ...Filter) Filter {
	return func(r *http.Request) bool {
		for _, f := range fs {
			if !f(r) {
				return false
			}
		}
		return true
	}
}

// delay returns a duration in [0, max].
func delay(rng *rand.Rand, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rng.Int64N(int64(max) + 1))
}
