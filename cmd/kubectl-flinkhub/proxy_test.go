//lint:file-ignore SA1019 kube-apiserver's service proxy still resolves Services through Endpoints

package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/flink-hub/flink-hub/e2e/flinksim/netns"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/internal/console"
)

// TestGetDeploymentsThroughTheServiceProxy takes the default path of `get
// deployments`: the hub apiserver's service proxy to the Service flink-hub,
// port fleet, over HTTPS, with the user's own token, which the apiserver
// strips from Authorization and the plugin also sends in
// fleetapi.TokenHeader. kube-apiserver proxies only to non-loopback IPs of
// pods, so the fleet API is served on the host side of a veth pair (root;
// CI runs as root) and a hub pod claims that IP, as a real hub pod would.
func TestGetDeploymentsThroughTheServiceProxy(t *testing.T) {
	network := netns.ForTest(t)
	index := fleetindex.New()
	index.UpsertDeployment(fleetindex.Deployment{Cluster: "member-9", Namespace: "prod", Name: "wordcount", LifecycleState: "STABLE", JobState: "RUNNING", Mode: "native"})
	ui, err := console.New(console.Options{Fleet: &fleetapi.Fleet{Index: index}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/fleet/", fleetapi.Handler(&fleetapi.Fleet{Index: index}, nil))
	mux.Handle(console.Prefix, ui)
	srv, err := fleetapi.NewServer(net.JoinHostPort(network.HostAddr, "0"), mux, fleet.Hub.Config, hubNamespace, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srvCtx, stopSrv := context.WithCancel(ctx)
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Start(srvCtx) }()
	defer func() {
		stopSrv()
		if err := <-srvDone; err != nil {
			t.Errorf("fleet API: %v", err)
		}
	}()
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	addr, err := srv.Addr(waitCtx)
	cancelWait()
	if err != nil {
		t.Fatal(err)
	}
	_, portText, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(portText)
	port := int32(p)

	serveThroughServiceProxy(t, ctx, network.HostAddr, port)

	eventually(t, "get deployments through the service proxy", func() error {
		code, out, errOut := plugin("--context", "reader", "get", "deployments")
		if code != 0 {
			return errors.New(errOut)
		}
		if !strings.Contains(out, "member-9") || !strings.Contains(out, "wordcount") || !strings.Contains(out, "RUNNING") {
			return errors.New("output lacks the deployment: " + out)
		}
		return nil
	})

	t.Run("an identity without the fleet reader rules is refused by the fleet API", func(t *testing.T) {
		// hub-nobody may not even proxy: the apiserver refuses it.
		code, _, errOut := plugin("--context", "hub-nobody", "get", "deployments")
		if code == 0 || !strings.Contains(errOut, "403") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		// proxy-only may proxy but not list MemberClusters: the fleet API
		// refuses it, naming what is missing.
		code, out, errOut := plugin("--context", "proxy-only", "get", "deployments")
		if code == 0 || !strings.Contains(errOut, "fleet API: 403") || !strings.Contains(errOut, `"system:serviceaccount:flink-hub:proxy-only" cannot list memberclusters.hub.flink-hub.io`) {
			t.Fatalf("exit %d: %s %s", code, out, errOut)
		}
	})
	t.Run("the console through the service proxy, with the user's token", func(t *testing.T) {
		checkConsoleCommand(t, ctx)
	})
	t.Run("a context without a token is told why", func(t *testing.T) {
		code, _, errOut := plugin("--context", "hub", "get", "deployments")
		if code == 0 || !strings.Contains(errOut, "no bearer token") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
}

// serveThroughServiceProxy makes the hub apiserver's service proxy reach
// the fleet API at ip:port: a running hub Pod with that IP, the flink-hub
// Service's fleet port, and its Endpoints; removed when the test ends.
func serveThroughServiceProxy(t *testing.T, ctx context.Context, ip string, port int32) {
	t.Helper()
	c := fleet.Hub.Client
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: hubNamespace, Name: "flink-hub-0", Labels: map[string]string{"app": "flink-hub"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "hub", Image: "flink-hub"}}},
	}
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, pod) })
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}
	if err := c.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: hubNamespace, Name: "flink-hub"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "fleet", Port: 8082, TargetPort: intstr.FromInt32(port), Protocol: corev1.ProtocolTCP}}},
	}
	if err := c.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, svc) })
	eps := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Namespace: hubNamespace, Name: "flink-hub"},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: ip, TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: hubNamespace, Name: pod.Name, UID: pod.UID}}},
			Ports:     []corev1.EndpointPort{{Name: "fleet", Port: port, Protocol: corev1.ProtocolTCP}},
		}},
	}
	if err := c.Create(ctx, eps); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(ctx, eps) })
}

// checkConsoleCommand runs `console` as the fleet reader and reads the
// fleet page through it; the local server forwards only the console's GET
// requests, and only to its own Host.
func checkConsoleCommand(t *testing.T, ctx context.Context) {
	runCtx, stop := context.WithCancel(ctx)
	var out, errOut framework.SyncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(runCtx, []string{"--kubeconfig", kubeconfigPath, "--context", "reader", "console", "--address", "127.0.0.1:0"}, &out, &errOut)
	}()
	defer func() {
		stop()
		if code := <-done; code != 0 {
			t.Errorf("console exited %d: %s", code, errOut.String())
		}
	}()
	var base string
	eventually(t, "the console's address", func() error {
		line := out.String()
		if i := strings.Index(line, "http://"); i >= 0 {
			base = strings.Fields(line[i:])[0]
			return nil
		}
		return errors.New("no address printed yet: " + errOut.String())
	})
	get := func(method, url, host string) (int, string) {
		req, err := http.NewRequestWithContext(ctx, method, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(http.MethodGet, base+"?q=wordcount", ""); code != http.StatusOK || !strings.Contains(body, `data-key="member-9/prod/wordcount"`) {
		t.Fatalf("fleet page through the console: %d\n%s", code, body)
	}
	root := strings.TrimSuffix(base, console.Prefix)
	for _, tc := range []struct {
		method, path, host string
		want               int
	}{
		{http.MethodPost, console.Prefix, "", http.StatusMethodNotAllowed},
		{http.MethodGet, "/fleet/v1/deployments", "", http.StatusNotFound},
		{http.MethodGet, console.Prefix, "attacker.example:80", http.StatusForbidden},
	} {
		if code, _ := get(tc.method, root+tc.path, tc.host); code != tc.want {
			t.Errorf("%s %s (Host %q): %d, want %d", tc.method, tc.path, tc.host, code, tc.want)
		}
	}
	if code, _, errOut := plugin("--context", "reader", "console", "--address", "0.0.0.0:0"); code == 0 || !strings.Contains(errOut, "loopback") {
		t.Errorf("a non-loopback address: exit %d: %s", code, errOut)
	}
}
