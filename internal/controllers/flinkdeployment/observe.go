package flinkdeployment

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/clusterhealth"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// observe reads the JobManager Deployment and, when it is available, the
// job through Flink REST, into the status.
func (r *Reconciler) observe(ctx context.Context, s *state) error {
	st := &s.fd.Status
	if s.lastSpec == nil {
		return nil // nothing deployed yet
	}
	dep := &appsv1.Deployment{}
	err := s.cluster.GetClient().Get(ctx, types.NamespacedName{Namespace: s.fd.Namespace, Name: deployer.JobManagerDeploymentName(s.fd)}, dep)
	if apierrors.IsNotFound(err) && st.JobManagerDeploymentStatus != v1beta1.JobManagerMissing {
		// Not in the cache, which holds only what carries the hub's
		// label, but not known missing either: the JobManager of another
		// operator (the Apache operator's, adopted) is taken over.
		if adopted, aerr := r.takeOverCluster(ctx, s); aerr != nil {
			return aerr
		} else if adopted != nil {
			dep, err = adopted, nil
		}
	}
	switch {
	case apierrors.IsNotFound(err) || (err == nil && !dep.DeletionTimestamp.IsZero()):
		st.JobManagerDeploymentStatus = v1beta1.JobManagerMissing
		return nil
	case err != nil:
		return fmt.Errorf("read JobManager deployment: %w", err)
	}
	s.jobManager = dep

	if !available(dep) {
		r.observeUnavailable(ctx, s, dep)
		return nil
	}
	if wait := restReadyWait(dep, runningSpec(s), r.now()); wait > 0 {
		// kubernetes.operator.observer.rest-ready.delay: the REST API is
		// asked only that long after the JobManager became available.
		st.JobManagerDeploymentStatus = v1beta1.JobManagerDeployedNotReady
		s.next = wait
		return nil
	}

	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd)
	if err != nil {
		return fmt.Errorf("flink rest client: %w", err)
	}
	reads := readCluster(ctx, jm, s.fd.Spec.Job != nil)
	if reads.configErr != nil {
		return restProblem(s, reads.configErr, r.Options.ProgressCheckInterval)
	}
	if wait := startingJobWait(st, dep, reads, r.now(), r.Options.ProgressCheckInterval); s.fd.Spec.Job != nil && wait > 0 {
		// Nothing written: the next look records the job, most often
		// running by then, in the same status write as the JobManager.
		s.next = wait
		return nil
	}
	r.observeCluster(s, reads.config)
	st.JobManagerDeploymentStatus = v1beta1.JobManagerReady
	s.clear(problem.JobManagerDeploymentFailed, problem.JobManagerUnusable)
	if s.fd.Spec.Job != nil {
		if reads.jobsErr != nil {
			return reads.jobsErr
		}
		r.observeJob(ctx, s, jm, reads.jobs)
	}
	if !plan.Stable(st, s.lastSpec) {
		s.next = r.Options.ProgressCheckInterval
	}
	return nil
}

// observeUnavailable reports a JobManager Deployment that is not
// available: failed (at once, as upstream), past its readiness timeout, or
// still deploying.
func (r *Reconciler) observeUnavailable(ctx context.Context, s *state, dep *appsv1.Deployment) {
	st := &s.fd.Status
	age := r.now().Sub(dep.CreationTimestamp.Time)
	if why, reason := r.jobManagerFailure(ctx, s, dep, age); why != "" {
		// A spec change or the Deployment turning available brings the
		// next reconcile.
		st.JobManagerDeploymentStatus = v1beta1.JobManagerError
		s.report(problem.Problem{Reason: problem.JobManagerDeploymentFailed, Message: "JobManager deployment " + dep.Name + " failed: " + why, Event: reason})
		s.next = r.Options.ReconcileInterval
		return
	}
	timeout := r.readinessTimeout(runningSpec(s))
	if age > timeout {
		st.JobManagerDeploymentStatus = v1beta1.JobManagerError
		s.report(problem.New(problem.JobManagerDeploymentFailed,
			fmt.Sprintf("JobManager deployment %s is not available within its readiness timeout of %s: %s", dep.Name, timeout, deploymentProblem(dep))))
	} else if st.JobManagerDeploymentStatus != v1beta1.JobManagerDeployedNotReady {
		st.JobManagerDeploymentStatus = v1beta1.JobManagerDeploying
	}
	// The Deployment's watch brings the reconcile when availability
	// changes; polling is only needed to report the readiness timeout.
	s.next = r.untilReadinessDeadline(timeout - age)
}

