package termtext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain name", "plain name"},
		{"température ✓ 名前", "température ✓ 名前"},
		{"\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},                                 // OSC 0: window title
		{"\x1b]52;c;aGk=\x1b\\", `\x1b]52;c;aGk=\x1b\`},                          // OSC 52: clipboard
		{"a\x1b[2Jb", `a\x1b[2Jb`},                                               // CSI 2J: clear screen
		{"evil\u202egnp.exe", `evil\u202egnp.exe`},                               // right-to-left override
		{"x\u2066y\u2069\u200e\u200f\u202a", `x\u2066y\u2069\u200e\u200f\u202a`}, // isolates, marks
		{"\u009b2J", `\u009b2J`},                                                 // C1 CSI
		{"\x9b2J", `\x9b2J`},                                                     // a lone byte that is not UTF-8
		{"tab\there\nline\x7f", `tab\x09here\x0aline\x7f`},
		{"sep\u2028", `sep\u2028`},
	} {
		got := Escape(c.in)
		if got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
		for _, r := range got {
			if needsEscape(r) {
				t.Errorf("Escape(%q) = %q still holds %U", c.in, got, r)
			}
		}
		if !utf8.ValidString(got) {
			t.Errorf("Escape(%q) = %q is not UTF-8", c.in, got)
		}
	}
}

func TestClipNeverCutsAnEscape(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"a longer name", 6, "a lon…"},
		{"ab\x1b[2J", 6, `ab…`},     // "ab\x1b" is 6 characters: no room left for the mark
		{"ab\x1b[2J", 7, `ab\x1b…`}, // the whole escape fits before the mark
		{"\u202eabc", 4, "…"},       // \u202e is 6 characters
		{"名前名前名前", 4, "名前名…"},
		{"x", 0, ""},
	} {
		got := Clip(c.in, c.n)
		if got != c.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
		if utf8.RuneCountInString(got) > c.n {
			t.Errorf("Clip(%q, %d) = %q is longer than %d", c.in, c.n, got, c.n)
		}
		if !unitPrefix(c.in, strings.TrimSuffix(got, "…")) {
			t.Errorf("Clip(%q, %d) = %q cut an escape", c.in, c.n, got)
		}
	}
}

// unitPrefix reports whether p is the escapes of the first k characters of s, for some k.
func unitPrefix(s, p string) bool {
	us := units(s)
	for k := 0; k <= len(us); k++ {
		if strings.Join(us[:k], "") == p {
			return true
		}
	}
	return false
}
