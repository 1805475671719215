// Package slogx holds small log/slog helpers shared by ghsync's packages.
package slogx

import (
	"context"
	"log/slog"
)

// DemoteInfo returns a logger that writes l's INFO records at DEBUG (warnings
// and errors unchanged): for chatty libraries (River's migration and
// producer lines) and for log lines that repeat what a command already
// prints on stdout.
func DemoteInfo(l *slog.Logger) *slog.Logger {
	return slog.New(demote{l.Handler()})
}

type demote struct{ h slog.Handler }

func lower(l slog.Level) slog.Level {
	if l == slog.LevelInfo {
		return slog.LevelDebug
	}
	return l
}

func (d demote) Enabled(ctx context.Context, l slog.Level) bool { return d.h.Enabled(ctx, lower(l)) }

func (d demote) Handle(ctx context.Context, r slog.Record) error {
	r.Level = lower(r.Level)
	return d.h.Handle(ctx, r)
}

func (d demote) WithAttrs(as []slog.Attr) slog.Handler { return demote{d.h.WithAttrs(as)} }
func (d demote) WithGroup(g string) slog.Handler       { return demote{d.h.WithGroup(g)} }
