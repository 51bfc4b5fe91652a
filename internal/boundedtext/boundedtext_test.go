package boundedtext

import (
	"cmp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCutAndQuote(t *testing.T) {
	long := strings.Repeat("x", 20)
	for _, tc := range []struct {
		name      string
		s         string
		limit     int
		cut, quot string
		// lines is QuoteLines' answer, quot when empty.
		lines string
	}{
		{"short", "abc", 10, "abc", "abc", ""},
		{"empty", "", 10, "", "", ""},
		{"exactly at the limit", long[:10], 10, long[:10], long[:10], ""},
		{"one byte over", long[:11], 10, long[:7] + "...", long[:7] + "...", ""},
		{"two-byte character ending at the marker", "abcdeé" + long, 10, "abcdeé...", "abcdeé...", ""},
		{"two-byte character straddling the marker", "abcdefé" + long, 10, "abcdef...", "abcdef...", ""},
		{"three-byte character straddling the boundary", "abcde€" + long, 10, "abcde...", "abcde...", ""},
		{"multi-byte text exactly at the limit", "éééé", 8, "éééé", "éééé", ""},
		{"multi-byte text one character over", "ééééé", 8, "éé...", "éé...", ""},
		{"four-byte characters", "𝄞𝄞𝄞", 10, "𝄞...", "𝄞...", ""},
		{"invalid UTF-8 becomes U+FFFD", "a\xffb", 10, "a\uFFFDb", "a\uFFFDb", ""},
		{"a run of invalid bytes is one U+FFFD", "a\xff\xfe\xfdb", 10, "a\uFFFDb", "a\uFFFDb", ""},
		{"U+FFFD itself and an invalid byte", "a\uFFFD\xffb", 10, "a\uFFFD\uFFFDb", "a\uFFFD\uFFFDb", ""},
		{"invalid UTF-8 at the cut", "abcdefg\xffh\xfe", 10, "abcdefg...", "abcdefg...", ""},
		{"a truncated character at the end", "ab\xc3", 10, "ab\uFFFD", "ab\uFFFD", ""},
		{"C0 controls", "a\nb\r\tc\x00d\x1b[31m", 20, "a\nb\r\tc\x00d\x1b[31m", "a b  c d [31m", "a\nb  c d [31m"},
		{"DEL and C1 controls", "a\x7fb\u0085c\u009bd", 20, "a\x7fb\u0085c\u009bd", "a b c d", ""},
		{"line and paragraph separators", "a\u2028b\u2029c", 20, "a\u2028b\u2029c", "a b c", ""},
		{"bidirectional overrides and isolates", "x\u202Eevil\u202Cy\u2066z\u2069\u200F\u061C", 40, "x\u202Eevil\u202Cy\u2066z\u2069\u200F\u061C", "x evil y z   ", ""},
		{"a control character past the cut", long + "\n", 10, long[:7] + "...", long[:7] + "...", ""},
		{"lines", "a\nb\n", 10, "a\nb\n", "a b ", "a\nb\n"},
		{"limit equal to the marker", long, 3, "...", "...", ""},
		{"limit smaller than the marker", long, 2, "..", "..", ""},
		{"limit smaller than the marker, text fits", "a", 2, "a", "a", ""},
		{"zero limit", long, 0, "", "", ""},
		{"negative limit", long, -5, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []struct {
				name string
				fn   func(string, int) string
				want string
			}{{"Cut", Cut, tc.cut}, {"Quote", Quote, tc.quot}, {"QuoteLines", QuoteLines, cmp.Or(tc.lines, tc.quot)}} {
				got := f.fn(tc.s, tc.limit)
				if got != f.want {
					t.Errorf("%s(%q, %d) = %q, want %q", f.name, tc.s, tc.limit, got, f.want)
				}
				if !utf8.ValidString(got) || len(got) > max(tc.limit, 0) {
					t.Errorf("%s(%q, %d) = %q: %d bytes, valid UTF-8 %v", f.name, tc.s, tc.limit, got, len(got), utf8.ValidString(got))
				}
			}
		})
	}
}
