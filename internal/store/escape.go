package store

import (
	"fmt"
	"regexp"
	"strconv"
)

// hexEscape mirrors gocloud's escaping (gocloud.dev/internal/escape, which
// cannot be imported): runes for which should returns true, and the first "_"
// of every substring that reads as an escape sequence "__0x<hex>__", become
// "__0x<hex>__". It is used to compute the names gocloud gives keys and
// metadata keys, so data written here stays readable by gocloud and back.
func hexEscape(s string, should func(r []rune, i int) bool) string {
	runes := []rune(s)
	out := make([]rune, 0, len(runes))
	for i, r := range runes {
		if should(runes, i) || escapeSeqAt(runes, i) {
			out = append(out, []rune(fmt.Sprintf("__%#x__", r))...)
			continue
		}
		out = append(out, r)
	}
	return string(out)
}

// escapeSeqAt reports whether runes[i:] starts with "__0x<hex>__" (hex
// fitting an int32), the form gocloud unescapes.
func escapeSeqAt(runes []rune, i int) bool {
	m := escapeSeq.FindStringSubmatch(string(runes[i:]))
	if m == nil {
		return false
	}
	_, err := strconv.ParseInt(m[1], 16, 32)
	return err == nil
}

var (
	escapeSeq    = regexp.MustCompile(`^__0x([^_]*)__`)
	escapeSeqAll = regexp.MustCompile(`__0x([^_]*)__`)
)

// hexUnescape reverses hexEscape.
func hexUnescape(s string) string {
	return escapeSeqAll.ReplaceAllStringFunc(s, func(m string) string {
		v, err := strconv.ParseInt(m[4:len(m)-2], 16, 32)
		if err != nil {
			return m
		}
		return string(rune(v))
	})
}
