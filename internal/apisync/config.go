package apisync

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// FieldError is one problem in a job's configuration. Key is the configuration
// key as written in the file (for example "base", "fields.Name", "tables.badges"),
// so that the caller can place it at file:line:col.
type FieldError struct {
	Field string
	Msg   string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// Lists modes: how list values (multiple selects, linked records, tags) are stored.
const (
	// ListsComma joins a list of scalars with "," (as the original did); a list
	// holding objects (attachments, collaborators) is stored as JSON.
	ListsComma = "comma"
	// ListsJSON stores every list as JSON text.
	ListsJSON = "json"
)

// Column types accepted in AirtableConfig.Types.
var columnTypes = []string{"text", "integer", "real", "boolean", "json"}

// DefaultAirtableURL is Airtable's API root.
const DefaultAirtableURL = "https://api.airtable.com"

// AirtableConfig is one `kind: airtable` job, decodable from the job's YAML
// mapping (keys in the yaml tags; the registry's own keys name, kind,
// schedule, timezone and alerts are not part of it).
type AirtableConfig struct {
	Base   string `yaml:"base"`   // base id, appXXXXXXXXXXXXXX (required)
	Table  string `yaml:"table"`  // table name or tbl… id (required)
	Token  Secret `yaml:"token"`  // personal access token, sent as Authorization: Bearer (required)
	Target string `yaml:"target"` // SQL table name (required)
	// Key is the key column; default "id" (the record id).
	Key string `yaml:"key"`
	// DeleteMissing deletes rows whose key was not listed, only after a
	// complete listing.
	DeleteMissing bool   `yaml:"delete_missing"`
	View          string `yaml:"view"`   // only the records in this view
	Filter        string `yaml:"filter"` // filterByFormula
	// Fields maps Airtable field names to column names. Empty: every field,
	// column named as the field. The columns id (record id) and created_time
	// (createdTime) are always present.
	Fields map[string]string `yaml:"fields"`
	// Types fixes a column's SQL type: text, integer, real, boolean or json.
	// Other columns are typed from the first value seen (number → real,
	// checkbox → boolean, object or non-scalar list → json, else text).
	Types map[string]string `yaml:"types"`
	// Lists is ListsComma (default) or ListsJSON.
	Lists string `yaml:"lists"`
	// APIURL is the API root; default https://api.airtable.com.
	APIURL string `yaml:"api_url"`
	// RequireTable makes a missing target table an error instead of creating
	// it. New columns are still added.
	RequireTable bool `yaml:"require_table"`
	// PageSize is Airtable's pageSize, 1..100; default 100.
	PageSize int `yaml:"page_size"`
	// Database is the target database URL (sqlite://, postgres://, mysql://);
	// "" means the configuration's database. Not used by this package: the
	// caller opens it and passes Deps.DB.
	Database string `yaml:"database"`
}

// BadgrConfig is one `kind: badgr` job, decodable from the job's YAML mapping.
type BadgrConfig struct {
	APIURL   string `yaml:"api_url"`   // e.g. https://api.badgr.io (required)
	Username string `yaml:"username"`  // (required)
	Password Secret `yaml:"password"`  // (required)
	ClientID string `yaml:"client_id"` // optional OAuth client id
	Scope    string `yaml:"scope"`     // optional OAuth scope (space-separated)
	Issuer   string `yaml:"issuer"`    // issuer entityId (required)
	// Tables names the target tables; defaults "badges" and "assertions".
	Tables BadgrTables `yaml:"tables"`
	// DeleteMissing deletes rows no longer listed, only after a complete
	// listing of that table.
	DeleteMissing bool   `yaml:"delete_missing"`
	Lists         string `yaml:"lists"`         // comma (default) or json
	RequireTable  bool   `yaml:"require_table"` // a missing table is an error
	PageSize      int    `yaml:"page_size"`     // the num parameter; default 100
	// Database is the target database URL; "" means the configuration's
	// database (opened by the caller, passed as Deps.DB).
	Database string `yaml:"database"`
}

// BadgrTables names Badgr's two target tables.
type BadgrTables struct {
	Badges     string `yaml:"badges"`
	Assertions string `yaml:"assertions"`
}

var (
	tableNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`) })
	airBaseRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^app[A-Za-z0-9]{14}$`) })
)

