package memberconfig

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// withCluster adds lines to the cluster of a kubeconfig.
func withCluster(kubeconfig, server, lines string) string {
	return strings.Replace(kubeconfig, "    server: "+server+"\n", "    server: "+server+"\n"+lines, 1)
}

func TestPolicy(t *testing.T) {
	const server = "https://10.0.0.1:6443"
	secure := kubeconfig("main", "c", server)
	cases := []struct {
		name       string
		kubeconfig string
		// insecure is the error of the default policy; invalid is refused
		// whatever the policy.
		insecure, invalid string
	}{
		{"secure", secure, "", ""},
		{"skip TLS verification", withCluster(secure, server, "    insecure-skip-tls-verify: true\n"), "insecure-skip-tls-verify", ""},
		{"proxy", withCluster(secure, server, "    proxy-url: http://proxy.example:3128\n"), "proxy-url", ""},
		{"plain HTTP", kubeconfig("main", "c", "http://10.0.0.1:8080"), "plain HTTP", ""},
		{"exec plugin", withUser(secure, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      interactiveMode: Never\n"), "", "exec credential plugin"},
	}
	for _, tc := range cases {
		for _, allow := range []bool{false, true} {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "m"}, Data: map[string][]byte{SecretKey: []byte(tc.kubeconfig)}}
			_, err := Policy{AllowInsecure: allow}.FromSecret(s)
			want := tc.invalid
			if want == "" && !allow {
				want = tc.insecure
			}
			switch {
			case want == "" && err != nil:
				t.Errorf("%s (allow insecure %v): refused: %v", tc.name, allow, err)
			case want == "":
			case err == nil || !strings.Contains(err.Error(), want):
				t.Errorf("%s (allow insecure %v): error %v, want it to name %q", tc.name, allow, err, want)
			case tc.invalid == "" && (!IsInsecure(err) || !strings.Contains(err.Error(), "--allow-insecure-member-kubeconfigs")):
				t.Errorf("%s: error %v is not an InsecureError telling how to allow it", tc.name, err)
			case strings.Contains(err.Error(), secretToken):
				t.Errorf("%s: error leaks the token: %v", tc.name, err)
			}
		}
	}
}

func TestTokenExpiry(t *testing.T) {
	jwt := func(payload string) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + ".c2lnbmF0dXJl"
	}
	cases := []struct {
		name  string
		token string
		want  time.Time
	}{
		{"exp", jwt(`{"iss":"k8s","exp":1900000000}`), time.Unix(1900000000, 0)},
		{"fractional exp", jwt(`{"exp":1900000000.5}`), time.Unix(1900000000, 0)},
		{"no exp", jwt(`{"iss":"k8s"}`), time.Time{}},
		{"exp not a number", jwt(`{"exp":"tomorrow"}`), time.Time{}},
		{"payload not JSON", jwt(`not json`), time.Time{}},
		{"not base64", "a.%%%.c", time.Time{}},
		{"opaque token", "abcdef.0123456789abcdef", time.Time{}},
		{"no token", "", time.Time{}},
	}
	for _, tc := range cases {
		got, ok := TokenExpiry(&rest.Config{BearerToken: tc.token})
		if ok != !tc.want.IsZero() || !got.Equal(tc.want) {
			t.Errorf("%s: TokenExpiry = %v, %v; want %v", tc.name, got, ok, tc.want)
		}
	}
}
