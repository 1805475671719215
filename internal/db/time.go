package db

import (
	"fmt"
	"time"
)

// TimeLayout is how ghsync stores timestamps in TEXT columns: UTC, fixed width,
// microseconds, so that string order is time order on every dialect.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// FormatTime renders t in [TimeLayout] (converted to UTC).
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// Now returns the current time in [TimeLayout].
func Now() string { return FormatTime(time.Now()) }

// ParseTime parses a timestamp in [TimeLayout] or RFC 3339.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(TimeLayout, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse time %q: %w", s, err)
	}
	return t.UTC(), nil
}
