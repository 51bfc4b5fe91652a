// Package flinksessionjob is the FlinkSessionJob controller: it runs each
// job on the session cluster its spec names (a FlinkDeployment without a
// job, in the same namespace and member), as the Apache operator does:
// the hub fetches the job's jar, uploads it to the session cluster, runs
// it under a job id the hub chose and recorded first (so a retried
// submission never starts a second job), deletes the uploaded jar, and
// follows the job. Spec changes stop the job by its upgrade mode
// (cancelled when stateless, stopped with a savepoint otherwise) and start
// it again, but for a change of its parallelism overrides alone, which
// rescales it in place when it can; a suspend stops it, a resume starts it
// from the savepoint.
package flinksessionjob

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/memberkind"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/deadline"
	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/jarfetch"
	"github.com/flink-hub/flink-hub/internal/observability"
	lifecycletiming "github.com/flink-hub/flink-hub/internal/observability/lifecycle"
	"github.com/flink-hub/flink-hub/internal/problem"
	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
	"github.com/flink-hub/flink-hub/internal/validation"
)

// Finalizer is the upstream operator's finalizer on FlinkSessionJobs.
const Finalizer = "flinksessionjobs.flink.apache.org/finalizer"

// Jars fetches jars, with the HTTP headers given; *jarfetch.Fetcher is
// one.
type Jars interface {
	Fetch(ctx context.Context, uri string, header http.Header) (jarfetch.Jar, error)
}

// Reconciler reconciles FlinkSessionJobs in member clusters.
type Reconciler struct {
	// Clusters gives the member clusters.
	Clusters flinkdeployment.ClusterGetter
	// JobManagers gives Flink REST clients of session clusters.
	JobManagers flinkdeployment.JobManagerClients
	// Jars fetches the jobs' jars.
	Jars Jars
	// Options are the intervals and the field owner, shared with the
	// FlinkDeployment controller.
	Options flinkdeployment.Options
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Defaults are the fleet's and members' default configuration, read
	// after the job's and its session cluster's; optional.
	Defaults *defaults.Store
	// CacheCheck confirms the cached session job on the first reconcile
	// after a takeover by one list of its namespace (listconfirm);
	// optional: without it that reconcile reads the session job live.
	CacheCheck flinkdeployment.CacheChecker

	warned    flinkdeployment.Generations
	lifecycle lifecycletiming.Recorder
}

