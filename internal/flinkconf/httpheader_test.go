package flinkconf

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestHTTPHeaders: user.artifacts.http.header reads as upstream's map
// ("k1:v1,k2:v2", quotes for ':' and ','), keyed canonically; what could
// smuggle a header in or break the fetch is refused, bounded in size and
// count, and no error shows a value (the values are credentials, and the
// errors reach status.error and the webhook's answer).
func TestHTTPHeaders(t *testing.T) {
	const value = "s3cr3t"
	var many []string
	for i := range MaxHTTPHeaders + 1 {
		many = append(many, fmt.Sprintf("X-%d:%s", i, value))
	}
	for _, tc := range []struct {
		name, value string
		want        http.Header
		says        string // the error's words, "" for none
	}{
		{"unset", "", http.Header{}, ""},
		{"two headers", "Authorization:Bearer " + value + ", x-team : data", http.Header{"Authorization": {"Bearer " + value}, "X-Team": {"data"}}, ""},
		{"a quoted value with ':'", `Authorization:'Basic a:` + value + `'`, http.Header{"Authorization": {"Basic a:" + value}}, ""},
		{"a quoted entry with ','", `'X-List:''a,` + value + `''',X-B:b`, http.Header{"X-List": {"a," + value}, "X-B": {"b"}}, ""},
		{"an empty value", "X-Empty:", http.Header{"X-Empty": {""}}, ""},
		{"no colon", "Bearer " + value, nil, "entry 1 is not key:value: it has no ':'"},
		{"empty key", "X-A:1,:" + value, nil, "entry 2 has an empty header name"},
		{"a key that is not a token", "X A:" + value, nil, "entry 1: its header name is not an HTTP token"},
		{"an unquoted ':' in the value", "Authorization:Basic a:" + value, nil, `header "Authorization": its value holds ':'`},
		{"CR LF in the value", "X-A:" + value + "\r\nX-Evil", nil, `header "X-A": its value holds a control character`},
		{"a tab in the value", "X-A:a\t" + value, nil, `header "X-A": its value holds a control character`},
		{"DEL in the value", "X-A:" + value + "\x7f", nil, `header "X-A": its value holds a control character`},
		{"Host", "host:" + value, nil, `header "Host" may not be set`},
		{"Content-Length", "Content-Length:" + value, nil, `header "Content-Length" may not be set`},
		{"Transfer-Encoding", "Transfer-Encoding:" + value, nil, `header "Transfer-Encoding" may not be set`},
		{"Connection", "connection:" + value, nil, `header "Connection" may not be set`},
		{"Range", "Range:" + value, nil, `header "Range" may not be set`},
		{"a key twice", "X-A:" + value + ",x-a:" + value, nil, `header "X-A" is given twice`},
		{"an unclosed quote", "X-A:'" + value, nil, "a quote is not closed"},
		{"text after a quoted value", "X-A:'a'" + value, nil, "text follows a quoted key or value"},
		{"too many headers", strings.Join(many, ","), nil, "more than 32 headers"},
		{"too long", "X-A:" + strings.Repeat(value, MaxHTTPHeaderText/len(value)), nil, "longer than 8192 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := HTTPHeaders(tc.value)
			switch {
			case tc.says == "" && (err != nil || !reflect.DeepEqual(got, tc.want)):
				t.Fatalf("HTTPHeaders(%q) = %v, %v; want %v", tc.value, got, err, tc.want)
			case tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says)):
				t.Fatalf("HTTPHeaders(%q) = %v, %v; want an error saying %q", tc.value, got, err, tc.says)
			case err != nil && strings.Contains(err.Error(), value):
				t.Fatalf("error %q shows a header's value", err)
			}
			if check := CheckOperatorSetting(KeyArtifactHTTPHeader, tc.value); (check == nil) != (tc.says == "") {
				t.Errorf("CheckOperatorSetting: %v, want an error: %v", check, tc.says != "")
			}
		})
	}
	if !Sensitive(KeyArtifactHTTPHeader) {
		t.Errorf("%s is not masked where configuration is shown", KeyArtifactHTTPHeader)
	}
}
