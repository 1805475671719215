package config

// GlobValue is one glob → value rule.
type GlobValue struct {
	// Pattern is a doublestar glob. Without "/" it matches a path's base name
	// at any depth ("*.html"); with "/" it matches the whole path ("assets/**").
	Pattern string
	// Value is what the rule assigns.
	Value string
}

// GlobMap is an ordered list of glob rules, written as a YAML mapping of
// glob to value; the first matching rule wins (applied by the kind using it,
// e.g. repo sync's reposync.GlobRule).
type GlobMap []GlobValue
