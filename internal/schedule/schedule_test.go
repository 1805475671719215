package schedule

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
)

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNext(t *testing.T) {
	for _, tc := range []struct {
		expr, tz, after string
		want            []string // successive firing times (RFC 3339); "" = never
	}{
		// Intervals, aligned to the epoch.
		{"rate(5 minutes)", "", "2026-01-01T10:02:30Z", []string{"2026-01-01T10:05:00Z", "2026-01-01T10:10:00Z", "2026-01-01T10:15:00Z"}},
		{"rate(1 minute)", "", "2026-01-01T10:00:00Z", []string{"2026-01-01T10:01:00Z", "2026-01-01T10:02:00Z"}},
		{"rate(1 hour)", "", "2026-01-01T10:00:00Z", []string{"2026-01-01T11:00:00Z"}},
		{"rate(2 hours)", "Europe/Paris", "2026-01-01T10:30:00Z", []string{"2026-01-01T12:00:00Z"}},
		{"rate(1 day)", "", "2026-01-01T10:00:00Z", []string{"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"}},
		{"rate(7 days)", "", "2026-01-01T10:00:00Z", []string{"2026-01-08T00:00:00Z"}}, // epoch was a Thursday
		{"@every 2s", "", "2026-01-01T10:00:01.5Z", []string{"2026-01-01T10:00:02Z", "2026-01-01T10:00:04Z"}},
		{"@every 5m", "", "2026-01-01T10:00:00Z", []string{"2026-01-01T10:05:00Z"}},
		{"@every 90s", "", "2026-01-01T00:00:00Z", []string{"2026-01-01T00:01:30Z", "2026-01-01T00:03:00Z"}},
		// EventBridge cron.
		{"cron(0 10 * * ? *)", "", "2026-01-01T10:00:00Z", []string{"2026-01-02T10:00:00Z", "2026-01-03T10:00:00Z"}},
		{"cron(15 12 * * ? *)", "", "2026-01-01T12:14:59Z", []string{"2026-01-01T12:15:00Z", "2026-01-02T12:15:00Z"}},
		{"cron(0 18 ? * MON-FRI *)", "", "2026-01-02T18:00:00Z", []string{"2026-01-05T18:00:00Z", "2026-01-06T18:00:00Z"}},
		{"cron(0 18 ? * 2-6 *)", "", "2026-01-02T18:00:00Z", []string{"2026-01-05T18:00:00Z", "2026-01-06T18:00:00Z"}},
		{"cron(0/15 * * * ? *)", "", "2026-01-01T10:07:00Z", []string{"2026-01-01T10:15:00Z", "2026-01-01T10:30:00Z", "2026-01-01T10:45:00Z", "2026-01-01T11:00:00Z"}},
		{"cron(5,35 14 * * ? *)", "", "2026-01-01T14:05:00Z", []string{"2026-01-01T14:35:00Z", "2026-01-02T14:05:00Z"}},
		{"cron(0 8 1 * ? *)", "", "2026-01-01T08:00:00Z", []string{"2026-02-01T08:00:00Z", "2026-03-01T08:00:00Z"}},
		{"cron(0 12 L * ? *)", "", "2026-01-01T00:00:00Z", []string{"2026-01-31T12:00:00Z", "2026-02-28T12:00:00Z", "2026-03-31T12:00:00Z"}},
		{"cron(0 9 LW * ? *)", "", "2026-01-01T00:00:00Z", []string{"2026-01-30T09:00:00Z", "2026-02-27T09:00:00Z", "2026-03-31T09:00:00Z"}},
		{"cron(0 9 15W * ? *)", "", "2026-01-01T00:00:00Z", []string{"2026-01-15T09:00:00Z", "2026-02-16T09:00:00Z", "2026-03-16T09:00:00Z"}},
		{"cron(0 9 1W * ? *)", "", "2026-07-31T00:00:00Z", []string{"2026-08-03T09:00:00Z"}},
		{"cron(0 10 ? * 6L *)", "", "2026-01-01T00:00:00Z", []string{"2026-01-30T10:00:00Z", "2026-02-27T10:00:00Z", "2026-03-27T10:00:00Z"}},
		{"cron(0 10 ? * FRIL *)", "", "2026-01-01T00:00:00Z", []string{"2026-01-30T10:00:00Z"}},
		{"cron(0 10 ? * 3#2 *)", "", "2026-01-01T00:00:00Z", []string{"2026-01-13T10:00:00Z", "2026-02-10T10:00:00Z", "2026-03-10T10:00:00Z"}},
		{"cron(0 10 ? * TUE#2 *)", "", "2026-01-01T00:00:00Z", []string{"2026-01-13T10:00:00Z"}},
		{"cron(0 0 ? * SUN *)", "", "2026-01-01T00:00:00Z", []string{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
		{"cron(0 0 ? * 1 *)", "", "2026-01-01T00:00:00Z", []string{"2026-01-04T00:00:00Z"}},
		{"cron(0 0 ? * L *)", "", "2026-01-01T00:00:00Z", []string{"2026-01-03T00:00:00Z"}}, // L alone = Saturday
		{"cron(30 8 1 JAN,JUL ? 2027-2028)", "", "2026-01-01T00:00:00Z", []string{"2027-01-01T08:30:00Z", "2027-07-01T08:30:00Z", "2028-01-01T08:30:00Z", "2028-07-01T08:30:00Z", ""}},
		{"cron(0 0 1 1 ? 2020)", "", "2026-01-01T00:00:00Z", []string{""}},
		{"cron (0 10 * * ? *)", "", "2026-01-01T10:00:00Z", []string{"2026-01-02T10:00:00Z"}},
		{"cron(0 10 * jan-mar ? *)", "", "2026-03-31T10:00:00Z", []string{"2027-01-01T10:00:00Z"}},
		// Plain five-field cron.
		{"*/20 9-10 * * 1-5", "", "2026-01-02T10:40:00Z", []string{"2026-01-05T09:00:00Z", "2026-01-05T09:20:00Z", "2026-01-05T09:40:00Z"}},
		{"0 0 * * 0", "", "2026-01-01T00:00:00Z", []string{"2026-01-04T00:00:00Z"}},
		{"0 0 * * 7", "", "2026-01-01T00:00:00Z", []string{"2026-01-04T00:00:00Z"}},
		{"0 0 * * SUN", "", "2026-01-01T00:00:00Z", []string{"2026-01-04T00:00:00Z"}},
		{"0 0 * * 5-7", "", "2026-01-02T00:00:00Z", []string{"2026-01-03T00:00:00Z", "2026-01-04T00:00:00Z", "2026-01-09T00:00:00Z"}},
		{"0 0 13 * 5", "", "2026-01-01T00:00:00Z", []string{"2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z"}}, // 13th OR Friday
		{"0 0 */2 * 1", "", "2026-01-01T00:00:00Z", []string{"2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z", "2026-02-09T00:00:00Z"}},                        // odd day AND Monday
		{"0 0 ? * 1", "", "2026-01-01T00:00:00Z", []string{"2026-01-05T00:00:00Z"}},
		{"0 9 * * 5#1", "", "2026-01-01T00:00:00Z", []string{"2026-01-02T09:00:00Z", "2026-02-06T09:00:00Z"}},
		{"@hourly", "", "2026-01-01T10:00:00Z", []string{"2026-01-01T11:00:00Z"}},
		{"@daily", "", "2026-01-01T10:00:00Z", []string{"2026-01-02T00:00:00Z"}},
		{"@midnight", "", "2026-01-01T10:00:00Z", []string{"2026-01-02T00:00:00Z"}},
		{"@weekly", "", "2026-01-01T10:00:00Z", []string{"2026-01-04T00:00:00Z"}},
		{"@monthly", "", "2026-01-01T10:00:00Z", []string{"2026-02-01T00:00:00Z"}},
		{"@yearly", "", "2026-01-01T10:00:00Z", []string{"2027-01-01T00:00:00Z"}},
		// Time zones and daylight saving.
		{"cron(0 9 * * ? *)", "Europe/Paris", "2026-01-01T00:00:00Z", []string{"2026-01-01T08:00:00Z"}},
		{"cron(0 9 * * ? *)", "Europe/Paris", "2026-07-01T00:00:00Z", []string{"2026-07-01T07:00:00Z"}},
		{"30 2 * * *", "America/New_York", "2026-03-07T08:00:00Z", []string{"2026-03-09T06:30:00Z"}}, // 02:30 does not exist on Mar 8
		{"30 1 * * *", "America/New_York", "2026-11-01T04:00:00Z", []string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
		{"0 * * * *", "America/New_York", "2026-11-01T04:30:00Z", []string{"2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z"}}, // 01:00 EST repeats: once
		{"cron(0 0 * * ? *)", "Asia/Kolkata", "2026-01-01T00:00:00Z", []string{"2026-01-01T18:30:00Z"}},
	} {
		t.Run(tc.expr+"/"+tc.tz, func(t *testing.T) {
			s, err := Parse(tc.expr, tc.tz)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			at := ts(t, tc.after)
			for i, w := range tc.want {
				got := s.Next(at)
				if w == "" {
					if !got.IsZero() {
						t.Fatalf("next #%d after %s = %s, want never", i+1, at, got.UTC())
					}
					return
				}
				if want := ts(t, w); !got.Equal(want) {
					t.Fatalf("next #%d after %s = %s, want %s", i+1, at.UTC(), got.UTC().Format(time.RFC3339), w)
				}
				at = got
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ expr, tz, want string }{
		{"", "", "empty schedule"},
		{"cron(0 0 32 * ? *)", "", `cron field 3 (day-of-month) "32": out of range 1-31`},
		{"cron(60 * * * ? *)", "", `cron field 1 (minute) "60": out of range 0-59`},
		{"cron(0 24 * * ? *)", "", `cron field 2 (hour) "24": out of range 0-23`},
		{"cron(0 0 ? 13 MON *)", "", `cron field 4 (month) "13": out of range 1-12`},
		{"cron(0 0 ? * 8 *)", "", `cron field 5 (day-of-week) "8": out of range 1-7`},
		{"cron(0 0 ? * 0 *)", "", `cron field 5 (day-of-week) "0": out of range 1-7`},
		{"cron(0 0 * * ? 1969)", "", `cron field 6 (year) "1969": out of range 1970-2199`},
		{"cron(0 0 * * ? 2200)", "", `cron field 6 (year) "2200": out of range 1970-2199`},
		{"cron(0 0 1,x * ? *)", "", `cron field 3 (day-of-month) "x": "x" is not a number`},
		{"cron(0 0 ? * MON-FOO *)", "", `cron field 5 (day-of-week) "MON-FOO": "FOO" is not a number or SUN…SAT`},
		{"cron(0 0 5-1 * ? *)", "", `cron field 3 (day-of-month) "5-1": range start 5 is after its end 1`},
		{"cron(*/0 * * * ? *)", "", `cron field 1 (minute) "*/0": step "0" must be a positive number`},
		{"cron(0 0 ? * 3#1,6#3 *)", "", `cron field 5 (day-of-week) "3#1,6#3": an expression with '#' must be alone`},
		{"cron(0 0 ? * 3#6 *)", "", `the instance after '#' must be 1-5`},
		{"cron(0 0 ? * 2W *)", "", `cron field 5 (day-of-week) "2W"`},
		{"cron(0 0 ? * MON,? *)", "", `cron field 5 (day-of-week) "?": '?' must be alone`},
		{"cron(0 0 3#1 * ? *)", "", `cron field 3 (day-of-month) "3#1"`},
		{"cron(? 0 * * ? *)", "", `cron field 1 (minute) "?": '?' is only allowed`},
		{"cron(0 10 * * * *)", "", "exactly one of day-of-month (field 3) and day-of-week (field 5) must be '?'"},
		{"cron(0 10 ? * ? *)", "", "exactly one of day-of-month"},
		{"cron(0 10 * * ?)", "", "want 6 fields"},
		{"cron(0 10 * * ? *", "", "must end with ')'"},
		{"cron(0 0 30 2 ? *)", "", "never fires"},
		{"0 0 30 2 *", "", "never fires"},
		{"0 0 * * * *", "", "write EventBridge expressions as cron("},
		{"0 0 * *", "", "want 5 cron fields"},
		{"0 0 * * 8", "", `cron field 5 (day-of-week) "8": out of range 0-7`},
		{"rate(5 minute)", "", `write "minutes" with 5`},
		{"rate(1 minutes)", "", `write "minute" with 1`},
		{"rate(0 minutes)", "", "want a whole number"},
		{"rate(-1 minutes)", "", "want a whole number"},
		{"rate(5 weeks)", "", `rate unit "weeks"`},
		{"rate(5)", "", "want rate(N minute|minutes"},
		{"rate 5 minutes", "", "rate must be written rate(…)"},
		{"@every 500ms", "", "at least 1s"},
		{"@every", "", "needs a duration"},
		{"@every soon", "", "not a duration"},
		{"@fortnightly", "", "unknown schedule"},
		{"cron(0 10 * * ? *)", "Mars/Olympus", "unknown time zone"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := Parse(tc.expr, tc.tz)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse(%q) error = %v, want it to contain %q", tc.expr, err, tc.want)
			}
		})
	}
}

func TestAccessors(t *testing.T) {
	s, err := Parse("  rate(5 minutes) ", "")
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != "rate(5 minutes)" || s.Kind() != Rate || s.Interval() != 5*time.Minute || s.Location() != time.UTC {
		t.Errorf("got %q %q %s %s", s.String(), s.Kind(), s.Interval(), s.Location())
	}
	c, err := Parse("cron(0 9 * * ? *)", "Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind() != EventBridgeCron || c.Interval() != 0 || c.Location().String() != "Europe/Paris" {
		t.Errorf("got %q %s %s", c.Kind(), c.Interval(), c.Location())
	}
	for expr, k := range map[string]Kind{"@every 1m": Every, "@daily": PlainCron, "* * * * *": PlainCron} {
		if s, err := Parse(expr, ""); err != nil || s.Kind() != k {
			t.Errorf("Parse(%q) = %v, %v; want kind %q", expr, s, err, k)
		}
	}
}

// TestNextIsStrictlyAfter checks the contract of Next on many expressions
// and instants: the result is after the argument, on a whole minute for
// cron, and matches nothing earlier (brute force over minutes).
func TestNextIsStrictlyAfter(t *testing.T) {
	exprs := []string{"cron(0/7 */3 ? * MON,WED,FRI *)", "cron(13 4 LW * ? *)", "cron(0 0 ? * 6#3 *)", "*/11 * * * *", "0 12 1,15 * 3"}
	start := ts(t, "2026-02-20T23:55:30Z")
	for _, e := range exprs {
		s, err := Parse(e, "")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 200; i++ {
			after := start.Add(time.Duration(i) * 37 * time.Minute)
			got := s.Next(after)
			if !got.After(after) || got.Second() != 0 {
				t.Fatalf("%s: Next(%s) = %s", e, after, got)
			}
			// Nothing earlier matches: Next of any minute in between gives got.
			for m := after.Truncate(time.Minute); m.Before(got.Add(-time.Minute)); m = m.Add(time.Minute * 97) {
				if n := s.Next(m); !n.Equal(got) && n.Before(got) {
					t.Fatalf("%s: Next(%s) = %s is before Next(%s) = %s", e, m, n, after, got)
				}
			}
		}
	}
}

func TestExampleConfigSchedules(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs: %v", err)
	}
	total := 0
	for _, f := range files {
		// The examples' ${VAR:-default}s apply; required secrets get stand-ins.
		cfg, err := jobs.LoadConfig(f, func(k string) string {
			return map[string]string{"AIRTABLE_TOKEN": "patFAKE", "BADGR_USERNAME": "ops@example.com", "BADGR_PASSWORD": "fake", "GITHUB_APP_ID": "123456", "GITHUB_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----|fake|-----END RSA PRIVATE KEY-----"}[k]
		})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(cfg.Jobs) == 0 {
			continue
		}
		jobs, err := FromConfig(cfg)
		if err != nil {
			t.Errorf("%s: %v", f, err)
		}
		total += len(jobs)
		for _, j := range jobs {
			if j.Schedule.Next(time.Now()).IsZero() {
				t.Errorf("%s: %s never fires", f, j.Name)
			}
		}
	}
	if total < 5 {
		t.Errorf("only %d scheduled jobs in the examples", total)
	}
}

func TestFromConfigReportsEveryBadSchedule(t *testing.T) {
	cfg, err := jobs.ParseConfig([]byte(`jobs:
  - name: a
    kind: repo
    source: dir:.
    dest: file:///tmp/a/
    schedule: rate(5 minute)
  - name: b
    kind: repo
    source: dir:.
    dest: file:///tmp/b/
    schedule: "@every 10m"
  - name: c
    kind: repo
    source: dir:.
    dest: file:///tmp/c/
    schedule: cron(0 10 * * * *)
`), "ghsync.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := FromConfig(cfg)
	if len(jobs) != 1 || jobs[0].Name != "b" {
		t.Errorf("jobs = %+v, want only b", jobs)
	}
	errs := config.Errors(err)
	if len(errs) != 2 {
		t.Fatalf("errors = %v, want 2", err)
	}
	for i, want := range []string{`ghsync.yaml:6:5: jobs[0].schedule: rate(5 minute): write "minutes" with 5`,
		`ghsync.yaml:16:5: jobs[2].schedule: cron(0 10 * * * *): exactly one of`} {
		if !strings.Contains(errs[i].Error(), want) {
			t.Errorf("error %d = %q, want %q", i, errs[i], want)
		}
	}
}
