package flinkconf

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
)

// KeyArtifactHTTPHeader sets the HTTP headers of a session job's jar fetch
// ("Authorization:Bearer ...,X-Team:data"); see HTTPHeaders. Its values
// are credentials: the hub masks them where it shows configuration
// (Sensitive) and never names them in an error.
const KeyArtifactHTTPHeader = OperatorKeyPrefix + "user.artifacts.http.header"

// The bounds of KeyArtifactHTTPHeader's value, which is tenant text sent
// with every fetch of the job's jar.
const (
	// MaxHTTPHeaders is the most headers.
	MaxHTTPHeaders = 32
	// MaxHTTPHeaderText is the most bytes of the whole value.
	MaxHTTPHeaderText = 8 << 10
)

// clientHeaders are the headers a jar fetch may not set: hop-by-hop and
// framing headers, which the hub's HTTP client writes itself, and those
// that change what the answer holds (a range, an encoding the client does
// not undo), so that the answer would not be the whole jar.
var clientHeaders = []string{"Accept-Encoding", "Connection", "Content-Length", "Expect", "Host", "If-Range", "Keep-Alive",
	"Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "Range", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// HTTPHeaders reads KeyArtifactHTTPHeader's value as upstream does, in
// Flink's map syntax: "key1:value1,key2:value2", spaces around each
// trimmed; a value holding ':' is quoted ('...' or "..."), and an entry
// holding ',' is quoted whole, the quotes inside it doubled. A value
// is refused when it is longer than MaxHTTPHeaderText or holds more than
// MaxHTTPHeaders headers, when an entry is not key:value, a key is not an
// HTTP token or is given twice (in any case), a key is one of
// clientHeaders, or a value holds a control character (CR and LF would
// add headers of their own). Errors name header keys and entry positions,
// never a value: the values are credentials. The header is keyed
// canonically.
func HTTPHeaders(value string) (http.Header, error) {
	if len(value) > MaxHTTPHeaderText {
		return nil, fmt.Errorf("longer than %d bytes", MaxHTTPHeaderText)
	}
	entries, err := splitEscaped(value, ',')
	if err != nil {
		return nil, errors.New("not key1:value1,key2:value2: a quote is not closed, or text follows a quoted key or value")
	}
	out := http.Header{}
	for i, e := range entries {
		if e == "" {
			continue
		}
		if len(out) == MaxHTTPHeaders {
			return nil, fmt.Errorf("more than %d headers", MaxHTTPHeaders)
		}
		key, v, err := headerEntry(i+1, e)
		if err != nil {
			return nil, err
		}
		if _, twice := out[key]; twice {
			return nil, fmt.Errorf("header %q is given twice", key)
		}
		out[key] = []string{v}
	}
	return out, nil
}

// headerEntry reads the n-th entry of a header setting, e, as a canonical
// key and its value.
func headerEntry(n int, e string) (key, value string, err error) {
	kv, err := splitEscaped(e, ':')
	switch {
	case err != nil:
		return "", "", fmt.Errorf("entry %d is not key:value: a quote is not closed, or text follows a quoted key or value", n)
	case len(kv) < 2:
		return "", "", fmt.Errorf("entry %d is not key:value: it has no ':'", n)
	case kv[0] == "":
		return "", "", fmt.Errorf("entry %d has an empty header name", n)
	case !isToken(kv[0]):
		return "", "", fmt.Errorf("entry %d: its header name is not an HTTP token (letters, digits and !#$%%&'*+-.^_`|~)", n)
	}
	key = http.CanonicalHeaderKey(kv[0])
	switch {
	case slices.Contains(clientHeaders, key):
		return "", "", fmt.Errorf("header %q may not be set: the hub's HTTP client sets it, or it would change what the answer holds", key)
	case strings.ContainsFunc(e, unicode.IsControl): // the key is a token: in the value
		return "", "", fmt.Errorf("header %q: its value holds a control character (such as CR or LF)", key)
	case len(kv) > 2:
		return "", "", fmt.Errorf("header %q: its value holds ':'; quote the value ('...')", key)
	}
	return key, kv[1], nil
}

// isToken reports whether s is an HTTP token (RFC 9110): the characters a
// header name may have.
func isToken(s string) bool {
	for _, c := range []byte(s) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}
