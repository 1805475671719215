package serve_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
)

// buildCrashServer builds testdata/crashserver into a temp dir.
func buildCrashServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crashserver")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/crashserver").CombinedOutput()
	if err != nil {
		t.Fatalf("build crashserver: %v\n%s", err, out)
	}
	return bin
}

// startServer runs the binary and returns its base URL.
func startServer(t *testing.T, bin, dbURL string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "-database", dbURL)
	cmd.Env = append(os.Environ(), "GHSYNC_WEBHOOK_SECRET="+secret)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "LISTENING ") {
		t.Fatalf("crashserver did not start: %q %v", line, err)
	}
	return cmd, "http://" + strings.TrimSpace(strings.TrimPrefix(line, "LISTENING "))
}

// TestKillNineUnderLoad kills the server with SIGKILL while 8 clients post
// deliveries, restarts it, and checks that every delivery answered 2xx is in
// the database and gets processed.
func TestKillNineUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server binary")
	}
	bin := buildCrashServer(t)
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			var dbURL string
			if dialect == "sqlite" {
				dbURL = dbtest.SQLiteURL(t)
			} else {
				dbURL = dbtest.PostgresURL(t)
			}
			for round := 0; round < 3; round++ {
				crashRound(t, bin, dbURL, round)
			}
		})
	}
}

func crashRound(t *testing.T, bin, dbURL string, round int) {
	cmd, base := startServer(t, bin, dbURL)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var mu sync.Mutex
	var acked []string
	sent := 0
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("crash-r%d-w%d-%d", round, w, i)
				code, err := postDelivery(client, base, "workflow_job", id, jobBody(round*1_000_000+w*100_000+i))
				mu.Lock()
				sent++
				if err == nil && code/100 == 2 {
					acked = append(acked, id)
				}
				mu.Unlock()
				if err != nil {
					return // the server is gone
				}
			}
		}()
	}
	// Let load build up, then SIGKILL mid-stream.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300+round*97 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no delivery was acknowledged before the kill")
	}
	t.Logf("round %d: %d requests sent, %d answered 2xx before SIGKILL", round, sent, len(acked))

	ctx := context.Background()
	d, err := db.Open(ctx, dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var left int
	d.QueryRow(ctx, "SELECT COUNT(*) FROM deliveries WHERE processed_at IS NULL").Scan(&left)
	t.Logf("round %d: %d stored deliveries left unprocessed by the kill", round, left)

	// Restart on the same database; recovery processes what was left.
	cmd2, _ := startServer(t, bin, dbURL)
	waitUntil := time.Now().Add(30 * time.Second)
	for {
		missing, unprocessed := 0, 0
		for _, id := range acked {
			var processed *string
			err := d.QueryRow(ctx, "SELECT processed_at FROM deliveries WHERE delivery_id = ?", id).Scan(&processed)
			if err != nil {
				missing++
			} else if processed == nil {
				unprocessed++
			}
		}
		if missing > 0 {
			t.Fatalf("round %d: %d of %d acknowledged deliveries are NOT in the database", round, missing, len(acked))
		}
		if unprocessed == 0 {
			break
		}
		if time.Now().After(waitUntil) {
			t.Fatalf("round %d: %d acknowledged deliveries never processed after restart", round, unprocessed)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var projected int
	d.QueryRow(ctx, "SELECT COUNT(*) FROM workflow_job WHERE delivery_id LIKE ?", fmt.Sprintf("crash-r%d-%%", round)).Scan(&projected)
	if projected < len(acked) {
		t.Fatalf("round %d: %d projections for %d acknowledged deliveries", round, projected, len(acked))
	}
	cmd2.Process.Signal(os.Interrupt)
	cmd2.Wait()
}
