//go:build unix

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFileCASGoroutines: goroutines with their own Bucket on the same folder
// race an IfMatch write on the same ETag; exactly one wins each round.
func TestFileCASGoroutines(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const racers = 8
	buckets := make([]*Bucket, racers)
	for i := range buckets {
		buckets[i] = open(t, "file://"+dir+"?prefix=p/", Options{})
	}
	cur := put(t, buckets[0], "m.json", "round-0", PutOptions{IfNoneMatch: true})
	for round := 1; round <= 10; round++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var wins []Object
		var failures int
		for i, b := range buckets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Same size for every racer and round: the ETag must still change.
				o, err := b.Put(ctx, "m.json", strings.NewReader(fmt.Sprintf("r%02d-w%d", round, i)), PutOptions{IfMatch: cur.ETag})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins = append(wins, o)
				case errors.Is(err, ErrPreconditionFailed):
					failures++
				default:
					t.Errorf("racer %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if len(wins) != 1 || failures != racers-1 {
			t.Fatalf("round %d: %d winners, %d precondition failures; want 1 and %d", round, len(wins), failures, racers-1)
		}
		data, etag, err := buckets[0].Read(ctx, "m.json")
		if err != nil || etag != wins[0].ETag || etag == cur.ETag {
			t.Fatalf("round %d: Read %q %s %v; winner ETag %s, previous %s", round, data, etag, err, wins[0].ETag, cur.ETag)
		}
		cur = wins[0]
	}
}

const helperEnv = "GHSYNC_STORE_CAS_HELPER"

// TestFileCASProcesses: separate processes race an IfMatch write; exactly one wins.
func TestFileCASProcesses(t *testing.T) {
	if os.Getenv(helperEnv) != "" {
		t.Skip("helper process")
	}
	dir := t.TempDir()
	b := open(t, "file://"+dir, Options{})
	base := put(t, b, "m.json", "v0", PutOptions{})
	gate := filepath.Join(t.TempDir(), "go")
	const racers = 4
	cmds := make([]*exec.Cmd, racers)
	outs := make([]*strings.Builder, racers)
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileCASHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%s|%s|p%d", helperEnv, dir, base.ETag, gate, i))
		outs[i] = &strings.Builder{}
		cmd.Stdout, cmd.Stderr = outs[i], outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	time.Sleep(300 * time.Millisecond) // let all helpers reach the gate
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wins, losses := 0, 0
	for i, cmd := range cmds {
		_ = cmd.Wait()
		out := outs[i].String()
		switch {
		case strings.Contains(out, "CAS-WON"):
			wins++
		case strings.Contains(out, "CAS-LOST"):
			losses++
		default:
			t.Errorf("helper %d: unexpected output:\n%s", i, out)
		}
	}
	if wins != 1 || losses != racers-1 {
		t.Fatalf("%d processes won, %d lost; want 1 and %d", wins, losses, racers-1)
	}
	data, _, err := b.Read(context.Background(), "m.json")
	if err != nil || !strings.HasPrefix(string(data), "p") {
		t.Fatalf("final content %q %v, want a racer's write", data, err)
	}
}

// TestFileCASHelper is the body of one racing process (only with helperEnv set).
func TestFileCASHelper(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("only runs as a helper process of TestFileCASProcesses")
	}
	parts := strings.Split(spec, "|")
	dir, etag, gate, body := parts[0], parts[1], parts[2], parts[3]
	b := open(t, "file://"+dir, Options{})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(gate); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("gate never opened")
		}
		time.Sleep(time.Millisecond)
	}
	_, err := b.Put(context.Background(), "m.json", strings.NewReader(body), PutOptions{IfMatch: etag})
	switch {
	case err == nil:
		fmt.Println("CAS-WON")
	case errors.Is(err, ErrPreconditionFailed):
		fmt.Println("CAS-LOST")
	default:
		t.Fatal(err)
	}
}
