package cdn

import (
	"fmt"
	"slices"
	"testing"
)

func TestPathsIndexEscapeAndPrefix(t *testing.T) {
	got := Paths([]string{"index.html", "docs/index.html", "a b.css", "x*y.txt", "docs/index.html"}, "/site/")
	want := []string{"/site/", "/site/a%20b.css", "/site/docs/", "/site/docs/index.html", "/site/index.html", "/site/x%2Ay.txt"}
	if !slices.Equal(got, want) {
		t.Fatalf("Paths = %q, want %q", got, want)
	}
	if got := Paths([]string{"index.html"}, ""); !slices.Equal(got, []string{"/", "/index.html"}) {
		t.Fatalf("root index.html: %q", got)
	}
	if got := Paths(nil, ""); len(got) != 0 {
		t.Fatalf("no keys: %q", got)
	}
}

func TestCollapse(t *testing.T) {
	var many []string
	for i := range 20 {
		many = append(many, fmt.Sprintf("/d%02d/f.html", i))
	}
	small := []string{"/a.html", "/docs/x.html"}
	if got := Collapse(small, "", 10, 15); !slices.Equal(got, small) {
		t.Fatalf("under the count: %q", got)
	}
	got := Collapse([]string{"/a.html", "/docs/x.html", "/docs/y/z.html", "/img/p.png"}, "", 3, 15)
	if want := []string{"/a.html", "/docs/*", "/img/*"}; !slices.Equal(got, want) {
		t.Fatalf("above the count: %q, want %q", got, want)
	}
	if got := Collapse(many, "", 10, 15); !slices.Equal(got, []string{"/*"}) {
		t.Fatalf("20 folders, 15 wildcards allowed: %q, want /*", got)
	}
	if got := Collapse([]string{"/site/a/b", "/site/a/c", "/site/d"}, "/site", 2, 15); !slices.Equal(got, []string{"/site/a/*", "/site/d"}) {
		t.Fatalf("with a prefix: %q", got)
	}
}

func TestBatch(t *testing.T) {
	b := Batch(make([]string, 61), 30)
	if len(b) != 3 || len(b[0]) != 30 || len(b[2]) != 1 {
		t.Fatalf("61 in 30s: %d batches", len(b))
	}
}

func TestParseURL(t *testing.T) {
	for _, bad := range []string{"s3://x", "cloudfront://", "cloudfront://E1/path", "cloudflare://z?token=x"} {
		if _, _, _, err := ParseURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if s, id, _, err := ParseURL("cloudfront://E2ABCDEF123456"); err != nil || s != "cloudfront" || id != "E2ABCDEF123456" {
		t.Fatalf("cloudfront: %s %s %v", s, id, err)
	}
}
