package flinkdeployment

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// jobsClient answers ListJobs, Exceptions and CheckpointStatistics (none);
// every other call panics (embedded nil).
type jobsClient struct {
	flinkrest.Client
	jobs []api.JobDetails
}

func (c jobsClient) ListJobs(context.Context) ([]api.JobDetails, error) { return c.jobs, nil }

func (c jobsClient) Exceptions(context.Context, string) (*api.JobExceptionsInfoWithHistory, error) {
	return &api.JobExceptionsInfoWithHistory{}, nil
}

func (c jobsClient) CheckpointStatistics(context.Context, string) (*api.CheckpointingStatistics, error) {
	return &api.CheckpointingStatistics{}, nil
}

// barrierClient answers its configuration and its jobs only once both
// were asked for (or the context ends): an observation that asks one after
// the other never gets the first answer.
type barrierClient struct {
	flinkrest.Client
	configAsked, jobsAsked chan struct{}
}

func (c barrierClient) Config(ctx context.Context) (*api.DashboardConfiguration, error) {
	close(c.configAsked)
	select {
	case <-c.jobsAsked:
		return &api.DashboardConfiguration{FlinkVersion: "1.20.1"}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c barrierClient) ListJobs(ctx context.Context) ([]api.JobDetails, error) {
	close(c.jobsAsked)
	select {
	case <-c.configAsked:
		return []api.JobDetails{{Jid: "a", State: "RUNNING"}}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestReadClusterAsksConfigurationAndJobsAtOnce: an observation waits for
// one round trip to the JobManager, not two, and asks for the jobs only
// for an application.
func TestReadClusterAsksConfigurationAndJobsAtOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reads := readCluster(ctx, barrierClient{configAsked: make(chan struct{}), jobsAsked: make(chan struct{})}, true)
	if reads.configErr != nil || reads.jobsErr != nil {
		t.Fatalf("configuration: %v, jobs: %v; want both answered", reads.configErr, reads.jobsErr)
	}
	if reads.config.FlinkVersion != "1.20.1" || len(reads.jobs) != 1 || reads.jobs[0].Jid != "a" {
		t.Errorf("reads %+v", reads)
	}
	session := barrierClient{configAsked: make(chan struct{}), jobsAsked: make(chan struct{})}
	close(session.jobsAsked) // answers the configuration at once; asking for jobs would close it twice
	if reads := readCluster(ctx, session, false); reads.configErr != nil || reads.jobs != nil || reads.jobsErr != nil {
		t.Errorf("session cluster: %+v, want its configuration only", reads)
	}
}

func TestObserveJobUpdateTime(t *testing.T) {
	now := time.UnixMilli(2_000_000)
	const before = "1000000"
	running := api.JobDetails{Jid: "a", Name: "job", State: "RUNNING", StartTime: 900_000}
	for _, tc := range []struct {
		name string
		was  v1beta1.JobStatus
		job  api.JobDetails
		want string
	}{
		{"first observation", v1beta1.JobStatus{}, running, "2000000"},
		{"same job, same state", v1beta1.JobStatus{JobID: "a", State: "RUNNING", UpdateTime: before}, running, before},
		{"state changed", v1beta1.JobStatus{JobID: "a", State: "CREATED", UpdateTime: before}, running, "2000000"},
		{"another job", v1beta1.JobStatus{JobID: "b", State: "RUNNING", UpdateTime: before}, running, "2000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Reconciler{Now: func() time.Time { return now }}
			s := &state{fd: &v1beta1.FlinkDeployment{}}
			s.fd.Status.JobStatus = tc.was
			r.observeJob(context.Background(), s, jobsClient{}, []api.JobDetails{tc.job})
			js := s.fd.Status.JobStatus
			if js.UpdateTime != tc.want || js.State != "RUNNING" || js.StartTime != "900000" {
				t.Errorf("job status %+v, want updateTime %s", js, tc.want)
			}
		})
	}
}

// TestObserveJobKeepsTheLatestOfAnEndedJobOnly: what was kept of the
// latest checkpoints of a job that ended stays while the job is seen
// ended, and goes once it is seen otherwise (Flink may run the
// deployment's next job under the same id).
func TestObserveJobKeepsTheLatestOfAnEndedJobOnly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		state api.JobStatus
		kept  bool
	}{
		{"still failed", "FAILED", true},
		{"running again", "RUNNING", false},
		{"restarting", "RESTARTING", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Reconciler{Now: time.Now}
			s := &state{fd: &v1beta1.FlinkDeployment{}}
			s.fd.Status.JobStatus = v1beta1.JobStatus{JobID: "a", State: v1beta1.JobFailed, UpdateTime: "1000000"}
			plan.RecordLatest(&s.fd.Status, api.LatestCheckpoints{Completed: api.CompletedCheckpointStatistics{Id: 7, ExternalPath: "s3://c/chk-7"}})
			r.observeJob(context.Background(), s, jobsClient{}, []api.JobDetails{{Jid: "a", Name: "job", State: tc.state, StartTime: 900_000}})
			if _, kept := plan.KeptLatest(&s.fd.Status); kept != tc.kept {
				t.Errorf("kept %t, want %t: %v", kept, tc.kept, s.fd.Status.ClusterInfo)
			}
		})
	}
}

