package githubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// GitHub's description is ~13 MB; kin-openapi needs several seconds to load
// all of it. The fake only needs full operation objects for the routes it
// implements, so pruneSpec cuts the document down to those path items plus
// every component they reference (transitively), and separately returns the
// list of all path templates (with their multi-segment parameters) so that
// every GitHub route is still recognised and counted.

// rawTemplate is one path template of the full document.
type rawTemplate struct {
	path  string
	multi map[string]bool
}

var refRe = regexp.MustCompile(`"\$ref"\s*:\s*"#/components/([^/"]+)/([^"]+)"`)

// pruneSpec returns a smaller OpenAPI JSON holding only the path items in
// keep (templates) and the components they reach, plus all templates.
func pruneSpec(data []byte, keep map[string]bool) ([]byte, []rawTemplate, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, nil, fmt.Errorf("decode openapi top level: %w", err)
	}
	var paths map[string]json.RawMessage
	if err := json.Unmarshal(top["paths"], &paths); err != nil {
		return nil, nil, fmt.Errorf("decode openapi paths: %w", err)
	}
	var comps map[string]map[string]json.RawMessage
	if err := json.Unmarshal(top["components"], &comps); err != nil {
		return nil, nil, fmt.Errorf("decode openapi components: %w", err)
	}

	templates := make([]rawTemplate, 0, len(paths))
	for p, item := range paths {
		multi, err := rawMultiSegment(item, comps["parameters"])
		if err != nil {
			return nil, nil, fmt.Errorf("path %s: %w", p, err)
		}
		templates = append(templates, rawTemplate{path: p, multi: multi})
	}
	sort.Slice(templates, func(i, j int) bool { return templates[i].path < templates[j].path })

	keptPaths := map[string]json.RawMessage{}
	for p, item := range paths {
		if keep == nil || keep[p] {
			keptPaths[p] = applyErrata(p, item)
		}
	}
	// Transitive closure of component references.
	keptComps := map[string]map[string]json.RawMessage{}
	var queue [][]byte
	for _, item := range keptPaths {
		queue = append(queue, item)
	}
	for len(queue) > 0 {
		b := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for _, m := range refRe.FindAllSubmatch(b, -1) {
			kind, name := string(m[1]), unescapePointer(string(m[2]))
			if keptComps[kind] == nil {
				keptComps[kind] = map[string]json.RawMessage{}
			}
			if _, done := keptComps[kind][name]; done {
				continue
			}
			v, ok := comps[kind][name]
			if !ok {
				return nil, nil, fmt.Errorf("dangling $ref #/components/%s/%s", kind, name)
			}
			keptComps[kind][name] = v
			queue = append(queue, v)
		}
	}
	if keep == nil {
		keptComps = comps
	}
	// Always keep basic-error: undocumented error statuses are checked against it.
	if keptComps["schemas"] == nil {
		keptComps["schemas"] = map[string]json.RawMessage{}
	}
	if be, ok := comps["schemas"]["basic-error"]; ok {
		keptComps["schemas"]["basic-error"] = be
	}
	out := map[string]any{
		"openapi":    top["openapi"],
		"info":       top["info"],
		"paths":      keptPaths,
		"components": keptComps,
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, nil, fmt.Errorf("encode pruned openapi: %w", err)
	}
	return b, templates, nil
}

// erratum is a known mistake in GitHub's description that would make a
// response GitHub really sends fail validation. Each is patched narrowly.
type erratum struct {
	path string
	why  string
	re   *regexp.Regexp
	repl string
}

var errata = []erratum{{
	path: "/app/installations",
	why: "the inlined installation schema says account is allOf(simple-user, enterprise); " +
		"components/schemas/installation (used by every other installation endpoint) says anyOf",
	re:   regexp.MustCompile(`("account":\s*\{\s*"nullable":\s*true,\s*)"allOf"`),
	repl: `${1}"anyOf"`,
}}

func applyErrata(path string, item json.RawMessage) json.RawMessage {
	for _, e := range errata {
		if e.path == path {
			item = e.re.ReplaceAll(item, []byte(e.repl))
		}
	}
	return item
}

func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

// rawMultiSegment finds path parameters marked x-multi-segment in a raw
// path item, following $refs into components/parameters.
func rawMultiSegment(item json.RawMessage, params map[string]json.RawMessage) (map[string]bool, error) {
	if !bytes.Contains(item, []byte("x-multi-segment")) && !bytes.Contains(item, []byte("#/components/parameters/")) {
		return nil, nil
	}
	type param struct {
		Ref   string `json:"$ref"`
		Name  string `json:"name"`
		In    string `json:"in"`
		Multi bool   `json:"x-multi-segment"`
	}
	var ops map[string]json.RawMessage
	if err := json.Unmarshal(item, &ops); err != nil {
		return nil, fmt.Errorf("decode path item: %w", err)
	}
	out := map[string]bool{}
	for key, raw := range ops {
		var list []param
		if key == "parameters" {
			if err := json.Unmarshal(raw, &list); err != nil {
				return nil, fmt.Errorf("decode parameters: %w", err)
			}
		} else {
			var op struct {
				Parameters []param `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				continue // not an operation object (e.g. summary)
			}
			list = op.Parameters
		}
		for _, p := range list {
			if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
				if err := json.Unmarshal(params[name], &p); err != nil {
					return nil, fmt.Errorf("decode parameter %s: %w", name, err)
				}
			}
			if p.In == "path" && p.Multi {
				out[p.Name] = true
			}
		}
	}
	return out, nil
}
