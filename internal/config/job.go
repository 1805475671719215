package config

import (
	"fmt"
	"reflect"

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

// kindFields lists the kind-specific keys of the kinds decoded here.
var kindStructs = map[string]reflect.Type{
	KindRepo:     reflect.TypeOf(RepoJob{}),
	KindStatuses: reflect.TypeOf(StatusesJob{}),
}

// unmarshalNode decodes one job: the common keys, then the keys of its kind.
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

	common := map[string]bool{}
	for k := range fieldsOf(reflect.TypeOf(c)) {
		common[k] = true
	}
	opts := structOpts{extraKnown: common, hint: kindHint(j.Kind)}
	switch j.Kind {
	case KindRepo:
		j.Repo = &RepoJob{}
		d.structValue(n, path, reflect.ValueOf(j.Repo).Elem(), opts)
	case KindStatuses:
		j.Statuses = &StatusesJob{}
		d.structValue(n, path, reflect.ValueOf(j.Statuses).Elem(), opts)
	case KindInbox, KindAirtable, KindBadgr:
		j.Spec = d.copyNode(n, path)
	}
}

// kindHint explains keys that belong to another job kind.
func kindHint(kind string) func(string) string {
	return func(key string) string {
		for other, t := range kindStructs {
			if other == kind {
				continue
			}
			if _, ok := fieldsOf(t)[key]; ok {
				return fmt.Sprintf("field %q is not valid for kind %s (it belongs to kind %s)", key, kind, other)
			}
		}
		return ""
	}
}
