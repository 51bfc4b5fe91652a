package flinksessionjob

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/cluster"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// Two job vertex ids, as Flink writes them.
const vertexA, vertexB = "bc764cd8ddf7a0cff126f51c16239658", "0a448493b4782967b150582570326227"

// inPlaceJob is a running session job whose last reconciled spec has
// lastConf and whose spec has conf, on a native session cluster of Flink
// 1.18 whose deployed configuration is session; defaults are the member's.
func inPlaceJob(t *testing.T, conf, lastConf, session string, defaults map[string]string) *state {
	t.Helper()
	spec := func(c string) *v1beta1.FlinkSessionJobSpec {
		return &v1beta1.FlinkSessionJobSpec{DeploymentName: "session", FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(c)},
			Job: &v1beta1.JobSpec{JarURI: "https://a/job.jar", Parallelism: 2, UpgradeMode: v1beta1.UpgradeModeSavepoint}}
	}
	job := &v1beta1.FlinkSessionJob{Spec: *spec(conf)}
	job.Name, job.Namespace, job.Generation = "job", "ns", 2
	job.Status.ReconciliationStatus = v1beta1.ReconciliationStatus{State: v1beta1.ReconciliationDeployed, ReconciliationTimestamp: 1000}
	job.Status.JobStatus = v1beta1.JobStatus{State: v1beta1.JobRunning, JobID: "0123456789abcdef0123456789abcdef", UpgradeSavepointPath: "file:///sp/savepoint-0",
		SavepointInfo: &v1beta1.SavepointInfo{SavepointHistory: []v1beta1.Savepoint{{Location: "file:///sp/savepoint-0", TimeStamp: 900}}}}
	fd := &v1beta1.FlinkDeployment{}
	fd.Name, fd.Spec.FlinkVersion = "session", "v1_18"
	fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(session)}
	fd.Status.JobManagerDeploymentStatus = v1beta1.JobManagerReady
	return &state{job: job, last: spec(lastConf), session: fd, defaults: defaults}
}

// overridesConf is a session job configuration with the parallelism
// overrides o and extra keys (JSON members, "" for none).
func overridesConf(o, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return `{"pipeline.jobvertex-parallelism-overrides":"` + o + `"` + extra + `}`
}

