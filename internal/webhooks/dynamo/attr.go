package dynamo

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// attr is a DynamoDB attribute value in the service's JSON: an object with
// one member naming the type ({"S":"x"}, {"N":"12"}, {"BOOL":true},
// {"NULL":true}, {"L":[…]}, {"M":{…}}). Numbers travel as strings.
type attr map[string]any

func stringAttr(s string) attr { return attr{"S": s} }

// objectAttributes converts a JSON object into top-level item attributes.
func objectAttributes(raw json.RawMessage) (map[string]attr, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("object is not a JSON object")
	}
	m := make(map[string]attr, len(obj))
	for k, e := range obj {
		m[k] = toAttr(e)
	}
	return m, nil
}

// jsonAttribute converts JSON to a DynamoDB attribute value: objects → M,
// arrays → L, strings → S, numbers → N (exact digits), booleans → BOOL,
// null → NULL.
func jsonAttribute(raw json.RawMessage) (attr, error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	return toAttr(v), nil
}

// decodeJSON decodes one JSON value, numbers kept as their digits.
func decodeJSON(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	return v, nil
}

func toAttr(v any) attr {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]attr, len(x))
		for k, e := range x {
			m[k] = toAttr(e)
		}
		return attr{"M": m}
	case []any:
		l := make([]attr, len(x))
		for i, e := range x {
			l[i] = toAttr(e)
		}
		return attr{"L": l}
	case string:
		return stringAttr(x)
	case json.Number:
		return attr{"N": x.String()}
	case bool:
		return attr{"BOOL": x}
	default: // nil
		return attr{"NULL": true}
	}
}