// restProblem turns an error of the JobManager's REST API into the
// JobManager's status: not ready yet (looked at again after progress),
// timing out or answering what cannot be used (reported; the workqueue's
// backoff spaces out the next tries of a bad answer: a redirect, a huge
// body, no JSON). Other errors are returned as they are.
func restProblem(s *state, err error, progress time.Duration) error {
	var fe *flinkrest.Error
	if !errors.As(err, &fe) {
		return err
	}
	st := &s.fd.Status
	switch fe.Kind {
	case flinkrest.KindNotReady, flinkrest.KindTimeout:
		if fe.Kind == flinkrest.KindTimeout {
			s.report(problem.New(problem.JobManagerUnusable, "JobManager REST API: "+err.Error()))
		}
		st.JobManagerDeploymentStatus = v1beta1.JobManagerDeployedNotReady
		s.next = progress
		return nil
	case flinkrest.KindBadResponse:
		st.JobManagerDeploymentStatus = v1beta1.JobManagerDeployedNotReady
		s.report(problem.New(problem.JobManagerUnusable, "JobManager REST API: "+err.Error()))
		return requeue.Reported(err)
	}
	return err
}

// replicaFailure is the Deployment's true ReplicaFailure condition (its
// pods cannot be created: quota, admission), nil if none.
func replicaFailure(dep *appsv1.Deployment) *appsv1.DeploymentCondition {
	for i, c := range dep.Status.Conditions {
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			return &dep.Status.Conditions[i]
		}
	}
	return nil
}

// sameFailure reports whether two replicaFailure results say the same.
func sameFailure(a, b *appsv1.DeploymentCondition) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Reason == b.Reason && a.Message == b.Message
}

// containerErrorReasons are the reasons of a waiting JobManager container
// that no wait will cure, as upstream lists them.
var containerErrorReasons = []string{"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "RunContainerError", "CreateContainerConfigError", "OOMKilled"}

// jobManagerFailure says why a JobManager Deployment that is not available
// will not become so without a change, and the reason for the event: its
// pods cannot be created (a ReplicaFailure condition: quota, admission), a
// JobManager container waits for one of containerErrorReasons, or a pod
// that has not started cannot mount a volume (the kubelet's FailedMount
// event, mountFailure), as upstream checks them. Pods are read only once
// the Deployment is a progress check old (none of these shows sooner),
// from the apiserver's watch cache, and a pod's events only when it waits
// for its volumes; "" if nothing says so.
func (r *Reconciler) jobManagerFailure(ctx context.Context, s *state, dep *appsv1.Deployment, age time.Duration) (string, string) {
	if c := replicaFailure(dep); c != nil {
		return c.Message, c.Reason
	}
	if age < r.Options.ProgressCheckInterval || dep.Spec.Selector == nil {
		return "", ""
	}
	var pods corev1.PodList
	if err := s.cluster.GetAPIReader().List(ctx, &pods, client.InNamespace(dep.Namespace), client.MatchingLabels(dep.Spec.Selector.MatchLabels),
		&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: "0"}}); err != nil {
		log.FromContext(ctx).Info("cannot read the JobManager pods", "error", err.Error())
		return "", ""
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		for _, cs := range append(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses...) {
			if w := cs.State.Waiting; w != nil && slices.Contains(containerErrorReasons, w.Reason) {
				return containerProblem(cs), w.Reason
			}
		}
		if why := r.mountFailure(ctx, s, pod); why != "" {
			return why, ReasonFailedMount
		}
	}
	return "", ""
}

// containerProblem is "[container] message" of a waiting container; for a
// crash loop, the message its last run ended with, when there is one.
func containerProblem(cs corev1.ContainerStatus) string {
	msg := cs.State.Waiting.Message
	if last := cs.LastTerminationState.Terminated; cs.State.Waiting.Reason == "CrashLoopBackOff" && last != nil && last.Message != "" {
		msg = "CrashLoop - " + last.Message
	}
	if msg == "" {
		msg = cs.State.Waiting.Reason
	}
	return fmt.Sprintf("[%s] %s", cs.Name, msg)
}

