package clusters_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
)

// TestInsecureKubeconfigsAreRefused registers a member whose kubeconfig
// skips TLS verification and one that goes through an HTTP proxy: the hub
// refuses both (InsecureKubeconfig, saying what to do) and engages neither,
// unless it runs with AllowInsecureKubeconfigs, which makes both work.
func TestInsecureKubeconfigsAreRefused(t *testing.T) {
	ctx := context.Background()
	proxy := newConnectProxy(t) // before the hubs: it closes after them
	// Three members: one member registered three times would be managed
	// by one registration only (the claim).
	secrets := map[string][]byte{
		"skip-verify": withCluster(t, hubKubeconfig(t, fleet.Members[0]), func(c *clientcmdapi.Cluster) {
			c.CertificateAuthorityData, c.InsecureSkipTLSVerify = nil, true
		}),
		"proxied": withCluster(t, hubKubeconfig(t, fleet.Members[1]), func(c *clientcmdapi.Cluster) { c.ProxyURL = "http://" + proxy.addr }),
		"good":    hubKubeconfig(t, fleet.Members[2]),
	}
	register := func(ns string) {
		t.Helper()
		for name, kc := range secrets {
			if err := fleet.Hub.Client.Create(ctx, memberSecret(ns, name, kc)); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("refused by default", func(t *testing.T) {
		const ns = "insecure-refused"
		hub := startHub(t, testOptions(ns))
		register(ns)
		waitReady(t, ns, "good", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
		for name, field := range map[string]string{"skip-verify": "insecure-skip-tls-verify", "proxied": "proxy-url"} {
			mc := waitReady(t, ns, name, metav1.ConditionFalse, hubv1alpha1.ReasonInsecureKubeconfig)
			msg := meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionReady).Message
			if !strings.Contains(msg, field) || !strings.Contains(msg, "--allow-insecure-member-kubeconfigs") {
				t.Errorf("%s: the condition should name %s and the flag that allows it: %q", name, field, msg)
			}
		}
		// Ready comes from the health probe; engagement also waits for the
		// member's claim, which a hub of an earlier test may still hold
		// until it lapses.
		eventually(t, 30*time.Second, "the good member engaged", func() error {
			_, err := hub.Provider.Get(ctx, "good")
			return err
		})
		framework.Hold(t, 2*time.Second, "insecure members not engaged, nothing sent through the proxy", func() error {
			for _, name := range []string{"skip-verify", "proxied"} {
				if _, err := hub.Provider.Get(ctx, multicluster.ClusterName(name)); err == nil {
					return fmt.Errorf("%s is engaged", name)
				}
			}
			if n := proxy.connects.Load(); n != 0 {
				return fmt.Errorf("%d connections through the proxy", n)
			}
			return nil
		})
	})

	t.Run("accepted with AllowInsecureKubeconfigs", func(t *testing.T) {
		const ns = "insecure-allowed"
		opts := testOptions(ns)
		opts.AllowInsecureKubeconfigs = true
		hub := startHub(t, opts)
		register(ns)
		for name := range secrets {
			waitReady(t, ns, name, metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
			eventually(t, 30*time.Second, name+" engaged", func() error {
				_, err := hub.Provider.Get(ctx, multicluster.ClusterName(name))
				return err
			})
		}
		if proxy.connects.Load() == 0 {
			t.Fatal("the proxied member is Ready but nothing went through its proxy-url")
		}
	})
}

// connectProxy is an HTTP proxy serving CONNECT, as a corporate proxy
// would; it counts the tunnels it opened.
type connectProxy struct {
	addr     string
	connects atomic.Int64

	mu    sync.Mutex
	conns []net.Conn
}

func newConnectProxy(t *testing.T) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{addr: ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns { // hijacked: srv.Close leaves them open
			_ = c.Close()
		}
	})
	return p
}

func (p *connectProxy) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	p.connects.Add(1)
	up, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, up)
	p.mu.Unlock()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		_, _ = c.Close(), up.Close()
		return
	}
	go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
	_, _ = io.Copy(c, up)
	_ = c.Close()
}
