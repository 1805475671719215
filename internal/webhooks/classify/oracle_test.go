package classify

import (
	"regexp"
	"strings"
)

// The oracle is a deliberately naive classifier written straight from the
// spec's wording (regexps for normalisation, every rule run over every kept
// line, last line first): the fast classifier must agree with it.

var (
	oracleTS   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{7}Z `)
	oracleANSI = regexp.MustCompile("(?:\x1b[@-Z\\\\-_]|[\u0080-\u009a\u009c-\u009f]|(?:\x1b\\[|\u009b)[0-?]*[ -/]*[@-~])")
)

func oracleNormalize(line string) string {
	line = oracleTS.ReplaceAllString(line, "")
	return oracleANSI.ReplaceAllString(line, "")
}

func oracleClassify(rs *Ruleset, log string, context int) *Match {
	type kept struct {
		num  int
		text string
	}
	var drops []*regexp.Regexp
	for _, p := range rs.ignoreLines() {
		drops = append(drops, regexp.MustCompile(p))
	}
	g := rs.ignoreRegion()
	var start, end *regexp.Regexp
	if g.Start != "" {
		start, end = regexp.MustCompile(g.Start), regexp.MustCompile(g.End)
	}
	raw := strings.Split(log, "\n")
	if len(raw) > 0 && raw[len(raw)-1] == "" {
		raw = raw[:len(raw)-1]
	}
	var lines []kept
	ignoring := false
next:
	for i, l := range raw {
		l = strings.TrimSuffix(l, "\r")
		l = oracleNormalize(l)
		for _, d := range drops {
			if d.MatchString(l) {
				continue next
			}
		}
		if start != nil {
			if ignoring {
				if end.MatchString(l) {
					ignoring = false
				}
				continue
			}
			if start.MatchString(l) {
				ignoring = true
				continue
			}
		}
		lines = append(lines, kept{i + 1, l})
	}
	for _, r := range rs.Rules {
		re := regexp.MustCompile(r.Pattern)
		for k := len(lines) - 1; k >= 0; k-- {
			sm := re.FindStringSubmatchIndex(lines[k].text)
			if sm == nil {
				continue
			}
			m := &Match{Rule: r.Name, Line: lines[k].text, LineNum: lines[k].num, Captures: []string{}, Context: []string{}}
			if len(sm) == 2 {
				m.Captures = append(m.Captures, lines[k].text[sm[0]:sm[1]])
			}
			for j := 2; j+1 < len(sm); j += 2 {
				if sm[j] >= 0 {
					m.Captures = append(m.Captures, lines[k].text[sm[j]:sm[j+1]])
				}
			}
			for j := k; j >= 0 && len(m.Context) < context; j-- {
				if strings.HasPrefix(lines[j].text, "+") {
					m.Context = append(m.Context, lines[j].text)
				}
			}
			return m
		}
	}
	return nil
}
