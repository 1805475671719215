package logs

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestTailBuf compares the ring buffer with the naive answer: the last max
// bytes, advanced to a line boundary, and the number of their first line.
func TestTailBuf(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for it := 0; it < 3000; it++ {
		var log []byte
		for n := r.IntN(60); n > 0; n-- {
			log = append(log, bytes.Repeat([]byte{'a' + byte(r.IntN(3))}, r.IntN(9))...)
			log = append(log, '\n')
		}
		if r.IntN(3) == 0 {
			log = append(log, "tail-without-newline"...)
		}
		max := 1 + r.IntN(80)
		tb := &tailBuf{max: max}
		for rest := log; len(rest) > 0; {
			k := min(len(rest), 1+r.IntN(17))
			tb.Write(rest[:k])
			rest = rest[k:]
		}
		got, first := tb.tail()
		want, wantFirst := log, 1
		if len(log) > max {
			cut := len(log) - max
			want = log[cut:]
			wantFirst = bytes.Count(log[:cut], []byte{'\n'}) + 1
			if log[cut-1] != '\n' {
				if i := bytes.IndexByte(want, '\n'); i >= 0 {
					want, wantFirst = want[i+1:], wantFirst+1
				} else {
					want = nil
				}
			}
		}
		if !bytes.Equal(got, want) || first != wantFirst {
			t.Fatalf("log %q max %d: got (%q, %d), want (%q, %d)", log, max, got, first, want, wantFirst)
		}
	}
}

func TestPolicy(t *testing.T) {
	p := Policy{Default: Failures, Repos: []RepoMode{{Pattern: "acme/infra-*", Mode: All}, {Pattern: "acme/**", Mode: None}}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		repo, concl string
		want        bool
	}{
		{"other/x", "failure", true}, {"other/x", "timed_out", true}, {"other/x", "startup_failure", true},
		{"other/x", "success", false}, {"other/x", "cancelled", false},
		{"acme/infra-ci", "success", true}, {"acme/app", "failure", false},
	}
	for _, c := range cases {
		if got := p.Wants(c.repo, c.concl); got != c.want {
			t.Errorf("Wants(%s, %s) = %v", c.repo, c.concl, got)
		}
	}
	for _, bad := range []Policy{{Default: "some"}, {Repos: []RepoMode{{Pattern: "a/[", Mode: All}}}, {Repos: []RepoMode{{Pattern: "a/*", Mode: "x"}}}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if (Policy{}).Wants("a/b", "failure") {
		t.Error("zero policy downloads")
	}
}
