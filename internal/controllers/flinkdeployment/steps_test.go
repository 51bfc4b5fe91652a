package flinkdeployment

import (
	"context"
	"errors"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/clusterhealth"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/deployer/native"
	"github.com/flink-hub/flink-hub/internal/deployer/standalone"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// fakeMember is a member cluster made of controller-runtime's fake client
// (also its API reader) and an event recorder that keeps the events.
type fakeMember struct {
	clientCluster
	events *events.FakeRecorder
}

func (m fakeMember) GetAPIReader() client.Reader                  { return m.c }
func (m fakeMember) GetConfig() *rest.Config                      { return &rest.Config{} }
func (m fakeMember) GetEventRecorder(string) events.EventRecorder { return m.events }

// fakeFlink is a JobManager: it records the calls the steps make and
// answers savepoint polls with savepoint.
type fakeFlink struct {
	flinkrest.Client // every method not below panics
	calls            []string
	savepoint        flinkrest.OperationStatus
	savepointErr     error
	stopErr          error // answers StopWithSavepoint
	checkpointErr    error
	// stats and statsErr answer CheckpointStatistics; neither set: an
	// error.
	stats    *api.CheckpointingStatistics
	statsErr error
	// requirements and requirementsErr answer ResourceRequirements;
	// updateErr answers UpdateResourceRequirements, whose requirements
	// go to onUpdate when it succeeds. A call made with a context done
	// fails as flinkrest's do.
	requirements    map[string]flinkrest.VertexParallelism
	requirementsErr error
	updateErr       error
	onUpdate        func(map[string]flinkrest.VertexParallelism)
}

func (f *fakeFlink) ResourceRequirements(ctx context.Context, _ string) (map[string]flinkrest.VertexParallelism, error) {
	f.calls = append(f.calls, "ResourceRequirements")
	if err := ctx.Err(); err != nil {
		return nil, &flinkrest.Error{Kind: flinkrest.KindTimeout, Op: "getJobResourceRequirements", Err: err}
	}
	return maps.Clone(f.requirements), f.requirementsErr
}

func (f *fakeFlink) UpdateResourceRequirements(ctx context.Context, _ string, reqs map[string]flinkrest.VertexParallelism) error {
	f.calls = append(f.calls, "UpdateResourceRequirements")
	if err := ctx.Err(); err != nil {
		return &flinkrest.Error{Kind: flinkrest.KindTimeout, Op: "updateJobResourceRequirements", Err: err}
	}
	if f.updateErr == nil && f.onUpdate != nil {
		f.onUpdate(maps.Clone(reqs))
	}
	return f.updateErr
}

func (f *fakeFlink) CheckpointStatus(context.Context, string, string) (flinkrest.OperationStatus, error) {
	f.calls = append(f.calls, "CheckpointStatus")
	return flinkrest.OperationStatus{}, f.checkpointErr
}

func (f *fakeFlink) CancelJob(context.Context, string) error {
	f.calls = append(f.calls, "CancelJob")
	return nil
}

func (f *fakeFlink) StopWithSavepoint(_ context.Context, _ string, req flinkrest.SavepointRequest) (string, error) {
	f.calls = append(f.calls, "StopWithSavepoint")
	return req.TriggerID, f.stopErr
}

func (f *fakeFlink) TriggerSavepoint(_ context.Context, _ string, req flinkrest.SavepointRequest) (string, error) {
	f.calls = append(f.calls, "TriggerSavepoint")
	return req.TriggerID, nil
}

func (f *fakeFlink) SavepointStatus(context.Context, string, string) (flinkrest.OperationStatus, error) {
	f.calls = append(f.calls, "SavepointStatus")
	return f.savepoint, f.savepointErr
}

func (f *fakeFlink) TriggerCheckpoint(context.Context, string, flinkrest.CheckpointRequest) (string, error) {
	f.calls = append(f.calls, "TriggerCheckpoint")
	return "checkpoint-trigger", nil
}

func (f *fakeFlink) DisposeSavepoint(context.Context, string) (string, error) {
	f.calls = append(f.calls, "DisposeSavepoint")
	return "disposal-trigger", nil
}

func (f *fakeFlink) DisposalStatus(context.Context, string) (flinkrest.OperationStatus, error) {
	f.calls = append(f.calls, "DisposalStatus")
	return flinkrest.OperationStatus{Done: true}, nil
}

func (f *fakeFlink) UploadJar(context.Context, string, io.Reader) (string, error) {
	return "", errors.New("not a session cluster")
}

func (f *fakeFlink) CheckpointStatistics(context.Context, string) (*api.CheckpointingStatistics, error) {
	f.calls = append(f.calls, "CheckpointStatistics")
	if f.stats == nil && f.statsErr == nil {
		return nil, errors.New("no statistics")
	}
	return f.stats, f.statsErr
}

// stepCase is one reconcileSpec run: a FlinkDeployment (spec, status) and
// member objects, what the JobManager answers, and what must come out.
type stepCase struct {
	name    string
	spec    *v1beta1.FlinkDeploymentSpec
	last    *v1beta1.FlinkDeploymentSpec // nil before the first deployment
	status  func(*v1beta1.FlinkDeploymentStatus)
	jobRuns bool // a JobManager Deployment exists
	haData  bool // Flink's HA metadata holds a checkpoint
	flink   fakeFlink
	wantErr string // "" for success; else the error's kind: waiting, stalling, or any
	// ctx, when set, is the reconcile's context (context.Background()
	// otherwise).
	ctx context.Context
	// wantAfter, when set, bounds the waiting error's delay: above
	// wantAfter/2, at most wantAfter.
	wantAfter time.Duration
	wantCalls []string
	// report, when set, runs the report (stable spec, observed
	// generation) after the steps, as the reconcile does.
	report bool
	check  func(t *testing.T, fd *v1beta1.FlinkDeployment, c client.Client)
}

func stepScheme(t *testing.T) *runtime.Scheme {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1beta1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return scheme
}

// runStepCase builds the member and runs one reconcileSpec.
func runStepCase(t *testing.T, tc stepCase) {
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "fd", UID: "uid-1", Generation: 2}, Spec: *tc.spec}
	if tc.last != nil {
		enc, err := plan.EncodeSpec(tc.last, false)
		if err != nil {
			t.Fatal(err)
		}
		fd.Status.ReconciliationStatus = v1beta1.ReconciliationStatus{State: v1beta1.ReconciliationDeployed, LastReconciledSpec: enc, ReconciliationTimestamp: time.Now().UnixMilli()}
	}
	if tc.status != nil {
		tc.status(&fd.Status)
	}
	objs := []client.Object{fd.DeepCopy()}
	var jm *appsv1.Deployment
	if tc.jobRuns {
		jm = &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: deployer.JobManagerDeploymentName(fd),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: v1beta1.GroupVersion.String(), Kind: "FlinkDeployment", Name: fd.Name, UID: fd.UID}}}}
		objs = append(objs, jm)
	}
	if tc.haData {
		objs = append(objs, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "fd-0000-config-map", Labels: deployer.HALabels(fd)}})
	}
	c := fake.NewClientBuilder().WithScheme(stepScheme(t)).WithObjects(objs...).WithStatusSubresource(&v1beta1.FlinkDeployment{}).Build()
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(fd), fd); err != nil {
		t.Fatal(err)
	}
	member := fakeMember{clientCluster: clientCluster{c: c}, events: events.NewFakeRecorder(100)}
	r := &Reconciler{
		Deployers:   map[v1beta1.KubernetesDeploymentMode]deployer.Deployer{v1beta1.ModeNative: native.New(), v1beta1.ModeStandalone: standalone.New()},
		JobManagers: func(string, *rest.Config, *v1beta1.FlinkDeployment) (flinkrest.Client, error) { return &tc.flink, nil },
		Options:     DefaultOptions(),
	}
	r.Options.FieldOwner = "flink-hub"
	s := &state{cluster: member, clusterName: "m1", fd: fd, written: fd.DeepCopy(), jobManager: jm, problem: currentProblem(fd), next: r.Options.ReconcileInterval}
	if s.lastSpec, _, _ = plan.DecodeSpec(fd.Status.ReconciliationStatus.LastReconciledSpec); s.lastSpec == nil && tc.last != nil {
		t.Fatal("last spec not recorded")
	}
	ctx := tc.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	err := r.reconcileSpec(ctx, s)
	checkStepError(t, err, tc.wantErr)
	var w *requeue.WaitingError
	if tc.wantAfter > 0 && errors.As(err, &w) && (w.After() <= tc.wantAfter/2 || w.After() > tc.wantAfter) {
		t.Errorf("looks again after %s, want at most %s", w.After(), tc.wantAfter)
	}
	if !slices.Equal(tc.flink.calls, tc.wantCalls) {
		t.Errorf("Flink calls %v, want %v", tc.flink.calls, tc.wantCalls)
	}
	if tc.report {
		if err := r.report(context.Background(), s); err != nil {
			t.Fatalf("report: %v", err)
		}
	}
	if err := r.persist(context.Background(), s); err != nil {
		t.Fatalf("persist: %v", err)
	}
	got := &v1beta1.FlinkDeployment{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(fd), got); err != nil {
		t.Fatal(err)
	}
	if tc.check != nil {
		tc.check(t, got, c)
	}
}

func checkStepError(t *testing.T, err error, want string) {
	t.Helper()
	var w *requeue.WaitingError
	var s *requeue.StallingError
	switch {
	case want == "" && err != nil:
		t.Fatalf("step failed: %v", err)
	case want == "waiting" && !errors.As(err, &w):
		t.Fatalf("error %v, want a waiting error", err)
	case want == "stalling" && !errors.As(err, &s):
		t.Fatalf("error %v, want a stalling error", err)
	case want == "any" && err == nil:
		t.Fatal("no error, want one")
	}
}

// reconciledSpec is the spec got's status records as reconciled.
func reconciledSpec(t *testing.T, got *v1beta1.FlinkDeployment) *v1beta1.FlinkDeploymentSpec {
	t.Helper()
	spec, _, err := plan.DecodeSpec(got.Status.ReconciliationStatus.LastReconciledSpec)
	if err != nil || spec == nil {
		t.Fatalf("lastReconciledSpec %q: %v", got.Status.ReconciliationStatus.LastReconciledSpec, err)
	}
	return spec
}

