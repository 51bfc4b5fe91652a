package flinksessionjob

import (
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// TestArtifactHeader: the jar fetch's headers come from the job's
// configuration, else its session cluster's, else the member's defaults,
// the whole value from the first that sets it (as upstream's session job
// configuration, merged key by key). One that cannot be read is an error
// naming where it was set, the setting and the header key, never the
// value: it becomes the job's InvalidSpec in status.error.
func TestArtifactHeader(t *testing.T) {
	conf := func(value string) string {
		return `{"` + flinkconf.KeyArtifactHTTPHeader + `":` + strconv.Quote(value) + `}`
	}
	for _, tc := range []struct {
		name, job, session, member string
		want                       http.Header
		says                       string // the error's words, "" for none
	}{
		{"unset", "", "", "", http.Header{}, ""},
		{"the member's default", "", "", conf("Authorization:Bearer hunter2"), http.Header{"Authorization": {"Bearer hunter2"}}, ""},
		{"the session cluster's over the default", "", conf("X-Team:b"), conf("Authorization:Bearer hunter2"), http.Header{"X-Team": {"b"}}, ""},
		{"the job's over the others", conf("X-Team:a"), conf("X-Team:b"), conf("X-Team:c"), http.Header{"X-Team": {"a"}}, ""},
		{"a bad default", "", "", conf("Host:hunter2.example"),
			nil, `the member's default configuration: ` + flinkconf.KeyArtifactHTTPHeader + `: header "Host" may not be set`},
		{"a bad session cluster value", "", conf("Authorization:Bearer hunter2\nX-Evil:1"), "",
			nil, `session cluster session's spec.flinkConfiguration: ` + flinkconf.KeyArtifactHTTPHeader + `: header "Authorization": its value holds a control character`},
		{"a bad job value over a good default", conf("Bearer hunter2"), "", conf("X-Team:c"),
			nil, `spec.flinkConfiguration: ` + flinkconf.KeyArtifactHTTPHeader + `: entry 1 is not key:value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header, err := artifactHeader(restoreState(t, "v1_20", "", tc.job, tc.session, tc.member))
			var bad invalidSetting
			switch {
			case tc.says == "" && (err != nil || !reflect.DeepEqual(header, tc.want)):
				t.Fatalf("artifactHeader = %v, %v; want %v", header, err, tc.want)
			case tc.says != "" && (!errors.As(err, &bad) || !strings.Contains(err.Error(), tc.says)):
				t.Fatalf("artifactHeader = %v, %v; want an invalidSetting saying %q", header, err, tc.says)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("error %q shows a header's value", err)
			}
		})
	}
}