// TestSessionJobInPlaceDecision: a session job whose only change is its
// parallelism overrides is rescaled in place under upstream's conditions
// (NativeFlinkService.supportsInPlaceScaling and scale, for any
// resource): a native session cluster, Flink 1.18 or later, the adaptive
// scheduler (the job's setting, else the session cluster's), in-place
// scaling not turned off (the job's setting, its session cluster's or the
// member's default), the job running, overrides before or after, none
// removed. Overrides Flink would not read (a vertex id in upper case or
// given twice) and a rolled-back status are refused as for a
// FlinkDeployment: a normal upgrade. Before, any such change was an
// upgrade.
func TestSessionJobInPlaceDecision(t *testing.T) {
	const adaptive = `{"jobmanager.scheduler":"adaptive"}`
	off := `"` + "kubernetes.operator.job.upgrade.inplace-scaling.enabled" + `":"false"`
	for _, tc := range []struct {
		name, conf, last, session string
		defaults                  map[string]string
		edit                      func(*state)
		why                       string // "" in place
	}{
		{name: "in place", conf: overridesConf(vertexA+":4", ""), last: overridesConf(vertexA+":2", ""), session: adaptive},
		{name: "overrides set for the first time", conf: overridesConf(vertexA+":4", ""), last: `{}`, session: adaptive},
		{name: "adaptive scheduler set by the job", conf: overridesConf(vertexA+":4", `"jobmanager.scheduler":"adaptive"`), last: adaptive, session: `{}`},
		{name: "the job's scheduler over the session cluster's", conf: overridesConf(vertexA+":4", `"jobmanager.scheduler":"default"`), last: `{"jobmanager.scheduler":"default"}`, session: adaptive,
			why: "needs the adaptive scheduler"},
		{name: "default scheduler", conf: overridesConf(vertexA+":4", ""), last: `{}`, session: `{}`, why: "needs the adaptive scheduler"},
		{name: "turned off by the job", conf: overridesConf(vertexA+":4", off), last: `{}`, session: adaptive, why: "inplace-scaling.enabled is false"},
		{name: "turned off by the session cluster", conf: overridesConf(vertexA+":4", ""), last: `{}`, session: `{"jobmanager.scheduler":"adaptive",` + off + `}`,
			why: "inplace-scaling.enabled is false"},
		{name: "turned off by the member's default", conf: overridesConf(vertexA+":4", ""), last: `{}`, session: adaptive,
			defaults: map[string]string{"kubernetes.operator.job.upgrade.inplace-scaling.enabled": "false"}, why: "inplace-scaling.enabled is false"},
		{name: "Flink 1.17 deployed", conf: overridesConf(vertexA+":4", ""), last: `{}`, session: adaptive,
			edit: func(s *state) { s.session.Spec.FlinkVersion = "v1_17" }, why: "needs Flink 1.18 or later, the cluster runs 1.17"},
		{name: "standalone session cluster", conf: overridesConf(vertexA+":4", ""), last: `{}`, session: adaptive,
			edit: func(s *state) { s.session.Spec.Mode = v1beta1.ModeStandalone }, why: "runs in standalone mode"},
		{name: "job reconciling", conf: overridesConf(vertexA+":4", ""), last: `{}`, session: adaptive,
			edit: func(s *state) { s.job.Status.JobStatus.State = v1beta1.JobReconciling }, why: `the job is "RECONCILING"`},
		{name: "job failed", conf: overridesConf(vertexA+":4", ""), last: `{}`, session: adaptive,
			edit: func(s *state) { s.job.Status.JobStatus.State = v1beta1.JobFailed }, why: `the job is "FAILED"`},
		{name: "job the session cluster does not know", conf: overridesConf(vertexA+":4", ""), last: `{}`, session: adaptive,
			edit: func(s *state) { s.missing = true }, why: "does not know job"},
		{name: "rolled back", conf: overridesConf(vertexA+":4", ""), last: `{}`, session: adaptive,
			edit: func(s *state) { s.job.Status.ReconciliationStatus.State = v1beta1.ReconciliationRolledBack }, why: "rolled back"},
		{name: "override removed", conf: overridesConf(vertexB+":3", ""), last: overridesConf(vertexA+":2,"+vertexB+":2", ""), session: adaptive,
			why: "override of job vertex " + vertexA + " was removed"},
		{name: "vertex id in upper case", conf: overridesConf(strings.ToUpper(vertexA)+":4", ""), last: `{}`, session: adaptive, why: "is not in lower case"},
		{name: "vertex given twice", conf: overridesConf(vertexA+":4,"+vertexA+":3", ""), last: `{}`, session: adaptive, why: "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := inPlaceJob(t, tc.conf, tc.last, tc.session, tc.defaults)
			if tc.edit != nil {
				tc.edit(s)
			}
			if !overridesOnly(&s.job.Spec, s.last) {
				t.Fatal("not an overrides-only change")
			}
			if why := notInPlace(s); (why == "") != (tc.why == "") || !strings.Contains(why, tc.why) {
				t.Errorf("notInPlace = %q, want %q", why, tc.why)
			}
		})
	}
}