func jobManagerExists(t *testing.T, c client.Client) bool {
	t.Helper()
	err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: "fd"}, &appsv1.Deployment{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

func haMetadataExists(t *testing.T, c client.Client) bool {
	t.Helper()
	var list corev1.ConfigMapList
	if err := c.List(context.Background(), &list, client.InNamespace("ns")); err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(list.Items, func(cm corev1.ConfigMap) bool { return cm.Name == "fd-0000-config-map" })
}

func stepSpec(mode v1beta1.UpgradeMode, conf string) *v1beta1.FlinkDeploymentSpec {
	return &v1beta1.FlinkDeploymentSpec{
		Image: "flink:2.2", FlinkVersion: "v2_2", ServiceAccount: ptr.To("flink"),
		FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(conf)},
		JobManager:         &v1beta1.JobManagerSpec{Resource: &v1beta1.Resource{Memory: "1g", CPU: ptrFloat(1)}},
		TaskManager:        &v1beta1.TaskManagerSpec{Resource: &v1beta1.Resource{Memory: "1g", CPU: ptrFloat(1)}},
		Job:                &v1beta1.JobSpec{JarURI: "local:///opt/flink/job.jar", Parallelism: 2, UpgradeMode: mode},
	}
}

func ptrFloat(f float64) *float64 { return &f }

func ptrInt64(i int64) *int64 { return &i }

// deployedFrom reports whether the deployed Flink configuration restores
// the job from path.
func deployedFrom(t *testing.T, c client.Client, path string) bool {
	t.Helper()
	var list corev1.ConfigMapList
	if err := c.List(context.Background(), &list, client.InNamespace("ns")); err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(list.Items, func(cm corev1.ConfigMap) bool {
		return slices.ContainsFunc(slices.Collect(maps.Values(cm.Data)), func(v string) bool { return strings.Contains(v, path) })
	})
}

func changedParallelism(spec *v1beta1.FlinkDeploymentSpec) *v1beta1.FlinkDeploymentSpec {
	c := spec.DeepCopy()
	c.Job.Parallelism = 3
	return c
}

func runningJob(st *v1beta1.FlinkDeploymentStatus) {
	st.JobManagerDeploymentStatus = v1beta1.JobManagerReady
	st.JobStatus = v1beta1.JobStatus{State: v1beta1.JobRunning, JobID: "0123456789abcdef0123456789abcdef"}
}

func upgradingJob(st *v1beta1.FlinkDeploymentStatus) {
	runningJob(st)
	st.ReconciliationStatus.State = v1beta1.ReconciliationUpgrading
}

const stepHAConf = `{"high-availability.type":"kubernetes","high-availability.storageDir":"file:///ha","state.savepoints.dir":"file:///sp"}`

func TestSteps(t *testing.T) {
	for _, tc := range slices.Concat(
		savepointUpgradeStepCases(),
		upgradeModeStepCases(),
		suspendAndRecoveryStepCases(),
		jobManagerGoneStepCases(),
		lostTriggerStepCases(),
		heldSpecChangeStepCases(),
		endedJobStepCases(),
		canceledJobStepCases(),
		cancelledForLastStateStepCases(),
		keptLatestStepCases(),
		rolledBackStepCases(t),
		rolledBackUpgradeStepCases(t),
		rolledBackSnapshotStepCases(t),
		rolledBackUpkeepStepCases(t),
		ignoredChangeStepCases(t),
		pendingNonceStepCases(t),
		aheadOfSavepointStepCases(),
	) {
		t.Run(tc.name, func(t *testing.T) { runStepCase(t, tc) })
	}
}

// upgradeSavepointPending is a status of an upgrade waiting for its
// savepoint, triggered now.
func upgradeSavepointPending(st *v1beta1.FlinkDeploymentStatus) {
	upgradingJob(st)
	now := time.Now().UnixMilli()
	st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{TriggerID: "t1", TriggerType: v1beta1.TriggerUpgrade, TriggerTimestamp: &now}
}

// savepointUpgradeStepCases: the first deployment, and an upgrade in
// savepoint mode from its trigger to its end.
func savepointUpgradeStepCases() []stepCase {
	savepoint := stepSpec(v1beta1.UpgradeModeSavepoint, stepHAConf)
	periodic20s := stepSpec(v1beta1.UpgradeModeSavepoint, strings.Replace(stepHAConf, "{", `{"kubernetes.operator.periodic.savepoint.interval":"20 s",`, 1))
	return []stepCase{
		{name: "first deployment applies the cluster and records the spec", spec: savepoint,
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if !jobManagerExists(t, c) || got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || got.Status.JobManagerDeploymentStatus != v1beta1.JobManagerDeploying {
					t.Errorf("status %+v", got.Status.ReconciliationStatus)
				}
			}},
		{name: "a savepoint upgrade begins and stops the job with a savepoint, trigger recorded first", spec: changedParallelism(savepoint), last: savepoint, status: runningJob, jobRuns: true,
			wantErr: "waiting", wantCalls: []string{"StopWithSavepoint"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				info := got.Status.JobStatus.SavepointInfo
				if got.Status.ReconciliationStatus.State != v1beta1.ReconciliationUpgrading || info == nil || info.TriggerID == "" || info.TriggerType != v1beta1.TriggerUpgrade {
					t.Errorf("status %+v %+v", got.Status.ReconciliationStatus, info)
				}
				if !jobManagerExists(t, c) {
					t.Error("the old cluster was deleted before its savepoint")
				}
			}},
		{name: "the upgrade savepoint completes: delete, record gone, deploy, in one reconcile", spec: changedParallelism(savepoint), last: savepoint, jobRuns: true, haData: true, status: upgradeSavepointPending,
			flink: fakeFlink{savepoint: flinkrest.OperationStatus{Done: true, Location: "file:///sp/savepoint-1"}}, wantCalls: []string{"SavepointStatus"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				st := got.Status
				if st.JobStatus.UpgradeSavepointPath != "file:///sp/savepoint-1" || st.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || reconciledSpec(t, got).Job.Parallelism != 3 {
					t.Errorf("status %+v %+v", st.JobStatus, st.ReconciliationStatus)
				}
				if haMetadataExists(t, c) {
					t.Error("HA metadata kept though the new cluster starts from the savepoint")
				}
				if !jobManagerExists(t, c) {
					t.Error("the upgraded cluster was not deployed")
				}
			}},
		{name: "a failed periodic savepoint is taken again at its next period, sooner than the reconcile interval",
			spec: periodic20s, last: periodic20s, jobRuns: true, status: func(st *v1beta1.FlinkDeploymentStatus) {
				runningJob(st)
				triggered := time.Now().Add(-5 * time.Second).UnixMilli()
				st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{TriggerID: "t1", TriggerType: v1beta1.TriggerPeriodic, TriggerTimestamp: &triggered, LastPeriodicSavepointTimestamp: triggered}
			},
			flink: fakeFlink{savepoint: flinkrest.OperationStatus{Done: true, Failure: "disk full"}}, wantErr: "waiting", wantAfter: 15 * time.Second, wantCalls: []string{"SavepointStatus"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, _ client.Client) {
				if p := currentProblem(got); p.Reason != problem.SavepointFailed || !strings.Contains(p.Message, "the next periodic savepoint is at") {
					t.Errorf("problem %+v", p)
				}
			}},
		{name: "a failed upgrade savepoint ends the upgrade and keeps the job", spec: changedParallelism(savepoint), last: savepoint, jobRuns: true, status: upgradeSavepointPending,
			flink: fakeFlink{savepoint: flinkrest.OperationStatus{Done: true, Failure: "disk full"}}, wantErr: "waiting", wantCalls: []string{"SavepointStatus"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if p := currentProblem(got); p.Reason != problem.SavepointFailed || got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || !jobManagerExists(t, c) {
					t.Errorf("problem %+v, reconciliation %+v", p, got.Status.ReconciliationStatus)
				}
			}},
	}
}

// upgradeModeStepCases: upgrades in last-state, stateless and savepoint
// mode that keep or drop the HA metadata, or cannot go on.
func upgradeModeStepCases() []stepCase {
	savepoint := stepSpec(v1beta1.UpgradeModeSavepoint, stepHAConf)
	lastState := stepSpec(v1beta1.UpgradeModeLastState, stepHAConf)
	stateless := stepSpec(v1beta1.UpgradeModeStateless, `{}`)
	return []stepCase{
		{name: "a last-state upgrade keeps HA metadata", spec: changedParallelism(lastState), last: lastState, status: upgradingJob, jobRuns: true, haData: true,
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if !haMetadataExists(t, c) || got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || reconciledSpec(t, got).Job.Parallelism != 3 {
					t.Errorf("HA kept %v, reconciliation %+v", haMetadataExists(t, c), got.Status.ReconciliationStatus)
				}
			}},
		{name: "a last-state upgrade of a running job without HA metadata stops it with a savepoint", spec: changedParallelism(lastState), last: lastState, status: upgradingJob, jobRuns: true,
			wantErr: "waiting", wantCalls: []string{"StopWithSavepoint"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				info := got.Status.JobStatus.SavepointInfo
				if p := currentProblem(got); p.Reason != "" || info == nil || info.TriggerType != v1beta1.TriggerUpgrade || !jobManagerExists(t, c) {
					t.Errorf("problem %+v, savepoint %+v", p, info)
				}
			}},
		{name: "a last-state upgrade of a restarting job without HA metadata cancels it, as upstream", spec: changedParallelism(lastState), last: lastState, jobRuns: true,
			status: func(st *v1beta1.FlinkDeploymentStatus) { upgradingJob(st); st.JobStatus.State = v1beta1.JobRestarting }, wantErr: "waiting", wantCalls: []string{"CancelJob"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if p := currentProblem(got); p.Reason != "" || got.Status.JobStatus.State != v1beta1.JobCancelling || !jobManagerExists(t, c) {
					t.Errorf("problem %+v, job %s", p, got.Status.JobStatus.State)
				}
			}},
		{name: "a last-state upgrade of a job that failed, without HA metadata nor any checkpoint or savepoint, needs a manual restore", spec: changedParallelism(lastState), last: lastState, jobRuns: true,
			status: func(st *v1beta1.FlinkDeploymentStatus) { upgradingJob(st); st.JobStatus.State = v1beta1.JobFailed }, wantErr: "waiting",
			flink: fakeFlink{stats: &api.CheckpointingStatistics{}}, wantCalls: []string{"CheckpointStatistics"}, // Flink reports no checkpoint
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if p := currentProblem(got); p != problem.New(problem.ManualRestoreRequired, MsgManualRestore) || !jobManagerExists(t, c) {
					t.Errorf("problem %+v", p)
				}
			}},
		{name: "a savepoint upgrade of a job that does not run, without HA nor any checkpoint or savepoint, is blocked", spec: changedParallelism(savepoint), last: savepoint, jobRuns: true,
			status: func(st *v1beta1.FlinkDeploymentStatus) { upgradingJob(st); st.JobStatus.State = v1beta1.JobFailed }, wantErr: "waiting",
			flink: fakeFlink{stats: &api.CheckpointingStatistics{}}, wantCalls: []string{"CheckpointStatistics"}, // Flink reports no checkpoint
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if p := currentProblem(got); p.Reason != problem.UpgradeBlocked || !jobManagerExists(t, c) {
					t.Errorf("problem %+v", p)
				}
			}},
		{name: "a stateless upgrade cancels the job and deploys empty", spec: changedParallelism(stateless), last: stateless, status: upgradingJob, jobRuns: true, haData: true,
			wantCalls: []string{"CancelJob"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if haMetadataExists(t, c) || got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed {
					t.Errorf("reconciliation %+v", got.Status.ReconciliationStatus)
				}
			}},
	}
}