// untilReadinessDeadline is when to look again at a JobManager Deployment
// that is not available, left before its readiness deadline: at the
// deadline, at least one progress check and at most one reconcile interval
// away.
func (r *Reconciler) untilReadinessDeadline(left time.Duration) time.Duration {
	return min(max(left, r.Options.ProgressCheckInterval), max(r.Options.ReconcileInterval, r.Options.ProgressCheckInterval))
}

// readinessTimeout is how long the deployed spec's JobManager may take to
// become ready: its kubernetes.operator.deployment.readiness.timeout if
// set (as upstream reads it per resource), else the hub's default.
func (r *Reconciler) readinessTimeout(spec *v1beta1.FlinkDeploymentSpec) time.Duration {
	return plan.ReadinessTimeout(spec, r.Options.ReadinessTimeout)
}

// observeCluster reads the cluster's Flink version and revision.
func (r *Reconciler) observeCluster(s *state, cfg *api.DashboardConfiguration) {
	info := map[string]string{}
	if cfg.FlinkVersion != "" {
		info["flink-version"] = cfg.FlinkVersion
	}
	if cfg.FlinkRevision != "" {
		info["flink-revision"] = cfg.FlinkRevision
	}
	r.addTotals(s, info)
	// What other observations keep in clusterInfo stays.
	for _, kept := range []string{clusterhealth.InfoKey, clusterInfoStateSize, plan.InfoUpgradeRestore, clusterInfoUpgradeFrom, plan.InfoEndedLatest} {
		if v, ok := s.fd.Status.ClusterInfo[kept]; ok {
			info[kept] = v
		}
	}
	if len(info) > 0 {
		s.fd.Status.ClusterInfo = info
	}
}

// clusterReads are the JobManager's answers one observation starts from.
type clusterReads struct {
	config    *api.DashboardConfiguration
	configErr error
	jobs      []api.JobDetails
	jobsErr   error
}

// readCluster asks jm for its configuration and, when jobs is set, its
// jobs, both at once: an observation waits for one round trip, not two
// (the first reconcile of every key a replica takes over is one).
func readCluster(ctx context.Context, jm flinkrest.Client, jobs bool) clusterReads {
	var out clusterReads
	var wg sync.WaitGroup
	if jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out.jobs, out.jobsErr = jm.ListJobs(ctx)
		}()
	}
	out.config, out.configErr = jm.Config(ctx)
	wg.Wait()
	return out
}

// clusterInfoStateSize is upstream's status.clusterInfo key of the latest
// completed checkpoint's state size.
const clusterInfoStateSize = "state-size"

// observeStateSize records the running job's latest completed checkpoint's
// state size in status.clusterInfo (state-size), as upstream does, reading
// Flink's checkpoint statistics at most once per StateSizeInterval per
// FlinkDeployment (upstream: every observation).
func (r *Reconciler) observeStateSize(ctx context.Context, s *state, jm flinkrest.Client) {
	js := s.fd.Status.JobStatus
	if js.JobID == "" || js.State != v1beta1.JobRunning || !r.sizes.due(s.fd.UID, r.now(), r.Options.StateSizeInterval) {
		return
	}
	stats, err := jm.CheckpointStatistics(ctx, js.JobID)
	if err != nil {
		log.FromContext(ctx).V(1).Info("cannot read the job's checkpoint statistics for its state size", "error", err.Error())
		return
	}
	if c := stats.Latest.Completed; c.Id > 0 {
		if s.fd.Status.ClusterInfo == nil {
			s.fd.Status.ClusterInfo = map[string]string{}
		}
		s.fd.Status.ClusterInfo[clusterInfoStateSize] = strconv.FormatInt(c.StateSize, 10)
	}
}

// ReasonAdopted is the event of a cluster taken over from another operator.
const ReasonAdopted = "Adopted"

