package source

import "testing"

// TestParseWholeOwner: github:OWNER/* names every repository of OWNER,
// with a ref or a release kept for each; other forms stay refused.
func TestParseWholeOwner(t *testing.T) {
	for _, tc := range []struct{ in, one string }{
		{"github:acme/*", "github:acme/site"},
		{"github:acme/*@main", "github:acme/site@main"},
		{"github:acme/*@release:latest", "github:acme/site@release:latest"},
	} {
		sp, err := ParseSpec(tc.in)
		if err != nil || !sp.WholeOwner() || sp.Owner != "acme" {
			t.Fatalf("ParseSpec(%q) = %+v, %v; want a whole-owner spec", tc.in, sp, err)
		}
		if got := sp.ForRepo("site"); got != tc.one {
			t.Errorf("%q ForRepo(site) = %q, want %q", tc.in, got, tc.one)
		}
	}
	if sp, err := ParseSpec("github:acme/site"); err != nil || sp.WholeOwner() {
		t.Errorf("github:acme/site: %+v, %v", sp, err)
	}
	for _, bad := range []string{"github:*/*", "github:acme/s*", "https://github.com/acme/*", "github:acme/*@"} {
		if sp, err := ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) = %+v, want an error", bad, sp)
		}
	}
}
