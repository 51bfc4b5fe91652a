package flinkdeployment

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/controllers/deployer"
	"github.com/flink-hub/flink-hub/controllers/flinkrest"
	"github.com/flink-hub/flink-hub/controllers/validation"
	"github.com/flink-hub/flink-hub/observability"
	"github.com/flink-hub/flink-hub/sharding/handoff"
	"github.com/flink-hub/flink-hub/sharding/shardkey"
)

// Finalizer is the upstream operator's finalizer on FlinkDeployments.
const Finalizer = "flinkdeployments.flink.apache.org/finalizer"

// Gate admits reconciles of the keys this replica owns. sharding.Gate
// implements it; the reconciler knows nothing of Leases.
type Gate interface {
	// Owns reports whether this replica may reconcile key now.
	Owns(key string) bool
	// Begin admits one reconcile of key; ok is false when another replica
	// owns it. Call done when the reconcile ends.
	Begin(ctx context.Context, key string) (rctx context.Context, done func(), ok bool)
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

	stalls stallReporter
}

// state is one reconcile's working set.
type state struct {
	cluster     cluster.Cluster
	clusterName string
	fd          *v1beta1.FlinkDeployment
	// lastSpec is the decoded lastReconciledSpec, nil before the first
	// deployment.
	lastSpec *v1beta1.FlinkDeploymentSpec
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
// names the step it was in. It assumes ownership: wrap it with Gated.
func (r *Reconciler) Reconcile(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
	step := "reading the FlinkDeployment"
	if d := r.Options.ReconcileTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, errReconcileDeadline)
		defer cancel()
	}
	next, err := r.reconcile(ctx, req, &step)
	return resultFor(r.cutShort(ctx, step, err), next, r.Options.ReconcileInterval)
}

// cutShort names the reconcile deadline and step in err when the deadline
// ended the reconcile.
func (r *Reconciler) cutShort(ctx context.Context, step string, err error) error {
	var d *deadlineError
	if err == nil || errors.As(err, &d) || !errors.Is(context.Cause(ctx), errReconcileDeadline) {
		return err
	}
	return &deadlineError{limit: r.Options.ReconcileTimeout, step: step, err: err}
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
	// Right after this replica took the key over, the cache may lack the
	// previous owner's last writes (a trigger id, a savepoint path): the
	// first reconcile reads the apiserver.
	var reader client.Reader = cl.GetClient()
	if handoff.First(ctx) {
		reader = cl.GetAPIReader()
	}
	fd := &v1beta1.FlinkDeployment{}
	if err := reader.Get(ctx, req.NamespacedName, fd); err != nil {
		return 0, client.IgnoreNotFound(err)
	}
	observability.AnnotateReconcile(ctx, observability.AttrGeneration.Int64(fd.Generation))
	s := &state{cluster: cl, clusterName: req.ClusterName.String(), fd: fd, next: r.Options.ReconcileInterval, step: step}
	if w, ok := foreignStatusWriter(fd.ManagedFields, r.Options.FieldOwner); ok {
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
		return 0, r.refuse(ctx, cl, fd, validationPrefix+ferr.Error())
	}
	if !controllerutil.ContainsFinalizer(fd, Finalizer) {
		*step = "adding the finalizer"
		patch := fencedPatch(fd.DeepCopy())
		controllerutil.AddFinalizer(fd, Finalizer)
		if err := cl.GetClient().Patch(ctx, fd, patch); err != nil {
			err = fmt.Errorf("add finalizer: %w", err)
			r.reportStallAndPersist(ctx, s, err)
			return 0, err
		}
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
	}
	return s.next, err
}

// refuse reports msg in the status of a FlinkDeployment the hub never
// manages (one in kube-system) and does nothing else: no finalizer, no
// event, no observation, no member object. It writes only when the status
// does not say so yet.
func (r *Reconciler) refuse(ctx context.Context, cl cluster.Cluster, fd *v1beta1.FlinkDeployment, msg string) error {
	if fd.Status.Error == msg {
		return nil
	}
	written := fd.DeepCopy()
	fd.Status.Error = msg
	setReadyCondition(fd)
	if err := r.writeStatus(ctx, cl.GetClient(), fd, written); err != nil {
		return client.IgnoreNotFound(fmt.Errorf("write status: %w", err))
	}
	return nil
}

// Gated admits a request to inner only while gate says this replica owns
// its key; a dropped request is not an error and is not retried here (the
// owner has it).
func Gated(gate Gate, inner reconcile.TypedReconciler[mcreconcile.Request]) reconcile.TypedReconciler[mcreconcile.Request] {
	return reconcile.TypedFunc[mcreconcile.Request](func(ctx context.Context, req mcreconcile.Request) (reconcile.Result, error) {
		ctx, done, ok := gate.Begin(ctx, requestKey(req))
		if !ok {
			return reconcile.Result{}, nil
		}
		defer done()
		return inner.Reconcile(ctx, req)
	})
}

// phases runs observe, validate, diff and act; status is written by the
// caller whatever they return.
func (r *Reconciler) phases(ctx context.Context, s *state) error {
	last, _, err := decodeSpec(s.fd.Status.ReconciliationStatus.LastReconciledSpec)
	if err != nil {
		return stalling(err)
	}
	s.lastSpec = last

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
	st.LifecycleState = lifecycleState(st)
	setReadyCondition(s.fd)
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
	return nil
}

// setReadyCondition summarizes the status in a Ready condition.
func setReadyCondition(fd *v1beta1.FlinkDeployment) {
	st := &fd.Status
	c := metav1.Condition{Type: "Ready", ObservedGeneration: fd.Generation}
	switch {
	case st.Error != "":
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, "Error", st.Error
	case st.LifecycleState == v1beta1.LifecycleStable:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, "Stable", "the deployed spec runs stably"
	case st.LifecycleState == v1beta1.LifecycleSuspended:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, "Suspended", "the job is suspended"
	default:
		c.Status, c.Reason = metav1.ConditionFalse, "Progressing"
		c.Message = fmt.Sprintf("lifecycle %s, JobManager %s", st.LifecycleState, st.JobManagerDeploymentStatus)
	}
	meta.SetStatusCondition(&st.Conditions, c)
}
