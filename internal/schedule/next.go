package schedule

import "time"

// maxSteps bounds the search in next; a valid expression needs far fewer.
const maxSteps = 2_000_000

// next returns the first minute strictly after after (in loc) matching every
// field, or the zero time if there is none up to maxYear.
//
// Daylight saving: a local time that does not exist (spring forward) is
// skipped; a local time that happens twice (fall back) fires once.
func (c *cronSpec) next(after time.Time, loc *time.Location) time.Time {
	a := after.In(loc)
	t := time.Date(a.Year(), a.Month(), a.Day(), a.Hour(), a.Minute(), 0, 0, loc).Add(time.Minute)
	if t.Year() < minYear {
		t = time.Date(minYear, 1, 1, 0, 0, 0, 0, loc)
	}
	for range maxSteps {
		prev := t
		y, m, d := t.Date()
		switch {
		case y > maxYear:
			return time.Time{}
		case c.years != nil && !c.years[y-minYear]:
			t = time.Date(y+1, 1, 1, 0, 0, 0, 0, loc)
		case c.month&(1<<uint(m)) == 0:
			t = time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
		case !c.dayMatches(y, m, d, t.Weekday()):
			t = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		case c.hour&(1<<uint(t.Hour())) == 0:
			t = time.Date(y, m, d, t.Hour()+1, 0, 0, 0, loc)
		case c.minute&(1<<uint(t.Minute())) == 0:
			t = t.Add(time.Minute)
			if t.Day() == d && t.Hour()*60+t.Minute() < prev.Hour()*60+prev.Minute() { // fall back: the wall clock repeats an hour
				t = time.Date(y, m, d, prev.Hour()+1, 0, 0, 0, loc)
			}
		default:
			return t
		}
		if !t.After(prev) { // a DST transition normalised backwards
			t = prev.Add(time.Minute)
		}
	}
	return time.Time{}
}

// dayMatches applies the day-of-month and day-of-week fields: EventBridge
// uses the one that is not '?'; plain cron, as Vixie cron, requires both
// when either starts with '*' and either one otherwise.
func (c *cronSpec) dayMatches(y int, m time.Month, d int, wd time.Weekday) bool {
	if c.eventBridge {
		if c.domQuestion {
			return c.dowMatches(y, m, d, wd)
		}
		return c.domMatches(y, m, d)
	}
	if c.domStar || c.dowStar {
		return c.domMatches(y, m, d) && c.dowMatches(y, m, d, wd)
	}
	return c.domMatches(y, m, d) || c.dowMatches(y, m, d, wd)
}

func (c *cronSpec) domMatches(y int, m time.Month, d int) bool {
	if c.domQuestion || c.dom&(1<<uint(d)) != 0 {
		return true
	}
	last := daysIn(y, m)
	if c.domLast && d == last {
		return true
	}
	if c.domLastWeekday && d == nearestWeekday(y, m, last) {
		return true
	}
	for _, n := range c.domNearest {
		if n <= last && d == nearestWeekday(y, m, n) {
			return true
		}
	}
	return false
}

func (c *cronSpec) dowMatches(y int, m time.Month, d int, wd time.Weekday) bool {
	if c.dowQuestion || c.dow&(1<<uint(wd)) != 0 {
		return true
	}
	for _, w := range c.dowLast {
		if int(wd) == w && d+7 > daysIn(y, m) {
			return true
		}
	}
	for _, x := range c.dowNth {
		if int(wd) == x.weekday && (d-1)/7+1 == x.n {
			return true
		}
	}
	return false
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// nearestWeekday is the weekday (Monday to Friday) nearest to day n of the
// month, without leaving the month (Quartz's "nW").
func nearestWeekday(y int, m time.Month, n int) int {
	last := daysIn(y, m)
	switch time.Date(y, m, n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3 // Monday the 3rd
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}