// suspendAndRecoveryStepCases: a suspend, a savepoint redeploy, a lost
// JobManager, a retry held back and an invalid spec.
func suspendAndRecoveryStepCases() []stepCase {
	savepoint := stepSpec(v1beta1.UpgradeModeSavepoint, stepHAConf)
	return []stepCase{
		{name: "a suspend stops with a savepoint and records the suspended spec", spec: func() *v1beta1.FlinkDeploymentSpec {
			s := savepoint.DeepCopy()
			s.Job.State = v1beta1.JobStateSuspended
			return s
		}(), last: savepoint, jobRuns: true,
			status: func(st *v1beta1.FlinkDeploymentStatus) {
				upgradingJob(st)
				st.JobStatus.UpgradeSavepointPath = "file:///sp/savepoint-2"
			},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if jobManagerExists(t, c) || !plan.Suspended(reconciledSpec(t, got)) || got.Status.LifecycleState != v1beta1.LifecycleSuspended {
					t.Errorf("lifecycle %s", got.Status.LifecycleState)
				}
			}},
		{name: "a savepoint redeploy cancels the job and starts from initialSavepointPath", spec: func() *v1beta1.FlinkDeploymentSpec {
			s := savepoint.DeepCopy()
			s.Job.SavepointRedeployNonce, s.Job.InitialSavepointPath = ptrInt64(1), "file:///sp/known"
			return s
		}(), last: savepoint, status: upgradingJob, jobRuns: true, haData: true, wantCalls: []string{"CancelJob"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if haMetadataExists(t, c) || got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || !jobManagerExists(t, c) {
					t.Errorf("HA kept %v, reconciliation %+v", haMetadataExists(t, c), got.Status.ReconciliationStatus)
				}
				if nonce := reconciledSpec(t, got).Job.SavepointRedeployNonce; nonce == nil || *nonce != 1 {
					t.Errorf("recorded redeploy nonce %v, want 1", nonce)
				}
				if !deployedFrom(t, c, "file:///sp/known") {
					t.Error("the new cluster does not start from initialSavepointPath")
				}
			}},
		{name: "a lost JobManager is recreated", spec: savepoint, last: savepoint,
			status: func(st *v1beta1.FlinkDeploymentStatus) { st.JobManagerDeploymentStatus = v1beta1.JobManagerMissing },
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if !jobManagerExists(t, c) {
					t.Error("not recreated")
				}
			}},
		{name: "a failed upgrade savepoint holds the next attempt back", spec: changedParallelism(savepoint), last: savepoint, jobRuns: true,
			status: func(st *v1beta1.FlinkDeploymentStatus) {
				runningJob(st)
				now := time.Now().UnixMilli()
				st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{TriggerTimestamp: &now}
				st.Error = problem.Encode(problem.New(problem.SavepointFailed, "savepoint failed: disk full"))
			}, wantErr: "waiting",
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed {
					t.Errorf("the upgrade began during the retry wait: %+v", got.Status.ReconciliationStatus)
				}
			}},
		{name: "an invalid spec stops before anything is deployed", spec: func() *v1beta1.FlinkDeploymentSpec {
			s := savepoint.DeepCopy()
			s.JobManager.Resource.Memory = "lots"
			return s
		}(), wantErr: "stalling",
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if p := currentProblem(got); p.Reason != problem.InvalidSpec || jobManagerExists(t, c) {
					t.Errorf("problem %+v", p)
				}
			}},
	}
}

// jobManagerGoneStepCases: an upgrade whose old JobManager is gone, with
// no HA metadata, never deploys empty state; and a resume with a new
// savepointRedeployNonce starts from initialSavepointPath.
func jobManagerGoneStepCases() []stepCase {
	noHA := stepSpec(v1beta1.UpgradeModeSavepoint, `{"state.savepoints.dir":"file:///sp"}`)
	gone := func(job v1beta1.JobStatusState) func(*v1beta1.FlinkDeploymentStatus) {
		return func(st *v1beta1.FlinkDeploymentStatus) {
			upgradingJob(st)
			st.JobManagerDeploymentStatus, st.JobStatus.State = v1beta1.JobManagerMissing, job
			st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{LastSavepoint: &v1beta1.Savepoint{Location: "file:///sp/periodic-5", TimeStamp: time.Now().UnixMilli()}}
		}
	}
	redeploy := noHA.DeepCopy()
	redeploy.Job.SavepointRedeployNonce, redeploy.Job.InitialSavepointPath = ptrInt64(1), "file:///sp/known"
	suspended := noHA.DeepCopy()
	suspended.Job.State = v1beta1.JobStateSuspended
	return []stepCase{
		{name: "JobManager gone after the job failed, no HA: the upgrade starts from the last savepoint", spec: changedParallelism(noHA), last: noHA, status: gone(v1beta1.JobFailed),
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if !deployedFrom(t, c, "file:///sp/periodic-5") || got.Status.JobStatus.UpgradeSavepointPath != "file:///sp/periodic-5" || reconciledSpec(t, got).Job.Parallelism != 3 {
					t.Errorf("deployed from the last savepoint %v, upgradeSavepointPath %q", deployedFrom(t, c, "file:///sp/periodic-5"), got.Status.JobStatus.UpgradeSavepointPath)
				}
			}},
		{name: "JobManager deleted under a running job, no HA: manual restore, nothing deployed", spec: changedParallelism(noHA), last: noHA, status: gone(v1beta1.JobRunning), wantErr: "waiting",
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if p := currentProblem(got); p != problem.New(problem.ManualRestoreRequired, plan.MsgJobManagerGone) || jobManagerExists(t, c) {
					t.Errorf("problem %+v, JobManager deployed %v", p, jobManagerExists(t, c))
				}
			}},
		{name: "a resume with a new savepointRedeployNonce starts from initialSavepointPath", spec: redeploy, last: suspended,
			status: func(st *v1beta1.FlinkDeploymentStatus) {
				st.JobManagerDeploymentStatus, st.JobStatus.State, st.JobStatus.UpgradeSavepointPath = v1beta1.JobManagerMissing, v1beta1.JobSuspended, "file:///sp/suspend-8"
			},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if !deployedFrom(t, c, "file:///sp/known") || deployedFrom(t, c, "file:///sp/suspend-8") || got.Status.JobStatus.UpgradeSavepointPath != "file:///sp/known" {
					t.Errorf("deployed from initialSavepointPath %v, upgradeSavepointPath %q", deployedFrom(t, c, "file:///sp/known"), got.Status.JobStatus.UpgradeSavepointPath)
				}
			}},
	}
}

// lostTriggerStepCases: a manual or periodic snapshot pending when the
// JobManager Deployment is deleted cannot complete; its trigger is dropped
// and reported, and the JobManager is recreated in the same reconcile
// rather than the poll failing every time.
func lostTriggerStepCases() []stepCase {
	savepoint := stepSpec(v1beta1.UpgradeModeSavepoint, stepHAConf)
	notReady := &flinkrest.Error{Kind: flinkrest.KindNotReady, Op: "status"}
	pending := func(kind string) func(*v1beta1.FlinkDeploymentStatus) {
		return func(st *v1beta1.FlinkDeploymentStatus) {
			runningJob(st)
			st.JobManagerDeploymentStatus = v1beta1.JobManagerMissing
			ms := time.Now().Add(-time.Minute).UnixMilli()
			if kind == "savepoint" {
				st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{TriggerID: "t1", TriggerType: v1beta1.TriggerPeriodic, TriggerTimestamp: &ms}
			} else {
				st.JobStatus.CheckpointInfo = &v1beta1.CheckpointInfo{TriggerID: "t2", TriggerType: v1beta1.TriggerManual, TriggerTimestamp: &ms}
			}
		}
	}
	recovered := func(reason problem.Reason) func(*testing.T, *v1beta1.FlinkDeployment, client.Client) {
		return func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
			js := got.Status.JobStatus
			if p := currentProblem(got); p.Reason != reason || !jobManagerExists(t, c) {
				t.Errorf("problem %+v, JobManager recreated %v", p, jobManagerExists(t, c))
			}
			if (js.SavepointInfo != nil && js.SavepointInfo.TriggerID != "") || (js.CheckpointInfo != nil && js.CheckpointInfo.TriggerID != "") {
				t.Errorf("a trigger is still pending: %+v %+v", js.SavepointInfo, js.CheckpointInfo)
			}
		}
	}
	return []stepCase{
		{name: "a periodic savepoint pending when the JobManager is deleted is dropped and the JobManager recreated", spec: savepoint, last: savepoint,
			status: pending("savepoint"), flink: fakeFlink{savepointErr: notReady}, check: recovered(problem.SavepointFailed)},
		{name: "a manual checkpoint pending when the JobManager is deleted is dropped and the JobManager recreated", spec: savepoint, last: savepoint,
			status: pending("checkpoint"), flink: fakeFlink{checkpointErr: notReady}, check: recovered(problem.CheckpointFailed)},
	}
}

