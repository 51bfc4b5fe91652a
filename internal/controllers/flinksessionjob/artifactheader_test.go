package flinksessionjob

import (
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// TestArtifactHeader: the jar fetch's headers come from the job's
// configuration, else its session cluster's, else the member's defaults,
// the whole value from the first that sets it (as upstream's session job
// configuration, merged key by key). A default goes only to the origins
// its ConfigMap names; the job's and the session cluster's own go to any
// jarURI. One that cannot be read is an error naming where it was set,
// the setting and the header key, never the value: it becomes the job's
// InvalidSpec in status.error.
func TestArtifactHeader(t *testing.T) {
	conf := func(value string) string {
		return `{"` + flinkconf.KeyArtifactHTTPHeader + `":` + strconv.Quote(value) + `}`
	}
	const repo, jar = "https://repo.example.com:8443", "https://repo.example.com:8443/jars/job.jar"
	inRepo := defaults.DefaultHeaderScope{ConfigMap: "fleet-jars", Origins: []string{repo}}
	for _, tc := range []struct {
		name, job, session, member string
		scope                      defaults.DefaultHeaderScope
		uri                        string
		want                       http.Header
		withheld                   string // the words of why the default was not sent
		says                       string // the error's words, "" for none
	}{
		{"unset", "", "", "", inRepo, jar, http.Header{}, "", ""},
		{"the member's default to its origin", "", "", conf("Authorization:Bearer hunter2"), inRepo, jar, http.Header{"Authorization": {"Bearer hunter2"}}, "", ""},
		{"the member's default, the origin in another case", "", "", conf("Authorization:Bearer hunter2"), inRepo, "HTTPS://Repo.Example.COM:8443/j.jar", http.Header{"Authorization": {"Bearer hunter2"}}, "", ""},
		{"the member's default to another host", "", "", conf("Authorization:Bearer hunter2"), inRepo, "https://evil.example/job.jar", http.Header{},
			"(ConfigMap fleet-jars) was not sent: it goes only to " + repo, ""},
		{"the member's default to another port", "", "", conf("Authorization:Bearer hunter2"), inRepo, "https://repo.example.com/job.jar", http.Header{}, "goes only to " + repo, ""},
		{"the member's default to another scheme", "", "", conf("Authorization:Bearer hunter2"), inRepo, "http://repo.example.com:8443/job.jar", http.Header{}, "goes only to " + repo, ""},
		{"the member's default with userinfo pointing elsewhere", "", "", conf("Authorization:Bearer hunter2"), inRepo, "https://repo.example.com:8443@evil.example/job.jar", http.Header{}, "goes only to " + repo, ""},
		{"the member's default scoped nowhere", "", "", conf("Authorization:Bearer hunter2"), defaults.DefaultHeaderScope{ConfigMap: "fleet-jars"}, jar, http.Header{},
			"(ConfigMap fleet-jars) was not sent: that ConfigMap's " + defaults.HeaderOriginsKey + " names no origin", ""},
		{"the session cluster's to any origin", "", conf("X-Team:b"), conf("Authorization:Bearer hunter2"), inRepo, "https://elsewhere.example/job.jar", http.Header{"X-Team": {"b"}}, "", ""},
		{"the job's over the others", conf("X-Team:a"), conf("X-Team:b"), conf("X-Team:c"), inRepo, jar, http.Header{"X-Team": {"a"}}, "", ""},
		{"a bad default", "", "", conf("Host:hunter2.example"), inRepo, jar,
			nil, "", `the member's default configuration: ` + flinkconf.KeyArtifactHTTPHeader + `: header "Host" may not be set`},
		{"a bad session cluster value", "", conf("Authorization:Bearer hunter2\nX-Evil:1"), "", inRepo, jar,
			nil, "", `session cluster session's spec.flinkConfiguration: ` + flinkconf.KeyArtifactHTTPHeader + `: header "Authorization": its value holds a control character`},
		{"a bad job value over a good default", conf("Bearer hunter2"), "", conf("X-Team:c"), inRepo, jar,
			nil, "", `spec.flinkConfiguration: ` + flinkconf.KeyArtifactHTTPHeader + `: entry 1 is not key:value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := restoreState(t, "v1_20", "", tc.job, tc.session, tc.member)
			s.headerScope = tc.scope
			header, withheld, err := artifactHeader(s, tc.uri)
			var bad invalidSetting
			switch {
			case tc.says == "" && (err != nil || !reflect.DeepEqual(header, tc.want)):
				t.Fatalf("artifactHeader = %v, %v; want %v", header, err, tc.want)
			case tc.says != "" && (!errors.As(err, &bad) || !strings.Contains(err.Error(), tc.says)):
				t.Fatalf("artifactHeader = %v, %v; want an invalidSetting saying %q", header, err, tc.says)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("error %q shows a header's value", err)
			case (tc.withheld == "") != (withheld == "") || !strings.Contains(withheld, tc.withheld):
				t.Fatalf("withheld = %q; want it to say %q", withheld, tc.withheld)
			case strings.Contains(withheld, "hunter2"):
				t.Fatalf("withheld %q shows a header's value", withheld)
			}
		})
	}
}
