package clusters_test

import (
	"context"
	"fmt"
	"net/url"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
)

// outage makes one member unreachable and back.
type outage struct {
	name string
	// member is the index of the member that goes down.
	member int
	// setup returns the server URL the hub uses for the member ("" for its
	// own) and the functions that take it down and bring it back.
	setup func(t *testing.T) (server string, down, up func())
}

// TestDebouncedHealth takes one member down, checks that its Ready turns
// False only after the debounce window, that it recovers the same way, and
// that another member keeps being indexed meanwhile. The member goes down
// in two ways: its connections are cut (a TCP proxy in front of its
// apiserver closes, as when the apiserver dies), and its kube-apiserver
// process is stopped (SIGSTOP: it accepts connections and never answers).
func TestDebouncedHealth(t *testing.T) {
	outages := []outage{
		{name: "connections cut", member: 0, setup: func(t *testing.T) (string, func(), func()) {
			target, err := url.Parse(fleet.Members[0].Config.Host)
			if err != nil {
				t.Fatal(err)
			}
			proxy := newTCPProxy(t, target.Host)
			return "https://" + proxy.addr, proxy.close, func() {
				if err := proxy.open(); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{name: "apiserver stopped", member: 2, setup: func(t *testing.T) (string, func(), func()) {
			pid := apiserverPID(t, fleet.Members[2])
			signal := func(sig syscall.Signal) func() {
				return func() {
					if err := syscall.Kill(pid, sig); err != nil {
						t.Fatalf("signal kube-apiserver: %v", err)
					}
				}
			}
			t.Cleanup(signal(syscall.SIGCONT)) // never leave it stopped
			return "", signal(syscall.SIGSTOP), signal(syscall.SIGCONT)
		}},
	}
	for i, o := range outages {
		t.Run(o.name, func(t *testing.T) { checkOutage(t, fmt.Sprintf("outage-%d", i), o) })
	}
}

func checkOutage(t *testing.T, ns string, o outage) {
	ctx := context.Background()
	opts := testOptions(ns)
	opts.Debounce = 3 * time.Second
	hub := startHub(t, opts)
	server, down, up := o.setup(t)
	hc := fleet.Hub.Client

	sick, healthy := fleet.Members[o.member], fleet.Members[1]
	kubeconfig := hubKubeconfig(t, sick)
	if server != "" {
		kubeconfig = withServer(t, kubeconfig, server)
	}
	if err := hc.Create(ctx, memberSecret(ns, "sick", kubeconfig)); err != nil {
		t.Fatal(err)
	}
	if err := hc.Create(ctx, memberSecret(ns, "healthy", hubKubeconfig(t, healthy))); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, "sick", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	waitReady(t, ns, "healthy", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)

	// flipsAfter polls until sick's Ready has the given status and returns
	// how long after start that was first seen, and the condition then
	// (what a flip before the window was said to be).
	flipsAfter := func(status metav1.ConditionStatus, start time.Time) (time.Duration, string) {
		t.Helper()
		var seen time.Duration
		var said string
		eventually(t, 30*time.Second, "sick Ready="+string(status), func() error {
			c, _, err := readyCondition(ctx, ns, "sick")
			if err != nil {
				return err
			}
			if c.Status != status {
				return fmt.Errorf("Ready=%s (%s)", c.Status, c.Reason)
			}
			seen = time.Since(start)
			said = fmt.Sprintf("reason %s, %q, transition at %s (the window began at %s)", c.Reason, c.Message,
				c.LastTransitionTime.Format(time.RFC3339Nano), start.Format(time.RFC3339Nano))
			return nil
		})
		return seen, said
	}

	wentDown := time.Now()
	down()
	apps := ns + "-apps"
	createFlinkDeployment(t, healthy, apps, "while-sick-is-down")
	if after, said := flipsAfter(metav1.ConditionFalse, wentDown); after < opts.Debounce {
		t.Fatalf("Ready turned False %s after the outage began, before the %s debounce window: %s", after, opts.Debounce, said)
	}
	waitReady(t, ns, "sick", metav1.ConditionFalse, hubv1alpha1.ReasonUnreachable)
	waitEvent(t, ns, "sick", corev1.EventTypeWarning, hubv1alpha1.ReasonUnreachable)
	eventually(t, 30*time.Second, "the healthy member's deployment indexed during the outage", func() error {
		got, err := deploymentKeys(t, hub, "?namespace="+apps)
		if err != nil {
			return err
		}
		if want := "healthy/" + apps + "/while-sick-is-down"; len(got) != 1 || got[0] != want {
			return fmt.Errorf("deployments %v, want [%s]", got, want)
		}
		return nil
	})

	cameBack := time.Now()
	up()
	if after, said := flipsAfter(metav1.ConditionTrue, cameBack); after < opts.Debounce {
		t.Fatalf("Ready turned True %s after recovery, before the %s debounce window: %s", after, opts.Debounce, said)
	}
}
