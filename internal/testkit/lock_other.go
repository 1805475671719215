//go:build !unix

package testkit

// lockFile is a no-op where flock is unavailable: concurrent test processes
// may then build the binary more than once (still into the same place).
func lockFile(string) (func(), error) { return func() {}, nil }
