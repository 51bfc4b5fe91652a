package clusters_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
)

// waitGone waits until the MemberCluster is deleted.
func waitGone(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, 10*time.Second, "MemberCluster "+name+" deleted", func() error {
		err := fleet.Hub.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &hubv1alpha1.MemberCluster{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there (%v)", err)
		}
		return nil
	})
}

// setLifecycle writes a FlinkDeployment's status.lifecycleState in a member,
// as the reconciler would.
func setLifecycle(t *testing.T, memberIdx int, namespace, name string, state flinkv1beta1.ResourceLifecycleState) {
	t.Helper()
	c := fleet.Members[memberIdx].Client
	fd := &flinkv1beta1.FlinkDeployment{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, fd); err != nil {
		t.Fatal(err)
	}
	fd.Status.LifecycleState = state
	if err := c.Status().Update(context.Background(), fd); err != nil {
		t.Fatal(err)
	}
}

// waitDeployments waits until the fleet API of hub answers query with the
// deployments want.
func waitDeployments(t *testing.T, hub *clusters.Hub, query string, want ...string) {
	t.Helper()
	eventually(t, 30*time.Second, "fleet API "+query, func() error {
		got, err := deploymentKeys(t, hub, query)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestRegistrationLifecycle(t *testing.T) {
	r := &registrationTest{ns: "reg"}
	opts := testOptions(r.ns)
	opts.OnMemberDisengaged = func(member string) { r.disengaged.Store(member, true) }
	r.hub = startHub(t, opts)
	r.registerMembers(t)

	t.Run("member clients use the configured QPS and burst", r.memberClientLimits)
	t.Run("unlabelled Secret is ignored", r.unlabelledSecretIgnored)
	t.Run("fleet index and API answer filters", r.fleetFilters)
	t.Run("rotated credentials re-engage and stay Ready", r.rotatedCredentials)
	t.Run("removing the label removes the member, restoring it brings it back", r.relabel)
	t.Run("deleting a Secret removes its member", r.deleteSecret)
}

// registrationTest is the hub of TestRegistrationLifecycle, in namespace ns,
// and the members it disengaged, shared by its steps.
type registrationTest struct {
	ns         string
	hub        *clusters.Hub
	disengaged sync.Map
}

// registerMembers registers the three members (member-1 with a
// ServiceAccount token the test can rotate and revoke) and a Secret without
// the member label, and waits until the members are Ready, have the CRD
// and are engaged.
func (r *registrationTest) registerMembers(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	ns, hub, hc := r.ns, r.hub, fleet.Hub.Client
	// member-1 uses a ServiceAccount token the test can rotate and revoke.
	secrets := map[string][]byte{
		"member-1": tokenKubeconfig(t, fleet.Members[0], "hub-a"),
		"member-2": hubKubeconfig(t, fleet.Members[1]),
		"member-3": hubKubeconfig(t, fleet.Members[2]),
	}
	for name, kc := range secrets {
		if err := hc.Create(ctx, memberSecret(ns, name, kc)); err != nil {
			t.Fatal(err)
		}
	}
	unlabelled := memberSecret(ns, "not-a-member", hubKubeconfig(t, fleet.Members[0]))
	unlabelled.Labels = nil
	if err := hc.Create(ctx, unlabelled); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"member-1", "member-2", "member-3"} {
		mc := waitReady(t, ns, name, metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
		if mc.Status.KubernetesVersion == "" || mc.Status.Server == "" || mc.Status.LastProbeTime == nil {
			t.Errorf("MemberCluster %s status incomplete: %+v", name, mc.Status)
		}
		if len(mc.OwnerReferences) != 1 || mc.OwnerReferences[0].Kind != "Secret" {
			t.Errorf("MemberCluster %s is not owned by its Secret: %+v", name, mc.OwnerReferences)
		}
		eventually(t, 30*time.Second, name+" CRDInstalled", func() error {
			_, mc, err := readyCondition(ctx, ns, name)
			if err != nil {
				return err
			}
			if c := meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionCRDInstalled); c == nil || c.Status != metav1.ConditionTrue {
				return fmt.Errorf("CRDInstalled = %+v", c)
			}
			return nil
		})
		// Engagement also waits for the member's claim.
		eventually(t, 30*time.Second, name+" engaged", func() error {
			_, err := hub.Provider.Get(ctx, multicluster.ClusterName(name))
			return err
		})
	}
}

// memberClientLimits: member clients use the configured QPS and burst, with
// one rate limiter for the member.
func (r *registrationTest) memberClientLimits(t *testing.T) {
	ctx := context.Background()
	ns, hub := r.ns, r.hub
	cl, err := hub.Provider.Get(ctx, "member-2")
	if err != nil {
		t.Fatal(err)
	}
	want := testOptions(ns)
	cfg := cl.GetConfig()
	if cfg.QPS != want.MemberQPS || cfg.Burst != want.MemberBurst {
		t.Fatalf("member client QPS/burst %v/%d, want %v/%d", cfg.QPS, cfg.Burst, want.MemberQPS, want.MemberBurst)
	}
	// One bucket for the member, not one per resource type.
	if cfg.RateLimiter == nil || cfg.RateLimiter.QPS() != want.MemberQPS {
		t.Fatalf("member config has no shared rate limiter of %v QPS: %v", want.MemberQPS, cfg.RateLimiter)
	}
}

// unlabelledSecretIgnored: a Secret without the member label gets no
// MemberCluster and engages nothing.
func (r *registrationTest) unlabelledSecretIgnored(t *testing.T) {
	ctx := context.Background()
	ns, hub, hc := r.ns, r.hub, fleet.Hub.Client
	err := hc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "not-a-member"}, &hubv1alpha1.MemberCluster{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("MemberCluster for an unlabelled Secret: %v", err)
	}
	if _, err := hub.Provider.Get(ctx, "not-a-member"); !errors.Is(err, multicluster.ErrClusterNotFound) {
		t.Fatalf("unlabelled Secret engaged a cluster: %v", err)
	}
}

// fleetFilters: the fleet index and API answer the namespace, cluster and
// state filters, and MemberCluster status counts the member's deployments.
func (r *registrationTest) fleetFilters(t *testing.T) {
	ctx := context.Background()
	ns, hub := r.ns, r.hub
	createFlinkDeployment(t, fleet.Members[1], "reg-apps", "fd-a")
	createFlinkDeployment(t, fleet.Members[1], "reg-apps", "fd-b")
	createFlinkDeployment(t, fleet.Members[2], "reg-apps", "fd-c")
	setLifecycle(t, 1, "reg-apps", "fd-a", flinkv1beta1.LifecycleStable)
	setLifecycle(t, 1, "reg-apps", "fd-b", flinkv1beta1.LifecycleFailed)
	setLifecycle(t, 2, "reg-apps", "fd-c", flinkv1beta1.LifecycleStable)
	waitDeployments(t, hub, "?namespace=reg-apps", "member-2/reg-apps/fd-a", "member-2/reg-apps/fd-b", "member-3/reg-apps/fd-c")
	waitDeployments(t, hub, "?namespace=reg-apps&cluster=member-2", "member-2/reg-apps/fd-a", "member-2/reg-apps/fd-b")
	waitDeployments(t, hub, "?namespace=reg-apps&state=STABLE", "member-2/reg-apps/fd-a", "member-3/reg-apps/fd-c")
	waitDeployments(t, hub, "?cluster=member-2&state=FAILED&namespace=reg-apps", "member-2/reg-apps/fd-b")
	eventually(t, 30*time.Second, "member-2 deployment count", func() error {
		_, mc, err := readyCondition(ctx, ns, "member-2")
		if err != nil {
			return err
		}
		if mc.Status.FlinkDeployments < 2 {
			return fmt.Errorf("status.flinkDeployments = %d", mc.Status.FlinkDeployments)
		}
		return nil
	})
	var cl fleetapi.ClusterList
	if err := fleetGet(t, hub, "/fleet/v1/clusters", &cl); err != nil {
		t.Fatal(err)
	}
	if len(cl.Items) != 3 {
		t.Fatalf("fleet API lists %d clusters, want 3: %+v", len(cl.Items), cl.Items)
	}
}

// rotatedCredentials: a Secret with new credentials re-engages its member,
// which keeps working and stays Ready once the old credentials are revoked.
func (r *registrationTest) rotatedCredentials(t *testing.T) {
	ctx := context.Background()
	ns, hub, hc := r.ns, r.hub, fleet.Hub.Client
	before, err := hub.Provider.Get(ctx, "member-1")
	if err != nil {
		t.Fatal(err)
	}
	s := memberSecret(ns, "member-1", tokenKubeconfig(t, fleet.Members[0], "hub-b"))
	if err := hc.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "member-1 re-engaged", func() error {
		after, err := hub.Provider.Get(ctx, "member-1")
		if err != nil {
			return err
		}
		if after == before {
			return errNotYet
		}
		return nil
	})
	// Revoke the old credentials: a hub still using them would turn
	// the member Forbidden.
	deleteServiceAccount(t, fleet.Members[0], "hub-a")
	createFlinkDeployment(t, fleet.Members[0], "reg-apps", "after-rotation")
	eventually(t, 30*time.Second, "deployment created after rotation is indexed", func() error {
		got, err := deploymentKeys(t, hub, "?cluster=member-1&namespace=reg-apps")
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, []string{"member-1/reg-apps/after-rotation"}) {
			return fmt.Errorf("member-1 deployments %v", got)
		}
		return nil
	})
	// Ready holds over more than a debounce window of probes.
	framework.Hold(t, 2*testOptions(ns).Debounce, "member-1 Ready after rotation", func() error {
		c, _, err := readyCondition(ctx, ns, "member-1")
		if err == nil && c.Status != metav1.ConditionTrue {
			err = fmt.Errorf("not Ready: %s: %s", c.Reason, c.Message)
		}
		return err
	})
}

