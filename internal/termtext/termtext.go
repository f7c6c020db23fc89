// Package termtext makes text from a store (run names, tags, sweep names: anyone's input) safe
// to print on a terminal. Control characters and bidirectional overrides are shown escaped,
// visibly, instead of being written raw, where a terminal would act on them (OSC 0 sets the
// window title, OSC 52 writes the clipboard, CSI 2J clears the screen, U+202E reverses what
// follows). JSON and CSV output keep the exact text; this is for tables and listings only.
package termtext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape returns s with every character a terminal would act on written as an escape:
// C0 controls, DEL and bytes that are not UTF-8 as \xHH (ESC is \x1b, a newline \x0a);
// C1 controls, bidirectional marks, embeddings, overrides and isolates (U+200E, U+200F,
// U+202A–U+202E, U+2066–U+2069, U+061C) and the line and paragraph separators as \uHHHH.
// Text without them is returned unchanged.
func Escape(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	for _, u := range units(s) {
		b.WriteString(u)
	}
	return b.String()
}

// Clip escapes s and shortens the result to at most n characters, marking the cut with "…".
// An escape is never cut in half: the cut falls before it.
func Clip(s string, n int) string {
	if n <= 0 {
		return ""
	}
	us := units(s)
	total := 0
	for _, u := range us {
		total += utf8.RuneCountInString(u)
	}
	if total <= n {
		return strings.Join(us, "")
	}
	var b strings.Builder
	width := 0
	for _, u := range us {
		w := utf8.RuneCountInString(u)
		if width+w > n-1 {
			break
		}
		b.WriteString(u)
		width += w
	}
	b.WriteString("…")
	return b.String()
}

// clean reports whether s has nothing to escape.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			return !strings.ContainsFunc(s[i:], needsEscape) && utf8.ValidString(s[i:])
		}
	}
	return true
}

// units splits s into what is printed for each character: the character itself, or its
// escape.
func units(s string) []string {
	us := make([]string, 0, len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			us = append(us, fmt.Sprintf(`\x%02x`, s[i]))
		case r < 0x20 || r == 0x7f:
			us = append(us, fmt.Sprintf(`\x%02x`, r))
		case needsEscape(r):
			us = append(us, fmt.Sprintf(`\u%04x`, r))
		default:
			us = append(us, s[i:i+size])
		}
		i += size
	}
	return us
}

// needsEscape reports whether r is a control character or changes the direction of the text
// around it.
func needsEscape(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f: // C0, DEL, C1
		return true
	case r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x061c:
		return true // bidirectional marks, embeddings, overrides and isolates
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}
