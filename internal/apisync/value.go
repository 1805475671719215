package apisync

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A row value is one of: nil (empty), string, json.Number, bool, or jsonText
// (an object or list kept as canonical JSON).
type jsonText string

// row is one upstream record as a row: its key and its column values.
type row struct {
	Key    string
	Values map[string]any
}

// normalize turns a decoded JSON value (decoded with UseNumber) into a row
// value. Empty values ("" , [], {}, null) become nil: the APIs omit empty
// fields, so a missing field and an empty one must compare equal. Lists of
// scalars are comma-joined in ListsComma mode; other lists and objects are
// canonical JSON (keys sorted).
func normalize(v any, lists string) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if x == "" {
			return nil, nil
		}
		return x, nil
	case json.Number, bool:
		return x, nil
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
		if lists != ListsJSON {
			parts := make([]string, 0, len(x))
			scalar := true
			for _, e := range x {
				switch s := e.(type) {
				case string:
					parts = append(parts, s)
				case json.Number:
					parts = append(parts, s.String())
				case bool:
					parts = append(parts, strconv.FormatBool(s))
				default:
					scalar = false
				}
			}
			if scalar {
				return strings.Join(parts, ","), nil
			}
		}
		return canonicalJSON(x)
	case map[string]any:
		if len(x) == 0 {
			return nil, nil
		}
		return canonicalJSON(x)
	default:
		return nil, fmt.Errorf("unexpected JSON value of type %T", v)
	}
}

func canonicalJSON(v any) (any, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // maps encode with sorted keys
		return nil, err
	}
	return jsonText(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// decodeJSON decodes raw JSON keeping numbers exact.
func decodeJSON(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// rowHash is the content hash stored beside each row: SHA-256 over the
// non-empty (column, typed value) pairs in column order. A column added later
// and empty for a row does not change that row's hash.
func rowHash(vals map[string]any) string {
	cols := make([]string, 0, len(vals))
	for c, v := range vals {
		if v != nil {
			cols = append(cols, c)
		}
	}
	sort.Strings(cols)
	h := sha256.New()
	for _, c := range cols {
		h.Write([]byte(c))
		h.Write([]byte{0})
		switch x := vals[c].(type) {
		case string:
			h.Write([]byte("s:" + x))
		case json.Number:
			h.Write([]byte("n:" + x.String()))
		case bool:
			h.Write([]byte("b:" + strconv.FormatBool(x)))
		case jsonText:
			h.Write([]byte("j:" + string(x)))
		default:
			fmt.Fprintf(h, "?:%v", x)
		}
		h.Write([]byte{1})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// kindOf infers a column type from a value.
func kindOf(v any) colKind {
	switch v.(type) {
	case json.Number:
		return kindReal
	case bool:
		return kindBool
	case jsonText:
		return kindJSON
	default:
		return kindText
	}
}

// sqlArg converts a row value into the argument for a column of kind k.
func sqlArg(k colKind, v any) (any, error) {
	if v == nil {
		if k == kindBool {
			return false, nil // a missing checkbox is unchecked
		}
		return nil, nil
	}
	switch k {
	case kindText, kindJSON:
		switch x := v.(type) {
		case string:
			if k == kindJSON {
				b, _ := json.Marshal(x)
				return string(b), nil
			}
			return x, nil
		case json.Number:
			return x.String(), nil
		case bool:
			return strconv.FormatBool(x), nil
		case jsonText:
			return string(x), nil
		}
	case kindInt:
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return n, nil
			}
			if f, err := x.Float64(); err == nil && f == float64(int64(f)) {
				return int64(f), nil
			}
			return nil, fmt.Errorf("%s is not an integer", x)
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not an integer", x)
			}
			return n, nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		}
	case kindReal:
		switch x := v.(type) {
		case json.Number:
			f, err := x.Float64()
			if err != nil {
				return nil, fmt.Errorf("%s is not a number", x)
			}
			return f, nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", x)
			}
			return f, nil
		case bool:
			if x {
				return 1.0, nil
			}
			return 0.0, nil
		}
	case kindBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			b, err := strconv.ParseBool(x)
			if err != nil {
				return nil, fmt.Errorf("%q is not a boolean", x)
			}
			return b, nil
		case json.Number:
			return x.String() != "0", nil
		}
	}
	return nil, fmt.Errorf("a %T value does not fit a %s column", v, k)
}
