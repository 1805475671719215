package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Environment variables and file names consulted by Load.
const (
	EnvConfig     = "GHSYNC_CONFIG"
	EnvConfigYAML = "GHSYNC_CONFIG_YAML"
	DefaultFile   = "ghsync.yaml"
)

// Load reads the configuration from path; when path is "", from the file
// named by GHSYNC_CONFIG, else from the YAML text in GHSYNC_CONFIG_YAML, else
// from ./ghsync.yaml; when none of these exists it returns Default() (with
// the legacy environment fallbacks applied). An explicitly named file that
// does not exist is an error. See Parse for what happens to the content.
// getenv supplies environment variables (os.Getenv in production; nil means
// an empty environment); kinds are the job kinds jobs may use (jobs.Builtin();
// nil accepts no job).
func Load(path string, getenv func(string) string, kinds Kinds) (*Config, error) {
	getenv = orEmpty(getenv)
	src := path
	if src == "" {
		src = getenv(EnvConfig)
	}
	if src == "" {
		if y := getenv(EnvConfigYAML); y != "" {
			return Parse([]byte(y), EnvConfigYAML, getenv, kinds)
		}
		switch _, err := os.Stat(DefaultFile); {
		case err == nil:
			src = DefaultFile
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("stat %s: %w", DefaultFile, err)
		}
	}
	if src == "" {
		c := Default()
		return finish(c, &problems{pos: c.pos, failed: map[string]bool{}}, getenv, kinds)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, src, getenv, kinds)
}

// Parse decodes a configuration from data; filename is used in error
// messages. It expands ${VAR} and ${VAR:-default} in scalar values from
// getenv (nil means an empty environment; a variable set to "" counts as
// unset; "$${" is a literal "${"). An unset variable without a default is an
// error in a required field (job name, kind, source, dest, repo, branches)
// and expands to "" elsewhere. Decoding is strict: unknown keys, duplicate
// keys and wrong types are errors. Defaults are applied and every rule is
// validated; relative destinations are joined onto storage. An empty
// document yields the defaults; a document that is a list is taken as the
// jobs list. Top-level keys starting with "x-" are ignored (a place for
// YAML anchors shared by jobs via "<<: *anchor"). All problems are returned at once, joined with errors.Join, each
// an *Error naming file, line, column and field.
func Parse(data []byte, filename string, getenv func(string) string, kinds Kinds) (*Config, error) {
	getenv = orEmpty(getenv)
	var doc yaml.Node
	if err := unmarshalSafe(data, &doc); err != nil {
		return nil, syntaxError(filename, data, err)
	}
	d := newDecoder(filename, getenv, kinds)
	c := &Config{File: filename}
	if root := docRoot(&doc); root != nil {
		if root = d.enter(root, ""); root != nil {
			switch {
			case root.Kind == yaml.SequenceNode:
				d.probs.pos["jobs"] = nodePos(root)
				d.value(root, "jobs", reflect.ValueOf(&c.Jobs).Elem(), false)
			case root.Kind == yaml.MappingNode:
				d.structValue(root, "", reflect.ValueOf(c).Elem(), structOpts{extensions: true})
			case !isNull(root):
				d.fail(root, "", "the configuration must be a mapping (got %s)", kindName(root))
			}
		}
	}
	c.pos = d.probs.pos
	c.Warnings = d.warnings
	return finish(c, d.probs, getenv, kinds)
}

// finish applies legacy fallbacks and defaults, validates, and resolves
// destinations.
func finish(c *Config, p *problems, getenv func(string) string, kinds Kinds) (*Config, error) {
	p.file = c.File
	c.dir = configDir(c.File)
	applyLegacy(c, Legacy(getenv))
	applyDefaults(c)
	resolvePaths(c)
	validate(c, kinds, p)
	if err := p.err(); err != nil {
		return nil, err
	}
	resolveDests(c)
	return c, nil
}

func orEmpty(getenv func(string) string) func(string) string {
	if getenv == nil {
		return func(string) string { return "" }
	}
	return getenv
}

// docRoot returns the document's top node, or nil for an empty document.
func docRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		return doc.Content[0]
	}
	if doc.Kind == 0 {
		return nil
	}
	return doc
}

// unmarshalSafe parses YAML into a node, turning a parser panic into an error.
func unmarshalSafe(data []byte, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: parser failed: %v", r)
		}
	}()
	return yaml.Unmarshal(data, doc)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError converts a yaml.v3 parse error into an *Error naming the line
// the parser stopped at, quoted. yaml.v3 reports the line where the
// enclosing block started (a misindented key on line 4 of a job comes out
// as "line 1"), so the line is found as the first line at which the
// document, cut after it, fails with the same message (see stopLine); when
// none does, yaml.v3's own line is kept.
func syntaxError(file string, data []byte, err error) error {
	msg := err.Error()
	e := &Error{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	}
	lines := strings.SplitAfter(string(data), "\n")
	if n := stopLine(lines, e.Msg); n > 0 {
		e.Line = n
	}
	e.Msg = "invalid YAML: " + e.Msg
	if e.Line > 0 && e.Line <= len(lines) {
		e.Msg += fmt.Sprintf(" (line %d: %q)", e.Line, truncate(strings.TrimRight(lines[e.Line-1], "\r\n"), 80))
	}
	return e
}

// maxStopLineScan bounds stopLine's quadratic scan (configurations are far
// shorter).
const maxStopLineScan = 5000

// stopLine returns the 1-based number of the first line n such that
// lines[:n] fails to parse with the message msg, or 0. Cutting a YAML
// document after a line leaves the blocks before it well-formed, so the
// first failing cut is where the parser stopped; requiring the same message
// skips cuts that merely end inside a construct spanning lines (a flow list,
// a quoted string) which the whole document closes.
func stopLine(lines []string, msg string) int {
	if len(lines) > maxStopLineScan {
		return 0
	}
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(l)
		var doc yaml.Node
		err := unmarshalSafe([]byte(b.String()), &doc)
		if err == nil {
			continue
		}
		got := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			got = m[2]
		}
		if got == msg {
			return i + 1
		}
	}
	return 0
}
