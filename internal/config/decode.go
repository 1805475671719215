package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the nodes visited while decoding (alias expansion included),
// so that "billion laughs" documents fail fast instead of exhausting memory.
const maxNodes = 200_000

// durationType is time.Duration, decoded like Duration ("90s", "5m").
var durationType = reflect.TypeOf(time.Duration(0))

// nodeUnmarshaler is implemented by types that decode themselves from a node.
type nodeUnmarshaler interface {
	unmarshalNode(d *decoder, n *yaml.Node, path string)
}

// decoder walks a yaml.Node tree into Go values, strictly, recording the
// position of every field and collecting every problem.
type decoder struct {
	getenv func(string) string
	probs  *problems
	budget int
	// exhausted is set once the node budget ran out (reported once).
	exhausted bool
	warnings  []*Error
	kinds     Kinds
}

func newDecoder(file string, getenv func(string) string, kinds Kinds) *decoder {
	return &decoder{
		getenv: getenv,
		kinds:  kinds,
		probs:  &problems{file: file, pos: map[string]Pos{}, failed: map[string]bool{}},
		budget: maxNodes,
	}
}

func nodePos(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

// fail records a problem about field path, located where the field's key
// was written when known (so every message about a field points at the same
// place), else at node n.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	pos, ok := d.probs.pos[path]
	if !ok {
		pos = nodePos(n)
	}
	d.probs.at(pos, path, format, args...)
}

// enter follows aliases and charges the node budget; it returns nil when the
// node cannot be decoded (budget exhausted, dangling alias).
func (d *decoder) enter(n *yaml.Node, path string) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 100 {
			d.fail(n, path, "unresolvable alias")
			return nil
		}
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	d.budget--
	if d.budget < 0 {
		if !d.exhausted {
			d.exhausted = true
			d.fail(n, path, "document too large (more than %d nodes after alias expansion)", maxNodes)
		}
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// kindName describes a node's kind for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	}
	return "something else"
}

// scalar returns the env-expanded value of a scalar node. When required is
// true, a ${VAR} that is unset and has no default is an error.
func (d *decoder) scalar(n *yaml.Node, path string, required bool) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "must be a single value (got %s)", kindName(n))
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	v, missing, err := expand(n.Value, d.getenv)
	if err != nil {
		d.fail(n, path, "%v", err)
		return "", false
	}
	if required && len(missing) > 0 {
		d.fail(n, path, "environment variable %s is not set (use ${%s:-default} for a fallback)", missing[0], missing[0])
		return "", false
	}
	return v, true
}

