package flinksim_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// member is the control plane the simulated Flink clusters run in.
var member *framework.ControlPlane

func TestMain(m *testing.M) {
	planes, err := framework.StartControlPlanes(framework.ControlPlaneOptions{Name: "member"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	member = planes[0]
	code := m.Run()
	if err := framework.StopControlPlanes(planes...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// eventually is framework.Eventually.
var eventually = framework.Await

// startSimulator simulates opts.Namespace of the member cluster "m1" and
// serves its JobManagers for the url transport; it stops before the
// control plane.
func startSimulator(t *testing.T, opts flinksim.Options) (*flinksim.Simulator, func(name, ns string) flinkrest.Client) {
	t.Helper()
	if opts.Namespace == "" {
		t.Fatal("tests simulate their own namespace only")
	}
	if opts.Log.GetSink() == nil {
		opts.Log = testLogger(t)
	}
	sim := flinksim.New(opts)
	if err := sim.AddMember("m1", member.Config); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Stop() })
	r, err := flinkrest.NewResolver(flinkrest.Options{Transport: flinkrest.TransportURL, URLTemplate: srv.URL + "/{{.Cluster}}/{{.Namespace}}/{{.Name}}/", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return sim, func(name, ns string) flinkrest.Client {
		c, err := r.Client(flinkrest.Target{Cluster: "m1", Namespace: ns, Name: name}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

// namespaces counts the namespaces tests created, to keep names unique
// under -count.
var namespaces atomic.Int32

func namespace(t *testing.T) string {
	t.Helper()
	ns := strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	if len(ns) > 50 {
		ns = ns[:50]
	}
	ns = fmt.Sprintf("%s-%d", ns, namespaces.Add(1))
	if err := member.CreateNamespace(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns
}

// cluster describes a Flink cluster as the deployers write it.
type cluster struct {
	name, ns   string
	native     bool
	command    []string
	args       []string
	config     string
	tmReplicas int32 // standalone only
	// files are further files of the configuration ConfigMap.
	files map[string]string
}

// nativeCluster is a native cluster name in ns whose JobManager runs
// kubernetes-jobmanager.sh target (kubernetes-application or
// kubernetes-session) with config.
func nativeCluster(name, ns, target, config string) cluster {
	return cluster{name: name, ns: ns, native: true, command: []string{"kubernetes-jobmanager.sh", target}, config: config}
}

func flinkType(native bool) string {
	if native {
		return "flink-native-kubernetes"
	}
	return "flink-standalone-kubernetes"
}

func podTemplate(c cluster, component string, command, args []string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": c.name, "component": component, "type": flinkType(c.native)}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "flink-main-container", Image: "flink:1.18", Command: command, Args: args,
			Ports: []corev1.ContainerPort{{Name: "rest", ContainerPort: 8081}},
		}}},
	}
}

func deployment(c cluster, name, component string, replicas int32, command, args []string) *appsv1.Deployment {
	labels := map[string]string{"app": c.name, "component": component, "type": flinkType(c.native)}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(c, component, command, args),
		},
	}
}

// create writes the cluster's ConfigMap, Services and Deployments.
func create(t testing.TB, c cluster) {
	t.Helper()
	ctx := context.Background()
	data := map[string]string{"config.yaml": c.config}
	for k, v := range c.files {
		data[k] = v
	}
	objs := []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "flink-config-" + c.name, Namespace: c.ns}, Data: data},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: c.name + "-rest", Namespace: c.ns, Labels: map[string]string{"app": c.name, "type": flinkType(c.native)}},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": c.name, "component": "jobmanager"},
				Ports: []corev1.ServicePort{{Name: "rest", Port: 8081, TargetPort: intstr.FromString("rest")}}},
		},
		deployment(c, c.name, "jobmanager", 1, c.command, c.args),
	}
	if !c.native {
		objs = append(objs, deployment(c, c.name+"-taskmanager", "taskmanager", c.tmReplicas, nil, []string{"taskmanager"}))
	}
	for _, o := range objs {
		if err := member.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}

// pods lists a cluster's pods of one component.
func pods(t testing.TB, c cluster, component string) []corev1.Pod {
	t.Helper()
	var list corev1.PodList
	if err := member.Client.List(context.Background(), &list, client.InNamespace(c.ns), client.MatchingLabels{"app": c.name, "component": component}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// runningPods checks that n pods of a component run, ready, with IPs.
func runningPods(t testing.TB, c cluster, component string, n int) error {
	ps := pods(t, c, component)
	if len(ps) != n {
		return fmt.Errorf("%d %s pods, want %d", len(ps), component, n)
	}
	for _, p := range ps {
		ready := false
		for _, cond := range p.Status.Conditions {
			ready = ready || (cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue)
		}
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" || !ready {
			return fmt.Errorf("pod %s: phase %s, ip %q, ready %v", p.Name, p.Status.Phase, p.Status.PodIP, ready)
		}
	}
	return nil
}

// succeeded turns an operation poll into an error until it succeeds.
func succeeded(st flinkrest.OperationStatus, err error) error {
	switch {
	case err != nil:
		return err
	case !st.Done:
		return fmt.Errorf("operation in progress")
	case st.Failure != "":
		return fmt.Errorf("operation failed: %s", st.Failure)
	}
	return nil
}

// testLogger logs to t until t ends, and drops lines after: a manager's
// stop procedure may log from a goroutine of its own after Start returned,
// and t.Log after the test ended panics.
func testLogger(t *testing.T) logr.Logger {
	var mu sync.Mutex
	ended := false
	t.Cleanup(func() { mu.Lock(); ended = true; mu.Unlock() })
	return funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		if !ended {
			t.Log(prefix, args)
		}
	}, funcr.Options{Verbosity: 1})
}
