package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Size is a byte count, written as an integer or with a unit: "512", "10MB",
// "5GiB", "1.5 GiB" (B, KB/MB/GB/TB are powers of 1000; KiB/MiB/GiB/TiB of 1024;
// units are case-insensitive).
type Size int64

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// DecodeScalar implements ScalarDecoder.
func (s *Size) DecodeScalar(v string) error {
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	*s = n
	return nil
}

// ParseSize parses a Size (see Size for the syntax).
func ParseSize(v string) (Size, error) {
	t := strings.TrimSpace(v)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("must be a size such as 1024, 10MB or 5GiB (got %q)", truncate(v, 40))
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("must be a size such as 1024, 10MB or 5GiB (got %q)", truncate(v, 40))
	}
	f *= mult
	if f > math.MaxInt64/2 {
		return 0, fmt.Errorf("size %q is too large", truncate(v, 40))
	}
	return Size(f), nil
}

// Duration is a time.Duration written in Go syntax ("90s", "5m", "1h30m").
type Duration time.Duration

// DecodeScalar implements ScalarDecoder.
func (d *Duration) DecodeScalar(v string) error {
	x, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("must be a duration such as 30s or 5m (got %q)", truncate(v, 40))
	}
	*d = Duration(x)
	return nil
}

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("must be true or false (got %q)", truncate(v, 40))
}

// parseInt parses a base-10 integer of the given bit size.
func parseInt(v string, bits int) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, bits)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("number %q is out of range", truncate(v, 40))
		}
		return 0, fmt.Errorf("must be an integer (got %q)", truncate(v, 40))
	}
	return n, nil
}

// formatFloat prints f without a trailing ".0".
func formatFloat(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