func TestUntilReadinessDeadline(t *testing.T) {
	r := &Reconciler{Options: Options{ProgressCheckInterval: 10 * time.Second, ReconcileInterval: time.Minute, ReadinessTimeout: 5 * time.Minute}}
	for _, tc := range []struct {
		left, want time.Duration
	}{
		{5 * time.Minute, time.Minute},       // far from the deadline: one reconcile interval
		{30 * time.Second, 30 * time.Second}, // at the deadline
		{2 * time.Second, 10 * time.Second},  // no sooner than a progress check
		{-5 * time.Minute, 10 * time.Second}, // past it: the timeout is reported by then
	} {
		if got := r.untilReadinessDeadline(tc.left); got != tc.want {
			t.Errorf("%s left: got %s, want %s", tc.left, got, tc.want)
		}
	}
}

func TestReadinessTimeout(t *testing.T) {
	r := &Reconciler{Options: Options{ReadinessTimeout: 5 * time.Minute}}
	spec := func(conf string) *v1beta1.FlinkDeploymentSpec {
		return &v1beta1.FlinkDeploymentSpec{FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(conf)}}
	}
	for _, tc := range []struct {
		name string
		spec *v1beta1.FlinkDeploymentSpec
		want time.Duration
	}{
		{"unset: the hub's default", spec(`{}`), 5 * time.Minute},
		{"per FlinkDeployment, in Flink's format", spec(`{"kubernetes.operator.deployment.readiness.timeout": "15 min"}`), 15 * time.Minute},
		{"nested YAML keys", spec(`{"kubernetes": {"operator": {"deployment.readiness.timeout": "90 s"}}}`), 90 * time.Second},
		{"unreadable (the validation reports it)", spec(`{"kubernetes.operator.deployment.readiness.timeout": "soon"}`), 5 * time.Minute},
		{"zero", spec(`{"kubernetes.operator.deployment.readiness.timeout": "0"}`), 5 * time.Minute},
	} {
		if got := r.readinessTimeout(tc.spec); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestFailureCause: the cause is the first line of the newest exception,
// quoted as hostile text: valid UTF-8 without control characters, cut at
// a character boundary.
func TestFailureCause(t *testing.T) {
	entry := func(name, trace string) api.RootExceptionInfo {
		return api.RootExceptionInfo{ExceptionName: name, Stacktrace: trace}
	}
	history := func(entries ...api.RootExceptionInfo) *api.JobExceptionsInfoWithHistory {
		return &api.JobExceptionsInfoWithHistory{ExceptionHistory: api.JobExceptionHistory{Entries: entries}}
	}
	long := strings.Repeat("x", 2*maxCauseLength)
	for _, tc := range []struct {
		name       string
		exceptions *api.JobExceptionsInfoWithHistory
		err        error
		want       string
	}{
		{"newest history entry", history(
			entry("java.io.IOException", "\njava.io.IOException: disk full\n\tat a.B(B.java:1)"),
			entry("java.lang.RuntimeException", "java.lang.RuntimeException: older")),
			nil, "java.io.IOException: disk full"},
		{"entry without a stack trace", history(entry("java.io.IOException", "")), nil, "java.io.IOException"},
		{"root exception only", &api.JobExceptionsInfoWithHistory{RootException: "org.apache.flink.runtime.JobException: Recovery is suppressed\n\tat x"},
			nil, "org.apache.flink.runtime.JobException: Recovery is suppressed"},
		{"nothing reported", history(), nil, noCause},
		{"no answer", nil, errors.New("503 Service Unavailable"), "its exceptions could not be read: 503 Service Unavailable"},
		// The limit counts the "..." that marks a cut.
		{"long message", history(entry("E", long)), nil, long[:maxCauseLength-3] + "..."},
		// "é" is two bytes, the first the last that leaves room for "...".
		{"a character straddling the limit", history(entry("E", long[:maxCauseLength-4]+"é tail")), nil, long[:maxCauseLength-4] + "..."},
		{"control characters", history(entry("E", "java.lang.Exception: \x1b[31mred\x1b[0m\rdone\x00\x7f\n\tat x")), nil,
			"java.lang.Exception:  [31mred [0m done  "},
		// C1 controls: NEL (a line break), CSI (an escape).
		{"C1 control characters", history(entry("E", "java.lang.Exception: a\u0085b\u009b31mc")), nil, "java.lang.Exception: a b 31mc"},
		{"invalid UTF-8", history(entry("E", "java.lang.Exception: \xff\xfe")), nil, "java.lang.Exception: \uFFFD"},
		{"an unreadable answer's text", nil, errors.New("bad gateway:\nline\x1b"), "its exceptions could not be read: bad gateway: line "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FailureCause(tc.exceptions, tc.err)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if !utf8.ValidString(got) || strings.ContainsFunc(got, unicode.IsControl) {
				t.Errorf("got %q: invalid UTF-8 or control characters", got)
			}
		})
	}
}

