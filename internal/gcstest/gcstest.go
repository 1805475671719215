// Package gcstest gives tests a fresh bucket on the Cloud Storage emulator
// (fake-gcs-server) started by scripts/gcsserver.sh or .ci/run.
//
// The emulator is found through GHSYNC_TEST_GCS_EMULATOR (host:port); the
// script also exports STORAGE_EMULATOR_HOST, which is how the store (and every
// Cloud Storage client library) reaches an emulator. When either is unset,
// tests that ask for a bucket are skipped with a loud message, or fail when
// GHSYNC_REQUIRE_GCS=1 (as in CI).
package gcstest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ghsync/ghsync/internal/testkit/testname"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	gcs "google.golang.org/api/storage/v1"
)

// Environment variables read by this package.
const (
	EnvEmulator = "GHSYNC_TEST_GCS_EMULATOR"
	EnvRequire  = "GHSYNC_REQUIRE_GCS"
	// EnvStorageEmulator is the Cloud Storage libraries' own variable.
	EnvStorageEmulator = "STORAGE_EMULATOR_HOST"
)

// SkipMessage is the message tests are skipped with when no emulator is configured.
const SkipMessage = "SKIP: no Cloud Storage emulator; run scripts/gcsserver.sh start or .ci/run " +
	"(set " + EnvEmulator + " and " + EnvStorageEmulator + "; " + EnvRequire + "=1 makes this a failure)"

// Emulator returns the emulator's host:port, skipping the test (or failing it
// when GHSYNC_REQUIRE_GCS=1) when none is configured.
func Emulator(t testing.TB) string {
	t.Helper()
	host, std := os.Getenv(EnvEmulator), os.Getenv(EnvStorageEmulator)
	if host == "" || std == "" {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("%s=%q and %s=%q but %s=1: the Cloud Storage emulator is required",
				EnvEmulator, host, EnvStorageEmulator, std, EnvRequire)
		}
		t.Log("*****************************************************************")
		t.Skip(SkipMessage)
	}
	if strings.TrimPrefix(strings.TrimPrefix(std, "http://"), "https://") != host {
		t.Fatalf("%s=%q and %s=%q name different servers", EnvEmulator, host, EnvStorageEmulator, std)
	}
	return host
}

// Client returns an unauthenticated client of the emulator's JSON API (the
// one the store speaks).
func Client(t testing.TB) *gcs.Service {
	t.Helper()
	host := Emulator(t)
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	c, err := gcs.NewService(context.Background(), option.WithoutAuthentication(),
		option.WithEndpoint(strings.TrimSuffix(host, "/")+"/storage/v1/"))
	if err != nil {
		t.Fatalf("gcstest: client: %v", err)
	}
	return c
}

// Bucket creates a fresh, empty, uniquely named bucket on the emulator and
// returns its destination URL (gs://NAME/?anonymous=true), suitable for
// store.Open. The bucket and its objects are deleted in t.Cleanup.
func Bucket(t testing.TB) string {
	t.Helper()
	host := Emulator(t)
	c := Client(t)
	name := testname.Unique(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Buckets.Insert("test-project", &gcs.Bucket{Name: name}).Context(ctx).Do(); err != nil {
		t.Fatalf("gcstest: create bucket %s on %s: %v", name, host, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := Remove(ctx, c, name); err != nil {
			t.Errorf("gcstest: cleanup: %v", err)
		}
	})
	return "gs://" + name + "/?anonymous=true"
}

// Remove deletes every object in the bucket, then the bucket.
func Remove(ctx context.Context, c *gcs.Service, name string) error {
	err := c.Objects.List(name).Pages(ctx, func(page *gcs.Objects) error {
		for _, o := range page.Items {
			err := c.Objects.Delete(name, o.Name).Context(ctx).Do()
			var ge *googleapi.Error
			if err != nil && !(errors.As(err, &ge) && ge.Code == http.StatusNotFound) {
				return fmt.Errorf("delete %s/%s: %w", name, o.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("empty %s: %w", name, err)
	}
	if err := c.Buckets.Delete(name).Context(ctx).Do(); err != nil {
		return fmt.Errorf("delete bucket %s: %w", name, err)
	}
	return nil
}
