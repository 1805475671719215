package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		raw, kind, bucket, prefix, dir, variant string
		query                                   map[string]string // expected driver query (subset)
	}{
		{raw: "s3://bkt", kind: "s3", bucket: "bkt"},
		{raw: "s3://bkt/", kind: "s3", bucket: "bkt"},
		{raw: "s3://bkt/site", kind: "s3", bucket: "bkt", prefix: "site/"},
		{raw: "s3://bkt/x/y/?region=eu-west-1", kind: "s3", bucket: "bkt", prefix: "x/y/", query: map[string]string{"region": "eu-west-1"}},
		{raw: "s3://bkt/p/?endpoint=http://127.0.0.1:7070&path_style=true&disable_https=true",
			kind: "s3", bucket: "bkt", prefix: "p/", query: map[string]string{"use_path_style": "true", "endpoint": "http://127.0.0.1:7070", "disable_https": "true"}},
		{raw: "s3://bkt?s3ForcePathStyle=true&hostname_immutable=true&awssdk=v2", kind: "s3", bucket: "bkt",
			query: map[string]string{"s3ForcePathStyle": "true", "hostname_immutable": "true"}},
		{raw: "s3://bkt/a?prefix=c/d", kind: "s3", bucket: "bkt", prefix: "a/c/d/"},
		{raw: "gs://bkt/pre", kind: "gs", bucket: "bkt", prefix: "pre/"},
		{raw: "azblob://ctr/a/b/", kind: "azblob", bucket: "ctr", prefix: "a/b/"},
		{raw: "file:///srv/www", kind: "file", dir: "/srv/www"},
		{raw: "file:///srv/www?prefix=site/", kind: "file", dir: "/srv/www", prefix: "site/"},
		{raw: "file://./out/site", kind: "file", dir: "out/site"},
		{raw: "file://./", kind: "file", dir: "."},
		{raw: "file:///srv/www?metadata=skip&prefix=site", kind: "file", dir: "/srv/www", prefix: "site/", variant: fileNoAttrs},
		{raw: "file://./out?metadata=sidecar", kind: "file", dir: "out", variant: fileSidecar},
		{raw: "file://./out?metadata=xattr", kind: "file", dir: "out"},
		{raw: "mem://", kind: "mem"},
		{raw: "mem://name/p/q", kind: "mem", bucket: "name", prefix: "p/q/"},
	}
	for _, c := range cases {
		t.Run(c.raw, func(t *testing.T) {
			got, err := parseURL(c.raw)
			if err != nil {
				t.Fatal(err)
			}
			if got.kind != c.kind || got.bucket != c.bucket || got.prefix != c.prefix || got.variant != c.variant ||
				filepath.Clean(got.dir) != filepath.Clean(c.dir) && c.dir != "" {
				t.Fatalf("parseURL = %+v", got)
			}
			for k, v := range c.query {
				if got.query.Get(k) != v {
					t.Errorf("query %s = %q, want %q (all: %v)", k, got.query.Get(k), v, got.query)
				}
			}
			if got.query.Has("prefix") || got.query.Has("path_style") {
				t.Errorf("query still holds prefix/path_style: %v", got.query)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	cases := []struct{ raw, want string }{
		{"", "missing scheme"},
		{"bucket/path", "missing scheme"},
		{"ftp://host/x", "unsupported scheme"},
		{"s3://", "bucket name"},
		{"s3://g1/x", "3 to 63 characters"},
		{"s3://bad_bucket!/x", "bucket name"},
		{"s3://bkt/a//b", "empty"},
		{"s3://bkt/a/../b", ".."},
		{"s3://bkt/?bogus=1", `unknown query parameter "bogus"`},
		{"s3://bkt/?endpoint=127.0.0.1:7070", "endpoint must be"},
		{"s3://AKIAXXX:hunter2@b/x", "credentials in the URL"},
		{"s3://bkt/x#frag", "fragment"},
		{"s3://bkt/?endpoint=http://AKIAXXX:hunter2@h:1", "endpoint must be"},
		{"file://relative/path", "file:///absolute/path"},
		{"file:rel", "want file://"},
		{"file:///x?create_dir=1", `unknown query parameter "create_dir" (file:// takes only prefix and metadata)`},
		{"file:///x?metadata=none", `metadata="none": want xattr (the default: attributes in extended attributes), skip (no attributes) or sidecar`},
		{"file:///x?metadata=", `metadata="": want xattr`},
		{"file:///x?metadata=skip&metadata=skip", "metadata is given 2 times"},
		{"s3://bkt/?metadata=skip", `unknown query parameter "metadata"`},
		{"mem://n?x=1", "no query"},
		{"s3://bkt/%zz", "cannot be parsed"},
		{"s3://bkt/x?prefix=a/../b", ".."},
	}
	for _, c := range cases {
		t.Run(c.raw, func(t *testing.T) {
			_, err := parseURL(c.raw)
			if err == nil {
				t.Fatalf("parseURL(%q) succeeded", c.raw)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
			for _, secret := range []string{"hunter2", "AKIAXXX"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q echoes a credential", err)
				}
			}
		})
	}
}

func TestRedaction(t *testing.T) {
	cases := []struct{ raw, want string }{
		{"s3://bkt/p/?region=eu-west-1&endpoint=http://h:1", "s3://bkt/p/?endpoint=http%3A%2F%2Fh%3A1&region=eu-west-1"},
		{"s3://bkt/?role=arn:aws:iam::1:role/x&region=r", "s3://bkt/?region=r&role=REDACTED"},
		{"azblob://c/?sas_token=sv%3D2020%26sig%3Dsecret", "azblob://c/?sas_token=REDACTED"},
		{"gs://b/?access_id=a&private_key_path=/k", "gs://b/?access_id=REDACTED&private_key_path=REDACTED"},
		{"mem://", "mem://"}, // url.URL alone renders "mem:"
		{"file:///srv/www", "file:///srv/www"},
		{"file:///srv/www?metadata=skip", "file:///srv/www?metadata=skip"},
	}
	for _, c := range cases {
		t.Run(c.raw, func(t *testing.T) {
			tg, err := parseURL(c.raw)
			if err != nil {
				// gs/azblob parameters are validated at Open, not here.
				t.Fatal(err)
			}
			if tg.redacted != c.want {
				t.Errorf("redacted = %q, want %q", tg.redacted, c.want)
			}
		})
	}
	// Credentials in userinfo never show up, even in the rejection.
	_, err := parseURL("s3://user:pa55word@b/")
	if err == nil || strings.Contains(err.Error(), "pa55word") || !strings.Contains(err.Error(), "REDACTED@") {
		t.Errorf("userinfo error = %v", err)
	}
	// Open's URL() is the redacted form.
	b := open(t, "mem://redact/x/", Options{})
	if b.URL() != "mem://redact/x/" {
		t.Errorf("URL() = %q", b.URL())
	}
}

func TestOpenErrorsNameTheURL(t *testing.T) {
	_, err := Open(context.Background(), "s3://bkt/x?region=r&request_checksum_calculation=sometimes", Options{})
	if err == nil || !strings.Contains(err.Error(), "s3://bkt/x") {
		t.Fatalf("Open with bad checksum option: %v", err)
	}
	_, err = Open(context.Background(), "s3://bkt/x?ssetype=AES256", Options{})
	if err == nil || !strings.Contains(err.Error(), "ssetype") {
		t.Fatalf("Open with ssetype: %v", err)
	}
	// A file:// URL whose directory is a regular file cannot be opened.
	f := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), "file://"+f, Options{}); err == nil {
		t.Fatal("Open on a regular file succeeded")
	}
}

func TestMemReopenShares(t *testing.T) {
	ctx := context.Background()
	name := "mem://share" + randName()
	a := open(t, name+"/p/", Options{})
	put(t, a, "k", "v", PutOptions{})
	b := open(t, name, Options{})
	if data, _, err := b.Read(ctx, "p/k"); err != nil || string(data) != "v" {
		t.Fatalf("reopened mem bucket Read = %q %v", data, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := b.Stat(ctx, "p/k"); err != nil {
		t.Fatalf("after closing the other handle: %v", err)
	}
	// An unnamed mem bucket is private.
	c := open(t, "mem://", Options{})
	put(t, c, "k", "v", PutOptions{})
	d := open(t, "mem://", Options{})
	if got := listAll(t, d); len(got) != 0 {
		t.Fatalf("unnamed mem buckets share objects: %v", got)
	}
}

func TestFileRelativeCreatesDir(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	b := open(t, "file://./out/site", Options{})
	put(t, b, "a/b.txt", "hi", PutOptions{})
	data, err := os.ReadFile(filepath.Join(wd, "out", "site", "a", "b.txt"))
	if err != nil || string(data) != "hi" {
		t.Fatalf("file not where expected: %q %v", data, err)
	}
	if b.Kind() != "file" || b.Prefix() != "" {
		t.Fatalf("Kind/Prefix = %q/%q", b.Kind(), b.Prefix())
	}
}
