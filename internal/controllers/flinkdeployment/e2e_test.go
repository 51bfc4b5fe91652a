package flinkdeployment_test

import (
	"context"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"k8s.io/apimachinery/pkg/api/meta"
)

// namespace creates a namespace with the "flink" service account the
// examples run as.
func namespace(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	c := fleet.Members[0].Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "flink"}}
	if err := c.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func get(ctx context.Context, fd *v1beta1.FlinkDeployment) (*v1beta1.FlinkDeployment, error) {
	out := &v1beta1.FlinkDeployment{}
	return out, fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), out)
}

// waitFor polls fd until cond holds, failing with the last status seen.
func waitFor(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment, timeout time.Duration, what string, cond func(*v1beta1.FlinkDeployment) bool) *v1beta1.FlinkDeployment {
	t.Helper()
	var last *v1beta1.FlinkDeployment
	err := framework.Eventually(ctx, timeout, func(ctx context.Context) (bool, error) {
		got, err := get(ctx, fd)
		if err != nil {
			return false, err
		}
		last = got
		return cond(got), nil
	})
	if err != nil {
		status := "none"
		if last != nil {
			status = fmt.Sprintf("%+v", last.Status)
		}
		t.Fatalf("%s/%s: %s: %v; generation %d; last status: %s", fd.Namespace, fd.Name, what, err, last.Generation, status)
	}
	return last
}

func running(fd *v1beta1.FlinkDeployment) bool {
	st := fd.Status
	if st.JobManagerDeploymentStatus != v1beta1.JobManagerReady || st.LifecycleState != v1beta1.LifecycleStable {
		return false
	}
	return fd.Spec.Job == nil || st.JobStatus.State == v1beta1.JobRunning
}

// TestExamplesDeployInBothModes applies every upstream example and the
// full-spec one in native and standalone mode and waits for READY, RUNNING and STABLE; then deletes
// them and waits until everything the hub created is gone.
func TestExamplesDeployInBothModes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	fds := createExamples(t, ctx)
	var wg sync.WaitGroup
	for _, fd := range fds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(fd.Name, func(t *testing.T) {
				got := waitFor(t, ctx, fd, 2*time.Minute, "READY, RUNNING and STABLE", running)
				checkStatus(t, got)
				checkMemberObjects(t, ctx, got)
				if got.Spec.Job != nil {
					awaitEvent(t, ctx, got, flinkdeployment.ReasonJobStatusChanged)
				}
			})
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	deleteAndCheckCleanup(t, ctx, fds)
}

// createExamples creates every upstream example in native and standalone
// mode in the namespace examples, and the basic example taking its job
// from the image's classpath; it returns them.
func createExamples(t *testing.T, ctx context.Context) []*v1beta1.FlinkDeployment {
	t.Helper()
	all, err := examples.Load()
	if err != nil {
		t.Fatal(err)
	}
	// And the full-spec example: every Flink pod setting, which the member
	// apiserver must accept on the objects the hub builds.
	full, err := examples.LoadFullSpec()
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, full...)
	namespace(t, ctx, "examples")
	var fds []*v1beta1.FlinkDeployment
	for _, ex := range all {
		for _, mode := range []v1beta1.KubernetesDeploymentMode{v1beta1.ModeNative, v1beta1.ModeStandalone} {
			fd := ex.Typed.DeepCopy()
			fd.Namespace = "examples"
			fd.Name = fd.Name + "-" + string(mode)[:3]
			fd.Spec.Mode = mode
			if err := fleet.Members[0].Client.Create(ctx, fd); err != nil {
				t.Fatalf("create %s: %v", fd.Name, err)
			}
			fds = append(fds, fd)
		}
	}
	// An application whose job comes from the image's classpath: no jarURI.
	for _, ex := range all {
		if ex.Name == "basic/basic-example" {
			fd := ex.Typed.DeepCopy()
			fd.Namespace, fd.Name = "examples", "classpath-job"
			fd.Spec.Job.JarURI = ""
			fd.Spec.Job.EntryClass = "org.apache.flink.streaming.examples.statemachine.StateMachineExample"
			if err := fleet.Members[0].Client.Create(ctx, fd); err != nil {
				t.Fatalf("create %s: %v", fd.Name, err)
			}
			fds = append(fds, fd)
		}
	}
	return fds
}

