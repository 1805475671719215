package apisync

import (
	"net/http"
	"testing"
)

func TestNextLink(t *testing.T) {
	for in, want := range map[string]string{
		`<https://a/x?cursor=1&num=2>; rel="next"`:                            "https://a/x?cursor=1&num=2",
		`<https://a/p>; rel="prev", <https://a/n>; rel="next"`:                "https://a/n",
		`<https://a/p>; rel=prev,<https://a/n>; title="a;b"; rel="last next"`: "https://a/n",
		`<https://a/p>; rel="prev"`:                                           "",
		`garbage`:                                                             "",
	} {
		h := http.Header{}
		h.Add("Link", in)
		if got := nextLink(h); got != want {
			t.Errorf("nextLink(%q) = %q, want %q", in, got, want)
		}
	}
}
