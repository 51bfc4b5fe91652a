package clusters_test

import (
	"context"
	"errors"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

// tokenKubeconfig creates a cluster-admin ServiceAccount in the member and
// returns a kubeconfig with a token for it (a credential the test can
// revoke by deleting the ServiceAccount).
func tokenKubeconfig(t *testing.T, member *framework.ControlPlane, sa string) []byte {
	t.Helper()
	return serviceAccountKubeconfig(t, member, sa, "cluster-admin")
}

// serviceAccountKubeconfig creates a ServiceAccount in the member, bound to
// clusterRole unless it is empty, and returns a kubeconfig with its token.
func serviceAccountKubeconfig(t *testing.T, member *framework.ControlPlane, sa, clusterRole string) []byte {
	t.Helper()
	ctx := context.Background()
	const ns = "test-identities"
	if err := member.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	if err := member.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns}}); err != nil {
		t.Fatal(err)
	}
	if clusterRole != "" {
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "test-" + sa},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}},
		}
		if err := member.Client.Create(ctx, crb); err != nil {
			t.Fatal(err)
		}
	}
	cs := kubernetes.NewForConfigOrDie(member.Config)
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := registration.Kubeconfig(member.Name, member.Config.Host, member.Config.CAData, tr.Status.Token)
	if err != nil {
		t.Fatal(err)
	}
	return kc
}

// deleteServiceAccount revokes the tokens of a tokenKubeconfig identity.
func deleteServiceAccount(t *testing.T, member *framework.ControlPlane, sa string) {
	t.Helper()
	err := member.Client.Delete(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: "test-identities"}})
	if err != nil {
		t.Fatal(err)
	}
}

// fleetGet decodes a fleet API answer of the hub, read as a ServiceAccount
// allowed to read the fleet of every hub namespace.
func fleetGet(t *testing.T, hub *clusters.Hub, path string, into any) error {
	t.Helper()
	token, err := fleetReaderToken()
	if err != nil {
		return err
	}
	addr, err := hub.Fleet.Addr(context.Background())
	if err != nil {
		return err
	}
	return framework.FleetGet(context.Background(), addr, token, path, into)
}

var fleetReader struct {
	once  sync.Once
	token string
	err   error
}

// fleetReaderToken is a token of default/fleet-reader, bound to the fleet
// reader rules in every namespace of the hub.
func fleetReaderToken() (string, error) {
	fleetReader.once.Do(func() {
		ctx := context.Background()
		for _, o := range []client.Object{
			&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "fleet-reader"}, Rules: framework.FleetReaderRules},
			&rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "fleet-reader"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "fleet-reader"},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "default", Name: "fleet-reader"}},
			},
		} {
			if fleetReader.err = fleet.Hub.Client.Create(ctx, o); fleetReader.err != nil {
				return
			}
		}
		fleetReader.token, fleetReader.err = fleet.Hub.ServiceAccountToken(ctx, "default", "fleet-reader", nil)
	})
	return fleetReader.token, fleetReader.err
}

// deploymentKeys lists the keys the fleet API returns for a query.
func deploymentKeys(t *testing.T, hub *clusters.Hub, query string) ([]string, error) {
	var list fleetapi.DeploymentList
	if err := fleetGet(t, hub, "/fleet/v1/deployments"+query, &list); err != nil {
		return nil, err
	}
	keys := []string{}
	for _, d := range list.Items {
		keys = append(keys, fleetindex.KeyOf(&d).String())
	}
	return keys, nil
}

// tcpProxy forwards a local port to a member apiserver; closing it cuts the
// member off from the hub as a network partition or a dead apiserver does.
type tcpProxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

// newTCPProxy starts a proxy to target on a port below the ephemeral
// range, so that reopening it after a cut finds the port free.
func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{target: target, addr: framework.FreeAddr(t), conns: map[net.Conn]struct{}{}}
	if err := p.open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	return p
}

// open listens (again) on the proxy's address.
func (p *tcpProxy) open() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
	return nil
}

func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		return
	}
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

func (p *tcpProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

// close stops listening and cuts every open connection.
func (p *tcpProxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

var errNotYet = errors.New("not yet")

// apiserverPID finds the kube-apiserver process serving cp (envtest does
// not expose it) by its --secure-port argument.
func apiserverPID(t *testing.T, cp *framework.ControlPlane) int {
	t.Helper()
	u, err := url.Parse(cp.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	want := "--secure-port=" + u.Port()
	cmdlines, err := framework.ReadProcFiles("cmdline")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cmdlines {
		args := strings.Split(string(p.Data), "\x00")
		if filepath.Base(args[0]) == "kube-apiserver" && slices.Contains(args, want) {
			return p.PID
		}
	}
	t.Fatalf("no kube-apiserver process with %s", want)
	return 0
}
