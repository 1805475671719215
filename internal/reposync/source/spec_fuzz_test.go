package source

import (
	"strings"
	"testing"
)

// FuzzParseSpec: ParseSpec never panics, and what it accepts is well formed.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"github:acme/site@main", "github:a/b@release:v1", "https://github.com/a/b/tree/x/y",
		"git+https://h/r.git#v1", "git+file:///tmp/r", "dir:/tmp", ".", "github:a/b@", "\x00", "git+ssh://u@h:22/r", "github:acme/*@release:latest"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := ParseSpec(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		switch sp.Kind {
		case KindGitHub:
			if sp.Owner == "" || sp.Repo == "" || strings.Contains(sp.Owner+sp.Repo, "/") {
				t.Fatalf("%q: bad github spec %+v", s, sp)
			}
			if sp.WholeOwner() {
				if one, err := ParseSpec(sp.ForRepo("r")); err != nil || one.WholeOwner() || one.Release != sp.Release || one.Ref != sp.Ref {
					t.Fatalf("%q: ForRepo(r) = %q: %+v, %v", s, sp.ForRepo("r"), one, err)
				}
			}
		case KindGit:
			if sp.URL == "" {
				t.Fatalf("%q: git spec without URL", s)
			}
		case KindCheckout, KindDir:
			if sp.Path == "" {
				t.Fatalf("%q: local spec without path", s)
			}
		default:
			t.Fatalf("%q: unknown kind %q", s, sp.Kind)
		}
	})
}
