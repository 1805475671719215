package schedule

import (
	"fmt"
	"strconv"
	"strings"
)

// The year range EventBridge accepts; Next gives up after maxYear.
const (
	minYear = 1970
	maxYear = 2199
)

// Field indexes.
const (
	fMinute = iota
	fHour
	fDOM
	fMonth
	fDOW
	fYear
)

type fieldDef struct {
	name   string
	lo, hi int
}

// fieldDefs returns the definitions of the fields of an EventBridge (six
// fields, day-of-week 1-7) or plain (five fields, day-of-week 0-7) expression.
func fieldDefs(eventBridge bool) []fieldDef {
	defs := []fieldDef{{"minute", 0, 59}, {"hour", 0, 23}, {"day-of-month", 1, 31}, {"month", 1, 12}, {"day-of-week", 0, 7}}
	if eventBridge {
		defs[fDOW].lo = 1
		defs = append(defs, fieldDef{"year", minYear, maxYear})
	}
	return defs
}

var monthNames = [...]string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}

var dayNames = [...]string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// nth is a day-of-week "weekday#n" item: the n-th such weekday of the month.
type nth struct{ weekday, n int }

// cronSpec is a parsed cron expression. Day-of-week values are stored as
// Go's time.Weekday (0 = Sunday) whatever the dialect.
type cronSpec struct {
	eventBridge bool
	minute      uint64
	hour        uint64
	month       uint64
	// Day of month.
	dom            uint64
	domStar        bool // '*' (or '*/n') or '?': unrestricted for plain-cron OR rules
	domQuestion    bool // '?': defer to day-of-week
	domLast        bool // L
	domLastWeekday bool // LW
	domNearest     []int
	// Day of week.
	dow         uint64
	dowStar     bool
	dowQuestion bool
	dowLast     []int // nL: last such weekday of the month
	dowNth      []nth // n#k
	// Year (EventBridge only); nil means any year.
	years []bool
}

// fieldError reports a problem with field i (0-based) and the offending text.
func fieldError(defs []fieldDef, i int, text, format string, args ...any) error {
	return fmt.Errorf("cron field %d (%s) %q: %s", i+1, defs[i].name, text, fmt.Sprintf(format, args...))
}

func parseCron(expr string, eventBridge bool) (*cronSpec, error) {
	defs := fieldDefs(eventBridge)
	fields := strings.Fields(expr)
	if len(fields) != len(defs) {
		if eventBridge {
			return nil, fmt.Errorf("cron(%s): want 6 fields (minute hour day-of-month month day-of-week year), got %d", expr, len(fields))
		}
		if len(fields) == 6 {
			return nil, fmt.Errorf("%q: 6 fields; write EventBridge expressions as cron(min hour dom month dow year), plain cron has 5 fields", expr)
		}
		return nil, fmt.Errorf("%q: want 5 cron fields (minute hour day-of-month month day-of-week) or cron(…) with 6, got %d", expr, len(fields))
	}
	c := &cronSpec{eventBridge: eventBridge}
	var err error
	if c.minute, err = parseNumeric(defs, fMinute, fields[fMinute], eventBridge); err != nil {
		return nil, err
	}
	if c.hour, err = parseNumeric(defs, fHour, fields[fHour], eventBridge); err != nil {
		return nil, err
	}
	if c.month, err = parseNumeric(defs, fMonth, fields[fMonth], eventBridge); err != nil {
		return nil, err
	}
	if err := c.parseDOM(defs, fields[fDOM]); err != nil {
		return nil, err
	}
	if err := c.parseDOW(defs, fields[fDOW]); err != nil {
		return nil, err
	}
	if eventBridge {
		if c.domQuestion == c.dowQuestion {
			return nil, fmt.Errorf("cron(%s): exactly one of day-of-month (field 3) and day-of-week (field 5) must be '?' (e.g. cron(0 10 * * ? *) or cron(0 10 ? * MON *))", expr)
		}
		if fields[fYear] != "*" {
			bits, err := parseYears(defs, fields[fYear])
			if err != nil {
				return nil, err
			}
			c.years = bits
		}
	}
	return c, nil
}

// parseNumeric parses a comma list of *, N, N-M, with optional /STEP, for
// minute, hour, month (and, through parseValues, the day fields).
func parseNumeric(defs []fieldDef, i int, text string, eventBridge bool) (uint64, error) {
	if text == "?" {
		return 0, fieldError(defs, i, text, "'?' is only allowed in day-of-month and day-of-week")
	}
	vals, err := parseValues(defs, i, text, eventBridge)
	if err != nil {
		return 0, err
	}
	var bits uint64
	for _, v := range vals {
		bits |= 1 << uint(v)
	}
	return bits, nil
}

// parseValues expands a comma list of ranges into values in the field's
// written numbering.
func parseValues(defs []fieldDef, i int, text string, eventBridge bool) ([]int, error) {
	if text == "" {
		return nil, fieldError(defs, i, text, "empty")
	}
	var out []int
	for _, item := range strings.Split(text, ",") {
		vals, err := parseRange(defs, i, item, eventBridge)
		if err != nil {
			return nil, err
		}
		out = append(out, vals...)
	}
	return out, nil
}