// TestOverridesOnlyChange: only a change of nothing that restarts the job
// but its parallelism overrides (operator settings and the upgrade mode
// beside it included) is tried in place; a change of anything else with
// them, a restart or savepoint redeploy nonce included, is an upgrade.
func TestOverridesOnlyChange(t *testing.T) {
	last := func() *v1beta1.FlinkSessionJobSpec {
		return inPlaceJob(t, "{}", overridesConf(vertexA+":2", ""), "{}", nil).last
	}
	with := func(conf string, edit func(*v1beta1.FlinkSessionJobSpec)) *v1beta1.FlinkSessionJobSpec {
		s := last()
		s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(conf)}
		edit(s)
		return s
	}
	same := func(*v1beta1.FlinkSessionJobSpec) {}
	for _, tc := range []struct {
		name string
		spec *v1beta1.FlinkSessionJobSpec
		want bool
	}{
		{"overrides", with(overridesConf(vertexA+":4", ""), same), true},
		{"overrides and operator settings", with(overridesConf(vertexA+":4", `"kubernetes.operator.savepoint.history.max.count":"3"`), func(s *v1beta1.FlinkSessionJobSpec) {
			s.Job.UpgradeMode = v1beta1.UpgradeModeStateless
		}), true},
		{"nothing", with(overridesConf(vertexA+":2", ""), same), false},
		{"overrides and the parallelism", with(overridesConf(vertexA+":4", ""), func(s *v1beta1.FlinkSessionJobSpec) { s.Job.Parallelism = 3 }), false},
		{"overrides and another Flink setting", with(overridesConf(vertexA+":4", `"pipeline.max-parallelism":"64"`), same), false},
		{"overrides and a restart nonce", with(overridesConf(vertexA+":4", ""), func(s *v1beta1.FlinkSessionJobSpec) { s.RestartNonce = ptr.To[int64](1) }), false},
		{"overrides and a savepoint redeploy nonce", with(overridesConf(vertexA+":4", ""), func(s *v1beta1.FlinkSessionJobSpec) {
			s.Job.SavepointRedeployNonce, s.Job.InitialSavepointPath = ptr.To[int64](1), "file:///sp/x"
		}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := overridesOnly(tc.spec, last()); got != tc.want {
				t.Errorf("overridesOnly = %v, want %v", got, tc.want)
			}
		})
	}
}

// fakeMember is a member cluster of controller-runtime's fake client.
type fakeMember struct {
	cluster.Cluster
	c      client.Client
	events *events.FakeRecorder
}

func (m fakeMember) GetClient() client.Client                     { return m.c }
func (m fakeMember) GetAPIReader() client.Reader                  { return m.c }
func (m fakeMember) GetConfig() *rest.Config                      { return &rest.Config{} }
func (m fakeMember) GetEventRecorder(string) events.EventRecorder { return m.events }

// fakeJobManager answers the resource requirements calls and savepoint
// polls; cutShort ends the reconcile's context during the first, as a
// deadline passing.
type fakeJobManager struct {
	flinkrest.Client // every other method panics
	requirements     map[string]flinkrest.VertexParallelism
	cutShort         context.CancelFunc
	calls            []string
	sent             map[string]flinkrest.VertexParallelism
	// savepoint answers SavepointStatus.
	savepoint flinkrest.OperationStatus
}

func (f *fakeJobManager) SavepointStatus(context.Context, string, string) (flinkrest.OperationStatus, error) {
	f.calls = append(f.calls, "SavepointStatus")
	return f.savepoint, nil
}

func (f *fakeJobManager) ResourceRequirements(ctx context.Context, _ string) (map[string]flinkrest.VertexParallelism, error) {
	f.calls = append(f.calls, "ResourceRequirements")
	if f.cutShort != nil {
		f.cutShort()
	}
	if err := ctx.Err(); err != nil {
		return nil, &flinkrest.Error{Kind: flinkrest.KindTimeout, Op: "getJobResourceRequirements", Err: err}
	}
	return maps.Clone(f.requirements), nil
}

func (f *fakeJobManager) UpdateResourceRequirements(_ context.Context, _ string, reqs map[string]flinkrest.VertexParallelism) error {
	f.calls = append(f.calls, "UpdateResourceRequirements")
	f.sent = reqs
	return nil
}

