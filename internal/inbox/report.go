package inbox

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Report formats.
const (
	FormatGhsync = "ghsync"
	FormatWDIV   = "wdiv"
)

// Report is the outcome of the checks on one upload set.
type Report struct {
	// Prefix is the set prefix (relative to the watch prefix, ending in "/").
	Prefix string `json:"prefix"`
	// Segments are the key pattern's values for the set ({file} excluded).
	Segments map[string]string `json:"segments"`
	// Name is the group's display name (enrichment), else the group code.
	Name        string       `json:"name"`
	GitHubIssue string       `json:"github_issue"`
	Files       []FileReport `json:"file_set"`
}

// Passed reports whether every file of a non-empty set is valid.
func (r *Report) Passed() bool {
	if len(r.Files) == 0 {
		return false
	}
	for _, f := range r.Files {
		if !f.Valid {
			return false
		}
	}
	return true
}

// seg returns the first non-empty segment value among names.
func (r *Report) seg(names ...string) string {
	for _, n := range names {
		if v := r.Segments[n]; v != "" {
			return v
		}
	}
	return ""
}

// Group returns the group code: segment {group} (or {gss}).
func (r *Report) Group() string { return r.seg("group", "gss") }

type ghsyncFile struct {
	Key      string   `json:"key"`
	Valid    bool     `json:"valid"`
	Rows     *int     `json:"rows"`
	Encoding string   `json:"encoding"`
	Profile  string   `json:"profile"`
	Errors   []string `json:"errors"`
}

type ghsyncReport struct {
	Group       string            `json:"group"`
	Name        string            `json:"name"`
	Date        string            `json:"date"`
	Timestamp   string            `json:"timestamp"`
	Segments    map[string]string `json:"segments,omitempty"`
	GitHubIssue string            `json:"github_issue"`
	Files       []ghsyncFile      `json:"file_set"`
}

type wdivFile struct {
	Key      string `json:"key"`
	Valid    bool   `json:"csv_valid"`
	Rows     *int   `json:"csv_rows"`
	Encoding string `json:"csv_encoding"`
	EMS      string `json:"ems"`
	Errors   string `json:"errors"`
}

type wdivReport struct {
	GSS          string     `json:"gss"`
	CouncilName  string     `json:"council_name"`
	ElectionDate string     `json:"election_date"`
	Timestamp    string     `json:"timestamp"`
	GitHubIssue  string     `json:"github_issue"`
	Files        []wdivFile `json:"file_set"`
}

// Document returns the report as the value to encode in format: "ghsync"
// (or "") or "wdiv" (the original's field names and types: errors joined
// with "\n", csv_rows null when not counted).
func (r *Report) Document(format string) (any, error) {
	switch format {
	case FormatGhsync, "":
		out := ghsyncReport{Group: r.Group(), Name: r.Name, Date: r.seg("date", "election_date"),
			Timestamp: r.seg("timestamp"), GitHubIssue: r.GitHubIssue, Files: []ghsyncFile{}}
		extra := map[string]string{}
		for k, v := range r.Segments {
			switch k {
			case "group", "date", "timestamp", "file":
			default:
				extra[k] = v
			}
		}
		if len(extra) > 0 {
			out.Segments = extra
		}
		for _, f := range r.Files {
			errs := f.Errors
			if errs == nil {
				errs = []string{}
			}
			out.Files = append(out.Files, ghsyncFile{Key: f.Key, Valid: f.Valid, Rows: f.Rows, Encoding: f.Encoding, Profile: f.Profile, Errors: errs})
		}
		return out, nil
	case FormatWDIV:
		out := wdivReport{GSS: r.Group(), CouncilName: r.Name, ElectionDate: r.seg("election_date", "date"),
			Timestamp: r.seg("timestamp"), GitHubIssue: r.GitHubIssue, Files: []wdivFile{}}
		for _, f := range r.Files {
			out.Files = append(out.Files, wdivFile{Key: f.Key, Valid: f.Valid, Rows: f.Rows, Encoding: f.Encoding,
				EMS: f.Profile, Errors: strings.Join(f.Errors, "\n")})
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown report format %q (want ghsync or wdiv)", format)
}

// JSON encodes the report in format, indented by two spaces.
func (r *Report) JSON(format string) ([]byte, error) {
	doc, err := r.Document(format)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return b, nil
}

// fileCount reads the number of files a stored report.json lists (either
// format: both name the list file_set).
func fileCount(doc []byte) (int, error) {
	var v struct {
		Files []json.RawMessage `json:"file_set"`
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		return 0, fmt.Errorf("decode existing report.json: %w", err)
	}
	return len(v.Files), nil
}
