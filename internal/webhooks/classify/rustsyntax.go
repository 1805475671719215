package classify

import (
	"errors"
	"strings"
)

// checkRustOnly refuses bracket-class syntax that Rust's regex crate (which
// PyTorch's classifier uses) reads differently from Go's RE2: nested classes
// ("[a[bc]]"), and the set operations "&&" (intersection), "--"
// (difference) and "~~" (symmetric difference). Go would accept such a
// pattern silently with another meaning, so it is an error here. Other
// Rust-only syntax, such as the (?x) flag, is refused by Go's parser itself.
func checkRustOnly(p string) error {
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' {
			i++ // the escaped character is literal
			continue
		}
		if !inClass {
			if c == '[' {
				inClass = true
				j := i + 1
				if j < len(p) && p[j] == '^' {
					j++
				}
				if j < len(p) && p[j] == ']' { // a leading ']' is literal
					i = j
				} else {
					i = j - 1
				}
			}
			continue
		}
		switch {
		case c == '[' && i+1 < len(p) && p[i+1] == ':':
			if end := strings.Index(p[i:], ":]"); end > 0 {
				i += end + 1 // POSIX class [:name:]
				continue
			}
			return errors.New("nested bracket class (Rust regex syntax, not supported)")
		case c == '[':
			return errors.New("nested bracket class (Rust regex syntax, not supported)")
		case c == ']':
			inClass = false
		case (c == '&' || c == '~' || c == '-') && i+1 < len(p) && p[i+1] == c:
			return errors.New("class set operation " + string([]byte{c, c}) + " (Rust regex syntax, not supported)")
		}
	}
	return nil
}
