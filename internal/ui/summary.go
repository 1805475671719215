package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ghsync/ghsync/internal/store"
)

// summaryView is a run summary (the job's JSON summary) made presentable.
// It understands repo-sync summaries (new/modified/deleted counts and paths)
// and status-snapshot summaries (branches), and shows any other summary as
// its scalar fields.
type summaryView struct {
	// Short is a one-line description, e.g. "3 new, 1 modified" or
	// "no changes"; "" when there is no summary.
	Short string
	// Paths are the changed paths by change kind, in the order new,
	// modified, deleted (kinds without paths are left out).
	Paths []pathList
	// Branches are a status-snapshot summary's branch results.
	Branches []branchView
	// Sets are an inbox run's upload sets (poll, event or --key run).
	Sets []setView
	// Tables are an API sync run's counts per target table (Airtable,
	// Badgr), sorted by table name.
	Tables []tableCounts
	// Rows are a fanned-out run's rows (summary_rows.go).
	Rows []rowView
	// Fields are the summary's scalar fields, sorted by key, with human
	// labels (Key) and values (milliseconds as durations), redacted.
	Fields []field
	// Raw is the whole summary, indented, with URLs redacted.
	Raw string
}

type pathList struct {
	Kind  string // new, modified, deleted
	Count int    // the run's count of that kind (may exceed len(Paths))
	Paths []string
}

type branchView struct {
	Branch, Result, Head, Error string
	Commits, Fetched            int
}

type field struct{ Key, Value string }

// tableCounts is one target table of an API sync run.
type tableCounts struct {
	Table                                          string
	Records, Inserted, Updated, Unchanged, Deleted int
	Created                                        bool
	AddedColumns                                   []string
}

// setView is one upload set an inbox run looked at.
type setView struct {
	Prefix, Outcome, Issue string
	Files                  []setFile
	Actions                []setAction
	Errors                 []string
	// Passed: every check passed; Skipped: unchanged since it was
	// processed; Busy: another run held it; GaveUp: its failed actions are
	// not tried again until the set changes.
	Passed, Skipped, Busy, GaveUp bool
	// Attempt is the run's try on this content (1 and up).
	Attempt int
	// FailedActions are the actions that failed (retried, or given up on).
	FailedActions []string
	// Report is the set's report as recorded in the summary (indented
	// JSON, URLs redacted); "" when the run did not build one.
	Report string
}

type setFile struct {
	Key, Encoding, Delimiter, Profile string
	Valid                             bool
	Rows                              string
	Errors                            []string
}

type setAction struct{ Action, Status, Target, Detail, Error string }

// parseSummary builds the view of raw (nil or empty → zero view).
func parseSummary(raw json.RawMessage) summaryView {
	var v summaryView
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return v
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		v.Short = "(summary is not a JSON object)"
		v.Raw = redactText(string(raw))
		return v
	}
	redactValue(m)
	if b, err := json.MarshalIndent(m, "", "  "); err == nil {
		v.Raw = string(b)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch x := m[k].(type) {
		case string, json.Number, bool:
			v.Fields = append(v.Fields, field{Key: humanLabel(k), Value: figureValue(k, fmt.Sprint(x))})
		}
	}
	paths, _ := m["paths"].(map[string]any)
	for _, kind := range []string{"new", "modified", "deleted"} {
		list := strings2(paths[kind])
		if len(list) > 0 {
			v.Paths = append(v.Paths, pathList{Kind: kind, Count: max(num(m[kind]), len(list)), Paths: list})
		}
	}
	if bs, ok := m["branches"].([]any); ok {
		for _, b := range bs {
			bm, _ := b.(map[string]any)
			v.Branches = append(v.Branches, branchView{Branch: str(bm["branch"]), Result: str(bm["result"]),
				Head: str(bm["head"]), Error: str(bm["error"]), Commits: num(bm["commits"]), Fetched: num(bm["fetched"])})
		}
	}
	v.Sets = inboxSets(m)
	v.Tables = apiTables(m)
	v.Short = shortSummary(m)
	if v.Rows = fanoutRows(m); v.Rows != nil {
		v.Short = fanoutShort(m, v.Rows)
	}
	return v
}

