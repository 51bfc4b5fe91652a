package memberconfig

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

const secretToken = "s3cr3t-t0ken-value"

func kubeconfig(current, ctxCluster, server string) string {
	return `apiVersion: v1
kind: Config
current-context: ` + current + `
clusters:
- name: c
  cluster:
    server: ` + server + `
contexts:
- name: main
  context:
    cluster: ` + ctxCluster + `
    user: u
users:
- name: u
  user:
    token: ` + secretToken + "\n"
}

// withUser replaces the user's token with other credentials.
func withUser(kubeconfig, user string) string {
	return strings.Replace(kubeconfig, "    token: "+secretToken+"\n", user, 1)
}

func TestFromSecret(t *testing.T) {
	cases := []struct {
		name    string
		data    map[string][]byte
		wantErr string
	}{
		{"valid", map[string][]byte{SecretKey: []byte(kubeconfig("main", "c", "https://10.0.0.1:6443"))}, ""},
		{"no key", map[string][]byte{"other": []byte("x")}, `secret has no "kubeconfig" key`},
		{"garbage", map[string][]byte{SecretKey: []byte("{{{not yaml " + secretToken)}, "not a valid kubeconfig YAML"},
		{"wrong type", map[string][]byte{SecretKey: []byte("- " + secretToken)}, "not a valid kubeconfig YAML"},
		{"no current context", map[string][]byte{SecretKey: []byte(kubeconfig(`""`, "c", "https://x"))}, "no current-context"},
		{"unknown context", map[string][]byte{SecretKey: []byte(kubeconfig("other", "c", "https://x"))}, `current-context "other" is not defined`},
		{"unknown cluster", map[string][]byte{SecretKey: []byte(kubeconfig("main", "nope", "https://x"))}, `undefined cluster "nope"`},
		{"no server", map[string][]byte{SecretKey: []byte(kubeconfig("main", "c", `""`))}, "has no server"},
		{"exec plugin", map[string][]byte{SecretKey: []byte(withUser(kubeconfig("main", "c", "https://x"),
			"    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      interactiveMode: Never\n"))}, "exec credential plugin"},
		{"token file", map[string][]byte{SecretKey: []byte(withUser(kubeconfig("main", "c", "https://x"), "    tokenFile: /etc/hostname\n"))}, "refers to files"},
		{"CA file", map[string][]byte{SecretKey: []byte(strings.Replace(kubeconfig("main", "c", "https://x"),
			"    server: https://x\n", "    server: https://x\n    certificate-authority: /etc/hostname\n", 1))}, "refers to files"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "m"}, Data: tc.data}
			cfg, err := FromSecret(s)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if cfg.Host != "https://10.0.0.1:6443" || cfg.BearerToken != secretToken {
					t.Fatalf("config not taken from the kubeconfig: host %q", cfg.Host)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, tc.wantErr)
			}
			if !IsInvalid(err) {
				t.Errorf("error %v is not an InvalidError", err)
			}
			if strings.Contains(err.Error(), secretToken) {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestIsMember(t *testing.T) {
	for _, tc := range []struct {
		labels map[string]string
		want   bool
	}{
		{map[string]string{SecretLabel: "true"}, true},
		{map[string]string{SecretLabel: "false"}, false},
		{nil, false},
	} {
		if got := IsMember(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Labels: tc.labels}}); got != tc.want {
			t.Errorf("IsMember(%v) = %v, want %v", tc.labels, got, tc.want)
		}
	}
}

func TestRateLimitIsOneBucketPerMember(t *testing.T) {
	cfg := &rest.Config{Host: "https://member.example:6443"}
	RateLimit(cfg, 1, 3)
	// Two resource types get two REST clients, as controller-runtime
	// builds them, from copies of the member's config.
	clientFor := func(gv schema.GroupVersion, apiPath string) *rest.RESTClient {
		t.Helper()
		c := rest.CopyConfig(cfg)
		c.GroupVersion, c.APIPath = &gv, apiPath
		c.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
		rc, err := rest.RESTClientFor(c)
		if err != nil {
			t.Fatal(err)
		}
		return rc
	}
	configMaps := clientFor(corev1.SchemeGroupVersion, "/api")
	deployments := clientFor(appsv1.SchemeGroupVersion, "/apis")
	for i := range 3 {
		if !configMaps.GetRateLimiter().TryAccept() {
			t.Fatalf("request %d of the burst of 3 refused", i+1)
		}
	}
	if deployments.GetRateLimiter().TryAccept() {
		t.Fatal("another resource type's client had tokens of its own after the member's burst was spent")
	}
	if got := deployments.GetRateLimiter().QPS(); got != 1 {
		t.Errorf("QPS %v, want 1", got)
	}
}
