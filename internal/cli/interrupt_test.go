package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

// The first signal cancels the context with an Interrupt as its cause; the
// second exits at once with 128+signal, saying so.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	sigs := make(chan os.Signal)
	var stderr syncBuffer
	exited := make(chan int, 1)
	ctx, stop := watchInterrupts(context.Background(), sigs, &stderr, func(code int) { exited <- code })
	defer stop()
	sigs <- os.Interrupt
	<-ctx.Done()
	var in Interrupt
	if !errors.As(context.Cause(ctx), &in) || in.ExitCode() != 130 {
		t.Fatalf("cause %v, want an Interrupt exiting 130", context.Cause(ctx))
	}
	sigs <- syscall.SIGTERM
	if code := <-exited; code != 143 {
		t.Fatalf("second signal exited %d, want 143", code)
	}
	if !strings.Contains(stderr.String(), "interrupted again") {
		t.Fatalf("stderr %q", stderr.String())
	}
}

// A command whose context a signal canceled exits 130 and says
// InterruptedMessage, not the error chain; without a signal, a canceled
// context is an ordinary failure.
func TestInterruptedCommandExits130(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(src+"/a.txt", []byte("a"), 0o644)
	for _, tc := range []struct {
		cause error
		code  int
	}{{Interrupt{Signal: os.Interrupt}, 130}, {errors.New("shutdown"), ExitFailed}} {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(tc.cause)
		var out, errb bytes.Buffer
		code := Main(ctx, []string{"sync", "dir:" + src, "file://" + t.TempDir() + "/out", "--json"},
			Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		interrupted := strings.Contains(out.String(), `"interrupted": true`) && strings.Contains(errb.String(), "ghsync: "+InterruptedMessage)
		if code != tc.code || interrupted != (tc.code == 130) || (tc.code == 130 && strings.Contains(errb.String(), "context canceled")) {
			t.Errorf("cause %v: exit %d\nstdout %s\nstderr %s", tc.cause, code, out.String(), errb.String())
		}
	}
}

// jsonWithError adds "error" in front of any object, replaces an error key
// the object had, and wraps what is not an object.
func TestJSONWithError(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, `{"error":"boom"}`},
		{map[string]any{"a": 1, "error": ""}, `{"error":"boom","a":1}`},
		{struct {
			Z int `json:"z"`
			A int `json:"a"`
		}{1, 2}, `{"error":"boom","z":1,"a":2}`},
		{[]int{1}, `{"error":"boom","result":[1]}`},
	} {
		var b bytes.Buffer
		if err := printJSON(&b, jsonWithError(tc.v, "boom", false)); err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := jsonCompact(&compact, b.Bytes()); err != nil || compact.String() != tc.want {
			t.Errorf("%v: got %s, want %s", tc.v, compact.String(), tc.want)
		}
	}
}

func jsonCompact(dst *bytes.Buffer, src []byte) error { return json.Compact(dst, src) }