// inboxSets finds an inbox summary's sets: a poll's "processed", an
// event's "results", or one set (a --key run).
func inboxSets(m map[string]any) []setView {
	var raw []any
	switch {
	case m["processed"] != nil:
		raw, _ = m["processed"].([]any)
	case m["results"] != nil:
		raw, _ = m["results"].([]any)
	case has(m, "prefix", "actions"):
		raw = []any{m}
	}
	var out []setView
	for _, x := range raw {
		r, _ := x.(map[string]any)
		if r == nil {
			continue
		}
		sv := setView{Prefix: str(r["prefix"]), Outcome: "failed", Errors: strings2(r["errors"]),
			Passed: r["passed"] == true, Skipped: r["skipped"] == true, Busy: r["busy"] == true, GaveUp: r["gave_up"] == true,
			Attempt: num(r["attempt"]), FailedActions: strings2(r["failed_actions"])}
		failedActs := strings.Join(strings2(r["failed_actions"]), ", ")
		switch {
		case r["busy"] == true:
			sv.Outcome = "being processed by another run: nothing done by this run"
		case r["skipped"] == true && r["gave_up"] == true:
			sv.Outcome = "unchanged; failed actions given up on: " + failedActs
		case r["skipped"] == true:
			sv.Outcome = "unchanged (skipped)"
		case r["passed"] == true:
			sv.Outcome = "passed"
		}
		switch {
		case r["skipped"] == true, r["busy"] == true:
		case r["gave_up"] == true:
			sv.Outcome += "; given up after " + strconv.Itoa(num(r["attempt"])) + " attempts: " + failedActs
		case failedActs != "":
			sv.Outcome += "; actions to retry on the next run: " + failedActs
		}
		if rep, _ := r["report"].(map[string]any); rep != nil {
			if b, err := json.MarshalIndent(rep, "", "  "); err == nil {
				sv.Report = string(b)
			}
			sv.Issue = str(rep["github_issue"])
			files, _ := rep["file_set"].([]any)
			for _, f := range files {
				fm, _ := f.(map[string]any)
				rows := "-"
				if n, ok := fm["rows"].(json.Number); ok {
					rows = n.String()
				}
				sv.Files = append(sv.Files, setFile{Key: str(fm["key"]), Valid: fm["valid"] == true, Rows: rows,
					Encoding: str(fm["encoding"]), Delimiter: str(fm["delimiter"]), Profile: str(fm["profile"]), Errors: strings2(fm["errors"])})
			}
		}
		if doc := r["document"]; doc != nil { // what report.json and the callback carry
			if b, err := json.MarshalIndent(doc, "", "  "); err == nil {
				sv.Report = string(b)
			}
		}
		acts, _ := r["actions"].([]any)
		for _, a := range acts {
			am, _ := a.(map[string]any)
			sv.Actions = append(sv.Actions, setAction{Action: str(am["action"]), Status: str(am["status"]),
				Target: str(am["target"]), Detail: str(am["detail"]), Error: str(am["error"])})
		}
		out = append(out, sv)
	}
	return out
}