// heldSpecChangeStepCases: a spec change that waited for a manual savepoint
// runs in the reconcile that completes the savepoint.
func heldSpecChangeStepCases() []stepCase {
	stateless := stepSpec(v1beta1.UpgradeModeStateless, `{}`)
	withNonce := func(spec *v1beta1.FlinkDeploymentSpec) *v1beta1.FlinkDeploymentSpec {
		spec.Job.SavepointTriggerNonce = ptrInt64(7)
		return spec
	}
	scaled, upgraded := withNonce(overridesSpec(vertexA+":4")), withNonce(changedParallelism(overridesSpec(vertexA+":2")))
	requirements := map[string]flinkrest.VertexParallelism{vertexA: {LowerBound: 1, UpperBound: 2}, vertexB: {LowerBound: 1, UpperBound: 2}}
	return []stepCase{
		{name: "a savepoint nonce beside an in-place rescale: the savepoint is triggered and the reconcile ends, the rescale waits", spec: scaled, last: overridesSpec(vertexA + ":2"),
			status: runningJob, jobRuns: true, flink: fakeFlink{requirements: requirements}, wantErr: "waiting", wantCalls: []string{"TriggerSavepoint"}, check: heldFor(vertexA+":2", 2)},
		{name: "a savepoint nonce beside an upgrade: the savepoint is triggered and the reconcile ends, the upgrade waits", spec: upgraded, last: overridesSpec(vertexA + ":2"),
			status: runningJob, jobRuns: true, wantErr: "waiting", wantCalls: []string{"TriggerSavepoint"}, check: heldFor(vertexA+":2", 2)},
		{name: "an in-place rescale that waited for a manual savepoint goes on in the reconcile that completes it", spec: scaled, last: withNonce(overridesSpec(vertexA + ":2")), jobRuns: true,
			status: manualSavepointPending, flink: fakeFlink{requirements: requirements, savepoint: flinkrest.OperationStatus{Done: true, Location: "file:///sp/manual-1"}},
			wantCalls: []string{"SavepointStatus", "ResourceRequirements", "UpdateResourceRequirements"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if last := got.Status.JobStatus.SavepointInfo.LastSavepoint; last == nil || last.Location != "file:///sp/manual-1" || !strings.Contains(got.Status.ReconciliationStatus.LastReconciledSpec, vertexA+":4") {
					t.Errorf("last savepoint %+v, reconciled %s: want the manual savepoint, then the rescale recorded", last, got.Status.ReconciliationStatus.LastReconciledSpec)
				}
			}},
		{name: "a spec change that waited for a manual savepoint goes on in the reconcile that completes it", spec: changedParallelism(stateless), last: stateless, jobRuns: true,
			status: manualSavepointPending,
			flink:  fakeFlink{savepoint: flinkrest.OperationStatus{Done: true, Location: "file:///sp/manual-1"}}, wantCalls: []string{"SavepointStatus", "CancelJob"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || reconciledSpec(t, got).Job.Parallelism != 3 {
					t.Errorf("the upgrade did not run after the savepoint: %+v", got.Status.ReconciliationStatus)
				}
			}},
	}
}

// manualSavepointPending is a running job whose manual savepoint,
// triggered now, is under way.
func manualSavepointPending(st *v1beta1.FlinkDeploymentStatus) {
	runningJob(st)
	ms := time.Now().UnixMilli()
	st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{TriggerID: "t1", TriggerType: v1beta1.TriggerManual, TriggerTimestamp: &ms}
}

// heldFor checks a spec change held for the manual savepoint of nonce 7
// just triggered: the nonce recorded with the trigger, the spec otherwise
// as before (overrides, parallelism), DEPLOYED, the job kept.
func heldFor(overrides string, parallelism int32) func(*testing.T, *v1beta1.FlinkDeployment, client.Client) {
	return func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
		last, info := reconciledSpec(t, got), got.Status.JobStatus.SavepointInfo
		if info == nil || info.TriggerID == "" || info.TriggerType != v1beta1.TriggerManual || !v1beta1.EqualNonce(last.Job.SavepointTriggerNonce, ptrInt64(7)) {
			t.Errorf("savepoint %+v, recorded nonce %v: want the manual savepoint of nonce 7 under way", info, last.Job.SavepointTriggerNonce)
		}
		if !strings.Contains(got.Status.ReconciliationStatus.LastReconciledSpec, overrides) || last.Job.Parallelism != parallelism ||
			got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || !jobManagerExists(t, c) {
			t.Errorf("reconciliation %+v: want the change held", got.Status.ReconciliationStatus)
		}
	}
}

// failedJob is an upgrade under way of a job that FAILED, its JobManager
// ready, with the savepoint s3://b/sp-5 recorded.
func failedJob(st *v1beta1.FlinkDeploymentStatus) {
	upgradingJob(st)
	st.JobStatus.State = v1beta1.JobFailed
	st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{LastSavepoint: &v1beta1.Savepoint{Location: "s3://b/sp-5", TimeStamp: time.Now().Add(-time.Hour).UnixMilli()}}
}

// canceledJob is an upgrade under way of a job that was CANCELED (not by
// the upgrade), its JobManager ready, with the savepoint s3://b/sp-5
// recorded.
func canceledJob(st *v1beta1.FlinkDeploymentStatus) {
	failedJob(st)
	st.JobStatus.State = v1beta1.JobCanceled
}

// noStatistics is Flink's 404 for the checkpoint statistics of a job it
// keeps none of (a batch job).
var noStatistics = &flinkrest.Error{Kind: flinkrest.KindNotFound, Message: "Checkpointing has not been enabled."}

// endedJobStepCases: a last-state upgrade of a job that FAILED, without
// HA, starts from the newer of its latest checkpoint and its savepoint;
// Flink having no statistics of it (404) is said in an event and the
// savepoint starts it, where the upgrade used to stop at the error; the
// same 404 of a CANCELED job reads the same (canceledJobStepCases).
func endedJobStepCases() []stepCase {
	noHA := stepSpec(v1beta1.UpgradeModeLastState, `{"state.checkpoints.dir":"file:///c"}`)
	newer := &api.CheckpointingStatistics{Latest: api.LatestCheckpoints{
		Completed: api.CompletedCheckpointStatistics{Id: 7, TriggerTimestamp: time.Now().Add(-time.Minute).UnixMilli(), ExternalPath: "s3://c/chk-7"},
		Savepoint: api.CompletedCheckpointStatistics{Id: 5, TriggerTimestamp: time.Now().Add(-time.Hour).UnixMilli(), ExternalPath: "s3://b/sp-5"},
	}}
	startsFrom := func(path string) func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
		return func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
			if got.Status.JobStatus.UpgradeSavepointPath != path || !deployedFrom(t, c, path) {
				t.Errorf("upgradeSavepointPath %q, want the upgrade deployed from %s", got.Status.JobStatus.UpgradeSavepointPath, path)
			}
		}
	}
	return []stepCase{
		{name: "failed job: its latest checkpoint, newer than its savepoint", spec: changedParallelism(noHA), last: noHA, status: failedJob, jobRuns: true,
			flink: fakeFlink{stats: newer}, wantCalls: []string{"CheckpointStatistics"}, check: startsFrom("s3://c/chk-7")},
		{name: "failed job Flink has no statistics of: its savepoint", spec: changedParallelism(noHA), last: noHA, status: failedJob, jobRuns: true,
			flink: fakeFlink{statsErr: noStatistics}, wantCalls: []string{"CheckpointStatistics"}, check: startsFrom("s3://b/sp-5")},
	}
}

// canceledJobStepCases: Flink's 404 for the checkpoint statistics of a
// CANCELED job is no checkpoint reported, as for a FAILED or FINISHED one:
// a savepoint upgrade starts from the savepoint recorded, or is blocked
// with none (as before the ended job's latest checkpoint was read), and a
// last-state upgrade that cancelled the job starts it empty with none
// (from it with one: cancelledForLastStateStepCases); both were an error
// at every reconcile, the upgrade never done.
func canceledJobStepCases() []stepCase {
	savepoint := stepSpec(v1beta1.UpgradeModeSavepoint, `{"state.savepoints.dir":"file:///sp"}`)
	lastState := stepSpec(v1beta1.UpgradeModeLastState, `{"state.checkpoints.dir":"file:///c"}`)
	noSavepoint := func(st *v1beta1.FlinkDeploymentStatus) {
		canceledJob(st)
		st.JobStatus.SavepointInfo = nil
	}
	return []stepCase{
		{name: "savepoint upgrade of a cancelled job Flink has no statistics of: its savepoint", spec: changedParallelism(savepoint), last: savepoint, status: canceledJob, jobRuns: true,
			flink: fakeFlink{statsErr: noStatistics}, wantCalls: []string{"CheckpointStatistics"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if got.Status.JobStatus.UpgradeSavepointPath != "s3://b/sp-5" || !deployedFrom(t, c, "s3://b/sp-5") || reconciledSpec(t, got).Job.Parallelism != 3 {
					t.Errorf("upgradeSavepointPath %q, want the upgrade deployed from s3://b/sp-5", got.Status.JobStatus.UpgradeSavepointPath)
				}
			}},
		{name: "savepoint upgrade of a cancelled job Flink has no statistics of, no savepoint recorded: blocked", spec: changedParallelism(savepoint), last: savepoint, status: noSavepoint, jobRuns: true,
			flink: fakeFlink{statsErr: noStatistics}, wantErr: "waiting", wantCalls: []string{"CheckpointStatistics"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if p := currentProblem(got); p.Reason != problem.UpgradeBlocked || !jobManagerExists(t, c) {
					t.Errorf("problem %+v, JobManager kept %v", p, jobManagerExists(t, c))
				}
			}},
		{name: "last-state upgrade that cancelled a job Flink has no statistics of: it starts empty", spec: changedParallelism(lastState), last: lastState, status: noSavepoint, jobRuns: true,
			flink: fakeFlink{statsErr: noStatistics}, wantCalls: []string{"CheckpointStatistics"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				st := got.Status
				if st.JobStatus.UpgradeSavepointPath != "" || st.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || reconciledSpec(t, got).Job.Parallelism != 3 {
					t.Errorf("upgradeSavepointPath %q, reconciliation %+v; want the upgrade deployed empty", st.JobStatus.UpgradeSavepointPath, st.ReconciliationStatus)
				}
			}},
	}
}

