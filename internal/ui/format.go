package ui

import (
	"fmt"
	"html/template"
	"net/url"
	"time"
)

// funcs are the template helpers.
func (h *handler) funcs() template.FuncMap {
	return template.FuncMap{
		// when renders a time in UTC, to the second; "—" for the zero time.
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		// iso renders a time for a datetime attribute.
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		// ago renders how long ago (or, for future times, in how long) t is.
		"ago": func(t time.Time) string { return ago(h.o.Now(), t) },
		// dur renders a duration briefly ("850ms", "12.3s", "4m05s", "2h10m").
		"dur": duration,
		// pathEsc escapes a path segment (job names are URL-safe by
		// validation; runs of unconfigured jobs might not be).
		"pathEsc": url.PathEscape,
	}
}

// ago renders the distance from now to t in words, coarsely.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		s = fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%d h", int(d/time.Hour))
	default:
		s = fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// duration renders d briefly.
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	default:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
}
