//lint:file-ignore SA1019 the simulator writes Endpoints, which kube-apiserver's service proxy reads

package flinksim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

func onlyJob(ctx context.Context, c flinkrest.Client) (api.JobDetails, error) {
	jobs, err := c.ListJobs(ctx)
	if err != nil {
		return api.JobDetails{}, err
	}
	if len(jobs) != 1 {
		return api.JobDetails{}, fmt.Errorf("%d jobs, want 1", len(jobs))
	}
	return jobs[0], nil
}

func jobIs(ctx context.Context, c flinkrest.Client, want api.JobStatus) func() error {
	return func() error {
		j, err := onlyJob(ctx, c)
		if err == nil && j.State != want {
			err = fmt.Errorf("job %s is %s, want %s", j.Jid, j.State, want)
		}
		return err
	}
}

// runJar uploads a jar of content as job.jar to flink's session cluster
// and runs it with body; it returns the jar's and the job's id.
func runJar(t *testing.T, ctx context.Context, flink flinkrest.Client, content string, body api.JarRunRequestBody) (jar, jobID string) {
	t.Helper()
	jar, err := flink.UploadJar(ctx, "job.jar", strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	jobID, err = flink.RunJar(ctx, jar, body)
	if err != nil {
		t.Fatal(err)
	}
	return jar, jobID
}

func TestStandaloneApplication(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	sim, clientFor := startSimulator(t, flinksim.Options{Namespace: ns})
	sim.Storage().Write("s3://sp/savepoint-1")
	c := cluster{name: "standalone", ns: ns, tmReplicas: 2,
		args:   []string{"standalone-job", "--job-classname", "org.example.Main", "--fromSavepoint", "s3://sp/savepoint-1", "--allowNonRestoredState", "--input", "x"},
		config: "kubernetes.cluster-id: standalone\nparallelism.default: 2\ntaskmanager.numberOfTaskSlots: 1\nstate.savepoints.dir: s3://sp\n"}
	// Endpoints left over from an earlier cluster of the same name: the
	// simulator must replace their addresses, not skip the write.
	stale := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: c.ns, Name: c.name + "-rest"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "192.0.2.1"}}, Ports: []corev1.EndpointPort{{Name: "rest", Port: 1}}}}}
	if err := member.Client.Create(ctx, stale); err != nil {
		t.Fatal(err)
	}
	create(t, c)
	flink := clientFor(c.name, c.ns)

	waitStandaloneCluster(t, ctx, c)

	eventually(t, "job running", jobIs(ctx, flink, api.JobStatusRUNNING))
	job, _ := onlyJob(ctx, flink)
	if job.Name != "org.example.Main" {
		t.Errorf("job name %q", job.Name)
	}
	stats, err := flink.CheckpointStatistics(ctx, job.Jid)
	if err != nil || stats.Latest.Restored.ExternalPath != "s3://sp/savepoint-1" || !stats.Latest.Restored.IsSavepoint {
		t.Fatalf("restored from %+v, %v", stats.Latest.Restored, err)
	}
	cfg, err := flink.Config(ctx)
	if err != nil || cfg.FlinkVersion != "1.18" {
		t.Fatalf("config %+v, %v", cfg, err)
	}

	// Fewer TaskManagers than the parallelism needs: the job restarts and
	// waits for slots; they come back, it runs again.
	scaleTaskManagers(t, c, 1)
	eventually(t, "one TaskManager pod", func() error { return runningPods(t, c, "taskmanager", 1) })
	eventually(t, "job restarting without slots", jobIs(ctx, flink, api.JobStatusRESTARTING))
	scaleTaskManagers(t, c, 2)
	eventually(t, "job running again", jobIs(ctx, flink, api.JobStatusRUNNING))

	// A new TaskManager template replaces the pods, as a rollout does.
	rollOutTaskManagers(t, ctx, c)
	eventually(t, "job running on the new TaskManagers", jobIs(ctx, flink, api.JobStatusRUNNING))

	// Deleting the JobManager Deployment removes its pods and JobManager.
	deleteDeployment(t, c.ns, c.name)
	eventually(t, "JobManager pods gone", func() error { return runningPods(t, c, "jobmanager", 0) })
	_, err = flink.ListJobs(ctx)
	if !flinkrest.IsNotReady(err) {
		t.Fatalf("JobManager gone, got %v", err)
	}
	eventually(t, "REST endpoints empty", func() error {
		var ep corev1.Endpoints
		if err := member.Client.Get(ctx, types.NamespacedName{Namespace: c.ns, Name: c.name + "-rest"}, &ep); err != nil {
			return err
		}
		if len(ep.Subsets) != 0 {
			return fmt.Errorf("endpoints %+v", ep.Subsets)
		}
		return nil
	})
	deleteDeployment(t, c.ns, c.name+"-taskmanager")
	eventually(t, "TaskManager pods gone", func() error { return runningPods(t, c, "taskmanager", 0) })
}

