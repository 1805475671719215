package inbox

import (
	"fmt"
	"strings"
)

// Check names, in the only order they can run (each needs the ones before it
// that it depends on: columns, rows and profile need the delimiter and the
// encoding; set runs on the whole set afterwards).
const (
	CheckSize      = "size"
	CheckEncoding  = "encoding"
	CheckDelimiter = "delimiter"
	CheckColumns   = "columns"
	CheckRows      = "rows"
	CheckProfile   = "profile"
	CheckSet       = "set"
)

var checkOrder = map[string]int{CheckSize: 0, CheckEncoding: 1, CheckDelimiter: 2, CheckColumns: 3, CheckRows: 4, CheckProfile: 5, CheckSet: 6}

// CheckSpec is one entry of an inbox's ordered `checks` list. Check names the
// check; the other fields are its parameters (zero means the default).
type CheckSpec struct {
	// Check is size, encoding, delimiter, columns, rows, profile or set.
	Check string `yaml:"check" json:"check"`

	// size: bytes (defaults 1024 and 150,000,000; nil means the default,
	// so `min: 0` is possible).
	Min *int64 `yaml:"min,omitempty" json:"min,omitempty"`
	Max *int64 `yaml:"max,omitempty" json:"max,omitempty"`

	// encoding: tried in order (default utf-8, windows-1252, latin-1).
	Encodings []string `yaml:"encodings,omitempty" json:"encodings,omitempty"`

	// delimiter: candidates ("," and "\t" by default; "tab" is accepted) and
	// the sample size in characters (default 10,000).
	Delimiters  []string `yaml:"delimiters,omitempty" json:"delimiters,omitempty"`
	SampleChars int      `yaml:"sample_chars,omitempty" json:"sample_chars,omitempty"`

	// columns: minimum header columns (default 3) and required names
	// (case-insensitive).
	MinColumns int      `yaml:"min_columns,omitempty" json:"min_columns,omitempty"`
	Required   []string `yaml:"required,omitempty" json:"required,omitempty"`

	// profile: rules tried in order, and the name when none matches
	// (default "unknown"). Without rules: the original's EMS detection.
	Profiles []ProfileRule `yaml:"profiles,omitempty" json:"profiles,omitempty"`
	Unknown  string        `yaml:"unknown,omitempty" json:"unknown,omitempty"`

	// set: rules on the whole upload set (default: the original's
	// Democracy Counts pair rule).
	Sets []SetRule `yaml:"rules,omitempty" json:"rules,omitempty"`
}

// ProfileRule names a profile matched by the header: its first column equals
// FirstColumn, or any column equals AnyColumn (case-insensitive; one of the
// two is set).
type ProfileRule struct {
	Name        string `yaml:"name" json:"name"`
	FirstColumn string `yaml:"first_column,omitempty" json:"first_column,omitempty"`
	AnyColumn   string `yaml:"any_column,omitempty" json:"any_column,omitempty"`
}

// SetRule: a set of a single file whose profile is Profile fails with
// "Expected N files, found 1"; when that is the file's only error no email
// is sent (the rest of the set is expected to follow).
type SetRule struct {
	Profile string `yaml:"profile" json:"profile"`
	Files   int    `yaml:"files" json:"files"`
}

// DefaultChecks returns the original system's checks with their defaults.
func DefaultChecks() []CheckSpec {
	return []CheckSpec{
		{Check: CheckSize}, {Check: CheckEncoding}, {Check: CheckDelimiter},
		{Check: CheckColumns}, {Check: CheckRows}, {Check: CheckProfile}, {Check: CheckSet},
	}
}

// DefaultProfiles are the original's EMS rules.
func DefaultProfiles() []ProfileRule {
	return []ProfileRule{
		{Name: "Idox Eros (Halarose)", FirstColumn: "houseid"},
		{Name: "Xpress WebLookup", FirstColumn: "authoritycode"},
		{Name: "Xpress DC", FirstColumn: "electiondate"},
		{Name: "Democracy Counts", AnyColumn: "xordinate"},
	}
}

// DefaultSetRules is the original's set rule.
func DefaultSetRules() []SetRule { return []SetRule{{Profile: "Democracy Counts", Files: 2}} }

// Checks is a compiled, validated checks list. The zero value runs nothing.
type Checks struct {
	size, encoding, delimiter, columns, rows, profile, set bool

	min, max    int64
	encodings   []string
	delims      []rune
	sampleChars int
	minColumns  int
	required    []string
	profiles    []ProfileRule
	unknown     string
	setRules    []SetRule
}

// UnknownProfile is the profile name when no rule matches (or none ran).
func (c *Checks) UnknownProfile() string {
	if c.unknown == "" {
		return "unknown"
	}
	return c.unknown
}