func TestContainerProblem(t *testing.T) {
	waiting := func(reason, msg string) corev1.ContainerState {
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
	}
	for _, tc := range []struct {
		name string
		cs   corev1.ContainerStatus
		want string
	}{
		{"image pull", corev1.ContainerStatus{Name: "flink-main-container", State: waiting("ImagePullBackOff", `Back-off pulling image "flink:2.9"`)},
			`[flink-main-container] Back-off pulling image "flink:2.9"`},
		{"crash loop with the last run's message", corev1.ContainerStatus{Name: "flink-main-container", State: waiting("CrashLoopBackOff", "back-off 20s"),
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "Could not parse flink-conf.yaml"}}},
			"[flink-main-container] CrashLoop - Could not parse flink-conf.yaml"},
		{"crash loop without one", corev1.ContainerStatus{Name: "init", State: waiting("CrashLoopBackOff", "back-off 20s"),
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}},
			"[init] back-off 20s"},
		{"no message", corev1.ContainerStatus{Name: "c", State: waiting("CreateContainerConfigError", "")}, "[c] CreateContainerConfigError"},
	} {
		if got := containerProblem(tc.cs); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRestReadyWait(t *testing.T) {
	now := time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC)
	dep := func(availableAgo time.Duration) *appsv1.Deployment {
		return &appsv1.Deployment{Status: appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-availableAgo))}}}}
	}
	spec := func(conf string) *v1beta1.FlinkDeploymentSpec {
		return &v1beta1.FlinkDeploymentSpec{FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(conf)}}
	}
	for _, tc := range []struct {
		name string
		dep  *appsv1.Deployment
		spec *v1beta1.FlinkDeploymentSpec
		want time.Duration
	}{
		{"no delay set", dep(time.Second), spec(`{}`), 0},
		{"within the delay", dep(3 * time.Second), spec(`{"kubernetes.operator.observer.rest-ready.delay":"10 s"}`), 7 * time.Second},
		{"past the delay", dep(time.Minute), spec(`{"kubernetes.operator.observer.rest-ready.delay":"10 s"}`), -50 * time.Second},
		{"not available", &appsv1.Deployment{}, spec(`{"kubernetes.operator.observer.rest-ready.delay":"10 s"}`), 0},
	} {
		if got := restReadyWait(tc.dep, tc.spec, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStartingJobWait(t *testing.T) {
	now := time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)
	progress := 10 * time.Second
	dep := func(availableAgo time.Duration) *appsv1.Deployment {
		return &appsv1.Deployment{Status: appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-availableAgo))}}}}
	}
	jobs := func(state api.JobStatus) clusterReads {
		return clusterReads{jobs: []api.JobDetails{{Jid: "j1", State: state, StartTime: 1}}}
	}
	for _, tc := range []struct {
		name  string
		jm    v1beta1.JobManagerDeploymentStatus
		dep   *appsv1.Deployment
		reads clusterReads
		want  time.Duration
	}{
		{"created, just available", v1beta1.JobManagerDeploying, dep(2 * time.Second), jobs(api.JobStatusCREATED), 8 * time.Second},
		{"initializing, just available", v1beta1.JobManagerDeploying, dep(time.Second), jobs(api.JobStatusINITIALIZING), 9 * time.Second},
		{"not listed yet", v1beta1.JobManagerDeployedNotReady, dep(time.Second), clusterReads{}, 9 * time.Second},
		{"running", v1beta1.JobManagerDeploying, dep(time.Second), jobs(api.JobStatusRUNNING), 0},
		{"failed", v1beta1.JobManagerDeploying, dep(time.Second), jobs(api.JobStatusFAILED), 0},
		{"restarting", v1beta1.JobManagerDeploying, dep(time.Second), jobs(api.JobStatusRESTARTING), 0},
		{"starting past a progress check", v1beta1.JobManagerDeploying, dep(11 * time.Second), jobs(api.JobStatusCREATED), 0},
		{"jobs unreadable", v1beta1.JobManagerDeploying, dep(time.Second), clusterReads{jobsErr: errors.New("boom")}, 0},
		{"JobManager already recorded ready", v1beta1.JobManagerReady, dep(time.Second), jobs(api.JobStatusCREATED), 0},
		{"JobManager recorded failed", v1beta1.JobManagerError, dep(time.Second), jobs(api.JobStatusCREATED), 0},
		{"member's clock a minute ahead", v1beta1.JobManagerDeploying, dep(-time.Minute), jobs(api.JobStatusCREATED), progress},
		{"no Available condition", v1beta1.JobManagerDeploying, &appsv1.Deployment{}, jobs(api.JobStatusCREATED), 0},
	} {
		st := &v1beta1.FlinkDeploymentStatus{JobManagerDeploymentStatus: tc.jm}
		if got := startingJobWait(st, tc.dep, tc.reads, now, progress); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// sizesClient answers CheckpointStatistics with a completed checkpoint
// whose state size grows with every call, and counts the calls.
type sizesClient struct {
	flinkrest.Client
	calls *int
}

func (c sizesClient) CheckpointStatistics(context.Context, string) (*api.CheckpointingStatistics, error) {
	*c.calls++
	stats := &api.CheckpointingStatistics{}
	stats.Latest.Completed.Id = int64(*c.calls)
	stats.Latest.Completed.StateSize = int64(*c.calls) << 20
	return stats, nil
}

// TestStateSizeIsReadOncePerInterval: a running job's checkpoint
// statistics are read, and clusterInfo's state-size changed, at most once
// per StateSizeInterval, however often the FlinkDeployment is observed:
// the size changes with nearly every checkpoint, so reading it on every
// observation would be a status write per FlinkDeployment per reconcile
// interval.
func TestStateSizeIsReadOncePerInterval(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	r := &Reconciler{Now: func() time.Time { return now }, Options: Options{ReconcileInterval: time.Minute, StateSizeInterval: 10 * time.Minute}}
	calls := 0
	s := &state{fd: &v1beta1.FlinkDeployment{}}
	s.fd.UID = "uid"
	s.fd.Status.JobStatus = v1beta1.JobStatus{JobID: "a", State: v1beta1.JobRunning}
	var sizes []string
	for minute := range 25 {
		now = time.Unix(1_000_000, 0).Add(time.Duration(minute) * time.Minute)
		r.observeStateSize(context.Background(), s, sizesClient{calls: &calls})
		sizes = append(sizes, s.fd.Status.ClusterInfo[clusterInfoStateSize])
	}
	// First seen at minute 0 (nothing read: a replica that just took the
	// key over does not read it at once), then read at 10 and 20.
	if calls != 2 || sizes[9] != "" || sizes[10] != "1048576" || sizes[19] != "1048576" || sizes[20] != "2097152" || sizes[24] != "2097152" {
		t.Fatalf("%d reads, state-size by minute %q", calls, sizes)
	}
}
