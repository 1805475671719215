package reposync

import (
	"log/slog"
	"testing"

	"github.com/ghsync/ghsync/internal/reposync/source"
)

func TestDesiredItemsSkipsUnstorableKeys(t *testing.T) {
	o := &Options{Logger: slog.New(slog.DiscardHandler)}
	o.defaults()
	items, skipped := desiredItems([]source.Entry{
		{Path: "ok.txt"}, {Path: "x.attrs"}, {Path: "a__0xb"}, {Path: "sub", Mode: source.ModeSubmodule},
	}, o)
	if len(items) != 1 || items[0].Path != "ok.txt" || len(skipped) != 3 {
		t.Fatalf("items %v skipped %v", items, skipped)
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
