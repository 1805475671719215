package classify

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// Stats is the classifier's accuracy over a corpus of logs: how many each
// rule won, how many fell to a catch-all rule (one that only says something
// failed) and how many no rule matched. Every log counts once, under the
// rule that won it. Shares are fractions of Logs (0 when Logs is 0).
type Stats struct {
	Logs           int        `json:"logs"`
	Matched        int        `json:"matched"`   // won by a specific (not catch-all) rule
	CatchAll       int        `json:"catch_all"` // won by a catch-all rule
	Unmatched      int        `json:"unmatched"`
	MatchedShare   float64    `json:"matched_share"`
	CatchAllShare  float64    `json:"catch_all_share"`
	UnmatchedShare float64    `json:"unmatched_share"`
	Rules          []RuleStat `json:"rules"`
}

// RuleStat is one rule name's count. Rules sharing a name are counted
// together; a name the ruleset does not hold (a log classified by an
// earlier ruleset) is listed after the ruleset's, by name.
type RuleStat struct {
	Rule     string  `json:"rule"`
	CatchAll bool    `json:"catch_all"`
	Logs     int     `json:"logs"`
	Share    float64 `json:"share"`
}

// StatsCounter accumulates Stats. The zero value is not usable; see
// NewStatsCounter.
type StatsCounter struct {
	order    []string
	count    map[string]int
	catchAll map[string]bool
	s        Stats
}

// NewStatsCounter counts against rs's rule names in priority order; the
// rules named in catchAll are the catch-all ones (rs.CatchAll when nil).
func NewStatsCounter(rs *Ruleset, catchAll []string) *StatsCounter {
	c := &StatsCounter{count: map[string]int{}, catchAll: map[string]bool{}}
	if catchAll == nil {
		catchAll = rs.CatchAll
	}
	for _, n := range catchAll {
		c.catchAll[n] = true
	}
	for _, r := range rs.Rules {
		if _, seen := c.count[r.Name]; !seen {
			c.count[r.Name] = 0
			c.order = append(c.order, r.Name)
		}
	}
	return c
}

// Add counts n logs won by rule; rule "" counts n unmatched logs.
func (c *StatsCounter) Add(rule string, n int) {
	c.s.Logs += n
	switch {
	case rule == "":
		c.s.Unmatched += n
		return
	case c.catchAll[rule]:
		c.s.CatchAll += n
	default:
		c.s.Matched += n
	}
	if _, seen := c.count[rule]; !seen {
		c.count[rule] = 0
	}
	c.count[rule] += n
}

// AddMatch counts one classified log (m nil: unmatched).
func (c *StatsCounter) AddMatch(m *Match) {
	if m == nil {
		c.Add("", 1)
		return
	}
	c.Add(m.Rule, 1)
}

// Stats returns the figures so far.
func (c *StatsCounter) Stats() *Stats {
	s := c.s
	share := func(n int) float64 {
		if s.Logs == 0 {
			return 0
		}
		return float64(n) / float64(s.Logs)
	}
	s.MatchedShare, s.CatchAllShare, s.UnmatchedShare = share(s.Matched), share(s.CatchAll), share(s.Unmatched)
	known := map[string]bool{}
	names := slices.Clone(c.order)
	for _, n := range c.order {
		known[n] = true
	}
	var extra []string
	for n := range c.count {
		if !known[n] {
			extra = append(extra, n)
		}
	}
	slices.Sort(extra)
	names = append(names, extra...)
	s.Rules = make([]RuleStat, 0, len(names))
	for _, n := range names {
		s.Rules = append(s.Rules, RuleStat{Rule: n, CatchAll: c.catchAll[n], Logs: c.count[n], Share: share(c.count[n])})
	}
	return &s
}

// WriteStats writes s: with asJSON as one JSON object, else as a table of
// the rules that won at least one log (in priority order) and the three
// totals.
func WriteStats(w io.Writer, s *Stats, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	pct := func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }
	fmt.Fprintf(tw, "RULE\tLOGS\tSHARE\t\n")
	silent := 0
	for _, r := range s.Rules {
		if r.Logs == 0 {
			silent++
			continue
		}
		name := r.Rule
		if r.CatchAll {
			name += " (catch-all)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", name, r.Logs, pct(r.Share))
	}
	fmt.Fprintf(tw, "\t\t\t\n")
	fmt.Fprintf(tw, "matched by a specific rule\t%d\t%s\t\n", s.Matched, pct(s.MatchedShare))
	fmt.Fprintf(tw, "fell to a catch-all rule\t%d\t%s\t\n", s.CatchAll, pct(s.CatchAllShare))
	fmt.Fprintf(tw, "unmatched\t%d\t%s\t\n", s.Unmatched, pct(s.UnmatchedShare))
	fmt.Fprintf(tw, "logs\t%d\t\t\n", s.Logs)
	if err := tw.Flush(); err != nil {
		return err
	}
	if silent > 0 {
		_, err := fmt.Fprintf(w, "%d rule name(s) won no log.\n", silent)
		return err
	}
	return nil
}
