package clusters_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
	"github.com/flink-hub/flink-hub/internal/clusters/health"
	"github.com/flink-hub/flink-hub/internal/clusters/memberstatus"
)

// statusReconciler is a MemberCluster status controller of the hub
// namespace ns, reading and writing through c, without debounce.
func statusReconciler(c client.Client, ns string) *memberstatus.Reconciler {
	return &memberstatus.Reconciler{
		Client: c, Namespace: ns, Prober: health.HTTPProber{Timeout: 5 * time.Second},
		Debouncer: health.NewDebouncer(0), Interval: time.Minute, Index: fleetindex.New(),
	}
}

// TestMemberClusterCreatedByAnotherReplica reconciles a member Secret
// whose MemberCluster another replica created moments ago, with a client
// whose cache does not have it yet (every replica runs the status
// controller and sees a new Secret at once): the reconcile is not an error
// and leaves that MemberCluster alone; once the cache has it, the next
// reconcile writes its status.
func TestMemberClusterCreatedByAnotherReplica(t *testing.T) {
	ctx := context.Background()
	const ns, name = "racing-replicas", "member"
	if err := fleet.Hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	hc := fleet.Hub.Client
	secret := memberSecret(ns, name, hubKubeconfig(t, fleet.Members[0]))
	if err := hc.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	theirs := &hubv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := controllerutil.SetControllerReference(secret, theirs, hc.Scheme()); err != nil {
		t.Fatal(err)
	}
	if err := hc.Create(ctx, theirs); err != nil {
		t.Fatal(err)
	}

	api, err := client.NewWithWatch(fleet.Hub.Config, client.Options{Scheme: hc.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	staleCache := interceptor.NewClient(api, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if _, ok := obj.(*hubv1alpha1.MemberCluster); ok {
				return apierrors.NewNotFound(schema.GroupResource{Group: hubv1alpha1.GroupVersion.Group, Resource: "memberclusters"}, key.Name)
			}
			return c.Get(ctx, key, obj, opts...)
		},
	})
	req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(secret)}
	if _, err := statusReconciler(staleCache, ns).Reconcile(ctx, req); err != nil {
		t.Fatalf("reconcile with a cache behind another replica's create: %v", err)
	}
	var got hubv1alpha1.MemberCluster
	if err := hc.Get(ctx, client.ObjectKeyFromObject(theirs), &got); err != nil {
		t.Fatal(err)
	}
	if got.UID != theirs.UID || got.ResourceVersion != theirs.ResourceVersion {
		t.Errorf("the other replica's MemberCluster was replaced or changed: uid %s rv %s, want %s %s", got.UID, got.ResourceVersion, theirs.UID, theirs.ResourceVersion)
	}

	if _, err := statusReconciler(hc, ns).Reconcile(ctx, req); err != nil {
		t.Fatalf("reconcile once the cache has it: %v", err)
	}
	if err := hc.Get(ctx, client.ObjectKeyFromObject(theirs), &got); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, hubv1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("Ready condition after the cache caught up = %+v, want True", c)
	}
}

// TestMemberStatusStopsQuietly reconciles with the context of a stopping
// manager: the write fails, and that is not reported as a reconcile error
// (it was, once per member and replica, on every rollout).
func TestMemberStatusStopsQuietly(t *testing.T) {
	ctx := context.Background()
	const ns, name = "stopping-replica", "member"
	if err := fleet.Hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	secret := memberSecret(ns, name, hubKubeconfig(t, fleet.Members[0]))
	if err := fleet.Hub.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	stopped, stop := context.WithCancel(ctx)
	stop()
	r := statusReconciler(fleet.Hub.Client, ns)
	res, err := r.Reconcile(stopped, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(secret)})
	if err != nil || res.RequeueAfter != 0 {
		t.Errorf("reconcile while stopping = %+v, %v; want no error and no requeue", res, err)
	}
	// With a live context the same reconcile does its work.
	if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(secret)}); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, name, metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
}

