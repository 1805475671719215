package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// The binary lives in go test's work directory (removed by the go command at
// the end of the invocation, shared by every package of it), not in a
// directory of its own under the temp dir.
func TestGhsyncBuiltInGoTestWorkDir(t *testing.T) {
	work, ok := goTestWorkDir()
	if !ok {
		t.Skip("SKIP: not run by `go test` (the test binary is not in a go-build work directory)")
	}
	bin := Ghsync(t)
	if !strings.HasPrefix(bin, work+string(filepath.Separator)) {
		t.Fatalf("binary %s is not under go test's work dir %s", bin, work)
	}
	if ownedDir != "" {
		t.Fatalf("testkit made its own directory %s", ownedDir)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatal(err)
	}
	if Ghsync(t) != bin {
		t.Fatal("second call built again")
	}
}
