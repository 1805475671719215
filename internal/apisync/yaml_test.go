package apisync_test

import (
	"bytes"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ghsync/ghsync/internal/apisync"
)

// TestConfigYAML: the spec's configuration keys decode strictly into the
// config types, and encoding them back redacts the secrets.
func TestConfigYAML(t *testing.T) {
	var a apisync.AirtableConfig
	dec := yaml.NewDecoder(strings.NewReader(`
base: appXXXXXXXXXXXXXX
table: Assessments
token: patSECRET
target: assessment
key: id
delete_missing: true
view: Published
filter: "NOT({Name} = '')"
fields: {Name: name, "Latest Release": latest_release}
types: {latest_release: text}
lists: json
database: mysql://app@db:3306/brn
api_url: https://api.airtable.com
require_table: false
page_size: 100
`))
	dec.KnownFields(true)
	if err := dec.Decode(&a); err != nil {
		t.Fatal(err)
	}
	if errs := a.Validate(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if a.Token.Reveal() != "patSECRET" || a.Fields["Latest Release"] != "latest_release" || !a.DeleteMissing || a.Lists != "json" {
		t.Fatalf("decoded %+v", a)
	}
	var b apisync.BadgrConfig
	dec = yaml.NewDecoder(strings.NewReader(`
api_url: https://api.badgr.io
username: me@example.org
password: pwSECRET
issuer: ISSUER_ENTITY_ID
client_id: public
scope: "rw:issuer rw:profile"
tables: {badges: badges, assertions: assertions}
delete_missing: false
lists: comma
page_size: 100
database: postgres://x@y/z
`))
	dec.KnownFields(true)
	if err := dec.Decode(&b); err != nil {
		t.Fatal(err)
	}
	if errs := b.Validate(); len(errs) != 0 || b.Password.Reveal() != "pwSECRET" || b.Tables.Assertions != "assertions" {
		t.Fatalf("decoded %+v, %v", b, errs)
	}
	var out bytes.Buffer
	if err := yaml.NewEncoder(&out).Encode(struct {
		A apisync.AirtableConfig
		B apisync.BadgrConfig
	}{a, b}); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); strings.Contains(s, "SECRET") || !strings.Contains(s, "xxxxx") {
		t.Fatalf("encoded config shows a secret or lost the redaction:\n%s", s)
	}
}
