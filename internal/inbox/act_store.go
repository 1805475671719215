package inbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/ghsync/ghsync/internal/store"
)

// copyToFinal copies every file of the set to the final store under the
// same key, except the files an earlier run of this content copied (st). It
// reports false when any copy failed. A copy starts only while alive()
// is nil (the run still holds the set).
func (j *job) copyToFinal(ctx context.Context, deps *Deps, watch *store.Bucket, objs []store.Object,
	opts RunOptions, st *settlement, add func(ActionResult), alive func() error) bool {
	if j.cfg.Final == "" {
		add(ActionResult{Action: ActionCopy, Status: StatusSkipped, Detail: "final is not configured"})
		return false
	}
	target := store.Redact(j.cfg.Final)
	var todo []store.Object
	for _, o := range objs {
		if st.settledBefore(ActionKey(ActionCopy, o.Key)) {
			add(ActionResult{Action: ActionCopy, Status: StatusSkipped, Target: target + " " + o.Key, Detail: detailDoneEarlier})
			continue
		}
		todo = append(todo, o)
	}
	if len(todo) == 0 {
		return true
	}
	if opts.DryRun {
		keys := make([]string, len(todo))
		for i, o := range todo {
			keys[i] = o.Key
		}
		add(ActionResult{Action: ActionCopy, Status: StatusDryRun, Target: target, Payload: keys,
			Detail: fmt.Sprintf("would copy %d files", len(todo))})
		return true
	}
	final, err := deps.OpenStore(ctx, j.cfg.Final)
	if err != nil {
		add(ActionResult{Action: ActionCopy, Status: StatusFailed, Target: target, Error: fmt.Sprintf("open final: %v", err)})
		for _, o := range todo {
			st.block(ActionKey(ActionCopy, o.Key))
		}
		return false
	}
	defer final.Close()
	ok := true
	for _, o := range todo {
		a := ActionResult{Action: ActionCopy, Status: StatusDone, Target: target + " " + o.Key, Detail: fmt.Sprintf("%d bytes", o.Size)}
		if alive() != nil {
			add(ActionResult{Action: ActionCopy, Status: StatusSkipped, Target: target + " " + o.Key, Detail: detailClaimLost})
			ok = false
			continue
		}
		if err := copyObject(ctx, watch, final, o); err != nil {
			a = ActionResult{Action: ActionCopy, Status: StatusFailed, Target: target + " " + o.Key, Error: err.Error()}
			ok = false
		}
		st.note(ActionKey(ActionCopy, o.Key), a)
		add(a)
	}
	return ok
}

// copyObject copies one object from src to dst under the same key: inside
// the store when both are on the same one, streamed otherwise (Bucket.Copy).
func copyObject(ctx context.Context, src, dst *store.Bucket, o store.Object) error {
	got, err := dst.Copy(ctx, o.Key, src, o.Key)
	if err != nil {
		return err
	}
	if got.Size != o.Size {
		return fmt.Errorf("copy %s: the copy holds %d bytes, but the listed file %d (the file changed while it was copied)", o.Key, got.Size, o.Size)
	}
	return nil
}

// writeReport writes PREFIX/report.json to the final store unless a report
// listing as many files or more is there (events arrive out of order). The
// write is conditional on the report read, so a concurrent writer is noticed.
func (j *job) writeReport(ctx context.Context, deps *Deps, rep *Report, opts RunOptions) ActionResult {
	key := rep.Prefix + "report.json"
	a := ActionResult{Action: ActionReport, Target: store.Redact(j.cfg.Final) + " " + key}
	doc, err := rep.JSON(j.format)
	if err != nil {
		a.Status, a.Error = StatusFailed, err.Error()
		return a
	}
	if opts.DryRun {
		a.Status, a.Payload = StatusDryRun, rawJSON(doc)
		return a
	}
	final, err := deps.OpenStore(ctx, j.cfg.Final)
	if err != nil {
		a.Status, a.Error = StatusFailed, fmt.Sprintf("open final: %v", err)
		return a
	}
	defer final.Close()
	for attempt := 0; attempt < 3; attempt++ {
		old, etag, err := final.Read(ctx, key)
		po := store.PutOptions{ContentType: "application/json"}
		switch {
		case errors.Is(err, store.ErrNotExist):
			po.IfNoneMatch = true
		case err != nil:
			a.Status, a.Error = StatusFailed, fmt.Sprintf("read existing report: %v", err)
			return a
		default:
			n, err := fileCount(old)
			if err == nil && n >= len(rep.Files) {
				a.Status = StatusSkipped
				a.Detail = fmt.Sprintf("the existing report lists %d files (this one %d)", n, len(rep.Files))
				return a
			}
			po.IfMatch = etag
		}
		_, err = final.Put(ctx, key, bytesReader(doc), po)
		if errors.Is(err, store.ErrPreconditionFailed) {
			continue // changed under us: look again
		}
		if err != nil {
			a.Status, a.Error = StatusFailed, fmt.Sprintf("write: %v", err)
			return a
		}
		a.Status, a.Detail = StatusDone, fmt.Sprintf("%d files", len(rep.Files))
		return a
	}
	a.Status, a.Error = StatusFailed, "report.json kept changing during the write (3 attempts)"
	return a
}
