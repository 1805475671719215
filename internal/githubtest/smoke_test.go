package githubtest

import (
	"net/http"
	"testing"
)

func TestEveryEndpointHonoursContract(t *testing.T) {
	s := New(t, Options{})
	r := s.AddRepo("acme", "site")
	sha := r.CommitFiles("main", []File{
		{Path: "a.txt", Content: []byte("hello")},
		{Path: "dir/b.txt", Content: []byte("x")},
		{Path: "bin/run", Content: []byte("#!/bin/sh\n"), Mode: "100755"},
		{Path: "link", Content: []byte("a.txt"), Mode: "120000"},
		{Path: "sub", Content: []byte("0123456789012345678901234567890123456789"), Mode: "160000"},
	})
	r.Tag("v1.0", sha)
	relID := r.AddRelease("v1.0", Asset{Name: "a.bin", Content: []byte("bytes")})
	_ = relID
	inst := s.AddInstallation("acme")
	_ = inst
	jwt, err := s.SignAppJWT()
	if err != nil {
		t.Fatal(err)
	}
	blob := GitBlobSHA([]byte("hello"))
	for _, tc := range []struct {
		path   string
		status int
		hdr    []string
	}{
		{"repos/acme/site", 200, nil},
		{"repos/acme/nope", 404, nil},
		{"repos/acme/site/commits/main", 200, nil},
		{"repos/acme/site/commits/HEAD", 200, []string{"Accept", "application/vnd.github.sha"}},
		{"repos/acme/site/commits/nope", 422, nil},
		{"repos/acme/site/git/trees/main?recursive=1", 200, nil},
		{"repos/acme/site/git/trees/" + sha, 200, nil},
		{"repos/acme/site/git/blobs/" + blob, 200, nil},
		{"repos/acme/site/git/blobs/" + blob, 200, []string{"Accept", "application/vnd.github.raw"}},
		{"repos/acme/site/tarball/main", 302, nil},
		{"repos/acme/site/zipball/v1.0", 302, nil},
		{"repos/acme/site/releases/latest", 200, nil},
		{"repos/acme/site/releases/tags/v1.0", 200, nil},
		{"repos/acme/site/installation", 200, []string{"Authorization", "Bearer " + jwt}},
		{"orgs/acme/installation", 200, []string{"Authorization", "Bearer " + jwt}},
		{"users/acme/installation", 200, []string{"Authorization", "Bearer " + jwt}},
		{"app/installations", 200, []string{"Authorization", "Bearer " + jwt}},
		{"rate_limit", 200, nil},
	} {
		resp, body := do(t, s, http.MethodGet, tc.path, tc.hdr...)
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s = %d, want %d: %s", tc.path, resp.StatusCode, tc.status, body)
		}
		for _, v := range s.TakeViolations() {
			t.Errorf("GET %s: %s", tc.path, v)
		}
	}
}
