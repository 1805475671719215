package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/reposync"
	"github.com/ghsync/ghsync/internal/store"
)

// LastRun is what is known about a job's last successful run.
type LastRun struct {
	Commit  string    `json:"commit,omitempty"`
	At      time.Time `json:"at,omitempty"`
	Objects int       `json:"objects"`
	Err     string    `json:"error,omitempty"` // why it could not be read
}

// Last reads the last successful run of a repo job from its manifest (one
// small read). It returns nil for jobs that have never run or are of other kinds.
func (r *Runner) Last(ctx context.Context, job *config.Job) *LastRun {
	if job.Repo == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := store.Open(ctx, job.Repo.Dest, store.Options{Logger: r.Logger})
	if err != nil {
		return &LastRun{Err: err.Error()}
	}
	defer b.Close()
	key := job.Repo.Manifest
	if key == "" {
		key = reposync.DefaultManifestKey
	}
	data, _, err := b.Read(ctx, key)
	if errors.Is(err, store.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &LastRun{Err: err.Error()}
	}
	var m reposync.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return &LastRun{Err: fmt.Sprintf("manifest unreadable: %v", err)}
	}
	return &LastRun{Commit: m.Commit, At: m.WrittenAt, Objects: len(m.Objects)}
}