// relabel: removing the member label of a Secret removes its member;
// restoring the label brings it back.
func (r *registrationTest) relabel(t *testing.T) {
	ctx := context.Background()
	ns, hub, hc := r.ns, r.hub, fleet.Hub.Client
	s := &corev1.Secret{}
	if err := hc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "member-3"}, s); err != nil {
		t.Fatal(err)
	}
	delete(s.Labels, memberconfig.SecretLabel)
	if err := hc.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "member-3 disengaged", func() error {
		if err := hc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "member-3"}, &hubv1alpha1.MemberCluster{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("MemberCluster member-3 still there (%v)", err)
		}
		if _, err := hub.Provider.Get(ctx, "member-3"); !errors.Is(err, multicluster.ErrClusterNotFound) {
			return fmt.Errorf("member-3 still engaged (%v)", err)
		}
		if _, ok := r.disengaged.Load("member-3"); !ok {
			return errors.New("OnMemberDisengaged was not called for member-3 (its Flink REST transports would stay)")
		}
		return nil
	})
	if err := hc.Get(ctx, client.ObjectKey{Namespace: ns, Name: "member-3"}, s); err != nil {
		t.Fatal(err)
	}
	s.Labels = map[string]string{memberconfig.SecretLabel: "true"}
	if err := hc.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, "member-3", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	eventually(t, 10*time.Second, "member-3 engaged again", func() error {
		_, err := hub.Provider.Get(ctx, "member-3")
		return err
	})
}

