package githubtest

import (
	"runtime"
	"testing"
)

func TestContractLoads(t *testing.T) {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	c := RequireContract(t)
	if c.Doc.Info == nil || c.Doc.Info.Version != "23.0.2" {
		t.Fatalf("contract version = %v, want 23.0.2", c.Doc.Info)
	}
	if n := c.Templates(); n < 500 {
		t.Fatalf("contract recognises %d path templates, want hundreds", n)
	}
	for _, tpl := range implementedTemplates() {
		if c.Doc.Paths.Value(tpl) == nil {
			t.Errorf("implemented route %s missing from the loaded contract", tpl)
		}
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("contract %s loaded in %v (%d of %d templates in full, heap now %d MiB)", c.Path, c.LoadTime, c.Doc.Paths.Len(), c.Templates(), after.HeapAlloc>>20)
}

// TestFullContractLoads proves kin-openapi can load GitHub's whole
// description (slow: several seconds), not just the pruned part the fake uses.
func TestFullContractLoads(t *testing.T) {
	if testing.Short() {
		t.Skip("full contract load takes seconds; skipped with -short")
	}
	pruned := RequireContract(t)
	full, err := LoadContract(pruned.Path)
	if err != nil {
		t.Fatal(err)
	}
	if full.Doc.Paths.Len() != full.Templates() || full.Templates() != pruned.Templates() {
		t.Fatalf("full doc has %d paths, %d templates; pruned knows %d", full.Doc.Paths.Len(), full.Templates(), pruned.Templates())
	}
	t.Logf("full contract loaded in %v", full.LoadTime)
}

func TestRouteTrie(t *testing.T) {
	c := RequireContract(t)
	cases := []struct {
		path, template string
		params         map[string]string
	}{
		{"/repos/acme/site", "/repos/{owner}/{repo}", map[string]string{"owner": "acme", "repo": "site"}},
		{"/repos/acme/site/commits/main", "/repos/{owner}/{repo}/commits/{ref}", map[string]string{"ref": "main"}},
		{"/repos/acme/site/commits/feature/x", "/repos/{owner}/{repo}/commits/{ref}", map[string]string{"ref": "feature/x"}},
		{"/repos/acme/site/commits/feature%2Fx", "/repos/{owner}/{repo}/commits/{ref}", map[string]string{"ref": "feature/x"}},
		{"/repos/acme/site/commits/feature/x/status", "/repos/{owner}/{repo}/commits/{ref}/status", map[string]string{"ref": "feature/x"}},
		{"/repos/acme/site/releases/latest", "/repos/{owner}/{repo}/releases/latest", nil},
		{"/repos/acme/site/releases/assets/12", "/repos/{owner}/{repo}/releases/assets/{asset_id}", map[string]string{"asset_id": "12"}},
		{"/repos/acme/site/git/trees/abc", "/repos/{owner}/{repo}/git/trees/{tree_sha}", map[string]string{"tree_sha": "abc"}},
		{"/rate_limit", "/rate_limit", nil},
	}
	for _, tc := range cases {
		tpl, params, ok := c.routes.match(tc.path)
		if !ok || tpl != tc.template {
			t.Errorf("match(%q) = %q, %v; want %q", tc.path, tpl, ok, tc.template)
			continue
		}
		for k, v := range tc.params {
			if params[k] != v {
				t.Errorf("match(%q) param %s = %q, want %q", tc.path, k, params[k], v)
			}
		}
	}
	if tpl, _, ok := c.routes.match("/nope/nothing/here"); ok {
		t.Errorf("match of unknown path returned %q", tpl)
	}
}