// state is one reconcile's working set.
type state struct {
	cluster     cluster.Cluster
	clusterName string
	job         *v1beta1.FlinkSessionJob
	written     *v1beta1.FlinkSessionJob
	// last is the last reconciled spec, nil before the first submission.
	last *v1beta1.FlinkSessionJobSpec
	// session is the session cluster, once found.
	session *v1beta1.FlinkDeployment
	// missing is set when the session cluster does not know the job the
	// status names: there is nothing in Flink to stop.
	missing bool
	// defaults are the member's default configuration (fleet's and
	// member's).
	defaults map[string]string
	// headerScope is where the defaults' jar fetch header may go.
	headerScope defaults.DefaultHeaderScope
	// afterWrite run once the next status write went through, fenced.
	afterWrite []func(context.Context)
	problem    problem.Problem
	next       time.Duration
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile runs one reconcile of a FlinkSessionJob; wrap it with the gate
// (flinkdeployment.GatedBy with RequestKey).
func (r *Reconciler) Reconcile(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
	return memberkind.Run(ctx, r.Options, func(ctx context.Context) (time.Duration, error) { return r.reconcile(ctx, req) })
}

func (r *Reconciler) reconcile(ctx context.Context, req mcreconcile.Request) (time.Duration, error) {
	job := &v1beta1.FlinkSessionJob{}
	cl, found, err := memberkind.Read(ctx, r.Clusters, r.CacheCheck, req, job)
	if !found {
		return 0, err
	}
	s := &state{cluster: cl, clusterName: req.ClusterName.String(), job: job, written: job.DeepCopy(),
		problem: currentProblem(job), next: r.Options.ReconcileInterval}
	if r.Defaults != nil {
		// Settings a job does not set come from the defaults: none are
		// read before all are (a replica that has just started).
		if err := r.Defaults.WaitAWhile(ctx); err != nil {
			return 0, requeue.Waiting(err, defaults.ReconcileWait)
		}
		s.defaults, _ = r.Defaults.Effective(s.clusterName, nil)
		s.headerScope, _ = r.Defaults.HeaderScope(s.clusterName)
	}
	if !job.DeletionTimestamp.IsZero() {
		// The deletion ends an upgrade under way, and the report of its
		// wait; the deletion's own waits report themselves.
		s.problem = clearProblem(s.problem, stallReasons...)
		err := r.finalize(ctx, s)
		if err != nil && controllerutil.ContainsFinalizer(job, Finalizer) {
			// A deletion held back says why in the status.
			if !requeue.IsWaiting(err) {
				s.problem = problem.New(problem.ReconcileFailed, "deletion: "+err.Error())
			}
			_ = r.persist(ctx, s) // the returned error stays the reconcile's
		}
		return r.Options.ProgressCheckInterval, err
	}
	if ferr := validation.ValidateNamespace(job.Namespace); ferr != nil {
		// Never managed: no finalizer, no submission; only the status says
		// why.
		s.problem = problem.New(problem.InvalidSpec, "invalid spec: "+ferr.Error())
		return 0, r.persist(ctx, s)
	}
	if !controllerutil.ContainsFinalizer(job, Finalizer) {
		if err := memberkind.SetFinalizer(ctx, cl.GetClient(), job, Finalizer, true); err != nil {
			return 0, err
		}
		s.written = job.DeepCopy()
	}
	err = r.phases(ctx, s)
	if err != nil && !requeue.IsWaiting(err) && s.problem.IsZero() {
		s.problem = problem.New(problem.ReconcileFailed, "reconcile failed: "+err.Error())
	}
	if ctx.Err() != nil {
		// The reconcile deadline passed: what stopped it is still written.
		var cancel context.CancelFunc
		ctx, cancel = deadline.Renew(ctx)
		defer cancel()
	}
	if perr := r.persist(ctx, s); perr != nil && err == nil {
		err = perr
	} else if perr == nil {
		r.lifecycle.Observe(lifecycletiming.Resource{Kind: "FlinkSessionJob", Cluster: s.clusterName, Namespace: job.Namespace, Name: job.Name},
			string(s.job.Status.LifecycleState), r.now())
	}
	return s.next, err
}

// phases validates, observes and brings the job to its spec.
func (r *Reconciler) phases(ctx context.Context, s *state) error {
	last, err := decodeSpec(s.job.Status.ReconciliationStatus.LastReconciledSpec)
	if err != nil {
		s.problem = problem.New(problem.InvalidSpec, err.Error())
		return nil
	}
	s.last = last
	if errs := validation.ValidateSessionJob(s.job); len(errs) > 0 {
		s.problem = problem.New(problem.InvalidSpec, "invalid spec: "+errs.ToAggregate().Error())
		return nil
	}
	if s.problem.Is(problem.InvalidSpec) {
		s.problem = problem.Problem{}
	}
	if r.warned.First(s.job.UID, s.job.Generation) {
		flinkdeployment.WarnUnknownSettings(s.job.Spec.FlatConfiguration, func(msg string) { r.event(s, "Warning", "UnknownSetting", msg) })
	}
	pctx, end := observability.StartPhase(ctx, "observe")
	ready, err := r.sessionCluster(pctx, s)
	var jm flinkrest.Client
	if err == nil && ready {
		if jm, err = r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.session); err == nil {
			err = r.observe(pctx, s, jm)
		}
	}
	end(err)
	if err != nil || !ready {
		return err
	}
	pctx, end = observability.StartPhase(ctx, "reconcile")
	err = r.reconcileSpec(pctx, s, jm)
	end(err)
	return err
}

