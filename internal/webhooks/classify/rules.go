package classify

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

//go:embed default_ruleset.toml
var defaultRuleset []byte

// DefaultIgnoreLines are the lines that never match unless a ruleset sets
// ignore_lines: CI wrapper boilerplate printed on every failure that never
// names the cause (PyTorch's log classifier drops the same lines).
var DefaultIgnoreLines = []string{
	`^##\[error\]Process completed with exit code \d+\.?$`,
	`\[OSDC\] Step script exited`,
	`^##\[error\]Executing the custom container implementation failed`,
	`^##\[error\]TypeError: Cannot read properties of null \(reading 'jobPod'\)`,
	`\[OSDC\] Step cancelled by GitHub Actions`,
}

// DefaultIgnoreRegion is the region ignored unless a ruleset sets
// [ignore_region]: sccache's compilation log, which repeats compiler errors
// that are not the failure.
var DefaultIgnoreRegion = Region{
	Start: `=================== sccache compilation log ===================`,
	End:   `=========== If your build fails, please take a look at the log above for possible reasons ===========`,
}

// Rule is one classification rule: a name (not necessarily unique) and a
// regular expression (Go RE2 syntax, which PyTorch's rulesets use unchanged
// except for Unicode-aware \d, \w, \s and \b, which are ASCII here).
type Rule struct {
	Name    string `toml:"name"`
	Pattern string `toml:"pattern"`
}

// Region is an ignored region: from a line matching Start through the next
// line matching End, both included. An empty Start disables it.
type Region struct {
	Start string `toml:"start"`
	End   string `toml:"end"`
}

// Ruleset is a parsed rules file. The format is PyTorch's ruleset.toml — an
// ordered list of [[rule]] tables whose file order is their priority — plus
// two optional keys that replace the built-in defaults:
//
//	ignore_lines = ['^##\[error\]Process completed with exit code \d+\.?$']  # [] drops none
//	[ignore_region]                                                        # start = "" disables
//	start = '=== begin noise ==='
//	end = '=== end noise ==='
//
// A third optional key, catch_all, names the rules that only say that
// something failed (such as '^##\[error\](.*)$'): `ghsync classify --stats`
// counts the logs they win apart from those a specific rule explains.
//
//	catch_all = ["GitHub Actions error"]
//
// PyTorch's classifier ignores these keys, so one file serves both.
type Ruleset struct {
	Rules        []Rule    `toml:"rule"`
	IgnoreLines  *[]string `toml:"ignore_lines"`
	IgnoreRegion *Region   `toml:"ignore_region"`
	CatchAll     []string  `toml:"catch_all"`
	// Source names the file (or "built-in") in errors.
	Source string `toml:"-"`
}

// ParseRuleset parses a rules file's content; source names it in errors.
// Every rule needs a name and a pattern that compiles; unknown keys are
// refused so that a misspelt key is not silently ignored.
func ParseRuleset(source string, data []byte) (*Ruleset, error) {
	var rs Ruleset
	md, err := toml.Decode(string(data), &rs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("%s: unknown key(s) %s (known: rule.name, rule.pattern, ignore_lines, ignore_region.start, ignore_region.end, catch_all)",
			source, strings.Join(keys, ", "))
	}
	rs.Source = source
	if len(rs.Rules) == 0 {
		return nil, fmt.Errorf("%s: no [[rule]] tables", source)
	}
	for i, r := range rs.Rules {
		if r.Name == "" {
			return nil, fmt.Errorf("%s: rule %d (pattern %q): name is empty", source, i+1, r.Pattern)
		}
		if r.Pattern == "" {
			return nil, fmt.Errorf("%s: rule %d (%q): pattern is empty", source, i+1, r.Name)
		}
		if _, err := regexp.Compile(r.Pattern); err != nil {
			return nil, fmt.Errorf("%s: rule %d (%q): pattern: %w", source, i+1, r.Name, err)
		}
		if err := checkRustOnly(r.Pattern); err != nil {
			return nil, fmt.Errorf("%s: rule %d (%q): pattern: %w", source, i+1, r.Name, err)
		}
	}
	if err := rs.checkRuleNames("catch_all", rs.CatchAll); err != nil {
		return nil, err
	}
	if rs.IgnoreLines != nil {
		for i, p := range *rs.IgnoreLines {
			if _, err := regexp.Compile(p); err != nil {
				return nil, fmt.Errorf("%s: ignore_lines[%d]: %w", source, i, err)
			}
		}
	}
	if g := rs.IgnoreRegion; g != nil && g.Start != "" {
		if g.End == "" {
			return nil, fmt.Errorf("%s: ignore_region: start is set but end is empty", source)
		}
		if _, err := regexp.Compile(g.Start); err != nil {
			return nil, fmt.Errorf("%s: ignore_region.start: %w", source, err)
		}
		if _, err := regexp.Compile(g.End); err != nil {
			return nil, fmt.Errorf("%s: ignore_region.end: %w", source, err)
		}
	}
	return &rs, nil
}

// LoadRuleset reads and parses the rules file at path.
func LoadRuleset(path string) (*Ruleset, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rules file: %w", err)
	}
	return ParseRuleset(path, data)
}

// DefaultRuleset returns the built-in ruleset (common failures: compiler
// errors, test failures, timeouts, out of memory, network errors).
func DefaultRuleset() *Ruleset {
	rs, err := ParseRuleset("built-in ruleset", defaultRuleset)
	if err != nil {
		panic(errors.Join(errors.New("classify: the built-in ruleset is invalid"), err))
	}
	return rs
}

// ignoreLines returns the effective ignored-line patterns.
func (rs *Ruleset) ignoreLines() []string {
	if rs.IgnoreLines != nil {
		return *rs.IgnoreLines
	}
	return DefaultIgnoreLines
}

// ignoreRegion returns the effective ignored region (Start "" for none).
func (rs *Ruleset) ignoreRegion() Region {
	if rs.IgnoreRegion != nil {
		return *rs.IgnoreRegion
	}
	return DefaultIgnoreRegion
}

// checkRuleNames refuses a name in names (the value of key) that no rule
// of rs has.
func (rs *Ruleset) checkRuleNames(key string, names []string) error {
	for _, n := range names {
		found := false
		for _, r := range rs.Rules {
			if r.Name == n {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s: %s: no rule is named %q", rs.Source, key, n)
		}
	}
	return nil
}
