package ui

import (
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ghsync/ghsync/internal/config"
)

// secretType is config.Secret: fields of this type are never shown.
var secretType = reflect.TypeFor[config.Secret]()

// secretish are words in a YAML key that name a credential: such settings
// are never shown, whatever their type.
var secretish = []string{"token", "password", "secret", "private_key", "credential", "api_key", "passphrase"}

// isSecret reports whether a field holds a credential: config.Secret, any
// type named Secret (apisync.Secret…), or a key that names one.
func isSecret(t reflect.Type, key string) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t == secretType || t.Name() == "Secret" || strings.HasSuffix(t.Name(), "Secret") {
		return true
	}
	k := strings.ToLower(key)
	for _, w := range secretish {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// allSettings lists every setting of a job's kind settings value (a pointer
// to the struct the kind decoded), by its YAML key, in declaration order:
// nested structs as "parent.child", lists joined, glob maps as
// "glob → value" pairs, booleans as yes/no. Other zero values (unset,
// defaults the kind left empty) are left out; fields of type config.Secret are never listed; URLs are
// redacted. It is what the job page shows under "All settings", so that
// everything that shapes a run (include, exclude, cache_control…) is on the
// page, whatever the kind's own short description picks.
func allSettings(settings any) []field {
	var out []field
	v := reflect.ValueOf(settings)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	walkSettings(v, "", &out, 0)
	return out
}

func walkSettings(v reflect.Value, prefix string, out *[]field, depth int) {
	if depth > 4 {
		return
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || isSecret(f.Type, name) {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		key := prefix + name
		fv := v.Field(i)
		for fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Interface {
			if fv.IsNil() {
				break
			}
			fv = fv.Elem()
		}
		if (fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Interface) && fv.IsNil() {
			continue
		}
		if s, ok := settingText(fv); ok {
			if s != "" {
				*out = append(*out, field{Key: key, Value: redactText(s)})
			}
			continue
		}
		if fv.Kind() == reflect.Struct {
			walkSettings(fv, key+".", out, depth+1)
		}
	}
}

// settingText renders a scalar, list or glob map; ok is false for structs
// (walked) and for values it cannot show (functions, channels).
func settingText(v reflect.Value) (string, bool) {
	if v.Type() == secretType {
		return "", true
	}
	if v.CanInterface() {
		switch x := v.Interface().(type) {
		case config.GlobMap:
			parts := make([]string, len(x))
			for i, g := range x {
				parts[i] = g.Pattern + " → " + g.Value
			}
			return strings.Join(parts, "; "), true
		case config.Duration:
			if x == 0 {
				return "", true
			}
			return time.Duration(x).String(), true
		case time.Duration:
			if x == 0 {
				return "", true
			}
			return x.String(), true
		case *regexp.Regexp:
			return x.String(), true
		case fmt.Stringer:
			if v.IsZero() {
				return "", true
			}
			return x.String(), true
		}
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), true
	case reflect.Bool:
		if v.Bool() {
			return "yes", true
		}
		return "no", true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		if v.IsZero() {
			return "", true
		}
		return fmt.Sprint(v.Interface()), true
	case reflect.Slice, reflect.Array:
		var parts []string
		for i := 0; i < v.Len(); i++ {
			e := v.Index(i)
			for e.Kind() == reflect.Pointer && !e.IsNil() {
				e = e.Elem()
			}
			if e.Kind() == reflect.Struct && e.Type() != secretType {
				var sub []field
				walkSettings(e, "", &sub, 3)
				var kv []string
				for _, f := range sub {
					kv = append(kv, f.Key+": "+f.Value)
				}
				parts = append(parts, "{"+strings.Join(kv, ", ")+"}")
				continue
			}
			if s, ok := settingText(e); ok && s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", "), true
	case reflect.Map:
		keys := v.MapKeys()
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			if s, ok := settingText(v.MapIndex(k)); ok {
				parts = append(parts, fmt.Sprint(k.Interface())+": "+s)
			}
		}
		sort.Strings(parts)
		return strings.Join(parts, ", "), true
	case reflect.Struct:
		return "", false
	}
	return "", true
}
