package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"
)

// M is an ordered mapping: CloudFormation templates read best in a fixed key
// order, which Go maps do not keep. It marshals to YAML and JSON in order.
type M []KV

// KV is one key and value of an M.
type KV struct {
	K string
	V any
}

// Get returns the value stored under k.
func (m M) Get(k string) (any, bool) {
	for _, kv := range m {
		if kv.K == k {
			return kv.V, true
		}
	}
	return nil, false
}

// MarshalYAML renders m as a YAML mapping in order.
func (m M) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, kv := range m {
		var v yaml.Node
		if err := v.Encode(kv.V); err != nil {
			return nil, fmt.Errorf("encode %s: %w", kv.K, err)
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv.K}, &v)
	}
	return n, nil
}

// MarshalJSON renders m as a JSON object in order.
func (m M) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range m {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.K)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(kv.V)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", kv.K, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Intrinsic-function helpers (long form, valid in both YAML and JSON).

// Ref is {"Ref": name}.
func Ref(name string) M { return M{{"Ref", name}} }

// GetAtt is {"Fn::GetAtt": [resource, attribute]}.
func GetAtt(resource, attr string) M { return M{{"Fn::GetAtt", []string{resource, attr}}} }

// Sub is {"Fn::Sub": text}.
func Sub(text string) M { return M{{"Fn::Sub", text}} }
