package jobs

import (
	"context"
	"errors"
	"hash/fnv"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/ghsync/ghsync/internal/store"
)

type readOnlyKey struct{}

// ReadOnly marks ctx so that the stores Env.OpenStore opens under it are
// only read: a file:// folder that does not exist yet is not created (an
// empty private bucket stands for it, since nothing is stored there).
// Dry runs (RunOptions.DryRun) and Last (`ghsync jobs`, the UI) run under
// it, so that looking never writes. Env.OpenDB likewise stands an empty
// in-memory database for a SQLite file that does not exist yet.
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

// absentSQLite reports whether url is a SQLite database whose file does
// not exist (opening it would create it and its folder).
func absentSQLite(url string) bool {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok || (scheme != "sqlite" && scheme != "sqlite3") {
		return false
	}
	path, _, _ := strings.Cut(rest, "?")
	if path == "" || path == ":memory:" {
		return false
	}
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// emptySQLite names a private in-memory SQLite database standing for url
// (shared by the connections of one handle, gone when it is closed).
func emptySQLite(url string) string {
	return "sqlite://ghsync-dry-run-" + strconv.FormatUint(uint64(hashString(url)), 36) + "?mode=memory&cache=shared"
}

func hashString(s string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(s))
	return h.Sum32()
}
