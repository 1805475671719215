package slogx

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestDemoteInfo(t *testing.T) {
	var b bytes.Buffer
	l := DemoteInfo(slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelInfo})).With("c", "x"))
	l.Info("chatty")
	l.Warn("kept")
	if s := b.String(); strings.Contains(s, "chatty") || !strings.Contains(s, "level=WARN msg=kept c=x") {
		t.Fatalf("at INFO: %q", s)
	}
	b.Reset()
	l = DemoteInfo(slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Info("chatty")
	if !strings.Contains(b.String(), "level=DEBUG msg=chatty") {
		t.Fatalf("at DEBUG: %q", b.String())
	}
}
