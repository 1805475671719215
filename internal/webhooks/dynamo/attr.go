package dynamo

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// objectAttributes converts a JSON object into top-level item attributes.
func objectAttributes(raw json.RawMessage) (map[string]types.AttributeValue, error) {
	av, err := jsonAttribute(raw)
	if err != nil {
		return nil, err
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return nil, fmt.Errorf("object is not a JSON object")
	}
	return m.Value, nil
}

// jsonAttribute converts JSON to a DynamoDB attribute value: objects → M,
// arrays → L, strings → S, numbers → N (exact digits), booleans → BOOL,
// null → NULL.
func jsonAttribute(raw json.RawMessage) (types.AttributeValue, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	return toAttr(v), nil
}

func toAttr(v any) types.AttributeValue {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]types.AttributeValue, len(x))
		for k, e := range x {
			m[k] = toAttr(e)
		}
		return &types.AttributeValueMemberM{Value: m}
	case []any:
		l := make([]types.AttributeValue, len(x))
		for i, e := range x {
			l[i] = toAttr(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case string:
		return &types.AttributeValueMemberS{Value: x}
	case json.Number:
		return &types.AttributeValueMemberN{Value: x.String()}
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}
	default: // nil
		return &types.AttributeValueMemberNULL{Value: true}
	}
}
