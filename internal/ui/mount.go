package ui

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/hud"
	"github.com/ghsync/ghsync/internal/jobs"
	"github.com/ghsync/ghsync/internal/store"
)

// ForConfig builds the UI for `ghsync serve` from the configuration and o
// (DB, Logger, SignOutPath; o.Config and o.HUD are set here): when jobs
// write status snapshots it opens the first one's destination and mounts
// the HUD on it under /ui/hud/ (other destinations are logged and not
// shown). The returned close function releases the HUD's bucket; call it
// after the server has stopped. It never returns a nil close function.
func ForConfig(ctx context.Context, cfg *config.Config, o Options) (http.Handler, func() error, error) {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	closeFn := func() error { return nil }
	var hudHandler http.Handler
	var hudDest string
	if cfg != nil {
		kinds := jobs.Builtin()
		for _, j := range cfg.Jobs {
			snap := kinds.Describe(j).Snapshots
			if snap == "" {
				continue
			}
			if hudDest == "" {
				hudDest = snap
			} else if snap != hudDest {
				logger.Warn("ui: the HUD shows the first status snapshots' destination only",
					"shown", store.Redact(hudDest), "job", j.Name, "not_shown", store.Redact(snap))
			}
		}
	}
	if hudDest != "" {
		b, err := store.Open(ctx, hudDest, store.Options{Logger: logger})
		if err != nil {
			return nil, closeFn, fmt.Errorf("ui: open the HUD's store %s: %w", store.Redact(hudDest), err)
		}
		closeFn = b.Close
		h, err := hud.New(hud.Options{Bucket: b, Refresh: time.Minute, Logger: logger})
		if err != nil {
			_ = b.Close()
			return nil, func() error { return nil }, fmt.Errorf("ui: %w", err)
		}
		hudHandler = h
	}
	o.Config, o.HUD, o.Logger = cfg, hudHandler, logger
	h, err := New(o)
	if err != nil {
		_ = closeFn()
		return nil, func() error { return nil }, err
	}
	return h, closeFn, nil
}