// deleteSecret: deleting a Secret removes its member from the hub and the
// fleet index, and the other members keep working.
func (r *registrationTest) deleteSecret(t *testing.T) {
	ctx := context.Background()
	ns, hub, hc := r.ns, r.hub, fleet.Hub.Client
	if err := hc.Delete(ctx, memberSecret(ns, "member-3", nil)); err != nil {
		t.Fatal(err)
	}
	waitGone(t, ns, "member-3")
	eventually(t, 10*time.Second, "member-3 removed", func() error {
		if _, err := hub.Provider.Get(ctx, "member-3"); !errors.Is(err, multicluster.ErrClusterNotFound) {
			return fmt.Errorf("member-3 still engaged (%v)", err)
		}
		if got, err := deploymentKeys(t, hub, "?cluster=member-3"); err != nil || len(got) != 0 {
			return fmt.Errorf("member-3 deployments still indexed: %v %v", got, err)
		}
		return nil
	})
	createFlinkDeployment(t, fleet.Members[1], "reg-apps", "after-delete")
	eventually(t, 30*time.Second, "other members keep working", func() error {
		got, err := deploymentKeys(t, hub, "?cluster=member-2&namespace=reg-apps")
		if err != nil {
			return err
		}
		if len(got) != 3 {
			return fmt.Errorf("member-2 deployments %v", got)
		}
		return nil
	})
	for _, name := range []string{"member-1", "member-2"} {
		waitReady(t, ns, name, metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	}
}
