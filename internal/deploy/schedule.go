package deploy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/schedule"
)

// Scheduled is a configured job's schedule in EventBridge syntax.
type Scheduled struct {
	// Job is the job's name.
	Job string
	// Expression is the EventBridge expression: rate(…) or cron(…).
	Expression string
	// Timezone is the job's IANA zone ("" = UTC); only EventBridge
	// Scheduler honours it, rules run in UTC.
	Timezone string
	// Input is the target input, {"job":"NAME"}.
	Input string
}

// Schedules returns the EventBridge form of every scheduled job in cfg, in
// file order. Expressions are validated by package schedule (errors name
// file, line and field); rate(…) and cron(…) pass through unchanged, @every
// and five-field cron are translated (see EventBridgeExpression).
func Schedules(cfg *config.Config) ([]Scheduled, error) {
	parsed, err := schedule.FromConfig(cfg)
	if err != nil {
		return nil, err
	}
	out := make([]Scheduled, 0, len(parsed))
	for _, p := range parsed {
		expr, err := EventBridgeExpression(p.Schedule)
		if err != nil {
			return nil, cfg.FieldError(cfg.JobField(p.Name, "schedule"), "%v", err)
		}
		job, _ := cfg.Job(p.Name)
		out = append(out, Scheduled{Job: p.Name, Expression: expr, Timezone: job.Timezone, Input: JobInput(p.Name)})
	}
	return out, nil
}

// JobInput is the invocation input that runs the job called name.
func JobInput(name string) string {
	b, _ := jsonMarshal(map[string]string{"job": name})
	return string(b)
}

// EventBridgeExpression renders s in EventBridge syntax. rate(…) and
// cron(…) are returned as written; @every D becomes rate(N minutes|hours|days)
// when D is a whole number of minutes (EventBridge's resolution); @hourly,
// @daily and friends and five-field cron become six-field cron(…) with "?"
// in the unrestricted day field and day-of-week renumbered (cron 0/7=SUN →
// EventBridge 1=SUN). Expressions EventBridge cannot state (sub-minute
// intervals, both day fields restricted, day-of-week steps) are errors.
func EventBridgeExpression(s *schedule.Schedule) (string, error) {
	switch s.Kind() {
	case schedule.Rate, schedule.EventBridgeCron:
		return s.String(), nil
	case schedule.Every:
		return rateFor(s.Interval())
	case schedule.PlainCron:
		return cronFor(s.String())
	}
	return "", fmt.Errorf("schedule %q: kind %s has no EventBridge form", s, s.Kind())
}

func rateFor(d time.Duration) (string, error) {
	if d < time.Minute || d%time.Minute != 0 {
		return "", fmt.Errorf("@every %s: EventBridge schedules are whole minutes (at least 1 minute); use rate(N minutes)", d)
	}
	n, unit := int64(d/time.Minute), "minute"
	switch {
	case n%(24*60) == 0:
		n, unit = n/(24*60), "day"
	case n%60 == 0:
		n, unit = n/60, "hour"
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("rate(%d %s)", n, unit), nil
}

var descriptors = map[string]string{
	"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
	"@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
}

func cronFor(expr string) (string, error) {
	text := strings.TrimSpace(expr)
	if d, ok := descriptors[text]; ok {
		text = d
	}
	f := strings.Fields(text)
	if len(f) != 5 {
		return "", fmt.Errorf("cron %q: want five fields", expr)
	}
	minute, hour, dom, month, dow := f[0], f[1], f[2], f[3], f[4]
	minute, hour = stepFrom(minute, "0"), stepFrom(hour, "0")
	dom, month = stepFrom(dom, "1"), stepFrom(month, "1")
	switch {
	case dow == "*" || dow == "?":
		dow = "?"
	case dom == "*" || dom == "?":
		dom = "?"
		var err error
		if dow, err = renumberDOW(dow); err != nil {
			return "", fmt.Errorf("cron %q: day-of-week %w", expr, err)
		}
	default:
		return "", fmt.Errorf("cron %q: both day-of-month and day-of-week are restricted (cron runs when either matches); EventBridge needs one of them to be ?: write two jobs or use cron(…)", expr)
	}
	return fmt.Sprintf("cron(%s %s %s %s %s *)", minute, hour, dom, month, dow), nil
}

// stepFrom rewrites "*/N" as "START/N", the form EventBridge documents.
func stepFrom(field, start string) string {
	if rest, ok := strings.CutPrefix(field, "*/"); ok {
		return start + "/" + rest
	}
	return field
}

// renumberDOW turns cron day-of-week numbers (0 or 7 = SUN … 6 = SAT) into
// EventBridge's (1 = SUN … 7 = SAT); names pass through.
func renumberDOW(field string) (string, error) {
	if strings.Contains(field, "/") {
		return "", fmt.Errorf("%q: steps are not supported by EventBridge; list the days", field)
	}
	items := strings.Split(field, ",")
	for i, item := range items {
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := dowNumber(lo)
		if err != nil {
			return "", err
		}
		if !isRange {
			items[i] = a
			continue
		}
		b, err := dowNumber(hi)
		if err != nil {
			return "", err
		}
		na, ea := strconv.Atoi(a)
		nb, eb := strconv.Atoi(b)
		if ea == nil && eb == nil && na > nb {
			if nb == 1 && hi != "1" { // a range ending on SUN written as 7: split it
				items[i] = a + "-7,1"
				continue
			}
			return "", fmt.Errorf("%q: range %s runs backwards", field, item)
		}
		items[i] = a + "-" + b
	}
	return strings.Join(items, ","), nil
}

func dowNumber(s string) (string, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return s, nil // a name such as MON
	}
	if n < 0 || n > 7 {
		return "", fmt.Errorf("%q: out of range 0-7", s)
	}
	if n == 7 {
		n = 0
	}
	return strconv.Itoa(n + 1), nil
}
