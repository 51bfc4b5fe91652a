package hub

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/deployer/native"
)

// apacheOperator is the Apache operator's field manager.
const apacheOperator = "flink-kubernetes-operator"

// TestAdoptionFromTheApacheOperator: a member left by the Apache operator
// (a RUNNING last-state FlinkDeployment whose status it wrote, its
// JobManager Deployment named, labelled and selecting as upstream does, its
// HA metadata in place) is registered: the hub leaves it alone
// (ManagedElsewhere). `kubectl flinkhub adopt` hands it over: the hub takes
// the JobManager over in place (same Deployment, same JobManager, the job
// not restarted), writes the status as its own, and the job's next upgrade
// restores from its HA metadata.
func TestAdoptionFromTheApacheOperator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	m, secret := startScopedMember(t)
	namespace(t, ctx, m, "legacy")
	fd := leftByApacheOperator(t, ctx, m)
	jmUID := jobManagerUID(t, ctx, m, fd)
	jm := sim.JobManager(m.Name, fd.Namespace, fd.Name)
	job := jm.Jobs()[0]

	registerForNamespaces(t, ctx, m, secret, "legacy")
	awaitEvent(t, ctx, m, fd, flinkdeployment.ReasonManagedElsewhere)

	found, err := registration.Adopt(ctx, fleet.Hub.Client, hubNamespace, m.Name, time.Now())
	if err != nil || !found {
		t.Fatalf("adopt: %v, found %v", err, found)
	}
	var dep appsv1.Deployment
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		err := m.Client.Get(ctx, client.ObjectKeyFromObject(fd), &dep)
		return err == nil && dep.Labels[deployer.LabelManagedBy] == deployer.ManagedByHub, err
	}); err != nil {
		t.Fatalf("the JobManager Deployment was not taken over: %v; labels %v", err, dep.Labels)
	}
	awaitEvent(t, ctx, m, fd, flinkdeployment.ReasonAdopted)
	// The status is the hub's now: a write of its own, the job observed.
	var got v1beta1.FlinkDeployment
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		if err := m.Client.Get(ctx, client.ObjectKeyFromObject(fd), &got); err != nil {
			return false, err
		}
		return wroteStatus(&got, "flink-hub") && stable(&got) && got.Status.ClusterInfo["flink-version"] != "", nil
	}); err != nil {
		t.Fatalf("the hub did not take the status over: %v; status %+v", err, got.Status)
	}
	if dep.UID != jmUID || sim.JobManager(m.Name, fd.Namespace, fd.Name) != jm {
		t.Fatal("the JobManager was replaced by the adoption")
	}
	if jobs := jm.Jobs(); len(jobs) != 1 || jobs[0].ID != job.ID || jobs[0].State != "RUNNING" {
		t.Fatalf("the job was restarted by the adoption: %+v", jobs)
	}

	// The next upgrade: last-state, from the HA metadata the Apache
	// operator's cluster wrote.
	if err := m.Client.Patch(ctx, &got, client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"job":{"parallelism":3}}}`))); err != nil {
		t.Fatal(err)
	}
	waitUpgraded(t, ctx, m, fd, 3, "after the adoption")
	after := sim.JobManager(m.Name, fd.Namespace, fd.Name)
	if after == nil || len(after.Jobs()) == 0 {
		t.Fatal("no job after the upgrade")
	}
	upgraded := after.Jobs()[len(after.Jobs())-1]
	if upgraded.Restored == nil || upgraded.Restored.Path == "" {
		t.Errorf("the upgraded job did not restore the adopted job's HA checkpoint: %+v", upgraded)
	}
}

// leftByApacheOperator creates in m, namespace legacy, what the Apache
// operator leaves: an HA FlinkDeployment in last-state mode with the
// operator's finalizer, its cluster (rendered as the hub would, without the
// hub's label, the JobManager selecting on the type label as Flink's native
// integration does), running under the simulator, and the RUNNING status
// the operator wrote as its field manager.
func leftByApacheOperator(t *testing.T, ctx context.Context, m *framework.ControlPlane) *v1beta1.FlinkDeployment {
	t.Helper()
	ex, err := examples.Named("basic-checkpoint-ha/basic-checkpoint-ha-example")
	if err != nil {
		t.Fatal(err)
	}
	fd := ex.DeepCopy()
	fd.Namespace, fd.Finalizers = "legacy", []string{flinkdeployment.Finalizer}
	fd.Spec.Job.UpgradeMode = v1beta1.UpgradeModeLastState
	if err := m.Client.Create(ctx, fd); err != nil {
		t.Fatal(err)
	}
	objs, err := native.New().Resources(fd, deployer.Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		labels := obj.GetLabels()
		delete(labels, deployer.LabelManagedBy)
		obj.SetLabels(labels)
		if d, ok := obj.(*appsv1.Deployment); ok {
			delete(d.Spec.Template.Labels, deployer.LabelManagedBy)
			d.Spec.Selector.MatchLabels[deployer.LabelType] = deployer.TypeNative
		}
		if err := m.Client.Create(ctx, obj); err != nil {
			t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
		}
	}
	var job jobmanager.JobStatus
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		jm := sim.JobManager(m.Name, fd.Namespace, fd.Name)
		if jm == nil || len(jm.Jobs()) == 0 {
			return false, nil
		}
		job = jm.Jobs()[0]
		return job.State == "RUNNING" && len(job.Checkpoints) > 0, nil
	}); err != nil {
		t.Fatalf("the Apache operator's job does not run under the simulator: %v", err)
	}
	spec, err := plan.EncodeSpec(&fd.Spec, true)
	if err != nil {
		t.Fatal(err)
	}
	before := fd.DeepCopy()
	fd.Status = framework.DeployedStatus(fd, spec, job.ID, time.Now())
	if err := m.Client.Status().Patch(ctx, fd, client.MergeFrom(before), client.FieldOwner(apacheOperator)); err != nil {
		t.Fatal(err)
	}
	return fd
}

// wroteStatus reports whether manager wrote fd's status last. Managed
// fields are timed to the second, so a write in the same second as
// another manager's counts as the last (their order in the list says
// nothing).
func wroteStatus(fd *v1beta1.FlinkDeployment, manager string) bool {
	var newest, mine time.Time
	wrote := false
	for _, f := range fd.ManagedFields {
		if f.Subresource != "status" || f.Time == nil {
			continue
		}
		if f.Manager == manager {
			mine, wrote = f.Time.Time, true
		}
		if f.Time.Time.After(newest) {
			newest = f.Time.Time
		}
	}
	return wrote && !mine.Before(newest)
}

// awaitEvent waits for an event of reason about fd in member m.
func awaitEvent(t *testing.T, ctx context.Context, m *framework.ControlPlane, fd *v1beta1.FlinkDeployment, reason string) {
	t.Helper()
	if err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
		var evs eventsv1.EventList
		if err := m.Client.List(ctx, &evs, client.InNamespace(fd.Namespace)); err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == fd.Name && e.Reason == reason {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("no %s event about %s: %v", reason, fd.Name, err)
	}
}
