package inbox

import (
	"fmt"
	"strings"
)

// DefaultKeyPattern is the key layout of upload sets when none is configured.
const DefaultKeyPattern = "{group}/{date}/{timestamp}/{file}"

// reservedNames are template variables that key segments may not shadow.
var reservedNames = map[string]bool{"name": true, "profile": true, "files": true, "reasons": true,
	"count": true, "key": true, "issue": true, "status": true, "prefix": true}

// KeyPattern is a parsed key layout: "/"-separated segments, each a literal
// or a named placeholder {name}; the last is {file}. Objects whose keys
// match and agree on every segment but {file} form one upload set.
type KeyPattern struct {
	raw  string
	segs []patSeg
}

type patSeg struct {
	lit  string
	name string // "" for a literal segment
}

// String returns the pattern as written.
func (p *KeyPattern) String() string { return p.raw }

// Names returns the placeholder names in order, {file} included.
func (p *KeyPattern) Names() []string {
	var out []string
	for _, s := range p.segs {
		if s.name != "" {
			out = append(out, s.name)
		}
	}
	return out
}

// ParseKeyPattern parses a key pattern ("" means DefaultKeyPattern).
func ParseKeyPattern(s string) (*KeyPattern, error) {
	if s == "" {
		s = DefaultKeyPattern
	}
	p := &KeyPattern{raw: s}
	seen := map[string]bool{}
	parts := strings.Split(s, "/")
	for i, part := range parts {
		switch {
		case part == "":
			return nil, fmt.Errorf("key pattern %q: empty segment %d (no leading, trailing or double /)", s, i+1)
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			name := part[1 : len(part)-1]
			if !validName(name) {
				return nil, fmt.Errorf("key pattern %q: segment %q: a name is lower-case letters, digits and _, starting with a letter", s, part)
			}
			if seen[name] {
				return nil, fmt.Errorf("key pattern %q: {%s} appears twice", s, name)
			}
			if reservedNames[name] {
				return nil, fmt.Errorf("key pattern %q: {%s} is a template variable; choose another name", s, name)
			}
			if name == "file" && i != len(parts)-1 {
				return nil, fmt.Errorf("key pattern %q: {file} must be the last segment", s)
			}
			seen[name] = true
			p.segs = append(p.segs, patSeg{name: name})
		case strings.ContainsAny(part, "{}"):
			return nil, fmt.Errorf("key pattern %q: segment %q: a placeholder must be a whole segment, like {group}", s, part)
		default:
			if part == "." || part == ".." {
				return nil, fmt.Errorf("key pattern %q: segment %q is not allowed", s, part)
			}
			p.segs = append(p.segs, patSeg{lit: part})
		}
	}
	if !seen["file"] {
		return nil, fmt.Errorf("key pattern %q: the last segment must be {file}", s)
	}
	return p, nil
}

func validName(n string) bool {
	if n == "" || n[0] < 'a' || n[0] > 'z' {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Match matches key (relative to the watch prefix). It returns the segment
// values (file included) and the set prefix: everything before {file},
// ending in "/". ok is false when the key does not fit the pattern, and for
// report.json (never part of a set) and ghsync's own .ghsync/ objects.
func (p *KeyPattern) Match(key string) (segs map[string]string, setPrefix string, ok bool) {
	if strings.HasPrefix(key, ".ghsync/") {
		return nil, "", false
	}
	parts := strings.Split(key, "/")
	if len(parts) != len(p.segs) {
		return nil, "", false
	}
	segs = make(map[string]string, len(parts))
	for i, s := range p.segs {
		v := parts[i]
		if v == "" {
			return nil, "", false
		}
		if s.name == "" {
			if v != s.lit {
				return nil, "", false
			}
			continue
		}
		segs[s.name] = v
	}
	if segs["file"] == "report.json" {
		return nil, "", false
	}
	setPrefix = strings.Join(parts[:len(parts)-1], "/")
	if setPrefix != "" {
		setPrefix += "/"
	}
	return segs, setPrefix, true
}

// SetOf returns the set prefix of the upload set key belongs to, for keys
// that need not exist (ghsync run --key): a key of the pattern's shape, or a
// set prefix itself (with or without the trailing /).
func (p *KeyPattern) SetOf(key string) (segs map[string]string, setPrefix string, ok bool) {
	if segs, pre, ok := p.Match(key); ok {
		return segs, pre, true
	}
	// A set prefix: match it with a file name after it ("" is the prefix of
	// a pattern whose only segment is {file}: the probe is then "x").
	probe := key
	if probe != "" && !strings.HasSuffix(probe, "/") {
		probe += "/"
	}
	if s, pre, ok := p.Match(probe + "x"); ok {
		delete(s, "file")
		return s, pre, true
	}
	if strings.HasSuffix(key, "/report.json") {
		return p.SetOf(strings.TrimSuffix(key, "report.json"))
	}
	return nil, "", false
}
