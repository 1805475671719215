// Package schedule parses the schedule expressions of ghsync jobs and computes
// when they fire next.
//
// Accepted forms:
//
//	rate(1 minute)  rate(5 minutes)  rate(1 hour)  rate(2 hours)  rate(1 day)  rate(7 days)
//	cron(0 10 * * ? *)             EventBridge: min hour day-of-month month day-of-week year
//	cron(0 18 ? * MON-FRI *)       with ?, L, W, #, ranges, lists, steps, JAN…DEC, SUN…SAT;
//	cron(0 12 L * ? *)             day-of-week 1=SUN … 7=SAT; one of the two day fields must be ?
//	*/15 9-17 * * 1-5              plain five-field cron (day-of-week 0 or 7=SUN … 6=SAT;
//	                               both day fields restricted means either may match)
//	@every 5m  @every 90s          any Go duration of at least one second
//	@hourly @daily @midnight @weekly @monthly @yearly @annually
//
// Cron expressions are evaluated in UTC unless a time zone is given to
// [Parse]. Intervals (rate, @every) are aligned to the Unix epoch, so that
// every replica of a scheduler computes the same ticks: rate(5 minutes) fires
// at :00, :05, :10 … and @every 2s at every even second.
//
// Errors name the position of the problem, e.g.
//
//	cron field 3 (day-of-month) "32": out of range 1-31
//
// so that callers can prefix the file, line and field of the configuration.
package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind names the form a schedule was written in.
type Kind string

// The schedule kinds.
const (
	// Rate is rate(N unit), an interval.
	Rate Kind = "rate"
	// Every is @every DURATION, an interval.
	Every Kind = "every"
	// EventBridgeCron is cron(…) with six fields.
	EventBridgeCron Kind = "cron"
	// PlainCron is a five-field cron expression (or @hourly, @daily …).
	PlainCron Kind = "cron5"
)

// MinInterval is the shortest interval an @every schedule may have.
const MinInterval = time.Second

// Schedule is a parsed schedule expression. It is immutable and safe for
// concurrent use.
type Schedule struct {
	expr     string
	kind     Kind
	interval time.Duration // Rate and Every
	cron     *cronSpec     // EventBridgeCron and PlainCron
	loc      *time.Location
}

// Parse parses expr (see the package documentation). timezone is an IANA zone
// name in which cron fields are read; "" means UTC. Intervals ignore it.
func Parse(expr, timezone string) (*Schedule, error) {
	loc := time.UTC
	if timezone != "" {
		l, err := time.LoadLocation(timezone)
		if err != nil {
			return nil, fmt.Errorf("unknown time zone %q", timezone)
		}
		loc = l
	}
	s := strings.TrimSpace(expr)
	if s == "" {
		return nil, errors.New("empty schedule")
	}
	sch := &Schedule{expr: s, loc: loc}
	var err error
	switch {
	case strings.HasPrefix(s, "rate"):
		sch.kind = Rate
		sch.interval, err = parseRate(s)
	case strings.HasPrefix(s, "cron"):
		sch.kind = EventBridgeCron
		var body string
		if body, err = unwrap(s, "cron"); err == nil {
			sch.cron, err = parseCron(body, true)
		}
	case strings.HasPrefix(s, "@every"):
		sch.kind = Every
		sch.interval, err = parseEvery(s)
	case strings.HasPrefix(s, "@"):
		sch.kind = PlainCron
		sch.cron, err = parseDescriptor(s)
	default:
		sch.kind = PlainCron
		sch.cron, err = parseCron(s, false)
	}
	if err != nil {
		return nil, err
	}
	if sch.cron != nil && sch.Next(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, fmt.Errorf("%q never fires (no date between 1970 and %d matches all fields)", s, maxYear)
	}
	return sch, nil
}

// String returns the expression as it was given (trimmed).
func (s *Schedule) String() string { return s.expr }

// Kind reports which form the expression was written in.
func (s *Schedule) Kind() Kind { return s.kind }

// Interval is the period of a rate or @every schedule; 0 for cron schedules.
func (s *Schedule) Interval() time.Duration { return s.interval }

// Location is the time zone cron fields are read in (UTC by default).
func (s *Schedule) Location() *time.Location { return s.loc }

// Next returns the first firing time strictly after after. It returns the
// zero time when the schedule never fires again (a cron year field that has
// passed, or after the year 2199).
func (s *Schedule) Next(after time.Time) time.Time {
	if s.interval > 0 {
		n, d := after.UnixNano(), s.interval.Nanoseconds()
		k := n / d
		if n < 0 && n%d != 0 {
			k-- // floor for instants before 1970
		}
		return time.Unix(0, (k+1)*d).In(after.Location())
	}
	return s.cron.next(after, s.loc)
}

// parseRate parses rate(N unit) as EventBridge does: singular unit for 1,
// plural otherwise.
func parseRate(s string) (time.Duration, error) {
	body, err := unwrap(s, "rate")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(body)
	if len(f) != 2 {
		return 0, fmt.Errorf("rate(%s): want rate(N minute|minutes|hour|hours|day|days)", body)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 || n > 1_000_000 {
		return 0, fmt.Errorf("rate value %q: want a whole number from 1 to 1000000", f[0])
	}
	unit := strings.ToLower(f[1])
	var d time.Duration
	switch strings.TrimSuffix(unit, "s") {
	case "minute":
		d = time.Minute
	case "hour":
		d = time.Hour
	case "day":
		d = 24 * time.Hour
	default:
		return 0, fmt.Errorf("rate unit %q: want minute(s), hour(s) or day(s)", f[1])
	}
	if plural := strings.HasSuffix(unit, "s"); plural != (n != 1) {
		want := strings.TrimSuffix(unit, "s")
		if n != 1 {
			want += "s"
		}
		return 0, fmt.Errorf("rate(%s): write %q with %d (EventBridge rejects %q)", body, want, n, f[1])
	}
	return time.Duration(n) * d, nil
}

func parseEvery(s string) (time.Duration, error) {
	arg := strings.TrimSpace(strings.TrimPrefix(s, "@every"))
	if arg == "" {
		return 0, errors.New("@every needs a duration, e.g. @every 5m")
	}
	d, err := time.ParseDuration(arg)
	if err != nil {
		return 0, fmt.Errorf("@every %q: not a duration (want e.g. 90s, 5m, 1h30m)", arg)
	}
	if d < MinInterval {
		return 0, fmt.Errorf("@every %s: the interval must be at least %s", arg, MinInterval)
	}
	return d, nil
}

func parseDescriptor(s string) (*cronSpec, error) {
	expr, ok := map[string]string{
		"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
		"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
	}[strings.ToLower(s)]
	if !ok {
		return nil, fmt.Errorf("unknown schedule %q: want @every DURATION, @hourly, @daily, @midnight, @weekly, @monthly or @yearly", s)
	}
	return parseCron(expr, false)
}

// unwrap returns the text between "name(" and the final ")".
func unwrap(s, name string) (string, error) {
	body := strings.TrimSpace(strings.TrimPrefix(s, name))
	body, ok := strings.CutPrefix(body, "(")
	if !ok {
		return "", fmt.Errorf("%s must be written %s(…)", name, name)
	}
	body, ok = strings.CutSuffix(body, ")")
	if !ok {
		return "", fmt.Errorf("%s(…) must end with ')'", name)
	}
	return strings.TrimSpace(body), nil
}
