package ui

import (
	"fmt"
	"sort"
	"strconv"
)

// rowView is one row of a fanned-out run: a repos_from row, or one
// repository of a whole-owner repo or statuses job.
type rowView struct {
	Name, Outcome, Dest string
	Failed              bool
}

// fanoutRows reads the per-row outcomes of a fanned-out summary: "rows"
// (repo jobs: repos_from and github:OWNER/*) or "repos" with "owner"
// (statuses jobs over an owner). Nil for other summaries.
func fanoutRows(m map[string]any) []rowView {
	raw, _ := m["rows"].([]any)
	if raw == nil && m["owner"] != nil {
		raw, _ = m["repos"].([]any)
	}
	var out []rowView
	for _, x := range raw {
		r, _ := x.(map[string]any)
		if r == nil {
			continue
		}
		rv := rowView{Name: str(r["repo"]), Dest: str(r["dest"])}
		if row, ok := r["row"].(map[string]any); ok {
			rv.Name = rowName(row)
		}
		sum, _ := r["summary"].(map[string]any)
		removed, _ := r["removed"].(map[string]any)
		switch {
		case str(r["error"]) != "":
			rv.Failed, rv.Outcome = true, "failed: "+str(r["error"])
		case removed != nil && str(removed["kept"]) != "":
			rv.Outcome = "left the listing; kept: " + str(removed["kept"])
		case removed != nil:
			rv.Outcome = fmt.Sprintf("left the listing: %d objects deleted (delete: %s)", num(removed["deleted"]), str(removed["policy"]))
		case sum != nil:
			rv.Outcome = shortSummary(sum)
		default:
			rv.Outcome = "done"
		}
		out = append(out, rv)
	}
	return out
}

// rowName names a repos_from row by its repo column, else by all of them.
func rowName(row map[string]any) string {
	if s := str(row["repo"]); s != "" {
		return s
	}
	keys := make([]string, 0, len(row))
	for k := range row {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	name := ""
	for _, k := range keys {
		if name != "" {
			name += " "
		}
		name += k + "=" + str(row[k])
	}
	return name
}

// fanoutShort is the one-line description of a fanned-out summary.
func fanoutShort(m map[string]any, rows []rowView) string {
	noun := "rows"
	if m["owner"] != nil {
		noun = "repositories"
	}
	return strconv.Itoa(len(rows)) + " " + noun + ": " + strconv.Itoa(num(m["ok"])) + " ok, " + strconv.Itoa(num(m["failed"])) + " failed"
}
