package githubtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// Pinned contract packages. scripts/fetch-contracts.sh downloads exactly these.
const (
	// OpenAPIPackage is the npm package holding GitHub's REST description.
	OpenAPIPackage = "@octokit/openapi@23.0.2"
	// GraphQLSchemaPackage is the npm package holding GitHub's public GraphQL schema.
	GraphQLSchemaPackage = "@octokit/graphql-schema@15.26.1"
	// WebhooksExamplesPackage is the npm package holding GitHub's webhook payload examples.
	WebhooksExamplesPackage = "@octokit/webhooks-examples@7.6.1"
)

// EnvContractsDir overrides where contracts live; EnvRequireContracts=1 turns
// a missing contract into a test failure instead of a skip (CI sets it).
const (
	EnvContractsDir     = "GHSYNC_CONTRACTS_DIR"
	EnvRequireContracts = "GHSYNC_REQUIRE_CONTRACTS"
)

// ContractsDir returns the directory the contract packages are extracted to:
// $GHSYNC_CONTRACTS_DIR, else $HOME/.cache/ghsync/contracts. It does not check
// that the directory exists.
func ContractsDir() string {
	if d := os.Getenv(EnvContractsDir); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return filepath.Join(os.TempDir(), "ghsync-contracts")
	}
	return filepath.Join(home, ".cache", "ghsync", "contracts")
}

// OpenAPIPath returns the path of generated/api.github.com.json inside
// ContractsDir, and whether that file exists.
func OpenAPIPath() (string, bool) {
	p := filepath.Join(ContractsDir(), "openapi", "generated", "api.github.com.json")
	_, err := os.Stat(p)
	return p, err == nil
}

// GraphQLSchemaPath returns the path of GitHub's schema.graphql inside
// ContractsDir, and whether that file exists.
func GraphQLSchemaPath() (string, bool) {
	p := filepath.Join(ContractsDir(), "graphql-schema", "schema.graphql")
	_, err := os.Stat(p)
	return p, err == nil
}

// WebhooksExamplesDir returns the directory of @octokit/webhooks-examples
// inside ContractsDir, and whether it exists.
func WebhooksExamplesDir() (string, bool) {
	p := filepath.Join(ContractsDir(), "webhooks-examples")
	_, err := os.Stat(filepath.Join(p, "package.json"))
	return p, err == nil
}

// FetchContracts runs scripts/fetch-contracts.sh (found by walking up from
// the working directory to this module's go.mod, else via `go env GOMOD`)
// into ContractsDir. It is
// idempotent; the script serialises concurrent runs with a lock file.
func FetchContracts(ctx context.Context) error {
	root, err := moduleRoot()
	if err != nil {
		return fmt.Errorf("find module root: %w", err)
	}
	script := filepath.Join(root, "scripts", "fetch-contracts.sh")
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("fetch script: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script, ContractsDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("run %s: %w\n%s", script, err, out)
	}
	return nil
}

// moduleRoot walks up from the working directory to the go.mod that declares
// this module.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getwd: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/ghsync/ghsync") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			// Last resort: ask the go command (honours GOFLAGS=-modfile etc.).
			if out, err := exec.Command("go", "env", "GOMOD").Output(); err == nil {
				if gomod := strings.TrimSpace(string(out)); gomod != "" && gomod != os.DevNull {
					return filepath.Dir(gomod), nil
				}
			}
			return "", errors.New("no go.mod for github.com/ghsync/ghsync above the working directory")
		}
		dir = parent
	}
}

// Contract is GitHub's REST description, loaded and indexed for validation.
// It is immutable after loading and safe for concurrent use.
type Contract struct {
	// Doc is the parsed OpenAPI document.
	Doc *openapi3.T
	// LoadTime is how long reading and resolving the document took.
	LoadTime time.Duration
	// Path is the file the document was read from.
	Path string

	routes    *routeTrie
	templates int
	options   *openapi3filter.Options
}

// Templates returns how many path templates of GitHub's description the
// contract recognises (all of them, even when Doc is pruned).
func (c *Contract) Templates() int { return c.templates }

var (
	contractOnce sync.Once
	contractVal  *Contract
	contractErr  error
)

// LoadContract loads the OpenAPI file at path. Doc holds the full path
// items of the given templates (e.g. "/repos/{owner}/{repo}") and every
// component they reference; with no templates it holds the whole document
// (several seconds to load). Route matching always knows every template.
// Most callers want RequireContract, which caches one Contract per process.
func LoadContract(path string, templates ...string) (*Contract, error) {
	start := time.Now()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read openapi: %w", err)
	}
	var keep map[string]bool
	if len(templates) > 0 {
		keep = map[string]bool{}
		for _, t := range templates {
			keep[t] = true
		}
	}
	pruned, all, err := pruneSpec(data, keep)
	if err != nil {
		return nil, fmt.Errorf("prune openapi %s: %w", path, err)
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(pruned)
	if err != nil {
		return nil, fmt.Errorf("load openapi %s: %w", path, err)
	}
	registerMediaTypes()
	c := &Contract{Doc: doc, Path: path}
	c.routes = newRouteTrie(all)
	c.templates = len(all)
	c.options = &openapi3filter.Options{
		MultiError:            true,
		IncludeResponseStatus: true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.DisableSchemaErrorDetails(),
			openapi3.WithStringFormatValidator("uri", openapi3.NewCallbackValidator(validateURI)),
			openapi3.WithStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail)),
		},
	}
	c.LoadTime = time.Since(start)
	return c, nil
}

// validateURI accepts absolute URLs, which is what GitHub's "uri" fields hold.
func validateURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URI: %w", err)
	}
	if u.Scheme == "" {
		return fmt.Errorf("URI %q has no scheme", s)
	}
	return nil
}

var mediaTypesOnce sync.Once

// registerMediaTypes teaches kin-openapi's (process-wide) decoder registry
// GitHub's text media types so bodies documented with them are validated.
func registerMediaTypes() {
	mediaTypesOnce.Do(func() {
		for _, mt := range []string{"application/vnd.github.sha", "application/vnd.github.diff", "application/vnd.github.patch"} {
			if openapi3filter.RegisteredBodyDecoder(mt) == nil {
				openapi3filter.RegisterBodyDecoder(mt, openapi3filter.PlainBodyDecoder)
			}
		}
	})
}

// RequireContract returns the process-wide Contract, fetching the npm
// package with scripts/fetch-contracts.sh if it is missing. If the contract
// still cannot be had it calls t.Fatal when GHSYNC_REQUIRE_CONTRACTS=1 and
// t.Skip otherwise.
func RequireContract(t testing.TB) *Contract {
	t.Helper()
	contractOnce.Do(func() {
		path, ok := OpenAPIPath()
		if !ok {
			if err := FetchContracts(context.Background()); err != nil {
				contractErr = fmt.Errorf("fetch contracts: %w", err)
				return
			}
			if path, ok = OpenAPIPath(); !ok {
				contractErr = fmt.Errorf("%s missing after fetch", path)
				return
			}
		}
		contractVal, contractErr = LoadContract(path, implementedTemplates()...)
	})
	if contractErr != nil {
		msg := fmt.Sprintf("SKIP: GitHub OpenAPI contract unavailable (%s in %s): %v", OpenAPIPackage, ContractsDir(), contractErr)
		if os.Getenv(EnvRequireContracts) == "1" {
			t.Fatal(strings.Replace(msg, "SKIP: ", "FATAL ("+EnvRequireContracts+"=1): ", 1))
		}
		t.Log("!!!!!!!! " + msg + " !!!!!!!!")
		t.Skip(msg)
	}
	return contractVal
}