// TestSessionJobScaledInPlace: the rescale against a fake JobManager. The
// new requirements are sent (the override as upper bound), the new spec
// recorded with the job's id, state, savepoint history and
// reconciliation timestamp kept, and the Scaling event said; nothing is
// sent when they are already as asked. A reconcile cut short during the
// call (its deadline, a shutdown) ends with the error: neither an upgrade
// nor a record, the next one trying in place again.
func TestSessionJobScaledInPlace(t *testing.T) {
	p := func(lower, upper int32) flinkrest.VertexParallelism {
		return flinkrest.VertexParallelism{LowerBound: lower, UpperBound: upper}
	}
	for _, tc := range []struct {
		name     string
		current  map[string]flinkrest.VertexParallelism
		cutShort bool
		calls    []string
		recorded bool
	}{
		{"rescaled", map[string]flinkrest.VertexParallelism{vertexA: p(1, 2), vertexB: p(1, 2)}, false, []string{"ResourceRequirements", "UpdateResourceRequirements"}, true},
		{"already as asked", map[string]flinkrest.VertexParallelism{vertexA: p(1, 4), vertexB: p(1, 2)}, false, []string{"ResourceRequirements"}, true},
		{"cut short", map[string]flinkrest.VertexParallelism{vertexA: p(1, 2), vertexB: p(1, 2)}, true, []string{"ResourceRequirements"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := inPlaceJob(t, overridesConf(vertexA+":4", ""), overridesConf(vertexA+":2", ""), `{"jobmanager.scheduler":"adaptive"}`, nil)
			rec := onFakeMember(t, s)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			jm := &fakeJobManager{requirements: tc.current}
			if tc.cutShort {
				jm.cutShort = cancel
			}
			want := s.job.Status.DeepCopy()
			err := (&Reconciler{Now: time.Now}).rescale(ctx, s, jm)
			if (err != nil) == tc.recorded || !slices.Equal(jm.calls, tc.calls) {
				t.Fatalf("rescale: %v after calls %v, want calls %v", err, jm.calls, tc.calls)
			}
			checkRescaled(t, s, want, jm, rec, tc.recorded)
		})
	}
}

// onFakeMember puts s's job on a member of controller-runtime's fake
// client, whose events it returns.
func onFakeMember(t *testing.T, s *state) *events.FakeRecorder {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := v1beta1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(s.job.DeepCopy()).WithStatusSubresource(&v1beta1.FlinkSessionJob{}).Build()
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(s.job), s.job); err != nil {
		t.Fatal(err)
	}
	rec := events.NewFakeRecorder(10)
	s.cluster, s.written = fakeMember{c: c, events: rec}, s.job.DeepCopy()
	return rec
}

