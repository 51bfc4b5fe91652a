package memberconfig

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
