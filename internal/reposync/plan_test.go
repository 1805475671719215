package reposync

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ghsync/ghsync/internal/reposync/source"
	"github.com/ghsync/ghsync/internal/store"
)

// Item 6 of issue 8: names every scheme can hold arrive under their own
// name; a name the scheme cannot hold (file://'s ".attrs") fails the plan
// naming the file, unless SkipUnstorable leaves it out and counts it.
func TestDesiredItemsUnstorableKeys(t *testing.T) {
	entries := []source.Entry{
		{Path: "ok.txt"}, {Path: "x.attrs"}, {Path: "a__0xb"}, {Path: "has__0x41__.txt"},
		{Path: "sub", Mode: source.ModeSubmodule},
	}
	for _, tc := range []struct {
		url          string
		skip         bool
		items        int
		skips        Skips
		wantErrNames []string
	}{
		{url: "mem://", items: 4, skips: Skips{Submodules: 1}},
		{url: "file://" + t.TempDir(), items: 4, skips: Skips{Submodules: 1}},
		{url: "file://" + t.TempDir() + "?metadata=sidecar", items: 3, skips: Skips{Submodules: 1}, wantErrNames: []string{`"x.attrs"`}},
		{url: "file://" + t.TempDir() + "?metadata=sidecar", skip: true, items: 3, skips: Skips{Unstorable: 1, Submodules: 1}},
	} {
		b, err := store.Open(context.Background(), tc.url, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		o := &Options{Logger: slog.New(slog.DiscardHandler), Bucket: b, SkipUnstorable: tc.skip}
		o.defaults()
		var skips Skips
		items, skipped, err := desiredItems(entries, o, &skips)
		if tc.wantErrNames != nil {
			if !errors.Is(err, ErrUnstorable) || !errors.Is(err, store.ErrUnstorable) {
				t.Fatalf("%s: err %v, want ErrUnstorable", tc.url, err)
			}
			for _, n := range tc.wantErrNames {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("%s: error %q does not name %s", tc.url, err, n)
				}
			}
			if strings.Contains(err.Error(), "ok.txt") || strings.Contains(err.Error(), "has__0x41__") {
				t.Errorf("%s: error names storable files: %v", tc.url, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s (skip %v): %v", tc.url, tc.skip, err)
		}
		if len(items) != tc.items || skips != tc.skips || len(skipped) != tc.skips.Unstorable+tc.skips.Submodules {
			t.Errorf("%s (skip %v): %d items, skips %+v, skipped %v; want %d items, %+v", tc.url, tc.skip, len(items), skips, skipped, tc.items, tc.skips)
		}
		for _, it := range items {
			if it.Key() != it.Path() {
				t.Errorf("%s: path %q became key %q", tc.url, it.Path(), it.Key())
			}
		}
	}
}

func TestMaxDeleteLimit(t *testing.T) {
	for _, tc := range []struct {
		m       MaxDelete
		managed int
		want    int
	}{
		{MaxDelete{}, 100, 50},
		{MaxDelete{}, 4, MinPercentFloor},
		{MaxDelete{Percent: 10}, 1000, 100},
		{MaxDelete{Count: 3}, 1000, 3},
		{MaxDelete{Percent: 100}, 7, 10},
	} {
		if got := tc.m.Limit(tc.managed); got != tc.want {
			t.Errorf("%+v of %d: got %d want %d", tc.m, tc.managed, got, tc.want)
		}
	}
}

func TestParseSpecForms(t *testing.T) {
	for in, want := range map[string]source.Spec{
		"github:acme/site":                         {Kind: source.KindGitHub, Owner: "acme", Repo: "site"},
		"github:acme/site@release/2.0":             {Kind: source.KindGitHub, Owner: "acme", Repo: "site", Ref: "release/2.0"},
		"github:acme/site@release:latest":          {Kind: source.KindGitHub, Owner: "acme", Repo: "site", Release: "latest"},
		"https://github.com/acme/site/tree/feat/x": {Kind: source.KindGitHub, Owner: "acme", Repo: "site", Ref: "feat/x"},
		"https://github.com/acme/site.git":         {Kind: source.KindGitHub, Owner: "acme", Repo: "site"},
		"git+https://gitlab.com/a/b.git#main":      {Kind: source.KindGit, URL: "https://gitlab.com/a/b.git", Ref: "main"},
		"git+ssh://git@host/r.git":                 {Kind: source.KindGit, URL: "ssh://git@host/r.git"},
	} {
		got, err := source.ParseSpec(in)
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "github:acme", "github:acme/site@", "github:-x-/y z", "git+ftp://h/r", "s3://b/k", "https://github.com/acme/site/blob/x", "/does/not/exist"} {
		if _, err := source.ParseSpec(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