// takeOverCluster reads live the JobManager Deployment (and the
// standalone TaskManager Deployment) of s's FlinkDeployment that the cache
// lacks, and adopts those another operator created, owned by this
// FlinkDeployment but without the hub's label: the label is added in place
// (nothing else changes, so no pod restarts), which brings them into the
// hub's cache. It returns the JobManager Deployment, the hub's or adopted,
// nil when there is none.
func (r *Reconciler) takeOverCluster(ctx context.Context, s *state) (*appsv1.Deployment, error) {
	jmName := deployer.JobManagerDeploymentName(s.fd)
	names := []string{jmName}
	for _, d := range r.deployers() {
		for _, obj := range d.ClusterObjects(s.fd) {
			if _, isDeployment := obj.(*appsv1.Deployment); isDeployment && !slices.Contains(names, obj.GetName()) {
				names = append(names, obj.GetName())
			}
		}
	}
	var jm *appsv1.Deployment
	for _, name := range names {
		dep := &appsv1.Deployment{}
		err := s.cluster.GetAPIReader().Get(ctx, types.NamespacedName{Namespace: s.fd.Namespace, Name: name}, dep)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read deployment %s: %w", name, err)
		}
		if !ownedBy(dep, s.fd) || !dep.DeletionTimestamp.IsZero() {
			continue
		}
		if dep.Labels[deployer.LabelManagedBy] == deployer.ManagedByHub {
			// The hub's own, not in the cache yet.
			if name == jmName {
				jm = dep
			}
			continue
		}
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, deployer.LabelManagedBy, deployer.ManagedByHub)
		if err := s.cluster.GetClient().Patch(ctx, dep, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			return nil, fmt.Errorf("take over deployment %s: %w", name, err)
		}
		r.event(s, corev1.EventTypeNormal, ReasonAdopted, fmt.Sprintf("Deployment %s, created by another operator for this FlinkDeployment, is the hub's now (labelled in place; its pods keep running)", name))
		if name == jmName {
			jm = dep
		}
	}
	return jm, nil
}

// ownedBy reports whether obj has an owner reference to fd.
func ownedBy(obj metav1.Object, fd *v1beta1.FlinkDeployment) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == fd.UID {
			return true
		}
	}
	return false
}

// addTotals adds the running spec's (runningSpec) total CPU and memory (bytes) to info,
// as upstream's total-cpu and total-memory.
func (r *Reconciler) addTotals(s *state, info map[string]string) {
	if s.lastSpec == nil {
		return
	}
	deployed := &v1beta1.FlinkDeployment{ObjectMeta: s.fd.ObjectMeta, Spec: *runningSpec(s)}
	conf, err := flinkconf.Build(deployed, deployer.ModeOf(deployed), flinkconf.Restore{})
	if err != nil {
		return
	}
	if cpu, memory, ok := conf.Totals(r.desiredTaskManagers(deployed, conf)); ok {
		info["total-cpu"] = strconv.FormatFloat(cpu, 'f', -1, 64)
		info["total-memory"] = strconv.FormatInt(memory, 10)
	}
}