// value decodes n into v (settable).
func (d *decoder) value(n *yaml.Node, path string, v reflect.Value, required bool) {
	if n = d.enter(n, path); n == nil {
		return
	}
	if v.Kind() == reflect.Pointer {
		if isNull(n) {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, path, v.Elem(), required)
		return
	}
	if v.CanAddr() {
		switch u := v.Addr().Interface().(type) {
		case nodeUnmarshaler:
			u.unmarshalNode(d, n, path)
			return
		case *Secret:
			d.secret(n, path, u)
			return
		case *yaml.Node:
			*u = *d.copyNode(n, path)
			return
		case ScalarDecoder:
			if s, ok := d.scalar(n, path, required); ok && s != "" {
				if err := u.DecodeScalar(s); err != nil {
					d.fail(n, path, "%v", err)
				}
			}
			return
		}
	}
	if v.Type() == durationType {
		if s, ok := d.scalar(n, path, required); ok && s != "" {
			var dur Duration
			if err := dur.DecodeScalar(s); err != nil {
				d.fail(n, path, "%v", err)
				return
			}
			v.SetInt(int64(dur))
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structValue(n, path, v, structOpts{})
	case reflect.Slice:
		d.sliceValue(n, path, v, required)
	case reflect.Map:
		d.mapValue(n, path, v, required)
	case reflect.String:
		if s, ok := d.scalar(n, path, required); ok {
			v.SetString(s)
		}
	case reflect.Bool:
		if s, ok := d.scalar(n, path, required); ok && s != "" {
			b, err := parseBool(s)
			if err != nil {
				d.fail(n, path, "%v", err)
				return
			}
			v.SetBool(b)
		}
	case reflect.Int, reflect.Int64:
		if s, ok := d.scalar(n, path, required); ok && s != "" {
			x, err := parseInt(s, v.Type().Bits())
			if err != nil {
				d.fail(n, path, "%v", err)
				return
			}
			v.SetInt(x)
		}
	default:
		panic(fmt.Sprintf("config: unsupported field type %s at %s", v.Type(), path))
	}
}

// secret decodes a Secret; an unset ${VAR} yields an unset Secret. A secret
// written literally in the file produces a warning.
func (d *decoder) secret(n *yaml.Node, path string, s *Secret) {
	v, ok := d.scalar(n, path, false)
	if !ok {
		return
	}
	*s = NewSecret(v)
	if s.isLiteral() && !strings.Contains(n.Value, "${") {
		d.warnings = append(d.warnings, &Error{File: d.probs.file, Line: n.Line, Column: n.Column, Field: path,
			Msg: "secret written literally in the file; prefer ${ENV}, file:/path or a secret-store reference"})
	}
}

func (d *decoder) sliceValue(n *yaml.Node, path string, v reflect.Value, required bool) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "must be a list (got %s)", kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, el := range n.Content {
		p := indexPath(path, i)
		d.probs.pos[p] = nodePos(el)
		ev := reflect.New(v.Type().Elem()).Elem()
		d.value(el, p, ev, required)
		out = reflect.Append(out, ev)
	}
	v.Set(out)
}

// mapValue decodes a mapping with string keys (taken literally) into a
// map; each value is decoded by the map's element type.
func (d *decoder) mapValue(n *yaml.Node, path string, v reflect.Value, required bool) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping (got %s)", kindName(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		panic(fmt.Sprintf("config: map keys must be strings at %s (%s)", path, v.Type()))
	}
	out := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for _, p := range d.pairs(n, path) {
		kp := keyPath(path, p.key.Value)
		d.probs.pos[kp] = nodePos(p.key)
		ev := reflect.New(v.Type().Elem()).Elem()
		d.value(p.val, kp, ev, required)
		out.SetMapIndex(reflect.ValueOf(p.key.Value).Convert(v.Type().Key()), ev)
	}
	v.Set(out)
}

// pair is one key/value of a mapping.
type pair struct{ key, val *yaml.Node }

// pairs lists a mapping's pairs with merge keys ("<<: *anchor") applied:
// explicit keys win over merged ones. Duplicate explicit keys are errors.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var out []pair
	seen := map[string]*yaml.Node{}
	var merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "mapping keys must be plain strings")
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergePairs(val, path, 0)...)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.probs.at(nodePos(k), joinPath(path, k.Value), "duplicate key %q (first at line %d)", truncate(k.Value, 40), first.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, val})
	}
	for _, p := range merged {
		if _, ok := seen[p.key.Value]; !ok {
			seen[p.key.Value] = p.key
			out = append(out, p)
		}
	}
	return out
}

// mergePairs returns the pairs a merge value contributes.
func (d *decoder) mergePairs(v *yaml.Node, path string, depth int) []pair {
	if v = d.enter(v, path); v == nil {
		return nil
	}
	if depth > 10 {
		d.fail(v, path, "merge keys nested too deeply")
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, path)
	case yaml.SequenceNode:
		var out []pair
		for _, el := range v.Content {
			out = append(out, d.mergePairs(el, path, depth+1)...)
		}
		return out
	}
	d.fail(v, path, "merge key (<<) needs a mapping or a list of mappings")
	return nil
}

