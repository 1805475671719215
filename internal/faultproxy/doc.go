// Package faultproxy is a fault-injecting proxy for tests: an HTTP reverse
// proxy (Proxy) and an SMTP relay (SMTPProxy) that sit in front of a real or
// fake upstream and, for a share of the requests they relay, answer as a
// failing network or server would.
//
// Contract:
//   - Decisions are seeded and deterministic: the decision for the n-th
//     eligible request (or SMTP message) is a pure function of (Seed, n), drawn
//     from math/rand/v2's PCG. Every decision is recorded (Decisions, and
//     Config.Logf when set) with the request's sequence number, method and
//     path, so a failing seed names which request got which fault and can be
//     replayed by running again with the same seed.
//   - Only requests the filter accepts are eligible; the others, and every
//     request while the proxy is disabled, are relayed untouched.
//   - Counts reports how many faults of each Kind were injected.
//
// HTTP fault kinds (see Kind): a 5xx answer without contacting the upstream;
// 429 with Retry-After without contacting the upstream; a connection reset
// after part of the upstream's body; a body shorter than its Content-Length
// followed by a clean close; a bounded delay before relaying; and "the
// upstream acted, the client saw 502" (the request is forwarded, its answer
// discarded, and the client gets 502).
//
// SMTP fault kinds: the connection dropped in the middle of DATA (the
// upstream never accepts the message), and the message accepted by the
// upstream but the connection reset before its final reply reaches the
// client (the upstream acted, the client saw a failure).
//
// Only tests import this package.
package faultproxy
