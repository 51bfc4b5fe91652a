package memberstatus

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
)

// memberSecret is a registration Secret of name whose kubeconfig points at
// server.
func memberSecret(name, server string) *corev1.Secret {
	kubeconfig, err := clientcmd.Write(clientcmdapi.Config{
		CurrentContext: "main",
		Clusters:       map[string]*clientcmdapi.Cluster{"c": {Server: server}},
		Contexts:       map[string]*clientcmdapi.Context{"main": {Cluster: "c", AuthInfo: "u"}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{"u": {Token: "t0ken"}},
	})
	if err != nil {
		panic(err)
	}
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string][]byte{memberconfig.SecretKey: kubeconfig}}
}

func TestParsedConfigsFollowTheKubeconfig(t *testing.T) {
	var c parsedConfigs
	policy := memberconfig.Policy{AllowInsecure: true}

	first, err := c.get(policy, memberSecret("m1", "https://a.example:6443"))
	if err != nil || first.Host != "https://a.example:6443" {
		t.Fatalf("first read: %v, %v", first, err)
	}
	// Unchanged: the same config, not parsed again.
	if again, err := c.get(policy, memberSecret("m1", "https://a.example:6443")); err != nil || again != first {
		t.Errorf("unchanged kubeconfig read again: %p, want %p (%v)", again, first, err)
	}
	// Another Secret of the same kubeconfig has its own entry.
	if other, err := c.get(policy, memberSecret("m2", "https://a.example:6443")); err != nil || other == first {
		t.Errorf("m2 shares m1's entry: %v", err)
	}
	// A changed kubeconfig is read again.
	moved, err := c.get(policy, memberSecret("m1", "https://b.example:6443"))
	if err != nil || moved.Host != "https://b.example:6443" {
		t.Errorf("changed kubeconfig: %v, %v", moved, err)
	}
	// A kubeconfig the policy refuses stays refused while unchanged, and
	// is accepted once mended.
	broken := memberSecret("m1", "")
	for range 2 {
		if cfg, err := c.get(policy, broken); err == nil || cfg != nil {
			t.Errorf("kubeconfig without a server accepted: %v", cfg)
		}
	}
	if cfg, err := c.get(policy, memberSecret("m1", "https://b.example:6443")); err != nil || cfg.Host != "https://b.example:6443" {
		t.Errorf("mended kubeconfig: %v, %v", cfg, err)
	}
	// A forgotten Secret is read again.
	kept, _ := c.get(policy, memberSecret("m1", "https://b.example:6443"))
	c.forget("m1")
	if fresh, err := c.get(policy, memberSecret("m1", "https://b.example:6443")); err != nil || fresh == kept {
		t.Errorf("forgotten entry still served (%v)", err)
	}
}
