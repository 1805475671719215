package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a configuration file: 1-based line and column.
// The zero Pos means "position unknown".
type Pos struct {
	Line, Column int
}

// Error is one configuration problem. Every error that Parse and Load report
// about the content of a configuration is an *Error (several are joined with
// errors.Join).
type Error struct {
	// File is the file name given to Parse or Load (or "GHSYNC_CONFIG_YAML").
	File string
	// Line and Column locate the problem (1-based); 0 when unknown.
	Line, Column int
	// Field is the path of the offending field, e.g. "jobs[1].delete" or
	// "jobs[0].include[2]"; empty for problems not tied to a field (syntax).
	Field string
	// Msg says what is wrong, in one sentence without a trailing period.
	Msg string
}

// Error formats the problem as "FILE:LINE:COL: FIELD: MSG", leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors returns the *Error values inside err: err itself, or the members of
// an errors.Join. Other errors are ignored. It is a convenience for callers
// that want to present each problem separately.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if ce, ok := e.(*Error); ok {
			out = append(out, ce)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, m := range j.Unwrap() {
				walk(m)
			}
			return
		}
		var ce *Error
		if errors.As(e, &ce) {
			out = append(out, ce)
		}
	}
	walk(err)
	return out
}

// problems collects *Error values with positions looked up by field path.
type problems struct {
	file string
	pos  map[string]Pos
	// failed marks fields that already have a problem, so that later checks
	// (e.g. "is required" after an unset ${VAR}) do not pile on.
	failed map[string]bool
	errs   []*Error
	seen   map[Error]bool
}

// at records a problem at an explicit position.
func (p *problems) at(pos Pos, field, format string, args ...any) {
	p.failed[field] = true
	e := &Error{File: p.file, Line: pos.Line, Column: pos.Column, Field: field, Msg: fmt.Sprintf(format, args...)}
	if p.seen == nil {
		p.seen = map[Error]bool{}
	}
	if p.seen[*e] {
		return // the same problem seen twice (e.g. a mapping walked twice)
	}
	p.seen[*e] = true
	p.errs = append(p.errs, e)
}

// field records a problem at the position recorded for field (or its
// nearest recorded parent).
func (p *problems) field(field, format string, args ...any) {
	if p.failed[field] {
		return
	}
	p.at(lookupPos(p.pos, field), field, format, args...)
}

// err returns all recorded problems joined in file order, or nil.
func (p *problems) err() error {
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i], p.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// lookupPos finds the position of field, trying its parents when the field
// itself was not present in the file ("jobs[1].delete" → "jobs[1]" → "jobs").
func lookupPos(pos map[string]Pos, field string) Pos {
	for f := field; f != ""; f = parentPath(f) {
		if p, ok := pos[f]; ok {
			return p
		}
	}
	return Pos{}
}

// parentPath drops the last segment of a field path.
func parentPath(f string) string {
	i := strings.LastIndexAny(f, ".[")
	if i < 0 {
		return ""
	}
	return f[:i]
}

// joinPath appends a key to a field path.
func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// indexPath appends a sequence index to a field path.
func indexPath(parent string, i int) string {
	return fmt.Sprintf("%s[%d]", parent, i)
}

// keyPath appends a map key to a field path, quoted: cache_control["*.html"].
func keyPath(parent, key string) string {
	return fmt.Sprintf("%s[%q]", parent, key)
}