// cancelledForLastStateStepCases: a last-state upgrade (or restart of the
// same spec) that cancelled the job starts from the newest of the latest
// checkpoint Flink reports of it and the newest savepoint recorded
// (s3://b/sp-5, an hour old), as upstream's restoreJob falls back to
// lastSavepoint when the observer recorded no checkpoint: the savepoint
// when Flink reports nothing (an empty answer, or a 404), where the job
// used to start empty; never a savepoint older than a checkpoint Flink
// reports.
func cancelledForLastStateStepCases() []stepCase {
	lastState := stepSpec(v1beta1.UpgradeModeLastState, `{"state.checkpoints.dir":"file:///c"}`)
	at := func(ago time.Duration) int64 { return time.Now().Add(-ago).UnixMilli() }
	sp5 := api.CompletedCheckpointStatistics{Id: 5, TriggerTimestamp: at(time.Hour), ExternalPath: "s3://b/sp-5"}
	newer := &api.CheckpointingStatistics{Latest: api.LatestCheckpoints{
		Completed: api.CompletedCheckpointStatistics{Id: 7, TriggerTimestamp: at(time.Minute), ExternalPath: "s3://c/chk-7"}, Savepoint: sp5}}
	newerUnnamed := &api.CheckpointingStatistics{Latest: api.LatestCheckpoints{
		Completed: api.CompletedCheckpointStatistics{Id: 2, TriggerTimestamp: at(time.Minute), ExternalPath: "s3://c/chk-2"}}}
	olderUnnamed := &api.CheckpointingStatistics{Latest: api.LatestCheckpoints{
		Completed: api.CompletedCheckpointStatistics{Id: 2, TriggerTimestamp: at(2 * time.Hour), ExternalPath: "s3://c/chk-2"}}}
	startsFrom := func(path string, parallelism int32) func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
		return func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
			st := got.Status
			if st.JobStatus.UpgradeSavepointPath != path || !deployedFrom(t, c, path) || st.ReconciliationStatus.State != v1beta1.ReconciliationDeployed ||
				reconciledSpec(t, got).Job.Parallelism != parallelism || st.ClusterInfo[plan.InfoUpgradeRestore] != "" {
				t.Errorf("upgradeSavepointPath %q, reconciliation %+v, clusterInfo %v; want deployed from %s", st.JobStatus.UpgradeSavepointPath, st.ReconciliationStatus, st.ClusterInfo, path)
			}
		}
	}
	read := []string{"CheckpointStatistics"}
	return []stepCase{
		{name: "last-state upgrade that cancelled a job Flink has no statistics of: its recorded savepoint", spec: changedParallelism(lastState), last: lastState, status: canceledJob, jobRuns: true,
			flink: fakeFlink{statsErr: noStatistics}, wantCalls: read, check: startsFrom("s3://b/sp-5", 3)},
		{name: "last-state upgrade that cancelled a job Flink reports no checkpoint of: its recorded savepoint", spec: changedParallelism(lastState), last: lastState, status: canceledJob, jobRuns: true,
			flink: fakeFlink{stats: &api.CheckpointingStatistics{}}, wantCalls: read, check: startsFrom("s3://b/sp-5", 3)},
		{name: "restart that cancelled a job Flink has no statistics of: its recorded savepoint", spec: lastState, last: lastState, status: canceledJob, jobRuns: true,
			flink: fakeFlink{statsErr: noStatistics}, wantCalls: read, check: startsFrom("s3://b/sp-5", 2)},
		{name: "last-state upgrade that cancelled a job: its checkpoint after the savepoint Flink names", spec: changedParallelism(lastState), last: lastState, status: canceledJob, jobRuns: true,
			flink: fakeFlink{stats: newer}, wantCalls: read, check: startsFrom("s3://c/chk-7", 3)},
		{name: "last-state upgrade that cancelled a job: its checkpoint, newer than a savepoint Flink does not name", spec: changedParallelism(lastState), last: lastState, status: canceledJob, jobRuns: true,
			flink: fakeFlink{stats: newerUnnamed}, wantCalls: read, check: startsFrom("s3://c/chk-2", 3)},
		{name: "last-state upgrade that cancelled a job: the recorded savepoint, newer than its checkpoint", spec: changedParallelism(lastState), last: lastState, status: canceledJob, jobRuns: true,
			flink: fakeFlink{stats: olderUnnamed}, wantCalls: read, check: startsFrom("s3://b/sp-5", 3)},
	}
}

// endedJob is a deployed job that ended in state, after its savepoint
// sp-5, at ended (its last change).
func endedJob(state v1beta1.JobStatusState, ended time.Time) func(*v1beta1.FlinkDeploymentStatus) {
	return func(st *v1beta1.FlinkDeploymentStatus) {
		runningJob(st)
		st.JobStatus.State = state
		st.JobStatus.UpdateTime = strconv.FormatInt(ended.UnixMilli(), 10)
		st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{LastSavepoint: &v1beta1.Savepoint{Location: "s3://b/sp-5", TimeStamp: ended.Add(-time.Hour).UnixMilli()}}
	}
}

// keptLatestStepCases: what Flink reports of the latest checkpoints of a
// job that ended is kept while its JobManager answers, read once, before
// the JobManager is shut down after its TTL; an upgrade after that starts
// from it, as upstream's observer records it.
func keptLatestStepCases() []stepCase {
	noHA := stepSpec(v1beta1.UpgradeModeLastState, `{"state.checkpoints.dir":"file:///c"}`)
	latest := api.LatestCheckpoints{
		Completed: api.CompletedCheckpointStatistics{Id: 7, TriggerTimestamp: time.Now().Add(-time.Minute).UnixMilli(), ExternalPath: "s3://c/chk-7"},
		Savepoint: api.CompletedCheckpointStatistics{Id: 5, TriggerTimestamp: time.Now().Add(-time.Hour).UnixMilli(), ExternalPath: "s3://b/sp-5"},
	}
	kept := func(t *testing.T, got *v1beta1.FlinkDeployment, want api.LatestCheckpoints) {
		t.Helper()
		if l, ok := plan.KeptLatest(&got.Status); !ok || !reflect.DeepEqual(*l, want) {
			t.Errorf("kept %+v (%t), want %+v; clusterInfo %v", l, ok, want, got.Status.ClusterInfo)
		}
	}
	keptAlready := func(st *v1beta1.FlinkDeploymentStatus) {
		endedJob(v1beta1.JobFinished, time.Now().Add(-time.Second))(st)
		plan.RecordLatest(st, latest)
	}
	return []stepCase{
		{name: "ended job: its latest checkpoints kept while its JobManager answers", spec: noHA, last: noHA, status: endedJob(v1beta1.JobFailed, time.Now().Add(-time.Second)), jobRuns: true,
			flink: fakeFlink{stats: &api.CheckpointingStatistics{Latest: latest}}, wantCalls: []string{"CheckpointStatistics"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				kept(t, got, latest)
				if !jobManagerExists(t, c) {
					t.Error("the JobManager was shut down before its TTL")
				}
			}},
		{name: "ended job: kept already, not read again", spec: noHA, last: noHA, status: keptAlready, jobRuns: true,
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) { kept(t, got, latest) }},
		{name: "ended job past its TTL: kept, then shut down", spec: noHA, last: noHA, status: endedJob(v1beta1.JobFinished, time.Now().Add(-25*time.Hour)), jobRuns: true,
			flink: fakeFlink{stats: &api.CheckpointingStatistics{Latest: latest}}, wantCalls: []string{"CheckpointStatistics"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				kept(t, got, latest)
				if jobManagerExists(t, c) || got.Status.JobManagerDeploymentStatus != v1beta1.JobManagerMissing {
					t.Errorf("the JobManager is not shut down: %s", got.Status.JobManagerDeploymentStatus)
				}
			}},
		{name: "cancelled job Flink has no statistics of: nothing retained, kept", spec: noHA, last: noHA, status: endedJob(v1beta1.JobCanceled, time.Now().Add(-time.Second)), jobRuns: true,
			flink: fakeFlink{statsErr: noStatistics}, wantCalls: []string{"CheckpointStatistics"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				kept(t, got, api.LatestCheckpoints{})
			}},
		{name: "ended job's JobManager gone: the upgrade starts from the kept checkpoint", spec: changedParallelism(noHA), last: noHA,
			status: func(st *v1beta1.FlinkDeploymentStatus) {
				keptAlready(st)
				st.JobManagerDeploymentStatus = v1beta1.JobManagerMissing
			},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if got.Status.JobStatus.UpgradeSavepointPath != "s3://c/chk-7" || !deployedFrom(t, c, "s3://c/chk-7") {
					t.Errorf("upgradeSavepointPath %q, want the upgrade deployed from s3://c/chk-7", got.Status.JobStatus.UpgradeSavepointPath)
				}
				if _, ok := got.Status.ClusterInfo[plan.InfoEndedLatest]; ok {
					t.Error("the ended job's latest state is still kept after its cluster was replaced")
				}
			}},
	}
}

