// Package mototest starts moto_server (the AWS API emulator installed with
// Python's moto[server]) for tests: SES, DynamoDB, EventBridge, Secrets
// Manager, SSM.
package mototest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"
)

// EnvRequire=1 turns a missing moto_server into a test failure (CI sets it).
const EnvRequire = "GHSYNC_REQUIRE_MOTO"

// Start starts moto_server on a free loopback port, stopped at t.Cleanup,
// and returns its endpoint URL. Without moto_server (or with -short) the test
// is skipped loudly, saying what is then not tested (untested, e.g. "SES
// email is not tested"); with GHSYNC_REQUIRE_MOTO=1 a missing server fails it.
func Start(t testing.TB, untested string) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil || testing.Short() {
		msg := "moto_server not installed (pip install 'moto[server]'): " + untested
		if err == nil {
			msg = "-short: " + untested
		}
		if err != nil && os.Getenv(EnvRequire) == "1" {
			t.Fatalf("FATAL (%s=1): %s", EnvRequire, msg)
		}
		fmt.Fprintf(os.Stderr, "SKIPPING %s: %s\n", t.Name(), msg)
		t.Skip("SKIPPED: " + msg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(60 * time.Second); ; {
		resp, err := http.Get(endpoint + "/moto-api/")
		if err == nil {
			_ = resp.Body.Close()
			return endpoint
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s within 60s: %v", endpoint, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