// sessionCluster finds the job's session cluster and reports whether its
// JobManager is ready; a missing or unfit cluster is the job's problem.
func (r *Reconciler) sessionCluster(ctx context.Context, s *state) (bool, error) {
	fd := &v1beta1.FlinkDeployment{}
	err := s.cluster.GetClient().Get(ctx, client.ObjectKey{Namespace: s.job.Namespace, Name: s.job.Spec.DeploymentName}, fd)
	switch {
	case apierrors.IsNotFound(err):
		s.unavailable(problem.New(problem.SessionClusterUnavailable, fmt.Sprintf("session cluster %s/%s does not exist; create it, or set spec.deploymentName to a FlinkDeployment without a job", s.job.Namespace, s.job.Spec.DeploymentName)))
		return false, requeue.Waiting(errors.New("no session cluster"), r.Options.ReconcileInterval)
	case err != nil:
		return false, fmt.Errorf("read session cluster: %w", err)
	case fd.Spec.Job != nil:
		s.problem = problem.New(problem.InvalidSpec, fmt.Sprintf("invalid spec: spec.deploymentName: %s is an application cluster (it has a job); a session job needs a FlinkDeployment without a job", fd.Name))
		return false, nil
	case fd.Status.JobManagerDeploymentStatus != v1beta1.JobManagerReady:
		s.unavailable(problem.New(problem.SessionClusterUnavailable, fmt.Sprintf("session cluster %s is not ready (JobManager %s); waiting for it", fd.Name, fd.Status.JobManagerDeploymentStatus)))
		return false, requeue.Waiting(errors.New("session cluster not ready"), r.Options.ProgressCheckInterval)
	}
	if s.problem.Is(problem.SessionClusterUnavailable) {
		s.problem = problem.Problem{}
	}
	s.session = fd
	return true, nil
}

// unavailable makes p, the session cluster's unavailability, the
// problem, unless the status says the job ended unseen (JobResultGone)
// and the spec asks for nothing new. That fact is kept while the cluster
// is away: it alone keeps the hub from running the job again once a
// JobManager restarted without HA (its job result store in memory) no
// longer refuses the id.
func (s *state) unavailable(p problem.Problem) {
	if s.problem.Is(problem.JobResultGone) && s.last != nil && !changed(&s.job.Spec, s.last) && suspended(&s.job.Spec) == suspended(s.last) {
		return
	}
	s.problem = p
}

// persist writes the status, derived from the problem in one place, when
// it changed, fenced by the resourceVersion read.
func (r *Reconciler) persist(ctx context.Context, s *state) error {
	st := &s.job.Status
	conf, _ := s.job.Spec.FlatConfiguration()
	st.Error = problem.EncodeWith(s.problem, flinkconf.ExceptionOptions(conf))
	st.LifecycleState = lifecycle(st, s.last)
	meta.SetStatusCondition(&st.Conditions, readyCondition(s))
	if !s.problem.IsZero() && !s.problem.Same(currentProblem(s.written)) {
		r.event(s, "Warning", s.problem.EventReason(), s.problem.Message)
	}
	if equalStatus(&s.written.Status, st) {
		return nil
	}
	if err := memberkind.WriteStatus(ctx, s.cluster.GetClient(), s.job, s.written, r.Options.FieldOwner); err != nil {
		return err
	}
	s.written = s.job.DeepCopy()
	// What follows the fenced write goes out only while this replica
	// still holds the key: a replica stopped right after the write and
	// resumed after another took the key over writes nothing more.
	if handoff.StillOwned(ctx) {
		for _, f := range s.afterWrite {
			f(ctx)
		}
	}
	s.afterWrite = nil
	return nil
}

// readyCondition is Ready: True while the job runs the reconciled spec,
// else False with the problem's reason, or Progressing.
func readyCondition(s *state) metav1.Condition {
	c := metav1.Condition{Type: flinkdeployment.ConditionReady, ObservedGeneration: s.job.Generation, Status: metav1.ConditionFalse}
	switch {
	case !s.problem.IsZero():
		c.Reason, c.Message = string(s.problem.Reason), boundedtext.Cut(s.problem.Message, problem.MaxConditionMessage)
	case s.job.Status.LifecycleState == v1beta1.LifecycleSuspended:
		c.Reason, c.Message = "Suspended", "the job is suspended"
	case s.job.Status.JobStatus.State == v1beta1.JobRunning:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, "Running", "the job runs"
	default:
		c.Reason, c.Message = "Progressing", fmt.Sprintf("job %s", s.job.Status.JobStatus.State)
	}
	return c
}

// currentProblem is the problem job's status.error records.
func currentProblem(job *v1beta1.FlinkSessionJob) problem.Problem {
	return problem.Current(job.Status.Error)
}

// event records an event on the FlinkSessionJob in its member cluster.
func (r *Reconciler) event(s *state, eventType, reason, msg string) {
	s.cluster.GetEventRecorder("flink-hub").Eventf(s.job, nil, eventType, reason, reason, "%s", msg)
}