// rolledBackStepCases: a change that needs no redeploy (an operator
// setting) on a cluster rolled back to its last stable spec, against the
// same change on a deployed one.
func rolledBackStepCases(t *testing.T) []stepCase {
	failed := stepSpec(v1beta1.UpgradeModeSavepoint, stepHAConf)
	stable := mustEncode(t, *changedParallelism(failed))
	setting := stepSpec(v1beta1.UpgradeModeSavepoint, strings.Replace(stepHAConf, "{", `{"kubernetes.operator.savepoint.history.max.count":"5",`, 1))
	recordedAt := time.Now().Add(-time.Hour).UnixMilli()
	withStable := func(rs v1beta1.ReconciliationState) func(*v1beta1.FlinkDeploymentStatus) {
		return func(st *v1beta1.FlinkDeploymentStatus) {
			runningJob(st)
			st.ReconciliationStatus.State, st.ReconciliationStatus.LastStableSpec, st.ReconciliationStatus.ReconciliationTimestamp = rs, stable, recordedAt
		}
	}
	recorded := func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) *v1beta1.ReconciliationStatus {
		t.Helper()
		if conf := reconciledSpec(t, got).FlinkConfiguration; conf == nil || !strings.Contains(string(conf.Raw), "history.max.count") {
			t.Errorf("the operator setting was not recorded: %s", got.Status.ReconciliationStatus.LastReconciledSpec)
		}
		if jobManagerExists(t, c) {
			t.Error("a change that needs no redeploy deployed the cluster")
		}
		return &got.Status.ReconciliationStatus
	}
	return []stepCase{
		{name: "rolled back: an operator setting is recorded, the failed spec stays rolled back, not stable", spec: setting, last: failed, status: withStable(v1beta1.ReconciliationRolledBack), report: true,
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				rs := recorded(t, got, c)
				if rs.State != v1beta1.ReconciliationRolledBack || rs.ReconciliationTimestamp != recordedAt {
					t.Errorf("state %s at %d, want %s at %d (kept)", rs.State, rs.ReconciliationTimestamp, v1beta1.ReconciliationRolledBack, recordedAt)
				}
				if rs.LastStableSpec == rs.LastReconciledSpec {
					t.Error("the failed spec, never deployed, was marked stable")
				}
				if lc := lifecycleState(&got.Status, nil); lc != v1beta1.LifecycleRolledBack {
					t.Errorf("lifecycle %s, want %s", lc, v1beta1.LifecycleRolledBack)
				}
			}},
		{name: "deployed: an operator setting is recorded deployed, and stable with the job running", spec: setting, last: failed, status: withStable(v1beta1.ReconciliationDeployed), report: true,
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				rs := recorded(t, got, c)
				if rs.State != v1beta1.ReconciliationDeployed || rs.LastStableSpec != rs.LastReconciledSpec {
					t.Errorf("state %s, stable %v: want %s, stable", rs.State, rs.LastStableSpec == rs.LastReconciledSpec, v1beta1.ReconciliationDeployed)
				}
				if rs.ReconciliationTimestamp != recordedAt {
					t.Errorf("reconciliation timestamp %d, want %d (kept)", rs.ReconciliationTimestamp, recordedAt)
				}
			}},
	}
}

// rolledBackUpgradeStepCases: an upgrade begun on a cluster rolled back to
// its last stable spec whose savepoint fails returns to ROLLED_BACK, as
// upstream's failed stop-with-savepoint leaves the status alone (DEPLOYED,
// the failed spec would be marked stable); one whose savepoint completes
// goes on and forgets where it began. A reactive cluster's TaskManager
// resize begins such an upgrade too.
func rolledBackUpgradeStepCases(t *testing.T) []stepCase {
	failed := stepSpec(v1beta1.UpgradeModeSavepoint, stepHAConf)
	stable := mustEncode(t, *changedParallelism(failed))
	next := failed.DeepCopy()
	next.Job.Parallelism = 4
	rolledBack := func(st *v1beta1.FlinkDeploymentStatus) {
		runningJob(st)
		st.ReconciliationStatus.State, st.ReconciliationStatus.LastStableSpec = v1beta1.ReconciliationRolledBack, stable
	}
	savepointPending := func(st *v1beta1.FlinkDeploymentStatus) {
		upgradeSavepointPending(st)
		st.ReconciliationStatus.LastStableSpec = stable
		st.ClusterInfo = map[string]string{clusterInfoUpgradeFrom: string(v1beta1.ReconciliationRolledBack)}
	}
	stillRolledBack := func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
		rs := got.Status.ReconciliationStatus
		if rs.State != v1beta1.ReconciliationRolledBack || rs.LastStableSpec == rs.LastReconciledSpec {
			t.Errorf("state %s, failed spec stable %t: want %s, not stable", rs.State, rs.LastStableSpec == rs.LastReconciledSpec, v1beta1.ReconciliationRolledBack)
		}
		if lc := lifecycleState(&got.Status, nil); lc != v1beta1.LifecycleRolledBack {
			t.Errorf("lifecycle %s, want %s", lc, v1beta1.LifecycleRolledBack)
		}
		if p := currentProblem(got); p.Reason != problem.SavepointFailed || !jobManagerExists(t, c) {
			t.Errorf("problem %+v, JobManager kept %t", p, jobManagerExists(t, c))
		}
		if _, ok := got.Status.ClusterInfo[clusterInfoUpgradeFrom]; ok {
			t.Errorf("clusterInfo %v still records the aborted upgrade's start", got.Status.ClusterInfo)
		}
	}
	reactive := stepSpec(v1beta1.UpgradeModeSavepoint, strings.Replace(stepHAConf, "{", `{"scheduler-mode":"reactive",`, 1))
	reactive.Mode, reactive.TaskManager.Replicas = v1beta1.ModeStandalone, ptr.To[int32](2)
	resized := reactive.DeepCopy()
	resized.TaskManager.Replicas = ptr.To[int32](3)
	reactiveRolledBack := func(st *v1beta1.FlinkDeploymentStatus) {
		runningJob(st)
		st.ReconciliationStatus.State, st.ReconciliationStatus.LastStableSpec = v1beta1.ReconciliationRolledBack, mustEncode(t, *changedParallelism(reactive))
	}
	upgradeBegun := func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
		if rs := got.Status.ReconciliationStatus; rs.State != v1beta1.ReconciliationUpgrading || got.Status.ClusterInfo[clusterInfoUpgradeFrom] != string(v1beta1.ReconciliationRolledBack) {
			t.Errorf("state %s, clusterInfo %v: want %s begun from %s", rs.State, got.Status.ClusterInfo, v1beta1.ReconciliationUpgrading, v1beta1.ReconciliationRolledBack)
		}
		err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: standalone.TaskManagerDeploymentName(got)}, &appsv1.Deployment{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("the failed spec's TaskManager Deployment was applied onto the rolled-back cluster (%v)", err)
		}
	}
	return []stepCase{
		{name: "rolled back, reactive: a TaskManager resize is an upgrade, not the failed spec applied onto the stable cluster", spec: resized, last: reactive, status: reactiveRolledBack, jobRuns: true, wantErr: "waiting", wantCalls: []string{"StopWithSavepoint"}, check: upgradeBegun},
		{name: "rolled back: an upgrade whose stop-with-savepoint is refused stays rolled back, the failed spec not stable", spec: next, last: failed, status: rolledBack, jobRuns: true,
			flink: fakeFlink{stopErr: errors.New("savepoint refused")}, wantErr: "waiting", wantCalls: []string{"StopWithSavepoint"}, report: true, check: stillRolledBack},
		{name: "rolled back: an upgrade whose savepoint fails stays rolled back, the failed spec not stable", spec: next, last: failed, status: savepointPending, jobRuns: true,
			flink: fakeFlink{savepoint: flinkrest.OperationStatus{Done: true, Failure: "disk full"}}, wantErr: "waiting", wantCalls: []string{"SavepointStatus"}, report: true, check: stillRolledBack},
		{name: "rolled back: an upgrade whose savepoint completes is deployed and forgets where it began", spec: next, last: failed, status: savepointPending, jobRuns: true, haData: true,
			flink: fakeFlink{savepoint: flinkrest.OperationStatus{Done: true, Location: "file:///sp/savepoint-1"}}, wantCalls: []string{"SavepointStatus"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if rs := got.Status.ReconciliationStatus; rs.State != v1beta1.ReconciliationDeployed || reconciledSpec(t, got).Job.Parallelism != 4 {
					t.Errorf("state %s, parallelism %d: want %s, 4", rs.State, reconciledSpec(t, got).Job.Parallelism, v1beta1.ReconciliationDeployed)
				}
				if _, ok := got.Status.ClusterInfo[clusterInfoUpgradeFrom]; ok {
					t.Errorf("clusterInfo %v still records the finished upgrade's start", got.Status.ClusterInfo)
				}
			}},
	}
}

// rolledBackSnapshotStepCases: a cluster rolled back to its last stable
// spec, its spec unchanged since, takes the periodic savepoints and
// checkpoints of the running (stable) job and trims its savepoint
// history, as upstream, and stays ROLLED_BACK, the failed spec not
// stable. The intervals and the history's count are the stable spec's,
// as upstream reads them from the deployed spec: the failed spec's alone
// decide nothing.
func rolledBackSnapshotStepCases(t *testing.T) []stepCase {
	const periodicSavepoint, periodicCheckpoint, historyOfOne = `"kubernetes.operator.periodic.savepoint.interval":"20 s",`,
		`"kubernetes.operator.periodic.checkpoint.interval":"20 s",`, `"kubernetes.operator.savepoint.history.max.count":"1",`
	spec := func(settings string) *v1beta1.FlinkDeploymentSpec {
		return stepSpec(v1beta1.UpgradeModeSavepoint, strings.Replace(stepHAConf, "{", "{"+settings, 1))
	}
	started, now := time.Now().Add(-time.Hour), time.Now()
	history := []v1beta1.Savepoint{{Location: "file:///sp/savepoint-1", TimeStamp: started.UnixMilli()}, {Location: "file:///sp/savepoint-2", TimeStamp: now.UnixMilli()}}
	// rolledBack runs the job of a stable spec with settings (parallelism
	// 3, the failed spec's 2) with two savepoints in its history.
	rolledBack := func(settings string) func(*v1beta1.FlinkDeploymentStatus) {
		stable := mustEncode(t, *changedParallelism(spec(settings)))
		return func(st *v1beta1.FlinkDeploymentStatus) {
			runningJob(st)
			st.JobStatus.StartTime = strconv.FormatInt(started.UnixMilli(), 10)
			st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{LastSavepoint: &history[1], SavepointHistory: slices.Clone(history)}
			st.ReconciliationStatus.State, st.ReconciliationStatus.LastStableSpec = v1beta1.ReconciliationRolledBack, stable
		}
	}
	stays := func(kept int) func(*testing.T, *v1beta1.FlinkDeployment, client.Client) {
		return func(t *testing.T, got *v1beta1.FlinkDeployment, _ client.Client) {
			if rs := got.Status.ReconciliationStatus; rs.State != v1beta1.ReconciliationRolledBack || rs.LastStableSpec == rs.LastReconciledSpec || lifecycleState(&got.Status, nil) != v1beta1.LifecycleRolledBack {
				t.Errorf("state %s, failed spec stable %t, lifecycle %s: want %s, not stable", rs.State, rs.LastStableSpec == rs.LastReconciledSpec, lifecycleState(&got.Status, nil), v1beta1.ReconciliationRolledBack)
			}
			if n := len(got.Status.JobStatus.SavepointInfo.SavepointHistory); n != kept {
				t.Errorf("%d savepoints in the history, want %d", n, kept)
			}
		}
	}
	return []stepCase{
		{name: "rolled back, unchanged: a periodic savepoint due is triggered, still rolled back", spec: spec(periodicSavepoint), last: spec(periodicSavepoint), status: rolledBack(periodicSavepoint), jobRuns: true, report: true, wantErr: "waiting", wantCalls: []string{"TriggerSavepoint"}, check: stays(2)},
		{name: "rolled back, unchanged: a periodic checkpoint due is triggered, still rolled back", spec: spec(periodicCheckpoint), last: spec(periodicCheckpoint), status: rolledBack(periodicCheckpoint), jobRuns: true, report: true, wantErr: "waiting", wantCalls: []string{"TriggerCheckpoint"}, check: stays(2)},
		{name: "rolled back, unchanged: the savepoint history is trimmed, still rolled back", spec: spec(historyOfOne), last: spec(historyOfOne), status: rolledBack(historyOfOne), jobRuns: true, report: true, wantCalls: []string{"DisposeSavepoint", "DisposalStatus"}, check: stays(1)},
		{name: "rolled back, unchanged: the stable spec's interval governs, the failed spec has none", spec: spec(""), last: spec(""), status: rolledBack(periodicSavepoint), jobRuns: true, report: true, wantErr: "waiting", wantCalls: []string{"TriggerSavepoint"}, check: stays(2)},
		{name: "rolled back, unchanged: the stable spec's history count governs, the failed spec has none", spec: spec(""), last: spec(""), status: rolledBack(historyOfOne), jobRuns: true, report: true, wantCalls: []string{"DisposeSavepoint", "DisposalStatus"}, check: stays(1)},
		{name: "rolled back, unchanged: the failed spec's interval alone triggers nothing", spec: spec(periodicSavepoint), last: spec(periodicSavepoint), status: rolledBack(""), jobRuns: true, report: true, check: stays(2)},
	}
}