// observeJob reads the application's job, from the JobManager's jobs,
// into status.jobStatus.
func (r *Reconciler) observeJob(ctx context.Context, s *state, jm flinkrest.Client, jobs []api.JobDetails) {
	js := &s.fd.Status.JobStatus
	job, ok := pickJob(jobs, js.JobID)
	if !ok && js.JobID != "" && plan.Ended(&s.fd.Status) {
		// Flink drops an ended job from its job store
		// jobstore.expiration-time (1 h by default) after it ended, and
		// the JobManager stays up until its shutdown TTL (1 day): the job
		// ended as recorded, and stays so, as upstream keeps it; read as
		// not started yet, its JobManager was never shut down.
		log.FromContext(ctx).V(1).Info("the ended job expired from the JobManager's job store", "job", js.JobID)
		return
	}
	if !ok {
		log.FromContext(ctx).V(1).Info("no job on the JobManager yet")
		js.State = v1beta1.JobReconciling
		s.next = r.Options.ProgressCheckInterval
		return
	}
	changed := js.JobID != string(job.Jid) || js.State != v1beta1.JobStatusState(job.State)
	if from, to := js.State, v1beta1.JobStatusState(job.State); from != to && from != "" {
		// Said once the fenced write recorded it: a replica that lost the
		// key meanwhile says nothing, its successor observes it again.
		s.afterWrite = append(s.afterWrite, func(context.Context) { r.jobStatusChanged(s, from, to) })
	}
	js.JobID = string(job.Jid)
	js.JobName = job.Name
	js.State = v1beta1.JobStatusState(job.State)
	if job.StartTime > 0 {
		js.StartTime = strconv.FormatInt(job.StartTime, 10)
	}
	// updateTime is when the job's id or state last changed, as upstream
	// keeps it; a periodic observation that finds nothing new writes nothing.
	if changed || js.UpdateTime == "" {
		js.UpdateTime = strconv.FormatInt(r.now().UnixMilli(), 10)
	}
	r.reportExceptions(ctx, s, jm, job)
	r.observeHealth(ctx, s, jm, js.JobID)
	r.observeStateSize(ctx, s, jm)
	switch {
	case js.State == v1beta1.JobFailed && (changed || s.problem.IsZero()):
		// Once per failure: a later problem (an upgrade that cannot take a
		// savepoint of the failed job) is not overwritten.
		r.recordJobFailure(ctx, s, jm)
	case js.State != v1beta1.JobFailed:
		s.clear(problem.JobFailed)
	}
	if !plan.Ended(&s.fd.Status) {
		// What was kept of an ended job's latest checkpoints is that
		// job's: one that runs again (its id may be the same) keeps it
		// no longer.
		plan.ForgetLatest(&s.fd.Status)
	}
}

// ReasonJobStatusChanged is upstream's event of a job state change.
const ReasonJobStatusChanged = "JobStatusChanged"

// jobStatusChanged records the JobStatusChanged event of a change from to
// to.
func (r *Reconciler) jobStatusChanged(s *state, from, to v1beta1.JobStatusState) {
	eventType, msg := JobStatusChange(from, to)
	r.event(s, eventType, ReasonJobStatusChanged, msg)
}

// JobStatusChange is the type and message of the JobStatusChanged event
// of a job's change from to to, as upstream words it; a Warning when the
// job failed. FlinkSessionJobs say it too.
func JobStatusChange(from, to v1beta1.JobStatusState) (eventType, message string) {
	eventType = corev1.EventTypeNormal
	if to == v1beta1.JobFailed {
		eventType = corev1.EventTypeWarning
	}
	return eventType, fmt.Sprintf("Job status changed from %s to %s", from, to)
}

// maxCauseLength bounds, in bytes, the JobManager or member text quoted
// into status.error and events (a failure cause, a FailedMount message).
const maxCauseLength = 1024

// recordJobFailure makes why the job failed the JobFailed problem, once
// per failure, as upstream does.
func (r *Reconciler) recordJobFailure(ctx context.Context, s *state, jm flinkrest.Client) {
	exceptions, err := jm.Exceptions(ctx, s.fd.Status.JobStatus.JobID)
	if err != nil {
		log.FromContext(ctx).Info("cannot read the failed job's exceptions", "error", err.Error())
	}
	s.report(problem.WithTrace(problem.New(problem.JobFailed, "Job failed: "+FailureCause(exceptions, err)), FailureTrace(exceptions)))
}

// FailureTrace is the stack trace of the newest entry of Flink's
// exception history (or the root exception), "" when Flink gave none.
func FailureTrace(exceptions *api.JobExceptionsInfoWithHistory) string {
	switch {
	case exceptions == nil:
		return ""
	case len(exceptions.ExceptionHistory.Entries) > 0:
		return exceptions.ExceptionHistory.Entries[0].Stacktrace
	}
	return exceptions.RootException
}

// FailureCause is the newest entry of Flink's exception history: the first
// line of its stack trace, which names the exception and its message,
// quoted with boundedtext.Quote (valid UTF-8, no control characters, at
// most maxCauseLength bytes).
// When Flink cannot say, it says so.
func FailureCause(exceptions *api.JobExceptionsInfoWithHistory, err error) string {
	cause := noCause
	switch {
	case err != nil:
		cause = "its exceptions could not be read: " + err.Error()
	case exceptions == nil:
	case len(exceptions.ExceptionHistory.Entries) > 0:
		newest := exceptions.ExceptionHistory.Entries[0]
		cause = firstLine(newest.Stacktrace, newest.ExceptionName)
	case exceptions.RootException != "":
		cause = firstLine(exceptions.RootException, "")
	}
	return boundedtext.Quote(cause, maxCauseLength)
}