// CompileChecks validates specs (nil means DefaultChecks) and returns the
// compiled checks. Errors name the entry: "checks[2].delimiters: …" with
// field prefix "checks".
func CompileChecks(specs []CheckSpec) (*Checks, []FieldError) {
	if specs == nil {
		specs = DefaultChecks()
	}
	c := &Checks{min: 1024, max: 150_000_000, sampleChars: 10000, minColumns: 3}
	var errs []FieldError
	add := func(i int, field, msg string, a ...any) {
		f := fmt.Sprintf("checks[%d]", i)
		if field != "" {
			f += "." + field
		}
		errs = append(errs, FieldError{Field: f, Msg: fmt.Sprintf(msg, a...)})
	}
	last := -1
	seen := map[string]bool{}
	for i, s := range specs {
		name := strings.ToLower(strings.TrimSpace(s.Check))
		pos, ok := checkOrder[name]
		switch {
		case !ok:
			add(i, "check", "unknown check %q (want size, encoding, delimiter, columns, rows, profile or set)", s.Check)
			continue
		case seen[name]:
			add(i, "check", "check %q is listed twice", name)
			continue
		case pos < last:
			add(i, "check", "check %q must come before the checks it follows (order: size, encoding, delimiter, columns, rows, profile, set)", name)
		}
		seen[name] = true
		last = max(last, pos)
		switch name {
		case CheckSize:
			c.size = true
			if s.Min != nil {
				c.min = *s.Min
			}
			if s.Max != nil {
				c.max = *s.Max
			}
			if c.min < 0 || c.max <= 0 || c.min > c.max {
				add(i, "", "size: want 0 <= min <= max and max > 0 (min %d, max %d)", c.min, c.max)
			}
		case CheckEncoding:
			c.encoding = true
			encs := s.Encodings
			if len(encs) == 0 {
				encs = []string{EncUTF8, EncWindows1252, EncLatin1}
			}
			for j, e := range encs {
				ce, ok := canonicalEncoding(e)
				if !ok {
					add(i, fmt.Sprintf("encodings[%d]", j), "unknown encoding %q (want utf-8, windows-1252 or latin-1)", e)
					continue
				}
				c.encodings = append(c.encodings, ce)
			}
		case CheckDelimiter:
			c.delimiter = true
			ds := s.Delimiters
			if len(ds) == 0 {
				ds = []string{",", "\t"}
			}
			for j, d := range ds {
				switch {
				case strings.EqualFold(d, "tab") || d == `\t`:
					d = "\t"
				case strings.EqualFold(d, "comma"):
					d = ","
				}
				r := []rune(d)
				if len(r) != 1 || r[0] == '"' || r[0] == '\n' || r[0] == '\r' {
					add(i, fmt.Sprintf("delimiters[%d]", j), "delimiter %q: want one character other than a quote or line end", d)
					continue
				}
				c.delims = append(c.delims, r[0])
			}
			if s.SampleChars < 0 {
				add(i, "sample_chars", "must be positive")
			} else if s.SampleChars > 0 {
				c.sampleChars = s.SampleChars
			}
		case CheckColumns:
			c.columns = true
			if s.MinColumns < 0 {
				add(i, "min_columns", "must not be negative")
			} else if s.MinColumns > 0 {
				c.minColumns = s.MinColumns
			}
			c.required = s.Required
		case CheckRows:
			c.rows = true
		case CheckProfile:
			c.profile = true
			c.profiles = s.Profiles
			if len(c.profiles) == 0 {
				c.profiles = DefaultProfiles()
			}
			for j, p := range c.profiles {
				if p.Name == "" || (p.FirstColumn == "") == (p.AnyColumn == "") {
					add(i, fmt.Sprintf("profiles[%d]", j), "want a name and exactly one of first_column, any_column")
				}
			}
			c.unknown = s.Unknown
		case CheckSet:
			c.set = true
			c.setRules = s.Sets
			if len(c.setRules) == 0 {
				c.setRules = DefaultSetRules()
			}
			for j, r := range c.setRules {
				if r.Profile == "" || r.Files < 2 {
					add(i, fmt.Sprintf("rules[%d]", j), "want a profile and files >= 2")
				}
			}
		}
	}
	if (c.delimiter || c.columns || c.rows || c.profile) && !c.encoding {
		errs = append(errs, FieldError{Field: "checks", Msg: "delimiter, columns, rows and profile need the encoding check before them"})
	}
	if c.encoding && len(c.delims) == 0 {
		c.delims = []rune{',', '\t'}
	}
	return c, errs
}

// FieldError is a configuration error: Field is the config key path
// relative to the job (e.g. "github.title", "checks[2].delimiters[0]"),
// Msg says what is wrong.
type FieldError struct {
	Field string `json:"field"`
	Msg   string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }
