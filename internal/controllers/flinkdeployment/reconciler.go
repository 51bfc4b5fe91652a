package flinkdeployment

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/observability"
	"github.com/flink-hub/flink-hub/internal/observability/lifecycle"
	"github.com/flink-hub/flink-hub/internal/observability/traceattr"
	"github.com/flink-hub/flink-hub/internal/problem"
	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
	"github.com/flink-hub/flink-hub/internal/validation"
)

// Finalizer is the upstream operator's finalizer on FlinkDeployments.
const Finalizer = "flinkdeployments.flink.apache.org/finalizer"

// Gate admits reconciles of the keys this replica owns. sharding.Gate
// implements it; the reconciler knows nothing of Leases.
type Gate interface {
	// Owns reports whether this replica may reconcile key now.
	Owns(key string) bool
	// Begin admits one reconcile of key; ok is false when another replica
	// owns it. Call done with the reconcile's error when it ends: the
	// handoff.First mark stays until a marked reconcile succeeded.
	Begin(ctx context.Context, key string) (rctx context.Context, done func(err error), ok bool)
}

// ClusterGetter returns engaged member clusters; mcmanager.Manager is one.
type ClusterGetter interface {
	GetCluster(ctx context.Context, name multicluster.ClusterName) (cluster.Cluster, error)
}

// JobManagerClients returns a Flink REST client for fd's JobManager in the
// member whose API config is member.
type JobManagerClients func(clusterName string, member *rest.Config, fd *v1beta1.FlinkDeployment) (flinkrest.Client, error)

// requestKey is the sharding key of a request's FlinkDeployment.
func requestKey(req mcreconcile.Request) string {
	return shardkey.Key{Cluster: req.ClusterName.String(), Namespace: req.Namespace, Name: req.Name}.String()
}

// key is the sharding key of the reconciled FlinkDeployment.
func (s *state) key() string {
	return shardkey.Key{Cluster: s.clusterName, Namespace: s.fd.Namespace, Name: s.fd.Name}.String()
}

// Reconciler reconciles FlinkDeployments in member clusters.
type Reconciler struct {
	// Clusters gives the member clusters.
	Clusters ClusterGetter
	// Deployers build member objects per mode.
	Deployers map[v1beta1.KubernetesDeploymentMode]deployer.Deployer
	// JobManagers gives Flink REST clients.
	JobManagers JobManagerClients
	// Options are the intervals.
	Options Options
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Defaults are the fleet's and members' default configuration, merged
	// under each FlinkDeployment's own; optional.
	Defaults *defaults.Store
	// Adoptions say since when each member's FlinkDeployments written by
	// another operator are the hub's (`kubectl flinkhub adopt`); optional.
	Adoptions Adoptions
	// CacheCheck confirms, for the first reconcile of a key taken over,
	// that the cached FlinkDeployment is current, by one list of its
	// namespace in the member, shared by the keys a takeover moves of that
	// namespace; optional (without it,
	// each such reconcile reads the FlinkDeployment live).
	CacheCheck CacheChecker

	stalls stallReporter

	warned     Generations
	valid      validSpecs
	exceptions ExceptionMarks
	sizes      ReadTimes
	lifecycle  lifecycle.Recorder
	own        ownWrites
	// eventsRefused are the members that refused to list events, by
	// name: said once.
	eventsRefused sync.Map
}

// CacheChecker confirms that a cached object is current
// (listconfirm.Confirmer).
type CacheChecker interface {
	// Current reports whether rv, the cached resource version of nn in
	// member, is the one a list through reader, started after since,
	// saw.
	Current(ctx context.Context, member string, reader client.Reader, nn types.NamespacedName, rv string, since time.Time) bool
}

// Adoptions give each member's adoption time (clusters.Provider).
type Adoptions interface {
	// AdoptBefore is the time before which other operators' status
	// writes of the member's FlinkDeployments hand them to the hub; zero
	// for none.
	AdoptBefore(member string) time.Time
}

// adoptBefore is the member's adoption time, zero without Adoptions.
func (r *Reconciler) adoptBefore(member string) time.Time {
	if r.Adoptions == nil {
		return time.Time{}
	}
	return r.Adoptions.AdoptBefore(member)
}

// state is one reconcile's working set.
type state struct {
	cluster     cluster.Cluster
	clusterName string
	fd          *v1beta1.FlinkDeployment
	// lastSpec is the decoded lastReconciledSpec, nil before the first
	// deployment; lastSpecOf is the lastReconciledSpec it was decoded
	// from (or encoded to), so that a later reader knows it is current.
	lastSpec   *v1beta1.FlinkDeploymentSpec
	lastSpecOf string
	// next is when to look again on success.
	next time.Duration
	// written is the object as last written to the apiserver; status
	// patches are computed against it.
	written *v1beta1.FlinkDeployment
	// jobManager is the observed JobManager Deployment, nil when absent or
	// being deleted.
	jobManager *appsv1.Deployment
	// step names what the reconcile is doing, for the error of a reconcile
	// whose deadline passed.
	step *string
	// problem is what keeps the FlinkDeployment from its spec now, read
	// from status.error; publish derives status.error, the conditions and
	// the Warning event from it.
	problem problem.Problem
	// afterWrite run once the next status write went through, fenced.
	afterWrite []func(context.Context)
	// confirmed is when a fenced write of this reconcile last went
	// through: fd was current then, as a live read would have shown.
	confirmed time.Time
}

// setting reads an operator setting of the running spec (runningSpec).
func (s *state) setting(key string) string { return plan.OperatorSetting(runningSpec(s), key) }

// report makes p the current problem.
func (s *state) report(p problem.Problem) { s.problem = p }

// clear ends the current problem when it has one of reasons.
func (s *state) clear(reasons ...problem.Reason) {
	if s.problem.Is(reasons...) {
		s.problem = problem.Problem{}
	}
}

// doing records what the reconcile does now.
func (s *state) doing(what string) {
	if s.step != nil {
		*s.step = what
	}
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile runs one reconcile of a FlinkDeployment in a member cluster,
// within Options.ReconcileTimeout: when that passes, its error says so and
// names the step it was in. It assumes ownership: wrap it with
// SharedThenGated.
func (r *Reconciler) Reconcile(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
	step := "reading the FlinkDeployment"
	if d := r.Options.ReconcileTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, errReconcileDeadline)
		defer cancel()
	}
	next, err := r.reconcile(ctx, req, &step)
	return requeue.Result(r.cutShort(ctx, step, err), next, r.Options.ReconcileInterval)
}

// cutShort names the reconcile deadline and step in err when the deadline
// ended the reconcile.
func (r *Reconciler) cutShort(ctx context.Context, step string, err error) error {
	var d *requeue.DeadlineError
	if err == nil || errors.As(err, &d) || !errors.Is(context.Cause(ctx), errReconcileDeadline) {
		return err
	}
	return &requeue.DeadlineError{Limit: r.Options.ReconcileTimeout, Step: step, Err: err}
}

// reportContext is ctx, or, once ctx is done (the reconcile deadline
// passed), a short one of its own: what stopped the reconcile is still
// written to status.
func reportContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// leftAlone reports a canary: upstream's probe of its own health, not a
// Flink cluster, so there is nothing to do (upstream's controller does
// nothing else with it either). One the hub finalized before it was
// labelled is still finalized when deleted.
func leftAlone(fd *v1beta1.FlinkDeployment) bool {
	return v1beta1.IsCanary(fd) && (fd.DeletionTimestamp.IsZero() || !controllerutil.ContainsFinalizer(fd, Finalizer))
}

// reconcile is Reconcile's work: it returns when to look again on success
// (0: only on the next event) and keeps *step on what it is doing.
func (r *Reconciler) reconcile(ctx context.Context, req mcreconcile.Request, step *string) (time.Duration, error) {
	// The controller's logger names the FlinkDeployment (SetupWithManager).
	logger := log.FromContext(ctx)

	cl, err := r.Clusters.GetCluster(ctx, req.ClusterName)
	if err != nil {
		// The member went away; its reconciles resume when it is engaged
		// again, from the initial list of its cache.
		logger.V(1).Info("member cluster not engaged, dropping the request", "reason", err.Error())
		return 0, nil
	}
	fd, wait, err := r.readEffective(ctx, req.ClusterName.String(), cl, req.NamespacedName)
	if err != nil || fd == nil {
		return wait, err
	}
	s := &state{cluster: cl, clusterName: req.ClusterName.String(), fd: fd, next: r.Options.ReconcileInterval, step: step, problem: currentProblem(fd)}
	if w, ok := foreignStatusWriter(fd.ManagedFields, r.Options.FieldOwner, r.adoptBefore(s.clusterName)); ok {
		// Another operator writes this FlinkDeployment: not a single
		// write or Flink call from here, whatever its state. Looked at
		// again when the other writers change, and now and then.
		r.reportManagedElsewhere(ctx, s, w)
		return r.Options.ReconcileInterval, nil
	}
	r.resumeManaging(ctx, s)

	// A deletion completes wherever it is: a FlinkDeployment in kube-system
	// that an older hub finalized gets its objects and finalizer removed.
	if !fd.DeletionTimestamp.IsZero() {
		*step = "finalizing the deletion"
		err := r.finalize(ctx, s)
		if controllerutil.ContainsFinalizer(fd, Finalizer) {
			r.reportStallAndPersist(ctx, s, err)
		}
		return r.Options.ProgressCheckInterval, err
	}
	if ferr := validation.ValidateNamespace(fd.Namespace); ferr != nil {
		return 0, r.refuse(ctx, s, problem.New(problem.InvalidSpec, "invalid spec: "+ferr.Error()))
	}
	if !controllerutil.ContainsFinalizer(fd, Finalizer) {
		*step = "adding the finalizer"
		out := fd.DeepCopy()
		patch := fencedPatch(fd.DeepCopy())
		controllerutil.AddFinalizer(out, Finalizer)
		if err := handoff.CheckOwned(ctx); err != nil {
			return 0, err
		}
		if err := cl.GetClient().Patch(ctx, out, patch); err != nil {
			err = fmt.Errorf("add finalizer: %w", err)
			r.reportStallAndPersist(ctx, s, err)
			return 0, err
		}
		r.own.wrote(fd.UID, fd.ResourceVersion, r.now())
		s.confirmed = time.Now()
		// The answer's spec is the stored one, without the defaults.
		fd.ObjectMeta, fd.Status = out.ObjectMeta, out.Status
	}

	s.written = fd.DeepCopy()
	err = r.phases(ctx, s)
	if err == nil {
		s.doing("writing the status")
	}
	// Whatever stopped this reconcile is in status.error before the status
	// is written: nothing stalls silently.
	err = r.cutShort(ctx, *step, err)
	r.reportStall(s, err)
	ctx, cancel := reportContext(ctx)
	defer cancel()
	if perr := r.persist(ctx, s); perr != nil && err == nil {
		err = perr
		r.reportStallAndPersist(ctx, s, err)
	} else if perr == nil {
		r.lifecycle.Observe(lifecycle.Resource{Kind: "FlinkDeployment", Cluster: s.clusterName, Namespace: fd.Namespace, Name: fd.Name},
			string(s.fd.Status.LifecycleState), r.now())
	}
	return s.next, err
}

// refuse reports p in the status of a FlinkDeployment the hub never
// manages (one in kube-system) and does nothing else: no finalizer, no
// event, no observation, no member object. It writes only when the status
// does not say so yet.
func (r *Reconciler) refuse(ctx context.Context, s *state, p problem.Problem) error {
	fd := s.fd
	if currentProblem(fd).Same(p) {
		return nil
	}
	written := fd.DeepCopy()
	fd.Status.Error = problem.EncodeWith(p, exceptionOptions(&fd.Spec))
	setConditions(fd, p)
	if err := r.writeStatus(ctx, s.cluster.GetClient(), fd, written); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("write status: %w", err))
	}
	return nil
}

// GatedBy admits a request to inner only while gate says this replica
// owns its shard key, key(req) (requestKey for a FlinkDeployment); a
// dropped request is not an error and is not retried here (the owner has
// it). The gate learns each reconcile's error (a panic counts as one), so
// that a failed first reconcile after a handoff leaves the next one
// marked handoff.First.
//
// The first reconcile of a key since its shard was acquired puts the
// key's requeues back at the default priority: the shard's keys were
// enqueued ahead of other work (mcgate.TakeoverPriority), for that one
// reconcile only.
func GatedBy(gate Gate, key func(mcreconcile.Request) string, inner reconcile.TypedReconciler[mcreconcile.Request]) reconcile.TypedReconciler[mcreconcile.Request] {
	return reconcile.TypedFunc[mcreconcile.Request](func(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
		ctx, done, ok := gate.Begin(ctx, key(req))
		if !ok {
			return reconcile.Result{}, nil
		}
		err := errPanicked // unless inner returns
		defer func() { done(err) }()
		var res reconcile.Result
		res, err = inner.Reconcile(ctx, req)
		if handoff.First(ctx) && res.Priority == nil {
			res.Priority = ptr.To(defaultPriority)
		}
		return res, err
	})
}

// errPanicked is what GatedBy tells the gate of a reconcile that panicked.
var errPanicked = errors.New("reconcile panicked")

// defaultPriority is the priority of a request enqueued without one.
const defaultPriority = 0