// TestApplicationFromMissingSavepointFails: an application cluster told to
// start from a savepoint its storage does not hold runs, and its job
// fails to initialize, as Flink's does.
func TestApplicationFromMissingSavepointFails(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	_, clientFor := startSimulator(t, flinksim.Options{Namespace: ns})
	c := cluster{name: "missing-savepoint", ns: ns, tmReplicas: 2,
		args:   []string{"standalone-job", "--job-classname", "org.example.Main", "--fromSavepoint", "s3://sp/savepoint-gone"},
		config: "kubernetes.cluster-id: missing-savepoint\nstate.savepoints.dir: s3://sp\n"}
	create(t, c)
	flink := clientFor(c.name, c.ns)
	waitStandaloneCluster(t, ctx, c)
	eventually(t, "job failed", jobIs(ctx, flink, api.JobStatusFAILED))
	job, _ := onlyJob(ctx, flink)
	ex, err := flink.Exceptions(ctx, job.Jid)
	if err != nil || !strings.Contains(ex.RootException, "Cannot find checkpoint or savepoint file/directory 's3://sp/savepoint-gone'") {
		t.Fatalf("exceptions %+v, %v", ex, err)
	}
}

// waitStandaloneCluster waits until c's pods run, its JobManager
// Deployment's status says so and its REST endpoints are the
// JobManager's.
func waitStandaloneCluster(t *testing.T, ctx context.Context, c cluster) {
	t.Helper()
	eventually(t, "JobManager pod running", func() error { return runningPods(t, c, "jobmanager", 1) })
	eventually(t, "TaskManager pods running", func() error { return runningPods(t, c, "taskmanager", 2) })
	eventually(t, "Deployment status", func() error {
		var d appsv1.Deployment
		if err := member.Client.Get(ctx, types.NamespacedName{Namespace: c.ns, Name: c.name}, &d); err != nil {
			return err
		}
		if d.Status.ReadyReplicas != 1 || d.Status.AvailableReplicas != 1 || d.Status.ObservedGeneration != d.Generation {
			return fmt.Errorf("status %+v", d.Status)
		}
		return nil
	})
	eventually(t, "REST endpoints", func() error {
		var ep corev1.Endpoints
		if err := member.Client.Get(ctx, types.NamespacedName{Namespace: c.ns, Name: c.name + "-rest"}, &ep); err != nil {
			return err
		}
		jm := pods(t, c, "jobmanager")[0]
		if len(ep.Subsets) != 1 || len(ep.Subsets[0].Addresses) != 1 || ep.Subsets[0].Addresses[0].IP != jm.Status.PodIP ||
			ep.Subsets[0].Ports[0].Name != "rest" || ep.Subsets[0].Ports[0].Port != 8081 {
			return fmt.Errorf("endpoints %+v", ep.Subsets)
		}
		return nil
	})
}