// Validate reports every problem in the configuration, each naming its key.
func (c AirtableConfig) Validate() []FieldError {
	var errs []FieldError
	add := func(k, f string, a ...any) { errs = append(errs, FieldError{k, fmt.Sprintf(f, a...)}) }
	switch {
	case c.Base == "":
		add("base", "required (the base id, appXXXXXXXXXXXXXX)")
	case !airBaseRE().MatchString(c.Base):
		add("base", "%q is not a base id (app followed by 14 letters or digits)", c.Base)
	}
	if strings.TrimSpace(c.Table) == "" {
		add("table", "required (a table name or tbl… id)")
	}
	if c.Token == "" {
		add("token", "required (an Airtable personal access token, e.g. ${AIRTABLE_TOKEN})")
	}
	validateTarget(&errs, "target", c.Target)
	validateURL(&errs, "api_url", c.APIURL, false)
	validateLists(&errs, c.Lists)
	if c.PageSize < 0 || c.PageSize > 100 {
		add("page_size", "must be between 1 and 100 (Airtable's maximum page size)")
	}
	cols := map[string]string{} // lower-case column → what it is
	cols["id"], cols["created_time"], cols[hashColumn] = "the record id", "the record's createdTime", "ghsync's content hash"
	fields := sortedKeys(c.Fields)
	for _, f := range fields {
		col := c.Fields[f]
		if f == "" {
			add("fields", "empty field name")
			continue
		}
		if msg := checkColumnName(col); msg != "" {
			add("fields."+f, "%s", msg)
			continue
		}
		if prev, dup := cols[strings.ToLower(col)]; dup {
			add("fields."+f, "column %q is already %s (column names are compared case-insensitively, as MySQL does)", col, prev)
			continue
		}
		cols[strings.ToLower(col)] = "field " + f + "'s column"
	}
	key := c.Key
	if key == "" {
		key = "id"
	}
	if _, mapped := cols[strings.ToLower(key)]; strings.EqualFold(key, hashColumn) || strings.EqualFold(key, "created_time") ||
		(len(c.Fields) > 0 && !mapped) {
		add("key", "%q is not a usable key column (use id, or a column named in fields)", key)
	}
	for _, col := range sortedKeys(c.Types) {
		t := c.Types[col]
		if !contains(columnTypes, t) {
			add("types."+col, "%q: want one of %s", t, strings.Join(columnTypes, ", "))
		}
		if len(c.Fields) > 0 {
			if _, ok := cols[strings.ToLower(col)]; !ok {
				add("types."+col, "no such column in fields (or id, created_time)")
			}
		}
	}
	return errs
}

// Validate reports every problem in the configuration, each naming its key.
func (c BadgrConfig) Validate() []FieldError {
	var errs []FieldError
	add := func(k, f string, a ...any) { errs = append(errs, FieldError{k, fmt.Sprintf(f, a...)}) }
	validateURL(&errs, "api_url", c.APIURL, true)
	if c.Username == "" {
		add("username", "required (the Badgr account's e-mail, e.g. ${BADGR_USERNAME})")
	}
	if c.Password == "" {
		add("password", "required (e.g. ${BADGR_PASSWORD})")
	}
	if c.Issuer == "" {
		add("issuer", "required (the issuer's entityId)")
	} else if strings.ContainsAny(c.Issuer, "/?#% ") {
		add("issuer", "%q is not an entityId", c.Issuer)
	}
	if c.Tables.Badges != "" {
		validateTarget(&errs, "tables.badges", c.Tables.Badges)
	}
	if c.Tables.Assertions != "" {
		validateTarget(&errs, "tables.assertions", c.Tables.Assertions)
	}
	b, a := c.tableNames()
	if strings.EqualFold(b, a) {
		add("tables.assertions", "must differ from tables.badges (%q)", b)
	}
	validateLists(&errs, c.Lists)
	if c.PageSize < 0 || c.PageSize > 1000 {
		add("page_size", "must be between 1 and 1000")
	}
	return errs
}

func (c BadgrConfig) tableNames() (badges, assertions string) {
	badges, assertions = c.Tables.Badges, c.Tables.Assertions
	if badges == "" {
		badges = "badges"
	}
	if assertions == "" {
		assertions = "assertions"
	}
	return badges, assertions
}

func validateTarget(errs *[]FieldError, key, name string) {
	switch {
	case name == "":
		*errs = append(*errs, FieldError{key, "required (an SQL table name)"})
	case !tableNameRE().MatchString(name):
		*errs = append(*errs, FieldError{key, fmt.Sprintf("%q is not a plain SQL table name (letters, digits, _; at most 63)", name)})
	}
}

func validateURL(errs *[]FieldError, key, raw string, required bool) {
	if raw == "" {
		if required {
			*errs = append(*errs, FieldError{key, "required (e.g. https://api.badgr.io)"})
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		*errs = append(*errs, FieldError{key, "want an http(s)://HOST[/PATH] URL without credentials or query"})
	}
}

func validateLists(errs *[]FieldError, v string) {
	if v != "" && v != ListsComma && v != ListsJSON {
		*errs = append(*errs, FieldError{"lists", fmt.Sprintf("%q: want comma or json", v)})
	}
}

// checkColumnName returns why col cannot be a column name, or "".
func checkColumnName(col string) string {
	switch {
	case col == "":
		return "empty column name"
	case len(col) > 63:
		return fmt.Sprintf("column name %q is longer than 63 bytes (PostgreSQL's limit); map it to a shorter name in fields", col)
	case strings.ContainsAny(col, "\x00`\""):
		return fmt.Sprintf("column name %q contains a quote or NUL; map it to another name in fields", col)
	case strings.HasSuffix(col, " "):
		return fmt.Sprintf("column name %q ends with a space (MySQL refuses it); map it in fields", col)
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}
