package schedule

import (
	"errors"

	"github.com/ghsync/ghsync/internal/config"
)

// Job is a configured job that has a schedule.
type Job struct {
	// Name is the job's name.
	Name string
	// Schedule is its parsed schedule.
	Schedule *Schedule
}

// FromConfig parses the schedule of every job in cfg that has one, in file
// order. Every bad schedule is reported, as a *config.Error naming the file,
// line and field (jobs[i].schedule), joined with errors.Join; the CLI exits 2
// on them.
func FromConfig(cfg *config.Config) ([]Job, error) {
	var out []Job
	var errs []error
	for _, j := range cfg.Jobs {
		if j.Schedule == "" {
			continue
		}
		s, err := Parse(j.Schedule, j.Timezone)
		if err != nil {
			field := cfg.JobField(j.Name, "schedule")
			ce := cfg.FieldError(field, "%v", err)
			if ce.Line == 0 && j.SchedulePos.Line > 0 {
				ce.Line, ce.Column = j.SchedulePos.Line, j.SchedulePos.Column
			}
			errs = append(errs, ce)
			continue
		}
		out = append(out, Job{Name: j.Name, Schedule: s})
	}
	return out, errors.Join(errs...)
}