// structOpts tune strictness for structValue.
type structOpts struct {
	// extraKnown keys are accepted and skipped (decoded elsewhere).
	extraKnown map[string]bool
	// skipUnknown accepts and skips every unknown key.
	skipUnknown bool
	// hint explains an unknown key better than the default message ("").
	hint func(key string) string
	// extensions accepts and skips keys starting with "x-" (places for YAML
	// anchors, as in Compose files).
	extensions bool
}

type fieldInfo struct {
	index    int
	required bool
}

// fieldsOf maps yaml key → field for a struct type.
func fieldsOf(t reflect.Type) map[string]fieldInfo {
	out := map[string]fieldInfo{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out[name] = fieldInfo{index: i, required: f.Tag.Get("cfg") == "required"}
	}
	return out
}

// structValue decodes a mapping into a struct, strictly.
func (d *decoder) structValue(n *yaml.Node, path string, v reflect.Value, o structOpts) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping (got %s)", kindName(n))
		return
	}
	fields := fieldsOf(v.Type())
	for _, p := range d.pairs(n, path) {
		key := p.key.Value
		fp := joinPath(path, key)
		f, ok := fields[key]
		if !ok {
			if o.skipUnknown || o.extraKnown[key] || (o.extensions && strings.HasPrefix(key, "x-")) {
				continue
			}
			d.unknown(p.key, fp, key, fields, o)
			continue
		}
		d.probs.pos[fp] = nodePos(p.key)
		d.value(p.val, fp, v.Field(f.index), f.required)
	}
}

// unknown reports an unknown key, suggesting the closest known one.
func (d *decoder) unknown(k *yaml.Node, path, key string, fields map[string]fieldInfo, o structOpts) {
	if o.hint != nil {
		if h := o.hint(key); h != "" {
			d.fail(k, path, "%s", h)
			return
		}
	}
	names := make([]string, 0, len(fields)+len(o.extraKnown))
	for name := range fields {
		names = append(names, name)
	}
	for name := range o.extraKnown {
		names = append(names, name)
	}
	sort.Strings(names)
	if s := suggest(key, names); s != "" {
		d.fail(k, path, "unknown field %q (did you mean %q?)", truncate(key, 40), s)
		return
	}
	d.fail(k, path, "unknown field %q (known: %s)", truncate(key, 40), strings.Join(names, ", "))
}

// copyNode deep-copies n with aliases inlined and env references in scalar
// values expanded (an unset ${VAR} expands to "").
func (d *decoder) copyNode(n *yaml.Node, path string) *yaml.Node {
	if n = d.enter(n, path); n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	c := *n
	c.Alias, c.Anchor = nil, ""
	switch n.Kind {
	case yaml.ScalarNode:
		if !isNull(n) {
			if v, ok := d.scalar(n, path, false); ok && v != n.Value {
				// Let the consumer resolve the expanded value's type, unless
				// it was quoted (then it stays a string).
				c.Value, c.Tag = v, ""
				if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
					c.Tag = "!!str"
				}
			}
		}
	case yaml.MappingNode:
		c.Content = make([]*yaml.Node, 0, len(n.Content))
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := *n.Content[i]
			c.Content = append(c.Content, &k, d.copyNode(n.Content[i+1], joinPath(path, k.Value)))
		}
	default:
		c.Content = make([]*yaml.Node, 0, len(n.Content))
		for i, el := range n.Content {
			c.Content = append(c.Content, d.copyNode(el, indexPath(path, i)))
		}
	}
	return &c
}

// unmarshalNode decodes an ordered glob → value mapping.
func (g *GlobMap) unmarshalNode(d *decoder, n *yaml.Node, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping of glob to value (got %s)", kindName(n))
		return
	}
	for _, p := range d.pairs(n, path) {
		kp := keyPath(path, p.key.Value)
		d.probs.pos[kp] = nodePos(p.key)
		val := d.enter(p.val, kp)
		if val == nil {
			continue
		}
		s, ok := d.scalar(val, kp, false)
		if !ok {
			continue
		}
		*g = append(*g, GlobValue{Pattern: p.key.Value, Value: s})
	}
}
