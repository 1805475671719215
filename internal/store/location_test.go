package store

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLocationOverlaps(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(dir, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"s3://bkt/site/", "s3://bkt/site?region=x", true},
		{"s3://bkt/site/", "s3://bkt/site/docs/", true},
		{"s3://bkt/", "s3://bkt/site/", true},
		{"s3://bkt/site/", "s3://bkt/site2/", false},
		{"s3://bkt/site/", "s3://cbk/site/", false},
		{"s3://bkt/site/", "s3://bkt/?prefix=site", true},
		{"s3://bkt/site/", "s3://bkt/site/?endpoint=http://127.0.0.1:1", false},
		{"s3://bkt/site/?endpoint=http://H:1", "s3://bkt/site/?endpoint=http://h:1&region=r", true},
		{"gs://bkt/site/", "s3://bkt/site/", false},
		{"mem://", "mem://", false},
		{"mem://x/a/", "mem://x/", true},
		{"file://" + dir + "/out", "file://" + dir + "/link/out/a", true},
		{"file://" + dir + "/out", "file://" + dir + "?prefix=out", true},
		{"file://" + dir + "/out?metadata=skip", "file://" + dir + "/out", true},
		{"file://" + dir + "/out", "file://" + dir + "/out2", false},
	} {
		la, err := Locate(tc.a)
		if err != nil {
			t.Fatal(err)
		}
		lb, err := Locate(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := la.Overlaps(lb); got != tc.want || lb.Overlaps(la) != tc.want {
			t.Errorf("%s vs %s: overlaps = %v, want %v (%+v, %+v)", tc.a, tc.b, got, tc.want, la, lb)
		}
	}
}