// TestMemberStatusHasOneWriter runs two replicas of one hub, each with an
// identity of its own, and gives the member to one of them, then to the
// other, as the sharded election hands its key over (and says so, as a
// shard acquired does): only the owner writes the MemberCluster status
// (counted in the hub's audit log), and both serve the member in their
// fleet API, the other replica as the owner's status writes report it.
func TestMemberStatusHasOneWriter(t *testing.T) {
	ctx := context.Background()
	const ns = "one-writer"
	if err := fleet.Hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	names := []string{"replica-a", "replica-b"}
	ids := hubRoleIdentities(t, ns, names...)
	var owner atomic.Value
	owner.Store(names[0])
	hubs := map[string]*clusters.Hub{}
	gained := map[string]func(){}
	for i, name := range names {
		opts := testOptions(ns)
		opts.OwnsMember = func(string) bool { return owner.Load() == name }
		opts.OnMemberOwnershipGained = func(fn func()) { gained[name] = fn }
		hubs[name] = startHubAs(t, ids[i], opts)
	}
	if err := fleet.Hub.Client.Create(ctx, memberSecret(ns, "m", hubKubeconfig(t, fleet.Members[0]))); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, "m", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	writes := func(replica string) int {
		t.Helper()
		reqs, err := fleet.Hub.Requests(func(r framework.Request) bool {
			return r.User == "system:serviceaccount:"+ns+":"+replica && r.Resource == "memberclusters" && r.Subresource == "status" && r.Verb == "patch"
		})
		if err != nil {
			t.Fatal(err)
		}
		return len(reqs)
	}
	for _, name := range names {
		eventually(t, 10*time.Second, name+" serves the member in its fleet API", func() error {
			var cl fleetapi.ClusterList
			if err := fleetGet(t, hubs[name], "/fleet/v1/clusters", &cl); err != nil {
				return err
			}
			if len(cl.Items) != 1 || !cl.Items[0].Ready {
				return fmt.Errorf("clusters %+v", cl.Items)
			}
			return nil
		})
	}
	eventually(t, 10*time.Second, "the owner writes the status (on a change, else every report interval)", func() error {
		if n := writes(names[0]); n < 3 {
			return fmt.Errorf("%d writes", n)
		}
		return nil
	})
	if n := writes(names[1]); n != 0 {
		t.Fatalf("the replica that does not own the member wrote its status %d times", n)
	}

	owner.Store(names[1])
	before := writes(names[0])
	// Without this call the new owner would not look at the member: a
	// replica that does not own a member waits for events.
	gained[names[1]]()
	eventually(t, 10*time.Second, "the new owner writes the status", func() error {
		if n := writes(names[1]); n < 3 {
			return fmt.Errorf("%d writes", n)
		}
		return nil
	})
	// One write of the old owner may have been under way at the handoff.
	if n := writes(names[0]) - before; n > 1 {
		t.Errorf("the old owner wrote the status %d times after the handoff", n)
	}
	waitReady(t, ns, "m", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	// The old owner's fleet API follows the new owner's reports: the
	// probe time it shows moves on with the status writes.
	showsLaterProbes(t, ns, "m", names[0], hubs[names[0]])
}

// showsLaterProbes waits until the fleet API of hub (replica) shows a
// later probe of member than it does now, the one its MemberCluster
// status reports.
func showsLaterProbes(t *testing.T, ns, member, replica string, hub *clusters.Hub) {
	t.Helper()
	ctx := context.Background()
	shown := func() (time.Time, error) {
		var cl fleetapi.ClusterList
		if err := fleetGet(t, hub, "/fleet/v1/clusters", &cl); err != nil {
			return time.Time{}, err
		}
		if len(cl.Items) != 1 || cl.Items[0].LastProbe == nil {
			return time.Time{}, fmt.Errorf("clusters %+v", cl.Items)
		}
		return *cl.Items[0].LastProbe, nil
	}
	first, err := shown()
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, replica+" shows a later probe", func() error {
		var mc hubv1alpha1.MemberCluster
		if err := fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: member}, &mc); err != nil {
			return err
		}
		at, err := shown()
		switch {
		case err != nil:
			return err
		case !at.After(first):
			return fmt.Errorf("still the probe of %v", at)
		case mc.Status.LastProbeTime == nil || !at.Equal(mc.Status.LastProbeTime.Time):
			return fmt.Errorf("shows the probe of %v, the status says %v", at, mc.Status.LastProbeTime)
		}
		return nil
	})
}

// TestMemberStatusWrittenOnChange: once a member's status has settled, its
// probes go on (counted in the member's audit log) and write nothing until
// the report interval (an hour here); a change (a FlinkDeployment more in
// the namespace the registration names) is written at the next probe.
func TestMemberStatusWrittenOnChange(t *testing.T) {
	ctx := context.Background()
	const ns, name, watched = "status-on-change", "m", "status-on-change-fds"
	start := time.Now()
	member := fleet.Members[1]
	if err := member.CreateNamespace(ctx, watched); err != nil {
		t.Fatal(err)
	}
	if err := fleet.Hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	opts := testOptions(ns)
	opts.StatusReportInterval = time.Hour
	startHubAs(t, hubRoleIdentities(t, ns, "hub")[0], opts) // the hub's own role, whose writes the audit log records
	secret := memberSecret(ns, name, hubKubeconfig(t, member))
	secret.Annotations = map[string]string{hubv1alpha1.NamespacesAnnotation: watched}
	if err := fleet.Hub.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	waitReady(t, ns, name, metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	writes := func() int {
		t.Helper()
		reqs, err := fleet.Hub.Requests(func(r framework.Request) bool {
			return r.User == "system:serviceaccount:"+ns+":hub" && r.Resource == "memberclusters" && r.Subresource == "status" && r.Verb == "patch"
		})
		if err != nil {
			t.Fatal(err)
		}
		return len(reqs)
	}
	probes := func() int {
		t.Helper()
		reqs, err := member.Requests(func(r framework.Request) bool { return strings.HasPrefix(r.URI, "/readyz") && r.Received.After(start) })
		if err != nil {
			t.Fatal(err)
		}
		return len(reqs)
	}
	// A window of five probes starts at (w, p); one that saw a write
	// starts another.
	w, p := -1, 0
	eventually(t, 30*time.Second, "five probes in a row that write nothing", func() error {
		switch {
		case w < 0:
			w, p = writes(), probes()
			return errors.New("window started")
		case probes() < p+5:
			return fmt.Errorf("%d of five probes", probes()-p)
		case writes() != w:
			n := writes() - w
			w, p = writes(), probes()
			return fmt.Errorf("%d writes over five probes", n)
		}
		return nil
	})
	createFlinkDeployment(t, member, watched, "counted")
	eventually(t, 10*time.Second, "the new count written long before the report interval", func() error {
		var mc hubv1alpha1.MemberCluster
		if err := fleet.Hub.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &mc); err != nil {
			return err
		}
		if mc.Status.FlinkDeployments != 1 {
			return fmt.Errorf("status.flinkDeployments = %d", mc.Status.FlinkDeployments)
		}
		return nil
	})
}
