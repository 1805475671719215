package inbox

import (
	"fmt"
	"sort"
	"strings"
)

// Template is a text template with {var} placeholders; "{{" and "}}" are
// literal braces. The variables are the key pattern's segments and:
//
//	name     the group's display name (enrichment, else the group code)
//	profile  the first file's profile
//	key      the first file's key
//	files    "\n- `KEY`" for each file of the set (nothing after the backtick)
//	reasons  "\n{key}:\n{errors}\n" for each file with errors
//	count    the number of files
//	status   "passed" or "failed"
//	issue    the GitHub issue URL ("" when none)
//	prefix   the set prefix (the key without {file})
type Template struct {
	raw   string
	parts []tplPart
}

type tplPart struct {
	lit string
	v   string // variable name; "" for a literal
}

var baseVars = []string{"name", "profile", "key", "files", "reasons", "count", "status", "issue", "prefix"}

// ParseTemplate parses s against the known variables: the key pattern's
// segment names plus baseVars. Unknown variables are an error naming them.
func ParseTemplate(s string, kp *KeyPattern) (*Template, error) {
	known := map[string]bool{}
	for _, v := range baseVars {
		known[v] = true
	}
	if kp != nil {
		for _, n := range kp.Names() {
			if n != "file" {
				known[n] = true
			}
		}
	}
	t := &Template{raw: s}
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unclosed { at byte %d (write {{ for a literal brace)", i)
			}
			name := s[i+1 : i+end]
			if !known[name] {
				return nil, fmt.Errorf("unknown placeholder {%s} at byte %d (known: %s)", name, i, knownList(known))
			}
			if lit.Len() > 0 {
				t.parts = append(t.parts, tplPart{lit: lit.String()})
				lit.Reset()
			}
			t.parts = append(t.parts, tplPart{v: name})
			i += end
		case c == '}':
			return nil, fmt.Errorf("unmatched } at byte %d (write }} for a literal brace)", i)
		default:
			lit.WriteByte(c)
		}
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, tplPart{lit: lit.String()})
	}
	return t, nil
}

func knownList(known map[string]bool) string {
	var out []string
	for k := range known {
		out = append(out, "{"+k+"}")
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// String returns the template source.
func (t *Template) String() string { return t.raw }

// Render substitutes vars (missing ones render as "").
func (t *Template) Render(vars map[string]string) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.v == "" {
			b.WriteString(p.lit)
		} else {
			b.WriteString(vars[p.v])
		}
	}
	return b.String()
}

// templateVars returns the variables of a set report for the templates.
func templateVars(r *Report) map[string]string {
	vars := map[string]string{}
	for k, v := range r.Segments {
		vars[k] = v
	}
	delete(vars, "file")
	vars["name"] = r.Name
	vars["prefix"] = r.Prefix
	vars["issue"] = r.GitHubIssue
	vars["count"] = fmt.Sprint(len(r.Files))
	vars["status"] = "failed"
	if r.Passed() {
		vars["status"] = "passed"
	}
	if len(r.Files) > 0 {
		vars["profile"] = r.Files[0].Profile
		vars["key"] = r.Files[0].Key
	}
	var files, reasons strings.Builder
	for _, f := range r.Files {
		fmt.Fprintf(&files, "\n- `%s`", f.Key)
		if len(f.Errors) > 0 {
			fmt.Fprintf(&reasons, "\n%s:\n%s\n", f.Key, strings.Join(f.Errors, "\n"))
		}
	}
	vars["files"] = files.String()
	vars["reasons"] = reasons.String()
	return vars
}