// rollOutTaskManagers gives c's TaskManager Deployment a new template and
// waits until new pods replaced the old ones.
func rollOutTaskManagers(t *testing.T, ctx context.Context, c cluster) {
	t.Helper()
	var tm appsv1.Deployment
	if err := member.Client.Get(ctx, types.NamespacedName{Namespace: c.ns, Name: c.name + "-taskmanager"}, &tm); err != nil {
		t.Fatal(err)
	}
	oldPods := map[string]bool{}
	for _, p := range pods(t, c, "taskmanager") {
		oldPods[p.Name] = true
	}
	patch := client.MergeFrom(tm.DeepCopy())
	tm.Spec.Template.Spec.Containers[0].Image = "flink:1.18.1"
	if err := member.Client.Patch(ctx, &tm, patch); err != nil {
		t.Fatal(err)
	}
	eventually(t, "TaskManager pods replaced", func() error {
		for _, p := range pods(t, c, "taskmanager") {
			if oldPods[p.Name] || p.Spec.Containers[0].Image != "flink:1.18.1" {
				return fmt.Errorf("old pod %s still there", p.Name)
			}
		}
		return runningPods(t, c, "taskmanager", 2)
	})
}

func scaleTaskManagers(t *testing.T, c cluster, n int32) {
	t.Helper()
	var d appsv1.Deployment
	if err := member.Client.Get(context.Background(), types.NamespacedName{Namespace: c.ns, Name: c.name + "-taskmanager"}, &d); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(d.DeepCopy())
	d.Spec.Replicas = ptr.To(n)
	if err := member.Client.Patch(context.Background(), &d, patch); err != nil {
		t.Fatal(err)
	}
}