// deleteAndCheckCleanup deletes fds, waits until they are gone and checks
// that nothing the hub created is left in the namespace examples.
func deleteAndCheckCleanup(t *testing.T, ctx context.Context, fds []*v1beta1.FlinkDeployment) {
	t.Helper()
	for _, fd := range fds {
		if err := fleet.Members[0].Client.Delete(ctx, fd); err != nil {
			t.Fatal(err)
		}
	}
	for _, fd := range fds {
		err := framework.Eventually(ctx, time.Minute, func(ctx context.Context) (bool, error) {
			_, err := get(ctx, fd)
			return apierrors.IsNotFound(err), nil
		})
		if err != nil {
			t.Fatalf("%s not deleted: %v", fd.Name, err)
		}
	}
	// Nothing the hub created is left behind.
	c := fleet.Members[0].Client
	hubObjects := client.MatchingLabels{deployer.LabelManagedBy: deployer.ManagedByHub}
	for _, list := range []client.ObjectList{&appsv1.DeploymentList{}, &corev1.ServiceList{}, &corev1.ConfigMapList{}} {
		if err := c.List(ctx, list, client.InNamespace("examples"), hubObjects); err != nil {
			t.Fatal(err)
		}
		if n := len(itemsOf(list)); n != 0 {
			t.Errorf("%T: %d objects left after deletion: %v", list, n, itemsOf(list))
		}
	}
	var pods corev1.PodList
	if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		err := c.List(ctx, &pods, client.InNamespace("examples"))
		return err == nil && len(pods.Items) == 0, err
	}); err != nil {
		t.Errorf("pods left after deletion: %d", len(pods.Items))
	}
}

func itemsOf(list client.ObjectList) []string {
	var names []string
	switch l := list.(type) {
	case *appsv1.DeploymentList:
		for _, i := range l.Items {
			names = append(names, i.Name)
		}
	case *corev1.ServiceList:
		for _, i := range l.Items {
			names = append(names, i.Name)
		}
	case *corev1.ConfigMapList:
		for _, i := range l.Items {
			names = append(names, i.Name)
		}
	}
	return names
}

func checkStatus(t *testing.T, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	st := fd.Status
	rs := st.ReconciliationStatus
	if rs.LastReconciledSpec == "" || rs.LastStableSpec != rs.LastReconciledSpec || rs.State != v1beta1.ReconciliationDeployed {
		t.Errorf("reconciliation status %+v", rs)
	}
	if !strings.HasPrefix(rs.LastReconciledSpec, `{"spec":{`) || !strings.Contains(rs.LastReconciledSpec, `"resource_metadata":{"apiVersion":"flink.apache.org/v1beta1","firstDeployment":true}`) {
		t.Errorf("lastReconciledSpec not in upstream's format: %s", rs.LastReconciledSpec)
	}
	if st.ObservedGeneration != fd.Generation {
		t.Errorf("observedGeneration %d, generation %d", st.ObservedGeneration, fd.Generation)
	}
	if st.TaskManager == nil || st.TaskManager.LabelSelector == "" || st.TaskManager.Replicas < 1 {
		t.Errorf("taskManager status %+v", st.TaskManager)
	}
	if fd.Spec.Job != nil && (st.JobStatus.JobID == "" || st.JobStatus.StartTime == "" || st.JobStatus.UpdateTime == "") {
		t.Errorf("job status %+v", st.JobStatus)
	}
	if st.ClusterInfo["flink-version"] == "" {
		t.Errorf("clusterInfo %v", st.ClusterInfo)
	}
	cpu, cpuErr := strconv.ParseFloat(st.ClusterInfo["total-cpu"], 64)
	memory, memErr := strconv.ParseInt(st.ClusterInfo["total-memory"], 10, 64)
	if cpuErr != nil || memErr != nil || cpu <= 0 || memory < int64(st.TaskManager.Replicas)<<20 {
		t.Errorf("clusterInfo totals %v: want the cluster's CPU and memory in bytes", st.ClusterInfo)
	}
	if st.Error != "" {
		t.Errorf("error %q on a running deployment", st.Error)
	}
	running := meta.FindStatusCondition(st.Conditions, flinkdeployment.ConditionRunning)
	wantRunning := metav1.Condition{Type: flinkdeployment.ConditionRunning, Status: metav1.ConditionTrue, Reason: "JobManagerReady"}
	if fd.Spec.Job != nil {
		wantRunning.Reason = string(v1beta1.JobRunning)
	}
	if running == nil || running.Status != wantRunning.Status || running.Reason != wantRunning.Reason {
		t.Errorf("Running condition %+v, want %s for %s", running, wantRunning.Status, wantRunning.Reason)
	}
}

