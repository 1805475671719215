package ui

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
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
		// issue shortens a GitHub issue URL to OWNER/REPO#N.
		"issue": issueLabel,
		// short is a commit's short SHA.
		"short": func(s string) string { return s[:min(7, len(s))] },
		// oneLine shortens an error text for a table cell.
		"oneLine": oneLine,
		// runDur renders a run's duration, or "running for …" while it runs.
		"runDur": func(r *runView) string {
			if r.Outcome == "running" && r.FinishedAt.IsZero() {
				if r.StartedAt.IsZero() {
					return "still running"
				}
				return "still running, for " + strings.TrimSuffix(ago(h.o.Now(), r.StartedAt), " ago")
			}
			return duration(r.Duration())
		},
		// acts groups actions for the "acts" template.
		"acts": func(title, class string, a []setAction) actGroup {
			return actGroup{Title: title, Class: class, Actions: a}
		},
		// attempt says which try of a run this was.
		"attempt": func(n int) string {
			switch {
			case n <= 1:
				return "first try"
			default:
				return fmt.Sprintf("retry %d (try %d)", n-1, n)
			}
		},
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

// maxLine is how many characters of an error a table cell shows.
const maxLine = 140

// oneLine shortens an error text for a table cell: its first line, cut
// at maxLine characters with "…" when longer (or when more lines follow).
// The run page shows the whole text.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	first, rest, more := strings.Cut(s, "\n")
	first = strings.TrimSpace(first)
	if r := []rune(first); len(r) > maxLine {
		return string(r[:maxLine-1]) + "…"
	}
	if more && strings.TrimSpace(rest) != "" {
		return first + " …"
	}
	return first
}

// labels are human names of summary figures whose key does not read well
// once its underscores are spaces.
var labels = map[string]string{
	"duration_ms":    "Duration",
	"dry_run":        "Dry run",
	"up_to_date":     "Up to date",
	"rate_limited":   "Rate-limited answers waited out",
	"requests":       "HTTP requests",
	"statements":     "SQL statements that wrote",
	"pages":          "Pages listed",
	"kind":           "Kind",
	"commit":         "Commit",
	"max_delete":     "Deletion limit",
	"repaired":       "Repaired (drift)",
	"adopted":        "Adopted (already in the store)",
	"token_requests": "Token requests",
}

// humanLabel turns a summary key ("branches_written") into a label
// ("Branches written").
func humanLabel(key string) string {
	if l, ok := labels[key]; ok {
		return l
	}
	s := strings.ReplaceAll(strings.TrimSuffix(key, "_ms"), "_", " ")
	if s == "" {
		return key
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// figureValue renders a summary figure: milliseconds as a duration,
// booleans as yes/no.
func figureValue(key, value string) string {
	switch {
	case strings.HasSuffix(key, "_ms"):
		if n, err := strconv.ParseFloat(value, 64); err == nil {
			return duration(time.Duration(n * float64(time.Millisecond)))
		}
	case value == "true":
		return "yes"
	case value == "false":
		return "no"
	}
	return value
}

// trimFloat renders f without a needless fraction ("3", "0.25").
func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// actGroup is one group of an upload set's actions (done, to retry…).
type actGroup struct {
	Title, Class string
	Actions      []setAction
}

// issueLabel shortens https://github.com/OWNER/REPO/issues/N to
// OWNER/REPO#N; other URLs are returned as they are.
func issueLabel(u string) string {
	rest, ok := strings.CutPrefix(u, "https://github.com/")
	if !ok {
		return u
	}
	parts := strings.Split(rest, "/")
	if len(parts) == 4 && (parts[2] == "issues" || parts[2] == "pull") {
		return parts[0] + "/" + parts[1] + "#" + parts[3]
	}
	return u
}
