package webhook_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/internal/webhook"
)

// TestFlagsValidateURL checks that --webhook-url must be an https URL whose
// path ends in webhook.Path: members are registered at <url>/<member>/<token>
// and the server answers only webhook.Path and below, so any other path
// would 404 every admission call (ignored by members under the Ignore
// policy: writes would go unvalidated).
func TestFlagsValidateURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want string // a part of the error; empty: valid
	}{
		{"", ""},
		{"https://hub.example.com/validate-flinkdeployment", ""},
		{"https://hub.example.com:443/validate-flinkdeployment/", ""},
		{"https://hub.example.com/hub-a/validate-flinkdeployment", ""},
		{"https://flink-hub.example.com:9443/validate", "must end in /validate-flinkdeployment"},
		{"https://hub.example.com", "must end in /validate-flinkdeployment"},
		{"https://hub.example.com/validate-flinkdeployment/extra", "must end in /validate-flinkdeployment"},
		{"https://hub.example.com/validate-flinkdeployment?member=a", "no query or fragment"},
		{"http://hub.example.com/validate-flinkdeployment", "must be an https:// URL"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			f := webhook.Flags{URL: tc.url, CASecret: "ca", FailurePolicy: "Ignore", Timeout: 5 * time.Second}
			err := f.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error with %q", err, tc.want)
			}
		})
	}
}
