package schedule

import (
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics or hangs, and that every accepted
// schedule has a Next strictly after its argument (or none), and that
// Next is monotonic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"rate(5 minutes)", "rate(1 hour)", "cron(0 10 * * ? *)", "cron(0 18 ? * MON-FRI *)",
		"cron(0 12 L * ? *)", "cron(0 9 LW * ? *)", "cron(0 9 15W * ? *)", "cron(0 10 ? * 6L *)",
		"cron(0 10 ? * 3#2 *)", "cron(30 8 1 JAN,JUL ? 2027-2028)", "*/20 9-10 * * 1-5", "0 0 13 * 5",
		"@every 2s", "@daily", "cron(0/15 * * * ? *)", "0 0 30 2 *", "cron(0 0 32 * ? *)",
	} {
		f.Add(s, "")
	}
	f.Add("cron(0 9 * * ? *)", "Europe/Paris")
	f.Add("30 1 * * *", "America/New_York")
	base := time.Date(2026, 3, 7, 23, 59, 30, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr, tz string) {
		if len(tz) > 40 {
			return
		}
		s, err := Parse(expr, tz)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse(%q) returned a schedule and an error", expr)
			}
			return
		}
		prev := base
		for i := 0; i < 5; i++ {
			n := s.Next(prev)
			if n.IsZero() {
				return
			}
			if !n.After(prev) {
				t.Fatalf("Parse(%q).Next(%s) = %s, not after", expr, prev, n)
			}
			prev = n
		}
	})
}