// rolledBackUpkeepStepCases: a cluster rolled back to its last stable
// spec, its spec unchanged since, is kept running with that spec, as
// upstream's reconcileOtherChanges resubmits its deployed spec: a lost
// JobManager recovered, a failed or unhealthy job restarted, an ended
// job's JobManager shut down after the stable spec's TTL. What is
// deployed is rendered from the stable spec (pipeline.name stable-spec),
// never the failed one (failed-spec, with none of those settings), and
// the FlinkDeployment stays ROLLED_BACK, the failed spec not stable.
func rolledBackUpkeepStepCases(t *testing.T) []stepCase {
	const restartOn, healthOn, ttl3s = `"kubernetes.operator.job.restart.failed":"true",`, `"kubernetes.operator.cluster.health-check.enabled":"true",`,
		`"kubernetes.operator.jm-deployment.shutdown-ttl":"3 s",`
	spec := func(name, settings string) *v1beta1.FlinkDeploymentSpec {
		return stepSpec(v1beta1.UpgradeModeLastState, strings.Replace(stepHAConf, "{", `{"pipeline.name":"`+name+`",`+settings, 1))
	}
	failed := spec("failed-spec", "")
	// rolledBack runs the stable spec's job, its settings as given, the
	// JobManager and job as jm and job leave them.
	rolledBack := func(settings string, jm v1beta1.JobManagerDeploymentStatus, job v1beta1.JobStatusState) func(*v1beta1.FlinkDeploymentStatus) {
		stable := mustEncode(t, *changedParallelism(spec("stable-spec", settings)))
		return func(st *v1beta1.FlinkDeploymentStatus) {
			st.JobManagerDeploymentStatus = jm
			st.JobStatus = v1beta1.JobStatus{State: job, JobID: "0123456789abcdef0123456789abcdef", UpgradeSavepointPath: "file:///sp/savepoint-1",
				UpdateTime: strconv.FormatInt(time.Now().Add(-4*time.Second).UnixMilli(), 10)}
			st.ClusterInfo = map[string]string{clusterhealth.InfoKey: `{"timeStamp":1,"healthResult":{"healthy":false,"error":"Restart count hit threshold: 1"}}`}
			st.ReconciliationStatus.State, st.ReconciliationStatus.LastStableSpec = v1beta1.ReconciliationRolledBack, stable
		}
	}
	// stays checks the state, and a cluster deployed (or not) from the
	// stable spec, with HA metadata (or not).
	stays := func(deployed, ha bool, more ...func(*testing.T, *v1beta1.FlinkDeployment, client.Client)) func(*testing.T, *v1beta1.FlinkDeployment, client.Client) {
		return func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
			if rs := got.Status.ReconciliationStatus; rs.State != v1beta1.ReconciliationRolledBack || rs.LastStableSpec == rs.LastReconciledSpec || lifecycleState(&got.Status, nil) != v1beta1.LifecycleRolledBack {
				t.Errorf("state %s, failed spec stable %t, lifecycle %s: want %s, not stable", rs.State, rs.LastStableSpec == rs.LastReconciledSpec, lifecycleState(&got.Status, nil), v1beta1.ReconciliationRolledBack)
			}
			if jobManagerExists(t, c) != deployed || deployedFrom(t, c, "stable-spec") != deployed || deployedFrom(t, c, "failed-spec") {
				t.Errorf("JobManager %t, stable spec deployed %t, failed spec deployed %t: want %t, %t, false",
					jobManagerExists(t, c), deployedFrom(t, c, "stable-spec"), deployedFrom(t, c, "failed-spec"), deployed, deployed)
			}
			if haMetadataExists(t, c) != ha {
				t.Errorf("HA metadata %t, want %t", haMetadataExists(t, c), ha)
			}
			for _, m := range more {
				m(t, got, c)
			}
		}
	}
	deploying := func(t *testing.T, got *v1beta1.FlinkDeployment, _ client.Client) {
		if st := got.Status; st.JobManagerDeploymentStatus != v1beta1.JobManagerDeploying || st.JobStatus.State != v1beta1.JobReconciling {
			t.Errorf("JobManager %s, job %s: want %s, %s", st.JobManagerDeploymentStatus, st.JobStatus.State, v1beta1.JobManagerDeploying, v1beta1.JobReconciling)
		}
	}
	from := func(path string) func(*testing.T, *v1beta1.FlinkDeployment, client.Client) {
		return func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
			if got.Status.JobStatus.UpgradeSavepointPath != path || !deployedFrom(t, c, path) {
				t.Errorf("restarted from %q (deployed from it: %t), want %q", got.Status.JobStatus.UpgradeSavepointPath, deployedFrom(t, c, path), path)
			}
		}
	}
	healthForgotten := func(t *testing.T, got *v1beta1.FlinkDeployment, _ client.Client) {
		if _, ok := got.Status.ClusterInfo[clusterhealth.InfoKey]; ok {
			t.Errorf("clusterInfo %v still judges the restarted job", got.Status.ClusterInfo)
		}
	}
	noStats := fakeFlink{stats: &api.CheckpointingStatistics{}}
	return []stepCase{
		{name: "rolled back, JobManager deleted: recreated from the stable spec, still rolled back", spec: failed, last: failed, status: rolledBack("", v1beta1.JobManagerMissing, v1beta1.JobRunning),
			haData: true, report: true, check: stays(true, true, deploying)},
		{name: "rolled back, job failed: the stable spec's job restarted from its newest savepoint, still rolled back", spec: failed, last: failed, status: rolledBack(restartOn, v1beta1.JobManagerReady, v1beta1.JobFailed),
			jobRuns: true, haData: true, flink: noStats, report: true, wantCalls: []string{"CheckpointStatistics"}, check: stays(true, false, deploying, from("file:///sp/savepoint-1"))},
		{name: "rolled back, unhealthy: the stable spec's job restarted from the HA metadata, still rolled back", spec: failed, last: failed, status: rolledBack(healthOn, v1beta1.JobManagerReady, v1beta1.JobRunning),
			jobRuns: true, haData: true, report: true, check: stays(true, true, deploying, healthForgotten)},
		{name: "rolled back, job ended: its JobManager shut down after the stable spec's TTL, still rolled back", spec: failed, last: failed, status: rolledBack(ttl3s, v1beta1.JobManagerReady, v1beta1.JobFinished),
			jobRuns: true, haData: true, flink: noStats, report: true, wantCalls: []string{"CheckpointStatistics"}, check: stays(false, true)},
	}
}

// ignoredChangeStepCases: a change that needs no redeploy (an operator
// setting) on a deployed cluster keeps the reconciliation timestamp, as
// upstream's updateReconciliationMetadata does: a spec not stable yet is
// still rolled back at its readiness timeout, and a savepoint completed
// since the deployment is still newer than the one it started from.
func ignoredChangeStepCases(t *testing.T) []stepCase {
	rollback := stepSpec(v1beta1.UpgradeModeSavepoint, strings.Replace(stepHAConf, "{", `{"kubernetes.operator.deployment.rollback.enabled":"true",`, 1))
	restart := stepSpec(v1beta1.UpgradeModeSavepoint, strings.Replace(stepHAConf, "{", `{"kubernetes.operator.job.restart.failed":"true",`, 1))
	setting := func(spec *v1beta1.FlinkDeploymentSpec) *v1beta1.FlinkDeploymentSpec {
		c := spec.DeepCopy()
		c.FlinkConfiguration.Raw = []byte(strings.Replace(string(c.FlinkConfiguration.Raw), "{", `{"kubernetes.operator.savepoint.history.max.count":"5",`, 1))
		return c
	}
	timeout := DefaultOptions().ReadinessTimeout
	deployedAt := time.Now().Add(-timeout / 2)
	next := func(got *v1beta1.FlinkDeployment, t *testing.T, now time.Time) plan.Plan {
		return plan.Next(plan.Input{Spec: &got.Spec, Last: reconciledSpec(t, got), Status: &got.Status, Now: now, ReadinessTimeout: timeout})
	}
	return []stepCase{
		{name: "deployed, not stable yet: an operator setting keeps the reconciliation timestamp, the rollback is due at the readiness timeout", spec: setting(rollback), last: rollback,
			status: func(st *v1beta1.FlinkDeploymentStatus) {
				st.JobManagerDeploymentStatus = v1beta1.JobManagerDeploying
				st.ReconciliationStatus.LastStableSpec = mustEncode(t, *changedParallelism(rollback))
				st.ReconciliationStatus.ReconciliationTimestamp = deployedAt.UnixMilli()
			},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, _ client.Client) {
				if at := got.Status.ReconciliationStatus.ReconciliationTimestamp; at != deployedAt.UnixMilli() {
					t.Errorf("reconciliation timestamp %d, want %d (kept)", at, deployedAt.UnixMilli())
				}
				if p := next(got, t, deployedAt.Add(timeout+time.Second)); p.Step != plan.RollBack {
					t.Errorf("at the readiness timeout: %s, want %s", p.Step, plan.RollBack)
				}
			}},
		{name: "failed job, start unknown: turning restart.failed on keeps the reconciliation timestamp, the restart is from the savepoint taken since", spec: restart, last: stepSpec(v1beta1.UpgradeModeSavepoint, stepHAConf),
			status: func(st *v1beta1.FlinkDeploymentStatus) {
				st.JobManagerDeploymentStatus = v1beta1.JobManagerMissing
				st.JobStatus = v1beta1.JobStatus{State: v1beta1.JobFailed, JobID: "0123456789abcdef0123456789abcdef", UpgradeSavepointPath: "file:///sp/savepoint-0",
					SavepointInfo: &v1beta1.SavepointInfo{LastSavepoint: &v1beta1.Savepoint{Location: "file:///sp/savepoint-1", TimeStamp: deployedAt.Add(time.Minute).UnixMilli()}}}
				st.ReconciliationStatus.ReconciliationTimestamp = deployedAt.UnixMilli()
			},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, _ client.Client) {
				if p := next(got, t, time.Now()); p.Step != plan.RestartFailed || p.Restore.SavepointPath != "file:///sp/savepoint-1" {
					t.Errorf("next %s from %q, want %s from the newer file:///sp/savepoint-1", p.Step, p.Restore.SavepointPath, plan.RestartFailed)
				}
			}},
	}
}

