// Package testname derives resource names for tests on real servers.
package testname

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
)

var unsafeChars = regexp.MustCompile(`[^a-z0-9]+`)

// Unique derives a name valid as an S3 bucket, a Cloud Storage bucket and an
// Azure container (3–63 characters, lowercase letters, digits and single
// dashes) from a test's name, unique per call: "gt-" + the test name (at most
// 40 characters) + "-" + 8 random hex digits.
func Unique(testName string) string {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	base := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(testName), "-"), "-")
	if len(base) > 40 {
		base = strings.Trim(base[:40], "-")
	}
	return "gt-" + base + "-" + hex.EncodeToString(rnd[:])
}
