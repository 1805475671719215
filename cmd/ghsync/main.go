// Command ghsync keeps object storage in step with GitHub. See README.md.
//
// Started without arguments inside AWS Lambda (AWS_LAMBDA_RUNTIME_API set, or
// the binary named bootstrap), it serves Lambda invocations instead of
// running the CLI; see internal/lambda.
//
// Ctrl-C (SIGINT) or SIGTERM stops the command: it says "interrupted; the
// next run converges" and exits 130 (143 for SIGTERM); a second signal exits
// at once.
package main

import (
	"context"
	"os"
	"runtime/debug"

	"github.com/ghsync/ghsync/internal/cli"
	"github.com/ghsync/ghsync/internal/lambda"
)

func main() {
	// ghsync streams: its live heap is small and mostly short-lived buffers.
	// Collect twice as often as Go's default (unless GOGC says otherwise) so
	// peak memory stays bounded on small Lambda and container sizes.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	if lambda.Detect(os.Args, os.Getenv) {
		// Lambda sends SIGTERM at shutdown; the handler deals with it.
		os.Exit(lambda.Main(context.Background(), os.Getenv, os.Stderr))
	}
	ctx, stop := cli.NotifyInterrupt(context.Background(), os.Stderr, os.Exit)
	code := cli.Main(ctx, os.Args[1:], cli.Stdio())
	stop()
	os.Exit(code)
}
