package hub

import (
	"context"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

// TestSessionJobOwnerCrashDuringUpgrade SIGKILLs the replica that owns a
// session job (its own key, not its session cluster's) while the
// savepoint of its upgrade is in flight. Another replica finishes the
// upgrade from the status: the job runs the new spec from the one
// savepoint the old job took.
func TestSessionJobOwnerCrashDuringUpgrade(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	m := fleet.Members[0]
	session := fromExample(t, ctx, m, "basic-session-deployment-and-job/basic-session-deployment-example", "crash-sessions", "session")
	createStable(t, ctx, m, session)
	job := sessionJob(t, "crash-sessions", "session")
	if err := m.Client.Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	first := waitSessionJob(t, ctx, job, "RUNNING", func(j *v1beta1.FlinkSessionJob) bool { return j.Status.JobStatus.State == v1beta1.JobRunning })
	if err := sim.SetFaults(m.Name, session.Namespace, session.Name, flinksim.ClusterFaults{JobManager: jobmanager.Faults{SavepointDuration: 3 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	victim, err := keyOwner(ctx, shardkey.Key{Cluster: m.Name, Namespace: job.Namespace, Name: job.Name, Kind: shardkey.KindSessionJob})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Client.Patch(ctx, job, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"job":{"parallelism":2}}}`))); err != nil {
		t.Fatal(err)
	}
	var got v1beta1.FlinkSessionJob
	killWhen(t, victim, func() (bool, any) {
		err := m.Client.Get(ctx, client.ObjectKeyFromObject(job), &got)
		info := got.Status.JobStatus.SavepointInfo
		return err == nil && info != nil && info.TriggerID != "" && info.TriggerType == v1beta1.TriggerUpgrade, got.Status
	})

	upgraded := waitSessionJob(t, ctx, job, "upgraded after the owner crashed", func(j *v1beta1.FlinkSessionJob) bool {
		return j.Status.JobStatus.State == v1beta1.JobRunning && j.Status.JobStatus.JobID != first.Status.JobStatus.JobID && j.Status.ObservedGeneration == j.Generation
	})
	jm := sim.JobManager(m.Name, session.Namespace, session.Name)
	var old, current *jobmanager.JobStatus
	for _, j := range jm.Jobs() {
		switch j.ID {
		case first.Status.JobStatus.JobID:
			old = &j
		case upgraded.Status.JobStatus.JobID:
			current = &j
		}
	}
	path := upgraded.Status.JobStatus.UpgradeSavepointPath
	if old == nil || old.SavepointTriggers != 1 {
		t.Fatalf("the old job %+v: exactly one savepoint trigger wanted", old)
	}
	if current == nil || current.Spec.Parallelism != 2 || current.Spec.Restore == nil || current.Spec.Restore.Path != path || path == "" {
		t.Fatalf("the upgraded job %+v must run from the one savepoint %q", current, path)
	}
}

// sessionJob is the upstream example's first session job in namespace ns on
// session cluster session, in savepoint mode, its jar served by an
// artifact server of the test.
func sessionJob(t *testing.T, ns, session string) *v1beta1.FlinkSessionJob {
	t.Helper()
	jobs, err := examples.LoadSessionJobs()
	if err != nil {
		t.Fatal(err)
	}
	job := jobs[0].Typed.DeepCopy()
	job.Namespace, job.Spec.DeploymentName = ns, session
	job.Spec.Job.UpgradeMode = v1beta1.UpgradeModeSavepoint
	job.Spec.Job.JarURI = framework.NewArtifacts(t).Put("/jars/job.jar", []byte("PK\x03\x04job"))
	job.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"state.savepoints.dir":"file:///flink-data/savepoints"}`)}
	return job
}

// waitSessionJob waits until cond holds for job and returns it.
func waitSessionJob(t *testing.T, ctx context.Context, job *v1beta1.FlinkSessionJob, what string, cond func(*v1beta1.FlinkSessionJob) bool) *v1beta1.FlinkSessionJob {
	t.Helper()
	var got v1beta1.FlinkSessionJob
	if err := framework.Eventually(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(job), &got)
		return err == nil && cond(&got), nil
	}); err != nil {
		t.Fatalf("session job not %s: %v; status %+v", what, err, got.Status)
	}
	return &got
}
