package flinkconf

import (
	"errors"
	"fmt"
	"strings"
)

// Flink writes lists and maps in one configuration value: list items are
// separated by ';', map entries by ',' and a key from its value by ':'. A
// token may be quoted with ' or " to hold those characters; inside quotes
// the quote character is written twice. These functions read such values
// as Flink's StructuredOptionsSplitter does.

// maxStructuredItems bounds the items of one value: a tenant's value is
// read on every reconcile.
const maxStructuredItems = 1000

// splitEscaped splits s at every delim outside quotes, unquoting and
// trimming each token. A quote is special only where a token starts (after
// spaces); a quoted token must make up its whole item. An empty s has no
// tokens.
func splitEscaped(s string, delim byte) ([]string, error) {
	var tokens []string
	i := 0
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		var tok string
		if i < len(s) && (s[i] == '\'' || s[i] == '"') {
			end, text, err := readQuoted(s, i)
			if err != nil {
				return nil, err
			}
			tok, i = text, end
			for i < len(s) && s[i] == ' ' {
				i++
			}
			if i < len(s) && s[i] != delim {
				return nil, fmt.Errorf("%q follows a quoted token: quote the whole item", s[i:])
			}
		} else {
			end := strings.IndexByte(s[i:], delim)
			if end < 0 {
				end = len(s) - i
			}
			tok, i = strings.TrimSpace(s[i:i+end]), i+end
		}
		if i >= len(s) {
			if tok != "" || len(tokens) > 0 {
				tokens = append(tokens, tok)
			}
			return tokens, nil
		}
		tokens = append(tokens, tok)
		if len(tokens) > maxStructuredItems {
			return nil, fmt.Errorf("more than %d items", maxStructuredItems)
		}
		i++ // the delimiter
	}
}

// readQuoted reads the quoted token starting at s[start], returning the
// index after its closing quote and its text.
func readQuoted(s string, start int) (int, string, error) {
	q := s[start]
	var b strings.Builder
	for i := start + 1; i < len(s); i++ {
		if s[i] != q {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == q {
			b.WriteByte(q)
			i++
			continue
		}
		return i + 1, b.String(), nil
	}
	return 0, "", errors.New("a quote is not closed")
}

// ParseList reads a ';'-separated list value.
func ParseList(value string) ([]string, error) {
	items, err := splitEscaped(value, ';')
	if err != nil {
		return nil, err
	}
	out := items[:0]
	for _, it := range items {
		if it != "" {
			out = append(out, it)
		}
	}
	return out, nil
}

// ParseMap reads a map value: "k1:v1,k2:v2". Every entry needs exactly one
// key and one value; a key given twice keeps its last value.
func ParseMap(value string) (map[string]string, error) {
	entries, err := mapEntries(value)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(entries))
	for _, kv := range entries {
		out[kv[0]] = kv[1]
	}
	return out, nil
}

// mapEntries reads a map value's entries, key and value, in the order
// written, a key given twice twice (ParseMap).
func mapEntries(value string) ([][2]string, error) {
	entries, err := splitEscaped(value, ',')
	if err != nil {
		return nil, err
	}
	out := make([][2]string, 0, len(entries))
	for _, e := range entries {
		if e == "" {
			continue
		}
		kv, err := splitEscaped(e, ':')
		if err != nil {
			return nil, err
		}
		if len(kv) != 2 || kv[0] == "" {
			return nil, fmt.Errorf("%q is not key:value (quote a key or value that holds ':' or ',')", e)
		}
		out = append(out, [2]string{kv[0], kv[1]})
	}
	return out, nil
}

// ParseMapList reads a list of maps: "k:v,k2:v2;k:v3".
func ParseMapList(value string) ([]map[string]string, error) {
	items, err := splitEscaped(value, ';')
	if err != nil {
		return nil, err
	}
	var out []map[string]string
	for _, it := range items {
		if it == "" {
			continue
		}
		m, err := ParseMap(it)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}
