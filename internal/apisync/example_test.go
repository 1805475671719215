package apisync_test

import (
	"context"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ghsync/ghsync/internal/apisync"
	"github.com/ghsync/ghsync/internal/apisync/apisynctest"
	"github.com/ghsync/ghsync/internal/db"
	"github.com/ghsync/ghsync/internal/db/dbtest"
)

// The example is committed as .pending until the config loader knows
// repos_from; either name is read.
var exampleFiles = []string{"../../examples/skill-app-sync.yaml", "../../examples/skill-app-sync.yaml.pending"}

// exampleJobs reads the example's jobs with ${VAR:-default} expanded from env,
// keyed by name, without the registry's own keys.
func exampleJobs(t *testing.T, env map[string]string) map[string]*yaml.Node {
	t.Helper()
	var data []byte
	var err error
	for _, f := range exampleFiles {
		if data, err = os.ReadFile(f); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`\$\{([A-Z_]+)(:-([^}]*))?\}`)
	text := re.ReplaceAllStringFunc(string(data), func(m string) string {
		p := re.FindStringSubmatch(m)
		if v := env[p[1]]; v != "" {
			return v
		}
		return p[3]
	})
	var doc struct {
		Jobs []yaml.Node `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]*yaml.Node{}
	for i := range doc.Jobs {
		n := &doc.Jobs[i]
		var name string
		kept := []*yaml.Node{}
		for k := 0; k+1 < len(n.Content); k += 2 {
			switch n.Content[k].Value {
			case "name":
				name = n.Content[k+1].Value
			case "kind", "schedule", "timezone", "alerts":
			default:
				kept = append(kept, n.Content[k], n.Content[k+1])
			}
		}
		n.Content = kept
		out[name] = n
	}
	return out
}

func strictDecode(t *testing.T, n *yaml.Node, v any) {
	t.Helper()
	b, err := yaml.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
}

// TestSkillAppExample: the example's airtable and badgr jobs decode strictly
// and validate; its repos_from query, run on an assessment table synced from
// the fake Airtable, yields one source per assessment with a release.
func TestSkillAppExample(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		air := apisynctest.NewAirtable(t, "patTOKEN")
		air.LimitPerSecond = 0
		jobs := exampleJobs(t, map[string]string{"AIRTABLE_TOKEN": "patTOKEN", "BADGR_USERNAME": "u@example.org", "BADGR_PASSWORD": "pw"})
		var acfg apisync.AirtableConfig
		strictDecode(t, jobs["assessments"], &acfg)
		var bcfg apisync.BadgrConfig
		strictDecode(t, jobs["badges"], &bcfg)
		if errs := append(acfg.Validate(), bcfg.Validate()...); len(errs) != 0 {
			t.Fatalf("example config: %v", errs)
		}
		if !strings.HasPrefix(acfg.Database, "mysql://") || acfg.Database != bcfg.Database {
			t.Fatalf("databases: %q %q", acfg.Database, bcfg.Database)
		}
		air.SetRecords(acfg.Base, acfg.Table, []apisynctest.AirtableRecord{
			{ID: "recA0000000000001", CreatedTime: "2024-01-01T00:00:00.000Z", Fields: map[string]any{"Name": "Python", "template_repo": "skill-python", "latest_release": "v1.2.0"}},
			{ID: "recA0000000000002", CreatedTime: "2024-01-01T00:00:00.000Z", Fields: map[string]any{"Name": "R", "template_repo": "skill-r", "latest_release": "v0.9"}},
			{ID: "recA0000000000003", CreatedTime: "2024-01-01T00:00:00.000Z", Fields: map[string]any{"Name": "Draft", "template_repo": "skill-draft"}},
		})
		acfg.APIURL = air.URL()
		deps, _, _ := testDeps(t, d)
		if _, err := apisync.SyncAirtable(ctx, deps, acfg, apisync.RunOptions{}); err != nil {
			t.Fatal(err)
		}
		var rf struct {
			ReposFrom struct{ Database, Query string } `yaml:"repos_from"`
			Source    string                           `yaml:"source"`
			Dest      string                           `yaml:"dest"`
		}
		if err := jobs["templates"].Decode(&rf); err != nil {
			t.Fatal(err)
		}
		rows, err := apisync.QueryRowsDB(ctx, d, rf.ReposFrom.Query)
		if err != nil {
			t.Fatal(err)
		}
		var srcs []string
		for _, r := range rows {
			s, err := apisync.Expand(rf.Source, r)
			if err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, s)
		}
		sort.Strings(srcs)
		if strings.Join(srcs, " ") != "github:brn-org/skill-python@release:v1.2.0 github:brn-org/skill-r@release:v0.9" {
			t.Fatalf("sources = %v", srcs)
		}
		if cols := apisync.TemplateColumns(rf.Dest); len(cols) != 0 {
			t.Fatalf("dest placeholders %v", cols)
		}
	})
}