// deleteDeployment deletes a Deployment in the foreground, as the hub
// does, and waits until it is gone: its pods first, then itself.
func deleteDeployment(t *testing.T, ns, name string) {
	t.Helper()
	d := &appsv1.Deployment{}
	d.Namespace, d.Name = ns, name
	if err := member.Client.Delete(context.Background(), d, client.PropagationPolicy(metav1.DeletePropagationForeground)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deployment "+name+" deleted", func() error {
		err := member.Client.Get(context.Background(), client.ObjectKeyFromObject(d), &appsv1.Deployment{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
}

func TestNativeApplicationWithHA(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	sim, clientFor := startSimulator(t, flinksim.Options{Namespace: ns, CheckpointInterval: 100 * time.Millisecond})
	sim.Storage().Write("s3://sp/savepoint-ignored-after-ha")
	c := cluster{name: "native-ha", ns: ns, native: true,
		command: []string{"/docker-entrypoint.sh", "kubernetes-jobmanager.sh", "kubernetes-application"},
		config: `kubernetes.cluster-id: native-ha
parallelism.default: 3
taskmanager.numberOfTaskSlots: 2
high-availability.type: kubernetes
high-availability.storageDir: s3://ha
state.checkpoints.dir: s3://chk
$internal.application.main: org.example.Main
$internal.pipeline.job-id: 00000000000000000000000000000abc
execution.savepoint.path: s3://sp/savepoint-ignored-after-ha
`}
	create(t, c)
	flink := clientFor(c.name, c.ns)

	// The JobManager asks for ceil(3/2) = 2 TaskManager pods.
	waitNativeCluster(t, ctx, flink, c)
	const jobID = "00000000000000000000000000000abc"
	stats, err := flink.CheckpointStatistics(ctx, jobID)
	if err != nil || stats.Latest.Restored.ExternalPath != "s3://sp/savepoint-ignored-after-ha" {
		t.Fatalf("first start should restore the savepoint: %+v, %v", stats.Latest.Restored, err)
	}

	// Checkpoints land in the HA ConfigMaps.
	recordedID := waitHACheckpoint(t, ctx, c, jobID)

	// A JobManager crash: pods gone, a new pod, the job restored from the
	// HA checkpoint, not the savepoint.
	r := crashAndRestoreFromHA(t, ctx, sim, flink, c, jobID, recordedID)

	// A last-state redeploy: the JobManager Deployment is deleted and
	// created again with the same cluster id; the HA ConfigMaps survive and
	// the new job restores from the latest checkpoint.
	redeployLastState(t, ctx, flink, c, jobID, r.Id)

	// Cancelling the job releases its TaskManagers and, the job being
	// globally terminal, Flink cleans up its HA checkpoints.
	if err := flink.CancelJob(ctx, jobID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "TaskManagers released", func() error { return runningPods(t, c, "taskmanager", 0) })
	eventually(t, "job HA metadata cleaned up", func() error {
		err := member.Client.Get(ctx, types.NamespacedName{Namespace: c.ns, Name: flinksim.HAJobConfigMapName(c.name, jobID)}, &corev1.ConfigMap{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("job HA ConfigMap: %v", err)
	})

	// Redeployed without HA checkpoints, the job restores from the
	// configured savepoint again.
	deleteDeployment(t, c.ns, c.name)
	if err := member.Client.Create(ctx, deployment(c, c.name, "jobmanager", 1, c.command, c.args)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "job running after cleanup", jobIs(ctx, flink, api.JobStatusRUNNING))
	stats, err = flink.CheckpointStatistics(ctx, jobID)
	if err != nil || stats.Latest.Restored.ExternalPath != "s3://sp/savepoint-ignored-after-ha" {
		t.Fatalf("restored from %+v, %v; want the savepoint", stats.Latest.Restored, err)
	}

	// Deleting the JobManager Deployment deletes everything it owns.
	deleteDeployment(t, c.ns, c.name)
	eventually(t, "pods gone", func() error {
		if err := runningPods(t, c, "jobmanager", 0); err != nil {
			return err
		}
		return runningPods(t, c, "taskmanager", 0)
	})
}

// waitNativeCluster waits until c's job runs on two native TaskManager
// pods, which its JobManager Deployment owns without counting them as
// replicas.
func waitNativeCluster(t *testing.T, ctx context.Context, flink flinkrest.Client, c cluster) {
	t.Helper()
	eventually(t, "native TaskManager pods", func() error { return runningPods(t, c, "taskmanager", 2) })
	for _, p := range pods(t, c, "taskmanager") {
		owner := p.OwnerReferences
		if p.Labels["type"] != "flink-native-kubernetes" || len(owner) != 1 || owner[0].Name != c.name || owner[0].Kind != "Deployment" {
			t.Fatalf("TaskManager pod %s: labels %v, owners %v", p.Name, p.Labels, owner)
		}
	}
	eventually(t, "job running", jobIs(ctx, flink, api.JobStatusRUNNING))
	// TaskManager pods share the JobManager Deployment as owner but are not
	// its replicas.
	eventually(t, "JobManager Deployment status", func() error {
		var d appsv1.Deployment
		if err := member.Client.Get(ctx, types.NamespacedName{Namespace: c.ns, Name: c.name}, &d); err != nil {
			return err
		}
		if d.Status.Replicas != 1 || d.Status.ReadyReplicas != 1 || d.Status.UpdatedReplicas != 1 {
			return fmt.Errorf("status %+v", d.Status)
		}
		return nil
	})
	if err := runningPods(t, c, "taskmanager", 2); err != nil {
		t.Fatal(err)
	}
}

// waitHACheckpoint waits until a checkpoint of jobID is recorded in c's
// job HA ConfigMap, checks that the cluster's leader ConfigMap exists and
// returns the checkpoint's id.
func waitHACheckpoint(t *testing.T, ctx context.Context, c cluster, jobID string) int64 {
	t.Helper()
	var recorded struct {
		ID   int64  `json:"id"`
		Path string `json:"path"`
	}
	eventually(t, "HA checkpoint recorded", func() error {
		var cm corev1.ConfigMap
		if err := member.Client.Get(ctx, types.NamespacedName{Namespace: c.ns, Name: flinksim.HAJobConfigMapName(c.name, jobID)}, &cm); err != nil {
			return err
		}
		if cm.Labels["configmap-type"] != "high-availability" || cm.Labels["app"] != c.name {
			return fmt.Errorf("labels %v", cm.Labels)
		}
		for k, v := range cm.Data {
			if strings.HasPrefix(k, "checkpointID-") {
				return json.Unmarshal([]byte(v), &recorded)
			}
		}
		return fmt.Errorf("no checkpoint in %v", cm.Data)
	})
	var leader corev1.ConfigMap
	if err := member.Client.Get(ctx, types.NamespacedName{Namespace: c.ns, Name: flinksim.HAClusterConfigMapName(c.name)}, &leader); err != nil {
		t.Fatal(err)
	}
	return recorded.ID
}

// crashAndRestoreFromHA crashes c's JobManager and checks that the job
// runs again restored from an HA checkpoint, at least recordedID, not the
// savepoint. It returns what the job was restored from.
func crashAndRestoreFromHA(t *testing.T, ctx context.Context, sim *flinksim.Simulator, flink flinkrest.Client, c cluster, jobID string, recordedID int64) api.RestoredCheckpointStatistics {
	t.Helper()
	before := pods(t, c, "jobmanager")[0].UID
	if err := sim.Crash(ctx, "m1", c.ns, c.name); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new JobManager pod", func() error {
		ps := pods(t, c, "jobmanager")
		if len(ps) != 1 || ps[0].UID == before {
			return fmt.Errorf("JobManager pod not replaced")
		}
		return runningPods(t, c, "jobmanager", 1)
	})
	eventually(t, "job running after crash", jobIs(ctx, flink, api.JobStatusRUNNING))
	stats, err := flink.CheckpointStatistics(ctx, jobID)
	if err != nil {
		t.Fatal(err)
	}
	r := stats.Latest.Restored
	if r.IsSavepoint || r.Id < recordedID || !strings.HasPrefix(r.ExternalPath, "s3://chk/"+jobID+"/chk-") {
		t.Fatalf("restored from %+v, want an HA checkpoint at least %d", r, recordedID)
	}
	return r
}

// redeployLastState waits for a checkpoint after restoredID, deletes and
// creates c's JobManager Deployment again and checks that the job restores
// from a checkpoint after restoredID.
func redeployLastState(t *testing.T, ctx context.Context, flink flinkrest.Client, c cluster, jobID string, restoredID int64) {
	t.Helper()
	eventually(t, "a newer HA checkpoint", func() error {
		st, err := flink.CheckpointStatistics(ctx, jobID)
		if err != nil || st.Latest.Completed.Id <= restoredID {
			return fmt.Errorf("latest checkpoint %+v, %v", st.Latest.Completed, err)
		}
		return nil
	})
	deleteDeployment(t, c.ns, c.name)
	eventually(t, "JobManager gone", func() error { return runningPods(t, c, "jobmanager", 0) })
	if err := member.Client.Create(ctx, deployment(c, c.name, "jobmanager", 1, c.command, c.args)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "job running after redeploy", jobIs(ctx, flink, api.JobStatusRUNNING))
	stats, err := flink.CheckpointStatistics(ctx, jobID)
	if err != nil || stats.Latest.Restored.IsSavepoint || stats.Latest.Restored.Id <= restoredID {
		t.Fatalf("redeploy restored from %+v (%v), want a checkpoint after %d", stats.Latest.Restored, err, restoredID)
	}
}

func TestSessionJobsRecoverFromHA(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	sim, clientFor := startSimulator(t, flinksim.Options{Namespace: ns, CheckpointInterval: 100 * time.Millisecond})
	c := nativeCluster("session-ha", ns, "kubernetes-session", "high-availability.type: kubernetes\nhigh-availability.storageDir: s3://ha\nstate.checkpoints.dir: s3://chk\n")
	create(t, c)
	flink := clientFor(c.name, ns)
	eventually(t, "session REST", func() error { _, err := flink.Config(ctx); return err })
	_, jobID := runJar(t, ctx, flink, "PK", api.JarRunRequestBody{EntryClass: "org.example.Session"})
	eventually(t, "an HA checkpoint", func() error {
		var cm corev1.ConfigMap
		return member.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: flinksim.HAJobConfigMapName(c.name, jobID)}, &cm)
	})
	if err := sim.Crash(ctx, "m1", ns, c.name); err != nil {
		t.Fatal(err)
	}
	eventually(t, "job recovered", jobIs(ctx, flink, api.JobStatusRUNNING))
	stats, err := flink.CheckpointStatistics(ctx, jobID)
	if err != nil || stats.Latest.Restored.IsSavepoint || !strings.HasPrefix(stats.Latest.Restored.ExternalPath, "s3://chk/"+jobID+"/chk-") {
		t.Fatalf("recovered job restored from %+v, %v", stats.Latest.Restored, err)
	}
	if d, err := flink.JobDetails(ctx, jobID); err != nil || d.Name != "org.example.Session" {
		t.Fatalf("recovered job %+v, %v", d, err)
	}

	// A cancelled job is not recovered again.
	if err := flink.CancelJob(ctx, jobID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "job cancelled", jobIs(ctx, flink, api.JobStatusCANCELED))
	eventually(t, "job graph removed", func() error {
		var cm corev1.ConfigMap
		if err := member.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: flinksim.HAClusterConfigMapName(c.name)}, &cm); err != nil {
			return err
		}
		for k := range cm.Data {
			if strings.HasPrefix(k, "jobGraph-") {
				return fmt.Errorf("still stored: %s", k)
			}
		}
		return nil
	})
	if err := sim.Crash(ctx, "m1", ns, c.name); err != nil {
		t.Fatal(err)
	}
	eventually(t, "session REST after the crash", func() error {
		jobs, err := flink.ListJobs(ctx)
		if err == nil && len(jobs) != 0 {
			err = fmt.Errorf("jobs %+v after restart", jobs)
		}
		return err
	})
}

