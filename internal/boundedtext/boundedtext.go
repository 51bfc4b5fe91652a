// Package boundedtext bounds text before the hub quotes it into status,
// conditions and events, whoever wrote it (a JobManager's answer, a
// member's event, the hub's own message around them). One rule: the
// result is valid UTF-8 (a run of invalid bytes becomes one U+FFFD, as
// strings.ToValidUTF8 makes it), at most the
// given number of bytes, and a text longer than that is cut at a
// character boundary and ends in Marker, the marker counted in the limit.
package boundedtext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Marker ends a text that was cut.
const Marker = "..."

// Cut is s bounded to limit bytes by the package's rule. A limit below
// the marker's length leaves room for the marker alone, cut to the limit
// ("" for a limit of 0 or less).
func Cut(s string, limit int) string { return bound(s, limit, kept) }

// Quote is Cut with s's control characters made spaces, for text quoted
// into a one-line message: a status field or a condition. Control
// characters are C0, DEL and C1 (line breaks, tabs, NULs, terminal
// escapes), the line and paragraph separators U+2028 and U+2029, and the
// bidirectional formatting characters (U+202A to U+202E, U+2066 to
// U+2069, the marks U+200E, U+200F and U+061C), which would otherwise
// break a line or reorder what a reader sees of the text around them.
func Quote(s string, limit int) string { return bound(s, limit, oneLine) }

// QuoteLines is Quote keeping line feeds, for text whose lines mean
// something (an event note quoting a stack trace's first lines).
func QuoteLines(s string, limit int) string { return bound(s, limit, lines) }

// controls says what bound does with control characters.
type controls int

const (
	kept    controls = iota // as they are (Cut)
	oneLine                 // all made spaces (Quote)
	lines                   // all but line feeds made spaces (QuoteLines)
)

// replaced reports whether c is made a space under mode.
func (mode controls) replaced(c rune) bool {
	return mode != kept && control(c) && (mode == oneLine || c != '\n')
}

// control reports whether c is one of the characters Quote makes spaces.
func control(c rune) bool {
	return unicode.IsControl(c) || c == '\u2028' || c == '\u2029' || unicode.Is(unicode.Bidi_Control, c)
}

// bound is s by the package's rule, its control characters made spaces
// as mode says.
func bound(s string, limit int, mode controls) string {
	if limit <= 0 {
		return ""
	}
	if len(s) <= limit && utf8.ValidString(s) && strings.IndexFunc(s, mode.replaced) < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), limit) + utf8.UTFMax)
	room := limit - len(Marker) // what a cut text keeps before the marker
	kept := 0                   // b's length when it last fit in room
	invalid := false            // the last rune read was invalid bytes
	for len(s) > 0 {
		c, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if c == utf8.RuneError && size == 1 {
			if invalid {
				continue // a run of invalid bytes is one U+FFFD
			}
			invalid = true
		} else {
			invalid = false
		}
		if mode.replaced(c) {
			c = ' '
		}
		if b.Len()+utf8.RuneLen(c) > limit {
			if room < 0 {
				return Marker[:limit]
			}
			return b.String()[:kept] + Marker
		}
		b.WriteRune(c)
		if b.Len() <= room {
			kept = b.Len()
		}
	}
	return b.String()
}
