package apisync

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzNextLink: any Link header parses without panicking, and a found target
// is a substring of the header.
func FuzzNextLink(f *testing.F) {
	for _, s := range []string{`<https://a/n>; rel="next"`, `<a>; rel=prev, <b>; rel="x next"`, `<`, `<>;rel=next`, `,,<x>;;rel=`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{}
		h.Add("Link", v)
		if got := nextLink(h); got != "" && !strings.Contains(v, got) {
			t.Fatalf("nextLink(%q) = %q, not from the header", v, got)
		}
	})
}

// FuzzExpand: expansion never panics, and a template without placeholders
// comes back unchanged.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"github:o/{repo}@release:{ref}", "{", "}{", "{{repo}}", "{9x}", "s3://b/{repo}/"} {
		f.Add(s)
	}
	row := map[string]string{"repo": "r", "ref": "v1"}
	f.Fuzz(func(t *testing.T, tmpl string) {
		out, err := Expand(tmpl, row)
		if len(TemplateColumns(tmpl)) == 0 && (err != nil || out != tmpl) {
			t.Fatalf("Expand(%q) = %q, %v; want it unchanged", tmpl, out, err)
		}
	})
}