// apiTables reads an API sync summary's "tables" (apisync.Summary).
func apiTables(m map[string]any) []tableCounts {
	ts, _ := m["tables"].(map[string]any)
	var out []tableCounts
	for name, x := range ts {
		c, _ := x.(map[string]any)
		if c == nil {
			continue
		}
		out = append(out, tableCounts{Table: name, Records: num(c["records"]), Inserted: num(c["inserted"]),
			Updated: num(c["updated"]), Unchanged: num(c["unchanged"]), Deleted: num(c["deleted"]),
			Created: c["created"] == true, AddedColumns: strings2(c["added_columns"])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Table < out[j].Table })
	return out
}

// shortSummary describes a summary in a few words.
func shortSummary(m map[string]any) string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+what)
		}
	}
	dry := ""
	if b, _ := m["dry_run"].(bool); b {
		dry = " (dry run)"
	}
	switch {
	case has(m, "new", "modified", "deleted"): // repo sync
		add(num(m["new"]), "new")
		add(num(m["modified"]), "modified")
		add(num(m["deleted"]), "deleted")
		add(num(m["repaired"]), "repaired")
		add(num(m["adopted"]), "adopted")
		if len(parts) == 0 {
			if b, _ := m["up_to_date"].(bool); b {
				return "up to date" + dry
			}
			return "no changes" + dry
		}
	case has(m, "kind", "tables"): // API sync (apisync.Summary)
		ins, upd, del, recs := 0, 0, 0, 0
		ts, _ := m["tables"].(map[string]any)
		for _, x := range ts {
			c, _ := x.(map[string]any)
			ins, upd, del, recs = ins+num(c["inserted"]), upd+num(c["updated"]), del+num(c["deleted"]), recs+num(c["records"])
		}
		add(ins, "inserted")
		add(upd, "updated")
		add(del, "deleted")
		tables := strconv.Itoa(len(ts)) + " tables"
		if len(ts) == 1 {
			tables = "1 table"
		}
		if len(parts) == 0 {
			return "no changes (" + strconv.Itoa(recs) + " records in " + tables + ")" + dry
		}
		return strings.Join(parts, ", ") + " in " + tables + dry
	case has(m, "sets", "unchanged", "processed"): // inbox poll
		ps, _ := m["processed"].([]any)
		add(len(ps), "sets processed")
		add(num(m["unchanged"]), "unchanged")
		add(num(m["busy"]), "being processed by another run")
		if len(parts) == 0 {
			return "no upload sets" + dry
		}
	case has(m, "branches_written", "branches_unchanged", "branches_failed"): // status snapshots
		add(num(m["branches_written"]), "branches written")
		add(num(m["branches_unchanged"]), "unchanged")
		add(num(m["branches_failed"]), "failed")
		if len(parts) == 0 {
			return "no branches" + dry
		}
	default: // any other summary: its non-zero counts
		keys := make([]string, 0, len(m))
		for k, x := range m {
			if _, ok := x.(json.Number); ok && !strings.HasSuffix(k, "_ms") {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			add(num(m[k]), strings.ReplaceAll(k, "_", " "))
			if len(parts) == 3 {
				break
			}
		}
		if len(parts) == 0 {
			return "done" + dry
		}
	}
	return strings.Join(parts, ", ") + dry
}

func has(m map[string]any, keys ...string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

func num(x any) int {
	if n, ok := x.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return int(i)
		}
		if f, err := n.Float64(); err == nil {
			return int(f)
		}
	}
	return 0
}

func str(x any) string {
	s, _ := x.(string)
	return s
}

func strings2(x any) []string {
	xs, _ := x.([]any)
	var out []string
	for _, e := range xs {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// urlPattern finds URLs in free text (error messages, summary values).
var urlPattern = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// redactText replaces every URL in s with its redacted form (credentials and
// unknown query values removed, see store.Redact).
func redactText(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlPattern.ReplaceAllStringFunc(s, func(u string) string {
		trail := strings.TrimRight(u, ".,;:)]}")
		return store.Redact(trail) + u[len(trail):]
	})
}

// redactValue redacts URLs in every string inside a decoded JSON value,
// in place.
func redactValue(x any) {
	switch v := x.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok {
				v[k] = redactText(s)
			} else {
				redactValue(e)
			}
		}
	case []any:
		for i, e := range v {
			if s, ok := e.(string); ok {
				v[i] = redactText(s)
			} else {
				redactValue(e)
			}
		}
	}
}
