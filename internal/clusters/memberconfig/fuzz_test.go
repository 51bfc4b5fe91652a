package memberconfig

import (
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

const fuzzKubeconfig = `apiVersion: v1
kind: Config
current-context: m
contexts:
- name: m
  context: {cluster: m, user: m}
clusters:
- name: m
  cluster: {server: "https://member.example.com:6443", certificate-authority-data: "Zm9v"}
users:
- name: m
  user: {token: "sekret-token-123456"}
`

// FuzzParse: a member kubeconfig is either a self-contained client config
// with a server or an InvalidError, and no error repeats a token or a key
// of it.
func FuzzParse(f *testing.F) {
	f.Add([]byte(fuzzKubeconfig))
	f.Add([]byte(strings.Replace(fuzzKubeconfig, `token: "sekret-token-123456"`, `tokenFile: /var/run/secrets/token`, 1)))
	f.Add([]byte(strings.Replace(fuzzKubeconfig, `token: "sekret-token-123456"`, `exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh}`, 1)))
	f.Add([]byte(strings.Replace(fuzzKubeconfig, `https://member.example.com:6443`, `sekret-token-123456://%zz`, 1)))
	f.Add([]byte(strings.Replace(fuzzKubeconfig, "current-context: m", "current-context: sekret-token-123456", 1)))
	f.Add([]byte("{}"))
	f.Add([]byte("apiVersion: v1\nkind: Config\nclusters: [{name: m, cluster: {server: ''}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data)
		if err != nil {
			if !IsInvalid(err) {
				t.Fatalf("Parse error %v is not an InvalidError", err)
			}
			if loaded, lerr := clientcmd.Load(data); lerr == nil {
				// Names are not secret, and errors name contexts, clusters and users.
				names := loaded.CurrentContext
				for name, c := range loaded.Contexts {
					names += "\n" + name + "\n" + c.Cluster + "\n" + c.AuthInfo
				}
				for _, u := range loaded.AuthInfos {
					for _, secret := range []string{u.Token, u.Password, string(u.ClientKeyData)} {
						if len(secret) >= 8 && strings.Contains(err.Error(), secret) && !strings.Contains(names, secret) {
							t.Fatalf("Parse error repeats a credential: %v", err)
						}
					}
				}
			}
			return
		}
		if cfg.Host == "" {
			t.Fatal("Parse accepted a kubeconfig without a server")
		}
		if err := CheckSelfContained(cfg); err != nil {
			t.Fatalf("Parse accepted a kubeconfig that is not self-contained: %v", err)
		}
	})
}
