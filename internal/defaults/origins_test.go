package defaults

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// TestHeaderOrigins: the origins a default jar fetch header may go to are
// read as scheme, host and port, whatever the case, slash or default
// port they are written with; anything else than an http or https origin
// is refused naming its position, never its text (it may hold a
// password), and then no origin is allowed.
func TestHeaderOrigins(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        []string
		says        string
	}{
		{"none", "", nil, ""},
		{"lines and commas", "https://repo.example.com\n http://Mirror.Example.com:8081/ ,https://repo.example.com:443",
			[]string{"http://mirror.example.com:8081", "https://repo.example.com:443"}, ""},
		{"default http port", "HTTP://repo.example.com", []string{"http://repo.example.com:80"}, ""},
		{"ipv6", "https://[2001:db8::1]:8443", []string{"https://[2001:db8::1]:8443"}, ""},
		{"a path", "https://repo.example.com/private", nil, "entry 1 is not an origin"},
		{"a query", "https://repo.example.com/?sig=abc", nil, "entry 1 is not an origin"},
		{"credentials", "https://repo.example.com, https://deploy:hunter2@repo.example.com", nil, "entry 2 holds credentials"},
		{"another scheme", "ftp://repo.example.com", nil, "entry 1 is not an http or https origin"},
		{"no scheme", "repo.example.com", nil, "entry 1 is not an http or https origin"},
		{"no host", "https://", nil, "entry 1 names no host"},
		{"not a URL", "https://repo example com:x", nil, "entry 1 is not a URL"},
		{"too many", manyOrigins(MaxHeaderOrigins + 1), nil, "more than 64 origins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := HeaderOrigins(&corev1.ConfigMap{Data: map[string]string{HeaderOriginsKey: tc.value}})
			switch {
			case tc.says == "" && (err != nil || !slices.Equal(got, tc.want)):
				t.Fatalf("HeaderOrigins = %q, %v; want %q", got, err, tc.want)
			case tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says) || got != nil):
				t.Fatalf("HeaderOrigins = %q, %v; want none and an error saying %q", got, err, tc.says)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("error %q shows an entry's text", err)
			}
		})
	}
	if got, err := HeaderOrigins(&corev1.ConfigMap{Data: map[string]string{HeaderOriginsKey: manyOrigins(MaxHeaderOrigins)}}); err != nil || len(got) != MaxHeaderOrigins {
		t.Errorf("as many origins as allowed: %d, %v", len(got), err)
	}
}

// manyOrigins is n distinct origins, one per line.
func manyOrigins(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "https://h%d.example\n", i)
	}
	return b.String()
}

// TestHeaderScope: the scope of a member's default header is the origins
// of the ConfigMap whose header wins the merge (the fleet's, then the
// member's, each in name order), not of another that names origins but
// no header.
func TestHeaderScope(t *testing.T) {
	header := func(v string) map[string]string { return map[string]string{flinkconf.KeyArtifactHTTPHeader: v} }
	s := &Store{}
	if _, ok := s.HeaderScope("m1"); ok {
		t.Fatal("an empty store has a header scope")
	}
	s.Set("a-fleet", "", header("X-A:a"), "https://a.example:443")
	s.Set("b-fleet", "", header("X-B:b"), "https://b.example:443")
	s.Set("c-fleet", "", map[string]string{"state.checkpoints.dir": "s3://c"}, "https://c.example:443")
	s.Set("m1", "m1", header("X-M:m"))
	for member, want := range map[string]DefaultHeaderScope{
		"m2": {ConfigMap: "b-fleet", Origins: []string{"https://b.example:443"}},
		"m1": {ConfigMap: "m1"},
	} {
		if got, ok := s.HeaderScope(member); !ok || got.ConfigMap != want.ConfigMap || !slices.Equal(got.Origins, want.Origins) {
			t.Errorf("HeaderScope(%s) = %+v, %v; want %+v", member, got, ok, want)
		}
	}
	if changed := s.Set("b-fleet", "", header("X-B:b"), "https://other.example:443"); len(changed) != 1 {
		t.Errorf("a change of the origins alone changed %q; want the fleet's defaults changed", changed)
	}
	if got, _ := s.HeaderScope("m2"); !got.Allows("https://OTHER.example/job.jar") || got.Allows("https://b.example/job.jar") {
		t.Errorf("after the change %+v", got)
	}
}

// TestReadWarnsOfUnscopedHeaders: the defaults controller reads a
// ConfigMap's origins with its configuration; a header that would go
// nowhere (no origins, or origins that cannot be read) keeps the rest of
// the ConfigMap's defaults and gets a Warning event that says why
// without the header's value.
func TestReadWarnsOfUnscopedHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, origins, reason string
		want                  []string
	}{
		{"scoped", "https://repo.example.com", "", []string{"https://repo.example.com:443"}},
		{"unscoped", "", "ArtifactHeaderUnscoped", nil},
		{"unreadable", "https://repo.example.com/path", "InvalidArtifactHeaderOrigins", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "hub", Name: "fleet-jars", Labels: map[string]string{Label: "true"}},
				Data: map[string]string{Key: flinkconf.KeyArtifactHTTPHeader + ": Authorization:'Bearer hunter2'\nstate.checkpoints.dir: s3://fleet/cp\n", HeaderOriginsKey: tc.origins}}
			recorder := events.NewFakeRecorder(4)
			store := &Store{}
			r := &Reconciler{Client: fake.NewClientBuilder().WithObjects(cm).Build(), Namespace: "hub", Store: store, Recorder: recorder}
			r.read(context.Background(), cm)
			if conf, _ := store.Effective("m1", nil); conf["state.checkpoints.dir"] != "s3://fleet/cp" {
				t.Fatalf("the rest of the ConfigMap was left out: %v", conf)
			}
			if scope, ok := store.HeaderScope("m1"); !ok || !slices.Equal(scope.Origins, tc.want) {
				t.Fatalf("HeaderScope = %+v, %v; want origins %q", scope, ok, tc.want)
			}
			select {
			case ev := <-recorder.Events:
				if tc.reason == "" || !strings.Contains(ev, tc.reason) || strings.Contains(ev, "hunter2") {
					t.Fatalf("event %q; want reason %q, no header value", ev, tc.reason)
				}
			default:
				if tc.reason != "" {
					t.Fatalf("no %s event", tc.reason)
				}
			}
		})
	}
}
