package config

import (
	"fmt"
	"reflect"
	"sort"

	"gopkg.in/yaml.v3"
)

// jobCommon holds the keys every job kind accepts.
type jobCommon struct {
	Name     string  `yaml:"name" cfg:"required"`
	Kind     string  `yaml:"kind" cfg:"required"`
	Schedule string  `yaml:"schedule"`
	Timezone string  `yaml:"timezone"`
	Alerts   []Level `yaml:"alerts"`
}

// unmarshalNode decodes one job: the common keys, then the keys of its kind
// into the kind's settings value.
func (j *Job) unmarshalNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "a job must be a mapping (got %s)", kindName(n))
		return
	}
	j.Pos = nodePos(n)
	var c jobCommon
	d.structValue(n, path, reflect.ValueOf(&c).Elem(), structOpts{skipUnknown: true})
	j.Name, j.Kind, j.Schedule, j.Timezone, j.Alerts = c.Name, c.Kind, c.Schedule, c.Timezone, c.Alerts
	j.SchedulePos = d.probs.pos[joinPath(path, "schedule")]

	schema, ok := kindSchema(d.kinds, j.Kind)
	if !ok {
		return // validation reports the kind
	}
	common := map[string]bool{}
	for k := range fieldsOf(reflect.TypeOf(c)) {
		common[k] = true
	}
	j.Settings = schema.NewSettings()
	v := reflect.ValueOf(j.Settings)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("config: kind %s: NewSettings must return a pointer to a struct (got %T)", j.Kind, j.Settings))
	}
	d.structValue(n, path, v.Elem(), structOpts{extraKnown: common, hint: kindHint(d.kinds, j.Kind)})
}

func kindSchema(kinds Kinds, name string) (KindSchema, bool) {
	if kinds == nil || name == "" {
		return nil, false
	}
	return kinds.Schema(name)
}

func kindNames(kinds Kinds) []string {
	if kinds == nil {
		return nil
	}
	return kinds.Names()
}

// kindHint explains keys that belong to another job kind.
func kindHint(kinds Kinds, kind string) func(string) string {
	return func(key string) string {
		var owners []string
		for _, other := range kindNames(kinds) {
			if other == kind {
				continue
			}
			s, ok := kinds.Schema(other)
			if !ok {
				continue
			}
			if _, ok := fieldsOf(reflect.TypeOf(s.NewSettings()).Elem())[key]; ok {
				owners = append(owners, other)
			}
		}
		if len(owners) == 0 {
			return ""
		}
		sort.Strings(owners)
		return fmt.Sprintf("field %q is not valid for kind %s (it belongs to kind %s)", key, kind, joinOr(owners))
	}
}

// joinOr joins names as "a", "a or b", "a, b or c".
func joinOr(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	default:
		out := names[0]
		for _, n := range names[1 : len(names)-1] {
			out += ", " + n
		}
		return out + " or " + names[len(names)-1]
	}
}