func TestNativeSessionCluster(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	sim, clientFor := startSimulator(t, flinksim.Options{Namespace: ns})
	c := nativeCluster("session", ns, "kubernetes-session", "taskmanager.numberOfTaskSlots: 1\n")
	create(t, c)
	flink := clientFor(c.name, c.ns)
	eventually(t, "JobManager ready", func() error { return runningPods(t, c, "jobmanager", 1) })
	if jobs, err := flink.ListJobs(ctx); err != nil || len(jobs) != 0 {
		t.Fatalf("session cluster jobs %v, %v", jobs, err)
	}
	if n := len(pods(t, c, "taskmanager")); n != 0 {
		t.Fatalf("%d TaskManagers without jobs", n)
	}
	_, jobID := runJar(t, ctx, flink, "PK", api.JarRunRequestBody{Parallelism: 2})
	eventually(t, "TaskManagers for the job", func() error { return runningPods(t, c, "taskmanager", 2) })
	eventually(t, "job running", jobIs(ctx, flink, api.JobStatusRUNNING))

	// Injected faults reach the client through the simulator.
	sim.JobManager("m1", c.ns, c.name).SetFaults(jobmanager.Faults{ErrorStatus: 503})
	if _, err := flink.JobDetails(ctx, jobID); !flinkrest.IsNotReady(err) {
		t.Fatalf("injected 503 gave %v", err)
	}
}

// TestMissingConfigurationIsRetried checks that a JobManager whose
// configuration is missing stays not ready and starts once it appears.
func TestMissingConfigurationIsRetried(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	_, clientFor := startSimulator(t, flinksim.Options{Namespace: ns})
	c := nativeCluster("late", ns, "kubernetes-session", "")
	d := deployment(c, c.name, "jobmanager", 1, c.command, nil)
	if err := member.Client.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pod running, not ready", func() error {
		err := runningPods(t, c, "jobmanager", 1)
		if err == nil || !strings.Contains(err.Error(), "ready false") {
			return fmt.Errorf("want a running, unready pod: %v", err)
		}
		return nil
	})
	cm := &corev1.ConfigMap{Data: map[string]string{"flink-conf.yaml": "taskmanager.numberOfTaskSlots: 1\n"}}
	cm.Namespace, cm.Name = c.ns, "flink-config-"+c.name
	if err := member.Client.Create(ctx, cm); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	eventually(t, "JobManager ready", func() error { return runningPods(t, c, "jobmanager", 1) })
	if _, err := clientFor(c.name, c.ns).Config(ctx); err != nil {
		t.Fatal(err)
	}
}