func parseRange(defs []fieldDef, i int, item string, eventBridge bool) ([]int, error) {
	d := defs[i]
	if item == "" {
		return nil, fieldError(defs, i, item, "empty list item")
	}
	rng, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		n, err := strconv.Atoi(stepText)
		if err != nil || n <= 0 {
			return nil, fieldError(defs, i, item, "step %q must be a positive number", stepText)
		}
		if n > d.hi-d.lo+1 {
			return nil, fieldError(defs, i, item, "step %d is larger than the range %d-%d", n, d.lo, d.hi)
		}
		step = n
	}
	lo, hi := d.lo, d.hi
	switch {
	case rng == "*":
	default:
		a, b, isRange := strings.Cut(rng, "-")
		var err error
		if lo, err = value(defs, i, a, item, eventBridge); err != nil {
			return nil, err
		}
		switch {
		case isRange:
			if hi, err = value(defs, i, b, item, eventBridge); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, fieldError(defs, i, item, "range start %d is after its end %d", lo, hi)
			}
		case !hasStep:
			hi = lo
		}
	}
	var out []int
	for v := lo; v <= hi; v += step {
		out = append(out, v)
	}
	return out, nil
}

// value parses one number or name of field i.
func value(defs []fieldDef, i int, s, item string, eventBridge bool) (int, error) {
	d := defs[i]
	up := strings.ToUpper(s)
	if i == fMonth {
		for k, n := range monthNames {
			if up == n {
				return k + 1, nil
			}
		}
	}
	if i == fDOW {
		for k, n := range dayNames {
			if up == n {
				if eventBridge {
					return k + 1, nil
				}
				return k, nil
			}
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		what := "a number"
		switch i {
		case fMonth:
			what = "a number or JAN…DEC"
		case fDOW:
			what = "a number or SUN…SAT"
		}
		return 0, fieldError(defs, i, item, "%q is not %s", s, what)
	}
	if n < d.lo || n > d.hi {
		return 0, fieldError(defs, i, item, "out of range %d-%d", d.lo, d.hi)
	}
	return n, nil
}

func (c *cronSpec) parseDOM(defs []fieldDef, text string) error {
	if text == "?" {
		c.domQuestion, c.domStar = true, true
		return nil
	}
	c.domStar = strings.HasPrefix(text, "*")
	for _, item := range strings.Split(text, ",") {
		up := strings.ToUpper(item)
		switch {
		case up == "L":
			c.domLast = true
		case up == "LW":
			c.domLastWeekday = true
		case strings.HasSuffix(up, "W"):
			n, err := value(defs, fDOM, item[:len(item)-1], item, c.eventBridge)
			if err != nil {
				return err
			}
			c.domNearest = append(c.domNearest, n)
		default:
			if strings.ContainsAny(up, "LW?#") {
				return fieldError(defs, fDOM, item, "want N, N-M, */N, L, LW or NW")
			}
			vals, err := parseRange(defs, fDOM, item, c.eventBridge)
			if err != nil {
				return err
			}
			for _, v := range vals {
				c.dom |= 1 << uint(v)
			}
		}
	}
	return nil
}

func (c *cronSpec) parseDOW(defs []fieldDef, text string) error {
	if text == "?" {
		c.dowQuestion, c.dowStar = true, true
		return nil
	}
	c.dowStar = strings.HasPrefix(text, "*")
	items := strings.Split(text, ",")
	for _, item := range items {
		up := strings.ToUpper(item)
		switch {
		case up == "L":
			c.dow |= 1 << 6 // the last day of the week: Saturday
		case strings.Contains(up, "#"):
			if len(items) > 1 {
				return fieldError(defs, fDOW, text, "an expression with '#' must be alone in the field")
			}
			a, b, _ := strings.Cut(item, "#")
			wd, err := value(defs, fDOW, a, item, c.eventBridge)
			if err != nil {
				return err
			}
			k, err := strconv.Atoi(b)
			if err != nil || k < 1 || k > 5 {
				return fieldError(defs, fDOW, item, "the instance after '#' must be 1-5")
			}
			c.dowNth = append(c.dowNth, nth{c.weekday(wd), k})
		case strings.HasSuffix(up, "L"):
			wd, err := value(defs, fDOW, item[:len(item)-1], item, c.eventBridge)
			if err != nil {
				return err
			}
			c.dowLast = append(c.dowLast, c.weekday(wd))
		default:
			if strings.Contains(up, "?") {
				return fieldError(defs, fDOW, item, "'?' must be alone in the field")
			}
			vals, err := parseRange(defs, fDOW, item, c.eventBridge)
			if err != nil {
				return err
			}
			for _, v := range vals {
				c.dow |= 1 << uint(c.weekday(v))
			}
		}
	}
	return nil
}

// weekday converts a written day-of-week number to time.Weekday numbering.
func (c *cronSpec) weekday(v int) int {
	if c.eventBridge {
		return v - 1
	}
	return v % 7
}

func parseYears(defs []fieldDef, text string) ([]bool, error) {
	if text == "?" {
		return nil, fieldError(defs, fYear, text, "'?' is only allowed in day-of-month and day-of-week")
	}
	vals, err := parseValues(defs, fYear, text, true)
	if err != nil {
		return nil, err
	}
	years := make([]bool, maxYear-minYear+1)
	for _, v := range vals {
		years[v-minYear] = true
	}
	return years, nil
}