func checkMemberObjects(t *testing.T, ctx context.Context, fd *v1beta1.FlinkDeployment) {
	t.Helper()
	c := fleet.Members[0].Client
	jm := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: fd.Name}, jm); err != nil {
		t.Fatalf("JobManager deployment: %v", err)
	}
	wantType := deployer.TypeNative
	if fd.Spec.Mode == v1beta1.ModeStandalone {
		wantType = deployer.TypeStandalone
		tm := &appsv1.Deployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: fd.Namespace, Name: fd.Name + "-taskmanager"}, tm); err != nil {
			t.Fatalf("TaskManager deployment: %v", err)
		}
	}
	if jm.Labels[deployer.LabelType] != wantType || jm.Labels[deployer.LabelComponent] != deployer.ComponentJobManager {
		t.Errorf("JobManager labels %v", jm.Labels)
	}
	if ref := metav1.GetControllerOf(jm); ref == nil || ref.UID != fd.UID {
		t.Errorf("JobManager deployment not owned by the FlinkDeployment: %v", jm.OwnerReferences)
	}
	var tmPods corev1.PodList
	if err := c.List(ctx, &tmPods, client.InNamespace(fd.Namespace), client.MatchingLabels{deployer.LabelApp: fd.Name, deployer.LabelComponent: deployer.ComponentTaskManager}); err != nil {
		t.Fatal(err)
	}
	// A native session cluster has no TaskManagers until a job asks for
	// slots; every other cluster has them once running.
	nativeSession := fd.Spec.Job == nil && fd.Spec.Mode != v1beta1.ModeStandalone
	if len(tmPods.Items) == 0 && !nativeSession {
		t.Errorf("no TaskManager pods for %s", fd.Name)
	}
}

// TestInvalidSpecIsReportedAndTouchesNothing: a spec the CRD accepts but
// the rules refuse gets status.error and a Warning event; nothing is
// deployed; and an invalid change to a running deployment leaves it running.
func TestInvalidSpecIsReportedAndTouchesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	namespace(t, ctx, "invalid")
	c := fleet.Members[0].Client
	basic, err := examples.Named("basic/basic-example")
	if err != nil {
		t.Fatal(err)
	}
	basic.Namespace = "invalid"

	bad := basic.DeepCopy()
	bad.Name = "forbidden-key"
	bad.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"kubernetes.namespace": "elsewhere"}`)}
	if err := c.Create(ctx, bad); err != nil {
		t.Fatal(err)
	}
	got := waitFor(t, ctx, bad, time.Minute, "status.error", func(fd *v1beta1.FlinkDeployment) bool { return fd.Status.Error != "" })
	if !strings.Contains(failure(got).Message, "spec.flinkConfiguration[kubernetes.namespace]") {
		t.Errorf("error does not name the field: %q", failure(got).Message)
	}
	if got.Status.LifecycleState != v1beta1.LifecycleFailed || got.Status.ReconciliationStatus.LastReconciledSpec != "" {
		t.Errorf("an invalid new deployment is FAILED and never reconciled: %+v", got.Status)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "invalid", Name: bad.Name}, &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Errorf("an invalid spec was deployed: %v", err)
	}
	if err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		var evs eventsv1.EventList
		if err := c.List(ctx, &evs, client.InNamespace("invalid")); err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == bad.Name && e.Type == corev1.EventTypeWarning && e.Reason == "ValidationError" {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Errorf("no Warning event: %v", err)
	}

	good := basic.DeepCopy()
	good.Name = "then-broken"
	if err := c.Create(ctx, good); err != nil {
		t.Fatal(err)
	}
	stable := waitFor(t, ctx, good, 2*time.Minute, "running", running)
	jobID := stable.Status.JobStatus.JobID
	jm := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "invalid", Name: good.Name}, jm); err != nil {
		t.Fatal(err)
	}
	// parallelism 0 is accepted by the CRD and refused by the rules.
	if err := c.Patch(ctx, stable.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"spec":{"job":{"parallelism":0}}}`))); err != nil {
		t.Fatal(err)
	}
	broken := waitFor(t, ctx, good, time.Minute, "status.error", func(fd *v1beta1.FlinkDeployment) bool { return fd.Status.Error != "" })
	if !strings.Contains(failure(broken).Message, "spec.job.parallelism") {
		t.Errorf("error %q", failure(broken).Message)
	}
	if broken.Status.ReconciliationStatus.LastReconciledSpec != stable.Status.ReconciliationStatus.LastReconciledSpec {
		t.Error("an invalid change was recorded as reconciled")
	}
	after := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "invalid", Name: good.Name}, after); err != nil {
		t.Fatal(err)
	}
	if after.Generation != jm.Generation || after.UID != jm.UID {
		t.Errorf("the running JobManager deployment was touched: generation %d -> %d", jm.Generation, after.Generation)
	}
	if broken.Status.JobStatus.JobID != jobID || broken.Status.JobStatus.State != v1beta1.JobRunning {
		t.Errorf("the running job was touched: %+v", broken.Status.JobStatus)
	}
}
