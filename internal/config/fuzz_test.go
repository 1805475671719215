package config_test

import (
	"os"
	"testing"

	. "github.com/ghsync/ghsync/internal/config"
	"github.com/ghsync/ghsync/internal/jobs"
)

// FuzzParse checks that Parse never panics, that every error it returns is
// an *Error or a join of *Error values, and that an accepted configuration
// keeps its invariants.
func FuzzParse(f *testing.F) {
	for _, file := range exampleFiles(f) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{
		"", "jobs: []", repoHead, statusesHead + "    dest: d/\n", repoHead + "    include: ['(']\n",
		"a: &a [*a, *a]\n", "x-a: &a {k: v}\njobs:\n  - <<: [*a, *a]\n", "storage: ${X:-mem://}\n",
		"- name: a\n  kind: inbox\n  q: ${Q}\n", "github: {token: ${T}}\n", "jobs:\n  - name: a\n    kind: repo\n    cache_control: {'[': x}\n",
	} {
		f.Add(s)
	}
	env := mapEnv(map[string]string{"T": "tok", "X": "s3://b", "Q": "q"})
	f.Fuzz(func(t *testing.T, data string) {
		c, err := Parse([]byte(data), "fuzz.yaml", env, kinds)
		if err != nil {
			if c != nil {
				t.Fatalf("config returned with an error")
			}
			var leaves int
			switch e := err.(type) {
			case *Error:
				leaves = 1
			case interface{ Unwrap() []error }:
				for _, m := range e.Unwrap() {
					if _, ok := m.(*Error); !ok {
						t.Fatalf("joined error %T is not *Error: %v", m, m)
					}
					leaves++
				}
			default:
				t.Fatalf("error %T is neither *Error nor joined: %v", err, err)
			}
			if n := len(Errors(err)); n != leaves || n == 0 {
				t.Fatalf("Errors() found %d of %d problems", n, leaves)
			}
			return
		}
		names := map[string]bool{}
		for _, j := range c.Jobs {
			if j.Name == "" || names[j.Name] {
				t.Fatalf("accepted empty or duplicate job name %q", j.Name)
			}
			names[j.Name] = true
			if r := jobs.RepoOf(j); r != nil {
				if len(r.Include) != len(r.IncludePatterns) || len(r.Exclude) != len(r.ExcludePatterns) {
					t.Fatalf("patterns not all compiled")
				}
				if r.Concurrency < 1 || r.Concurrency > 256 || r.Dest == "" || r.Source == "" {
					t.Fatalf("accepted invalid repo job %+v", r)
				}
			}
			if s := jobs.StatusesOf(j); s != nil && (s.HistorySize < 1 || s.HistorySize > 1000 || len(s.Branches) == 0) {
				t.Fatalf("accepted invalid statuses job %+v", s)
			}
		}
	})
}