// TestSessionJobRescaleWaitsForAPendingSavepoint: an overrides-only
// change while a manual or periodic savepoint is under way follows the
// savepoint first, as an upgrade does (followPendingSavepoint) and as
// upstream's readyToReconcile holds every spec change: a rescale in place
// would restart the job's tasks and abort it. In progress, nothing is
// sent and the change waits, unrecorded; completed, the savepoint is
// recorded (with its nonce) and the job rescaled in the same reconcile.
// Before, the job was rescaled while the savepoint was in flight.
func TestSessionJobRescaleWaitsForAPendingSavepoint(t *testing.T) {
	requirements := map[string]flinkrest.VertexParallelism{vertexA: {LowerBound: 1, UpperBound: 2}, vertexB: {LowerBound: 1, UpperBound: 2}}
	for _, tc := range []struct {
		name     string
		kind     v1beta1.SnapshotTriggerType
		op       flinkrest.OperationStatus
		calls    []string
		rescaled bool
	}{
		{"manual savepoint in progress", v1beta1.TriggerManual, flinkrest.OperationStatus{}, []string{"SavepointStatus"}, false},
		{"periodic savepoint in progress", v1beta1.TriggerPeriodic, flinkrest.OperationStatus{}, []string{"SavepointStatus"}, false},
		{"manual savepoint completed", v1beta1.TriggerManual, flinkrest.OperationStatus{Done: true, Location: "file:///sp/manual-1"},
			[]string{"SavepointStatus", "ResourceRequirements", "UpdateResourceRequirements"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := inPlaceJob(t, overridesConf(vertexA+":4", ""), overridesConf(vertexA+":2", ""), `{"jobmanager.scheduler":"adaptive"}`, nil)
			s.job.Spec.Job.SavepointTriggerNonce, s.last.Job.SavepointTriggerNonce = ptr.To[int64](5), ptr.To[int64](5)
			triggered := time.Now().UnixMilli()
			pending := s.job.Status.JobStatus.SavepointInfo
			pending.TriggerID, pending.TriggerType, pending.TriggerTimestamp = "t1", tc.kind, &triggered
			onFakeMember(t, s)
			jm := &fakeJobManager{requirements: requirements, savepoint: tc.op}
			err := (&Reconciler{Now: time.Now}).reconcileSpec(context.Background(), s, jm)
			if (err == nil) != tc.rescaled || !slices.Equal(jm.calls, tc.calls) {
				t.Fatalf("reconcile: %v after calls %v, want calls %v", err, jm.calls, tc.calls)
			}
			got := &s.job.Status
			if recorded := strings.Contains(got.ReconciliationStatus.LastReconciledSpec, vertexA+":4"); recorded != tc.rescaled || (got.ObservedGeneration == s.job.Generation) != tc.rescaled {
				t.Errorf("new spec recorded %v (observed generation %d), want %v", recorded, got.ObservedGeneration, tc.rescaled)
			}
			info := got.JobStatus.SavepointInfo
			last := info.LastSavepoint
			if done := last != nil && last.Location == tc.op.Location && ptr.Deref(last.TriggerNonce, 0) == 5; done != tc.op.Done || (info.TriggerID == "") != tc.op.Done {
				t.Errorf("savepoint info %+v: want completed %v", info, tc.op.Done)
			}
		})
	}
}

// checkRescaled checks s's status after an in-place rescale: the new
// spec recorded or not, the rest of the status as it was (want), no
// upgrade, and what was sent and said.
func checkRescaled(t *testing.T, s *state, want *v1beta1.FlinkSessionJobStatus, jm *fakeJobManager, rec *events.FakeRecorder, recorded bool) {
	t.Helper()
	got := s.job.Status
	if strings.Contains(got.ReconciliationStatus.LastReconciledSpec, vertexA+":4") != recorded || (got.ObservedGeneration == s.job.Generation) != recorded {
		t.Errorf("recorded %q (generation %d), want recorded: %v", got.ReconciliationStatus.LastReconciledSpec, got.ObservedGeneration, recorded)
	}
	got.ReconciliationStatus.LastReconciledSpec, got.ObservedGeneration = want.ReconciliationStatus.LastReconciledSpec, want.ObservedGeneration
	if !equalStatus(&got, want) {
		t.Errorf("status %+v, want it kept: %+v", got, *want)
	}
	if slices.Contains(jm.calls, "UpdateResourceRequirements") && !maps.Equal(jm.sent, map[string]flinkrest.VertexParallelism{
		vertexA: {LowerBound: 1, UpperBound: 4}, vertexB: {LowerBound: 1, UpperBound: 2}}) {
		t.Errorf("sent %v", jm.sent)
	}
	var said []string
	for len(rec.Events) > 0 {
		said = append(said, <-rec.Events)
	}
	scaling := slices.ContainsFunc(said, func(e string) bool {
		return strings.Contains(e, flinkdeployment.ReasonScaling+" "+flinkdeployment.MsgInPlaceScaling)
	})
	if scaling != slices.Contains(jm.calls, "UpdateResourceRequirements") || slices.ContainsFunc(said, func(e string) bool { return strings.Contains(e, "SpecChanged") }) {
		t.Errorf("events %q", said)
	}
}
