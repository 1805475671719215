// Package aztest gives tests a fresh container on the Azure Blob Storage
// emulator (Azurite) started by scripts/azurite.sh or .ci/run.
//
// The emulator is found through GHSYNC_TEST_AZURE_DOMAIN (host:port) and the
// account through AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_KEY, the variables
// gocloud's azblob:// opener reads. When they are unset, tests that ask for a
// container are skipped with a loud message, or fail when GHSYNC_REQUIRE_AZURE=1
// (as in CI).
package aztest

import (
	"context"
	"fmt"
	"github.com/ghsync/ghsync/internal/testkit/testname"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// Environment variables read by this package.
const (
	EnvDomain  = "GHSYNC_TEST_AZURE_DOMAIN"
	EnvRequire = "GHSYNC_REQUIRE_AZURE"
	EnvAccount = "AZURE_STORAGE_ACCOUNT"
	EnvKey     = "AZURE_STORAGE_KEY"
)

// SkipMessage is the message tests are skipped with when no emulator is configured.
const SkipMessage = "SKIP: no Azure Blob Storage emulator; run scripts/azurite.sh start or .ci/run " +
	"(set " + EnvDomain + ", " + EnvAccount + " and " + EnvKey + "; " + EnvRequire + "=1 makes this a failure)"

// Domain returns the emulator's host:port, skipping the test (or failing it
// when GHSYNC_REQUIRE_AZURE=1) when it or the account is not configured.
func Domain(t testing.TB) string {
	t.Helper()
	d := os.Getenv(EnvDomain)
	if d == "" || os.Getenv(EnvAccount) == "" || os.Getenv(EnvKey) == "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s, %s and %s must all be set when %s=1: the Azure emulator is required",
				EnvDomain, EnvAccount, EnvKey, EnvRequire)
		}
		t.Log("*****************************************************************")
		t.Skip(SkipMessage)
	}
	return d
}

// Client returns a shared-key client for the emulator's account.
func Client(t testing.TB) *azblob.Client {
	t.Helper()
	d := Domain(t)
	acct := os.Getenv(EnvAccount)
	cred, err := azblob.NewSharedKeyCredential(acct, os.Getenv(EnvKey))
	if err != nil {
		t.Fatalf("aztest: credential: %v", err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential("http://"+d+"/"+acct+"/", cred, nil)
	if err != nil {
		t.Fatalf("aztest: client: %v", err)
	}
	return c
}

// Container creates a fresh, empty, uniquely named container on the emulator
// and returns its destination URL
// (azblob://NAME/?localemu=true&domain=HOST:PORT&protocol=http), suitable for
// store.Open. The container is deleted in t.Cleanup.
func Container(t testing.TB) string {
	t.Helper()
	d := Domain(t)
	c := Client(t)
	name := testname.Unique(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateContainer(ctx, name, nil); err != nil {
		t.Fatalf("aztest: create container %s on %s: %v", name, d, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := c.DeleteContainer(ctx, name, nil); err != nil {
			t.Errorf("aztest: cleanup: delete container %s: %v", name, err)
		}
	})
	q := url.Values{}
	q.Set("localemu", "true")
	q.Set("domain", d)
	q.Set("protocol", "http")
	return fmt.Sprintf("azblob://%s/?%s", name, q.Encode())
}
