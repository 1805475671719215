package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "alpha", "B_2": "beta", "EMPTY": ""}
	env := func(k string) string { return vars[k] }
	tests := []struct {
		in, want string
		missing  []string
		wantErr  string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x-${A}-${B_2}-y", want: "x-alpha-beta-y"},
		{in: "${UNSET}", want: "", missing: []string{"UNSET"}},
		{in: "${UNSET:-dflt}", want: "dflt"},
		{in: "${EMPTY:-dflt}", want: "dflt"},
		{in: "${EMPTY}", want: "", missing: []string{"EMPTY"}},
		{in: "${A:-dflt}", want: "alpha"},
		{in: "${UNSET:-}", want: ""},
		{in: "${U:-a:b/c?d=1}", want: "a:b/c?d=1"},
		{in: "$${A}", want: "${A}"},
		{in: "pa$$word $A", want: "pa$$word $A"},
		{in: "${A", wantErr: `unterminated ${ in "${A"`},
		{in: "${}", wantErr: "invalid environment variable reference ${}"},
		{in: "${A-B}", wantErr: "invalid environment variable reference ${A-B}"},
	}
	for _, tt := range tests {
		got, missing, err := expand(tt.in, env)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("expand(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("expand(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want || !cmp.Equal(missing, tt.missing) {
			t.Errorf("expand(%q) = %q, %v; want %q, %v", tt.in, got, missing, tt.want, tt.missing)
		}
	}
}
