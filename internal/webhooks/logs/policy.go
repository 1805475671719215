package logs

import (
	"fmt"

	"github.com/bmatcuk/doublestar/v4"
)

// Mode says which completed jobs' logs are downloaded.
type Mode string

// The download modes (config key webhooks.logs.download).
const (
	None     Mode = "none"     // no logs (the default)
	Failures Mode = "failures" // jobs concluded failure, timed_out or startup_failure
	All      Mode = "all"      // every completed job
)

// ParseMode validates a mode name; "" means None.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", None:
		return None, nil
	case Failures, All:
		return Mode(s), nil
	}
	return "", fmt.Errorf("log download mode %q: must be one of none, failures, all", s)
}

// RepoMode overrides the mode for repositories matching Pattern (a glob on
// OWNER/REPO: "acme/*", "acme/app", "**").
type RepoMode struct {
	Pattern string
	Mode    Mode
}

// Policy chooses, per repository, which completed jobs' logs to download:
// the first RepoMode whose pattern matches the repository wins, else Default.
type Policy struct {
	Default Mode
	Repos   []RepoMode
}

// Validate checks every pattern and mode.
func (p Policy) Validate() error {
	if _, err := ParseMode(string(p.Default)); err != nil {
		return err
	}
	for i, r := range p.Repos {
		if !doublestar.ValidatePattern(r.Pattern) {
			return fmt.Errorf("logs repos[%d]: bad pattern %q", i, r.Pattern)
		}
		if _, err := ParseMode(string(r.Mode)); err != nil {
			return fmt.Errorf("logs repos[%d] (%s): %w", i, r.Pattern, err)
		}
	}
	return nil
}

// Wants reports whether the log of a job of repo (OWNER/REPO) that
// completed with conclusion is to be downloaded.
func (p Policy) Wants(repo, conclusion string) bool {
	mode := p.Default
	for _, r := range p.Repos {
		if ok, _ := doublestar.Match(r.Pattern, repo); ok {
			mode = r.Mode
			break
		}
	}
	switch mode {
	case All:
		return true
	case Failures:
		return IsFailure(conclusion)
	}
	return false
}

// IsFailure reports whether a job conclusion counts as a failure for
// download: failure, timed_out, startup_failure.
func IsFailure(conclusion string) bool {
	switch conclusion {
	case "failure", "timed_out", "startup_failure":
		return true
	}
	return false
}
