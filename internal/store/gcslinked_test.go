package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestGRPCNotLinked: gs:// speaks Cloud Storage's JSON API over HTTP only,
// so cmd/ghsync's import graph (what the linker can link, package inits
// included) holds no gRPC, no OpenTelemetry and none of the Google API
// transport and auth stack that brings them (google.golang.org/api's
// option, transport and generated storage/v1 packages, cloud.google.com/go/auth,
// gax, s2a): about 4.5 MB of the release binary (issue 17, must-be-true 3).
// On a failure it names the package that imports the banned one.
func TestGRPCNotLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc",
		"-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/ghsync/ghsync/cmd/ghsync").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	banned := []string{
		"google.golang.org/grpc", "go.opentelemetry.io", "google.golang.org/api/option",
		"google.golang.org/api/transport", "google.golang.org/api/storage", "cloud.google.com/go/auth",
		"github.com/googleapis/gax-go", "github.com/google/s2a-go",
	}
	isBanned := func(pkg string) bool {
		for _, b := range banned {
			if pkg == b || strings.HasPrefix(pkg, b+"/") {
				return true
			}
		}
		return false
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 100 {
		t.Fatalf("go list -deps listed %d packages; want cmd/ghsync's whole graph", len(lines))
	}
	for _, line := range lines {
		f := strings.Fields(line)
		if isBanned(f[0]) {
			continue // reported where a package outside the list imports it
		}
		for _, imp := range f[1:] {
			if isBanned(imp) {
				t.Errorf("cmd/ghsync links %s (imported by %s)", imp, f[0])
			}
		}
	}
}