// noCause is the cause of a failure Flink reports nothing about.
const noCause = "no cause reported by Flink"

// firstLine is the first non-empty line of a stack trace, else fallback.
func firstLine(trace, fallback string) string {
	for line := range strings.Lines(trace) {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	if fallback == "" {
		return noCause
	}
	return fallback
}

// pickJob is the job with the known id, else the most recently started.
func pickJob(jobs []api.JobDetails, id string) (api.JobDetails, bool) {
	if len(jobs) == 0 {
		return api.JobDetails{}, false
	}
	for _, j := range jobs {
		if id != "" && string(j.Jid) == id {
			return j, true
		}
	}
	sorted := append([]api.JobDetails{}, jobs...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].StartTime > sorted[b].StartTime })
	return sorted[0], true
}

// restReadyWait is how long, of the deployed spec's
// kubernetes.operator.observer.rest-ready.delay, is left since the
// JobManager Deployment became available; 0 without the setting: the hub
// reads a REST API that does not answer yet as not ready, so it needs no
// delay by default (upstream waits 10 s).
func restReadyWait(dep *appsv1.Deployment, spec *v1beta1.FlinkDeploymentSpec, now time.Time) time.Duration {
	delay := plan.DurationSetting(spec, flinkconf.KeyRestReadyDelay)
	if delay <= 0 {
		return 0
	}
	if since, ok := availableSince(dep); ok {
		return since.Add(delay).Sub(now)
	}
	return 0
}

// availableSince is when the Deployment's Available condition last turned
// true; false when it is not true.
func availableSince(dep *appsv1.Deployment) (time.Time, bool) {
	for _, c := range dep.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time, true
		}
	}
	return time.Time{}, false
}

// startingJobWait is how long a JobManager that has just become available
// and whose job is still starting (not listed yet, CREATED or
// INITIALIZING) is left unrecorded: until the JobManager has been
// available for a progress check. A job that starts within that time costs
// one status write and one event (the JobManager ready and the job
// running together) instead of two of each, with every deploy and
// upgrade. Only the first look at a deploying JobManager waits: a
// JobManager already recorded (ready, or failed and now recovered) or
// a job that has failed is written at once, and a job still starting after
// the wait (at most a progress check, whatever the member's clock says) is
// recorded as it is.
func startingJobWait(st *v1beta1.FlinkDeploymentStatus, dep *appsv1.Deployment, reads clusterReads, now time.Time, progress time.Duration) time.Duration {
	switch st.JobManagerDeploymentStatus {
	case v1beta1.JobManagerDeploying, v1beta1.JobManagerDeployedNotReady:
	default:
		return 0
	}
	if reads.jobsErr != nil {
		return 0
	}
	if job, ok := pickJob(reads.jobs, st.JobStatus.JobID); ok && job.State != api.JobStatusCREATED && job.State != api.JobStatusINITIALIZING {
		return 0
	}
	since, ok := availableSince(dep)
	if !ok {
		return 0
	}
	// A member clock ahead of the hub's never makes it wait longer.
	return min(max(since.Add(progress).Sub(now), 0), progress)
}

func available(dep *appsv1.Deployment) bool {
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	return dep.Status.ObservedGeneration >= dep.Generation && dep.Status.AvailableReplicas >= want && want > 0
}

// deploymentProblem is the Deployment's own explanation, if any.
func deploymentProblem(dep *appsv1.Deployment) string {
	for _, c := range dep.Status.Conditions {
		if c.Status != "True" && c.Message != "" {
			return c.Message
		}
	}
	return fmt.Sprintf("%d of %d replicas available", dep.Status.AvailableReplicas, replicas(dep))
}

func replicas(dep *appsv1.Deployment) int32 {
	if dep.Spec.Replicas == nil {
		return 1
	}
	return *dep.Spec.Replicas
}

func equalStatus(a, b *v1beta1.FlinkDeploymentStatus) bool { return equality.Semantic.DeepEqual(a, b) }
