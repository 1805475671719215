package jobs

import (
	"context"
	"errors"
	"io/fs"
	"os"

	"github.com/ghsync/ghsync/internal/store"
)

type readOnlyKey struct{}

// ReadOnly marks ctx so that the stores Env.OpenStore opens under it are
// only read: a file:// folder that does not exist yet is not created (an
// empty private bucket stands for it, since nothing is stored there).
// Dry runs (RunOptions.DryRun) and Last (`ghsync jobs`, the UI) run under
// it, so that looking never writes.
func ReadOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, readOnlyKey{}, true)
}

// isReadOnly reports whether ctx was marked by ReadOnly.
func isReadOnly(ctx context.Context) bool {
	v, _ := ctx.Value(readOnlyKey{}).(bool)
	return v
}

// absentFolder reports whether url is a file:// store whose folder does
// not exist (opening it would create it).
func absentFolder(url string) bool {
	loc, err := store.Locate(url)
	if err != nil || loc.Space != "file" {
		return false
	}
	_, err = os.Stat(loc.Dir)
	return errors.Is(err, fs.ErrNotExist)
}
