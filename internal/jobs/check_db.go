package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/db"
)

// checkDatabase checks the database at url without creating or changing
// it: the URL is well formed, a SQLite file exists (or its folder can hold
// one: the first run creates it), the server answers, and which of
// ghsync's components are migrated (when own is true: the config's state
// database; a run migrates what is missing). key names the setting that
// holds url, for what to set.
func checkDatabase(ctx context.Context, env *Env, job *config.Job, key, url string, own bool) Check {
	name := key
	red := db.Redact(url)
	fix := fmt.Sprintf("set %s: to a database ghsync can reach (sqlite://PATH, postgres://USER:PASSWORD@HOST/DB or mysql://…) and check that its server runs", key)
	if err := db.CheckURL(url); err != nil {
		return checkFail(name, err.Error(), fix)
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	scheme, rest, _ := strings.Cut(url, "://")
	var sdb *sql.DB
	switch strings.ToLower(scheme) {
	case "sqlite", "sqlite3":
		path, _, _ := strings.Cut(rest, "?")
		if path == ":memory:" {
			return checkOK(name, red+": in memory (nothing kept between runs)")
		}
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			abs, _ := filepath.Abs(path)
			parent := existingParent(filepath.Dir(abs))
			if err := writableDir(parent); err != nil {
				return checkFail(name, fmt.Sprintf("%s: %s does not exist and cannot be created: %v", red, abs, err), fix)
			}
			return checkOK(name, fmt.Sprintf("%s: %s does not exist yet; the first run creates and migrates it", red, abs))
		}
		r, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)")
		if err != nil {
			return checkFail(name, fmt.Sprintf("%s: %v", red, err), fix)
		}
		sdb = r
	default:
		d, err := db.Open(ctx, url, env.Logger)
		if err != nil {
			return checkFail(name, fmt.Sprintf("%s is not reachable: %v", red, err), fix)
		}
		defer d.Close()
		sdb = d.R
	}
	if strings.HasPrefix(scheme, "sqlite") {
		defer sdb.Close()
	}
	if err := sdb.PingContext(ctx); err != nil {
		return checkFail(name, fmt.Sprintf("%s is not reachable: %v", red, err), fix)
	}
	if !own {
		return checkOK(name, red+": reachable")
	}
	rows, err := sdb.QueryContext(ctx, "SELECT component, COUNT(*) FROM ghsync_migrations GROUP BY component")
	if err != nil {
		m := err.Error()
		if strings.Contains(m, "no such table") || strings.Contains(m, "does not exist") || strings.Contains(m, "1146") {
			return checkOK(name, red+": reachable; no ghsync tables yet (the first run migrates it)")
		}
		return checkFail(name, fmt.Sprintf("%s: reading its migrations: %v", red, err), fix)
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			return checkFail(name, fmt.Sprintf("%s: reading its migrations: %v", red, err), fix)
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", c, n))
	}
	if err := rows.Err(); err != nil {
		return checkFail(name, fmt.Sprintf("%s: reading its migrations: %v", red, err), fix)
	}
	sort.Strings(parts)
	return checkOK(name, red+": reachable; migrated: "+strings.Join(parts, ", "))
}
