package memberstatus

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"

	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
)

// parsedConfigs keeps each member Secret's kubeconfig as the Policy read
// it, so that a probe every interval does not parse the same kubeconfig
// again. An entry holds while its Secret's kubeconfig is unchanged (its
// revision); the configs it hands out are shared and must not be changed
// (the prober copies its own).
type parsedConfigs struct {
	mu     sync.Mutex
	byName map[string]parsedConfig
}

// parsedConfig is one Secret's kubeconfig read by the Policy.
type parsedConfig struct {
	revision string
	cfg      *rest.Config
	err      error
}

// get is policy.FromSecret(secret), read again only when the Secret's
// kubeconfig changed since the last call for its name.
func (c *parsedConfigs) get(policy memberconfig.Policy, secret *corev1.Secret) (*rest.Config, error) {
	rev := revision(secret)
	c.mu.Lock()
	p, ok := c.byName[secret.Name]
	c.mu.Unlock()
	if ok && p.revision == rev {
		return p.cfg, p.err
	}
	cfg, err := policy.FromSecret(secret)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byName == nil {
		c.byName = map[string]parsedConfig{}
	}
	c.byName[secret.Name] = parsedConfig{revision: rev, cfg: cfg, err: err}
	return cfg, err
}

// forget drops the entry of the Secret name.
func (c *parsedConfigs) forget(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.byName, name)
}
