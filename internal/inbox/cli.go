package inbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// CheckLine is one line of `ghsync inbox check --json`.
type CheckLine struct {
	File      string   `json:"file"`
	Valid     bool     `json:"valid"`
	Rows      *int     `json:"rows"`
	Encoding  string   `json:"encoding"`
	Delimiter string   `json:"delimiter"`
	Profile   string   `json:"profile"`
	Errors    []string `json:"errors"`
}

// CheckFiles runs the checks (specs; nil means the original's defaults) on
// local files and prints one result per file to w: a text block, or with
// jsonOut one JSON object per line (file, valid, rows, encoding, delimiter,
// profile, errors). Set rules are not applied (the files are not an upload
// set). It returns whether every file passed; err is for a bad checks list
// or an unreadable file (reported on its line too, as an error message).
func CheckFiles(ctx context.Context, w io.Writer, files []string, specs []CheckSpec, jsonOut bool) (allValid bool, err error) {
	c, errs := CompileChecks(specs)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return false, fmt.Errorf("invalid checks: %s", strings.Join(msgs, "; "))
	}
	allValid = true
	var readErrs []string
	enc := json.NewEncoder(w)
	for _, f := range files {
		rep, err := CheckLocalFile(ctx, f, c)
		if err != nil {
			readErrs = append(readErrs, err.Error())
			rep.Errors = append(rep.Errors, err.Error())
			rep.Valid = false
		}
		if !rep.Valid {
			allValid = false
		}
		line := CheckLine{File: f, Valid: rep.Valid, Rows: rep.Rows, Encoding: rep.Encoding,
			Delimiter: rep.Delimiter, Profile: rep.Profile, Errors: rep.Errors}
		if line.Errors == nil {
			line.Errors = []string{}
		}
		if jsonOut {
			if err := enc.Encode(line); err != nil {
				return false, fmt.Errorf("write: %w", err)
			}
			continue
		}
		if _, err := io.WriteString(w, formatCheckLine(line)); err != nil {
			return false, fmt.Errorf("write: %w", err)
		}
	}
	if len(readErrs) > 0 {
		return false, fmt.Errorf("%s", strings.Join(readErrs, "; "))
	}
	return allValid, nil
}

func formatCheckLine(l CheckLine) string {
	var b strings.Builder
	status := "valid"
	if !l.Valid {
		status = "INVALID"
	}
	fmt.Fprintf(&b, "%s: %s", l.File, status)
	var facts []string
	if l.Rows != nil {
		facts = append(facts, fmt.Sprintf("%d rows", *l.Rows))
	}
	if l.Encoding != "" {
		facts = append(facts, l.Encoding)
	}
	switch l.Delimiter {
	case "\t":
		facts = append(facts, "tab-delimited")
	case "":
	default:
		facts = append(facts, fmt.Sprintf("%q-delimited", l.Delimiter))
	}
	facts = append(facts, "profile "+l.Profile)
	fmt.Fprintf(&b, " (%s)\n", strings.Join(facts, ", "))
	for _, e := range l.Errors {
		fmt.Fprintf(&b, "  - %s\n", e)
	}
	return b.String()
}