// pendingNonceStepCases: a new savepointTriggerNonce or
// checkpointTriggerNonce while the job does not run yet stays pending,
// whatever else of the spec is recorded, as upstream keeps the last
// reconciled nonces: the snapshot is taken once the job runs, and only
// then is the nonce recorded as handled. The same on a rolled-back
// cluster, whose running job takes the snapshot too.
func pendingNonceStepCases(t *testing.T) []stepCase {
	base := stepSpec(v1beta1.UpgradeModeSavepoint, stepHAConf)
	setting := stepSpec(v1beta1.UpgradeModeSavepoint, strings.Replace(stepHAConf, "{", `{"kubernetes.operator.savepoint.history.max.count":"5",`, 1))
	nonces := func(spec *v1beta1.FlinkDeploymentSpec, savepoint, checkpoint *int64) *v1beta1.FlinkDeploymentSpec {
		c := spec.DeepCopy()
		c.Job.SavepointTriggerNonce, c.Job.CheckpointTriggerNonce = savepoint, checkpoint
		return c
	}
	deploying := func(st *v1beta1.FlinkDeploymentStatus) {
		st.JobManagerDeploymentStatus = v1beta1.JobManagerDeploying
		st.JobStatus = v1beta1.JobStatus{State: v1beta1.JobReconciling}
	}
	rolledBack := func(st *v1beta1.FlinkDeploymentStatus) {
		runningJob(st)
		st.ReconciliationStatus.State, st.ReconciliationStatus.LastStableSpec = v1beta1.ReconciliationRolledBack, mustEncode(t, *changedParallelism(base))
	}
	recorded := func(savepoint *int64, state v1beta1.ReconciliationState, triggered bool) func(*testing.T, *v1beta1.FlinkDeployment, client.Client) {
		return func(t *testing.T, got *v1beta1.FlinkDeployment, _ client.Client) {
			last := reconciledSpec(t, got)
			if !v1beta1.EqualNonce(last.Job.SavepointTriggerNonce, savepoint) || last.Job.CheckpointTriggerNonce != nil {
				t.Errorf("recorded savepoint nonce %v, checkpoint nonce %v: want %v, none (pending)", ptr.Deref(last.Job.SavepointTriggerNonce, -1), ptr.Deref(last.Job.CheckpointTriggerNonce, -1), ptr.Deref(savepoint, -1))
			}
			if conf := string(got.Spec.FlinkConfiguration.Raw); strings.Contains(conf, "history.max.count") && !strings.Contains(string(last.FlinkConfiguration.Raw), "history.max.count") {
				t.Errorf("the operator setting was not recorded: %s", last.FlinkConfiguration.Raw)
			}
			if rs := got.Status.ReconciliationStatus.State; rs != state {
				t.Errorf("reconciliation state %s, want %s", rs, state)
			}
			if info := got.Status.JobStatus.SavepointInfo; triggered != (info != nil && info.TriggerID != "" && info.TriggerType == v1beta1.TriggerManual) {
				t.Errorf("savepoint info %+v, manual savepoint triggered: want %t", info, triggered)
			}
		}
	}
	return []stepCase{
		{name: "JobManager deploying: a new savepoint nonce beside an operator setting stays pending, the setting is recorded", spec: nonces(setting, ptrInt64(7), nil), last: base,
			status: deploying, jobRuns: true, check: recorded(nil, v1beta1.ReconciliationDeployed, false)},
		{name: "JobManager deploying: a new checkpoint nonce stays pending", spec: nonces(base, nil, ptrInt64(3)), last: base,
			status: deploying, jobRuns: true, check: recorded(nil, v1beta1.ReconciliationDeployed, false)},
		{name: "job running: a savepoint nonce left pending is taken and recorded as handled", spec: nonces(setting, ptrInt64(7), nil), last: setting,
			status: runningJob, jobRuns: true, wantErr: "waiting", wantCalls: []string{"TriggerSavepoint"}, check: recorded(ptrInt64(7), v1beta1.ReconciliationDeployed, true)},
		{name: "rolled back, job running: a new savepoint nonce is taken, still rolled back", spec: nonces(base, ptrInt64(7), nil), last: base,
			status: rolledBack, jobRuns: true, wantErr: "waiting", wantCalls: []string{"TriggerSavepoint"}, check: recorded(ptrInt64(7), v1beta1.ReconciliationRolledBack, true)},
	}
}

// aheadOfSavepointStepCases: with
// kubernetes.operator.job.upgrade.ignore-pending-savepoint on, a spec
// change goes ahead of a manual or periodic savepoint in progress, as
// upstream's readyToReconcile lets it: the savepoint is looked at once,
// then again when the upgrade is about to replace the job; one completed
// is recorded, one still in progress has its trigger dropped (the
// upgrade's stop-with-savepoint takes its place, or the job it is taken of
// is cancelled). Off, the default, the change waits for it. Before, the
// change waited either way.
func aheadOfSavepointStepCases() []stepCase {
	const on = `"kubernetes.operator.job.upgrade.ignore-pending-savepoint":"true",`
	savepoint := stepSpec(v1beta1.UpgradeModeSavepoint, strings.Replace(stepHAConf, "{", "{"+on, 1))
	stateless := stepSpec(v1beta1.UpgradeModeStateless, `{`+strings.TrimSuffix(on, ",")+`}`)
	periodicPending := func(st *v1beta1.FlinkDeploymentStatus) {
		manualSavepointPending(st)
		st.JobStatus.SavepointInfo.TriggerType = v1beta1.TriggerPeriodic
	}
	trigger := func(kind v1beta1.SnapshotTriggerType, history ...string) func(*testing.T, *v1beta1.FlinkDeployment, client.Client) {
		return func(t *testing.T, got *v1beta1.FlinkDeployment, _ client.Client) {
			info := got.Status.JobStatus.SavepointInfo
			var kept []string
			for _, sp := range info.SavepointHistory {
				kept = append(kept, sp.Location)
			}
			if info.TriggerType != kind || (kind == "") != (info.TriggerID == "") || (kind == v1beta1.TriggerUpgrade && info.TriggerID == "t1") || !slices.Equal(kept, history) {
				t.Errorf("savepoint info %+v: want a %q trigger pending, history %v", info, kind, history)
			}
		}
	}
	return []stepCase{
		{name: "ignore-pending-savepoint on: a savepoint upgrade goes ahead of a manual savepoint in progress, its stop-with-savepoint taking the trigger's place", spec: changedParallelism(savepoint), last: savepoint,
			status: manualSavepointPending, jobRuns: true, wantErr: "waiting", wantCalls: []string{"SavepointStatus", "SavepointStatus", "StopWithSavepoint"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				trigger(v1beta1.TriggerUpgrade)(t, got, c)
				if got.Status.ReconciliationStatus.State != v1beta1.ReconciliationUpgrading || !jobManagerExists(t, c) {
					t.Errorf("reconciliation %+v: want the upgrade under way", got.Status.ReconciliationStatus)
				}
			}},
		{name: "ignore-pending-savepoint on: a stateless upgrade goes ahead of a periodic savepoint in progress, its trigger dropped with the job", spec: changedParallelism(stateless), last: stateless,
			status: periodicPending, jobRuns: true, wantCalls: []string{"SavepointStatus", "SavepointStatus", "CancelJob"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				trigger("")(t, got, c)
				if got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || reconciledSpec(t, got).Job.Parallelism != 3 {
					t.Errorf("reconciliation %+v: want the upgrade deployed", got.Status.ReconciliationStatus)
				}
			}},
		{name: "ignore-pending-savepoint on: a manual savepoint found completed is recorded, then the upgrade stops the job with its own", spec: changedParallelism(savepoint), last: savepoint,
			status: manualSavepointPending, jobRuns: true, flink: fakeFlink{savepoint: flinkrest.OperationStatus{Done: true, Location: "file:///sp/manual-1"}},
			wantErr: "waiting", wantCalls: []string{"SavepointStatus", "StopWithSavepoint"}, check: trigger(v1beta1.TriggerUpgrade, "file:///sp/manual-1")},
		{name: "ignore-pending-savepoint off: a spec change waits for a manual savepoint in progress", spec: changedParallelism(stepSpec(v1beta1.UpgradeModeSavepoint, stepHAConf)), last: stepSpec(v1beta1.UpgradeModeSavepoint, stepHAConf),
			status: manualSavepointPending, jobRuns: true, wantErr: "waiting", wantCalls: []string{"SavepointStatus"},
			check: func(t *testing.T, got *v1beta1.FlinkDeployment, c client.Client) {
				if info := got.Status.JobStatus.SavepointInfo; info.TriggerID != "t1" || got.Status.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || reconciledSpec(t, got).Job.Parallelism != 2 {
					t.Errorf("savepoint %+v, reconciliation %+v: want the change held for the savepoint", info, got.Status.ReconciliationStatus)
				}
			}},
	}
}