// readEffective reads the FlinkDeployment (read) and, unless it is left
// alone, merges the defaults into the spec this reconcile works on
// (applyDefaults). A nil FlinkDeployment leaves nothing to do but wait.
func (r *Reconciler) readEffective(ctx context.Context, member string, cl cluster.Cluster, key types.NamespacedName) (*v1beta1.FlinkDeployment, time.Duration, error) {
	fd, wait, err := r.read(ctx, member, cl, key)
	if err != nil || fd == nil || wait > 0 || leftAlone(fd) {
		return nil, wait, err
	}
	observability.AnnotateReconcile(ctx, traceattr.Generation.Int64(fd.Generation))
	if err := r.applyDefaults(ctx, member, fd); err != nil {
		return nil, 0, err
	}
	return fd, 0, nil
}

// applyDefaults merges the fleet's and member's default configuration
// under fd's own flinkConfiguration (defaults.Store.Apply, the merge the
// webhook makes too), in the spec this reconcile works on (the user's spec
// is not written): every step, and the last reconciled spec, see the
// effective configuration, so a default change is a spec change like any
// other (an upgrade when it changes Flink's configuration, nothing when it
// only changes kubernetes.operator.* settings). Until the replica has read
// the defaults (it just started) the reconcile waits and is retried: a
// spec without them would be an upgrade.
func (r *Reconciler) applyDefaults(ctx context.Context, member string, fd *v1beta1.FlinkDeployment) error {
	if r.Defaults == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, defaults.ReconcileWait)
	defer cancel()
	if err := r.Defaults.Apply(ctx, member, fd); err != nil {
		return requeue.Waiting(err, defaults.ReconcileWait)
	}
	return nil
}

// phases runs observe, validate, diff and act; status is written by the
// caller whatever they return.
func (r *Reconciler) phases(ctx context.Context, s *state) error {
	last, _, err := plan.DecodeSpec(s.fd.Status.ReconciliationStatus.LastReconciledSpec)
	if err != nil {
		return requeue.Stalling(err)
	}
	s.lastSpec, s.lastSpecOf = last, s.fd.Status.ReconciliationStatus.LastReconciledSpec

	for _, phase := range []struct {
		name  string
		doing string
		run   func(context.Context, *state) error
	}{
		{"observe", "observing", r.observe},
		{"validate", "validating", r.validate},
		{"reconcile", "reconciling the spec", r.reconcileSpec},
		{"report", "reporting", r.report},
	} {
		s.doing(phase.doing)
		pctx, end := observability.StartPhase(ctx, phase.name)
		err := phase.run(pctx, s)
		end(err)
		if err != nil {
			return err
		}
	}
	return nil
}

// persist writes the status in one merge patch, if it changed since it was
// last written. Steps whose effect must survive a crash (a savepoint taken
// for an upgrade, a cluster deleted) persist before the next step.
func (r *Reconciler) persist(ctx context.Context, s *state) error {
	st := &s.fd.Status
	r.publish(s, &s.written.Status)
	if equalStatus(&s.written.Status, st) {
		return nil
	}
	if err := r.writeStatus(ctx, s.cluster.GetClient(), s.fd, s.written); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("write status: %w", err)
	}
	s.written = s.fd.DeepCopy()
	s.confirmed = time.Now()
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

// exceptionOptions are the spec's exception settings (upstream's
// kubernetes.operator.exception.*), which shape status.error.
func exceptionOptions(spec *v1beta1.FlinkDeploymentSpec) problem.ExceptionOptions {
	conf, _ := spec.FlatConfiguration()
	return flinkconf.ExceptionOptions(conf)
}

// publish derives, in this one place, status.error, the lifecycle state
// and the conditions from the current problem, and announces a problem
// that before (the status as last written) did not have with a Warning
// event.
func (r *Reconciler) publish(s *state, before *v1beta1.FlinkDeploymentStatus) {
	st := &s.fd.Status
	st.Error = problem.EncodeWith(s.problem, exceptionOptions(&s.fd.Spec))
	st.LifecycleState = lifecycleState(st, s.decodedLastSpec())
	setConditions(s.fd, s.problem)
	if !s.problem.IsZero() && !s.problem.Same(currentProblem(&v1beta1.FlinkDeployment{Status: *before})) {
		r.event(s, corev1.EventTypeWarning, s.problem.EventReason(), s.problem.Message)
	}
}

// decodedLastSpec is the status's lastReconciledSpec as this reconcile
// decoded or recorded it, nil when it has not (or it is empty): a steady
// reconcile need not decode it twice.
func (s *state) decodedLastSpec() *v1beta1.FlinkDeploymentSpec {
	if s.lastSpec == nil || s.lastSpecOf != s.fd.Status.ReconciliationStatus.LastReconciledSpec {
		return nil
	}
	return s.lastSpec
}

// currentProblem is the problem fd's status.error records.
func currentProblem(fd *v1beta1.FlinkDeployment) problem.Problem {
	return problem.Current(fd.Status.Error)
}
