package cli

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/jobs"
)

// Flag checks: each returns nil or a usage error (exit 2) that is one
// sentence naming the flag, the value given and what is wanted — the same
// shape as configuration errors.

// checkHostPort checks a listen address such as 127.0.0.1:8080 or :8080.
func checkHostPort(flag, v string) error {
	host, port, err := net.SplitHostPort(v)
	if err == nil {
		var n int
		n, err = strconv.Atoi(port)
		if err == nil && (n < 0 || n > 65535) {
			err = fmt.Errorf("port out of range")
		}
	}
	if err != nil || strings.ContainsAny(host, " /") {
		return jobs.Usagef("--%s %q: want HOST:PORT, such as 127.0.0.1:8080 or :8080", flag, v)
	}
	return nil
}

// checkMin checks an integer flag's lower bound.
func checkMin(flag string, v, lo int) error {
	if v < lo {
		return jobs.Usagef("--%s %d: must be at least %d", flag, v, lo)
	}
	return nil
}

// checkPositive checks that a duration flag is above zero.
func checkPositive(flag string, d time.Duration) error {
	if d <= 0 {
		return jobs.Usagef("--%s %s: must be a positive duration such as 30s, 10m or 1h", flag, d)
	}
	return nil
}

// checkNonNegative checks that a duration flag is zero (its default) or more.
func checkNonNegative(flag string, d time.Duration) error {
	if d < 0 {
		return jobs.Usagef("--%s %s: must not be negative", flag, d)
	}
	return nil
}

// checkStateDB checks a URL for ghsync's own database (serve's webhooks,
// schedules and run history): SQLite or PostgreSQL. where names the flag
// or configuration key the URL came from.
func checkStateDB(where, url string) error {
	if scheme, _, _ := strings.Cut(url, "://"); strings.EqualFold(scheme, "mysql") {
		return jobs.Usagef("%s: ghsync serve keeps webhooks, schedules and run history in SQLite or PostgreSQL (sqlite://PATH or postgres://…); mysql:// URLs are for API sync targets only", where)
	}
	if err := db.CheckURL(url); err != nil {
		return jobs.Usagef("%s: %v", where, err)
	}
	return nil
}
