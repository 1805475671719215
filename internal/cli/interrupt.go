package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// InterruptedMessage is what a command stopped by Ctrl-C (SIGINT) or SIGTERM
// says instead of the "context canceled" chain its work ended with. Every
// changing verb is safe to stop anywhere: a repo sync writes its manifest
// last and conditionally, status snapshots are written whole, the inbox
// ledger records each action once it succeeded.
const InterruptedMessage = "interrupted; the next run converges"

// Interrupt is the cause of a context canceled by a signal (see
// NotifyInterrupt).
type Interrupt struct{ Signal os.Signal }

func (i Interrupt) Error() string { return i.Signal.String() + " received" }

// ExitCode is the shell's code for a process ended by the signal: 128 plus
// its number (130 for SIGINT, 143 for SIGTERM).
func (i Interrupt) ExitCode() int {
	if s, ok := i.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}

// NotifyInterrupt returns a context that the first SIGINT or SIGTERM
// cancels with an Interrupt as its cause, so that the command stops, says
// InterruptedMessage and exits 128+signal. A second signal does not wait:
// it says so on stderr and calls exit(128+signal) at once. stop releases
// the signals.
func NotifyInterrupt(parent context.Context, stderr io.Writer, exit func(int)) (ctx context.Context, stop func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := watchInterrupts(parent, sigs, stderr, exit)
	return ctx, func() {
		signal.Stop(sigs)
		cancel()
	}
}

// watchInterrupts is NotifyInterrupt over a channel of signals (tests send
// their own).
func watchInterrupts(parent context.Context, sigs <-chan os.Signal, stderr io.Writer, exit func(int)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			cancel(Interrupt{Signal: s})
		case <-done:
			return
		}
		select {
		case s := <-sigs:
			fmt.Fprintln(stderr, "ghsync: interrupted again; exiting now (the next run converges)")
			exit(Interrupt{Signal: s}.ExitCode())
		case <-done:
		}
	}()
	var once bool
	return ctx, func() {
		if !once {
			once = true
			close(done)
		}
		cancel(nil)
	}
}

// interruptedError is a command's error once a signal stopped it: it says
// InterruptedMessage and keeps the original chain for errors.Is/As and the
// debug log.
type interruptedError struct {
	err error
	by  Interrupt
}

func (e *interruptedError) Error() string { return InterruptedMessage }
func (e *interruptedError) Unwrap() error { return e.err }

// asInterrupted returns err as an interruptedError when ctx was canceled by
// a signal (NotifyInterrupt) — whatever error the work ended with, it ended
// because of the signal — and err unchanged otherwise.
func asInterrupted(ctx context.Context, err error) error {
	var ie *interruptedError
	if err == nil || ctx.Err() == nil || errors.As(err, &ie) {
		return err
	}
	var in Interrupt
	if !errors.As(context.Cause(ctx), &in) {
		return err
	}
	return &interruptedError{err: err, by: in}
}
