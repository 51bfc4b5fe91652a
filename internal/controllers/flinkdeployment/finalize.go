package flinkdeployment

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/observability/lifecycle"
	"github.com/flink-hub/flink-hub/internal/problem"
	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
)

// finalize deletes what the hub created for a FlinkDeployment being
// deleted: the JobManager Deployment first (foreground, so its pods are gone
// before the rest), then the TaskManagers, Services, ConfigMaps, Ingress and
// Flink's HA ConfigMaps, and finally removes the finalizer. It never runs
// because a member was unregistered: only a deleted FlinkDeployment has a
// deletion timestamp.
func (r *Reconciler) finalize(ctx context.Context, s *state) error {
	fd := s.fd
	if !controllerutil.ContainsFinalizer(fd, Finalizer) {
		return nil
	}
	c := s.cluster.GetClient()
	if fd.Status.LifecycleState != v1beta1.LifecycleDeleting {
		before := fd.DeepCopy()
		fd.Status.LifecycleState = v1beta1.LifecycleDeleting
		if err := r.writeStatus(ctx, c, fd, before); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("mark deleting: %w", err)
		}
	}

	// The deletion ends an upgrade under way: so does the report of its
	// wait (a stalled cancellation), which reportStallAndPersist writes.
	s.clear(problem.UpgradeStalled)
	if blocked, err := r.sessionJobsRemain(ctx, s); err != nil || blocked {
		return err
	}
	if blocked, err := r.unmanagedJobsRun(ctx, s); err != nil || blocked {
		return err
	}
	if saved, err := r.savepointOnDeletion(ctx, s); err != nil || !saved {
		return err
	}
	err := deployer.DeleteCluster(ctx, c, s.cluster.GetAPIReader(), fd, deployer.Teardown{Everything: true}, r.deployers()...)
	if errors.Is(err, deployer.ErrJobManagerRemains) {
		return r.awaitJobManagerGone(ctx, s, "the deletion")
	}
	if err != nil {
		return err
	}

	patch := fencedPatch(fd.DeepCopy())
	controllerutil.RemoveFinalizer(fd, Finalizer)
	if err := handoff.CheckOwned(ctx); err != nil {
		return err
	}
	if err := c.Patch(ctx, fd, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer: %w", err)
	}
	r.lifecycle.Forget(lifecycle.Resource{Kind: "FlinkDeployment", Cluster: s.clusterName, Namespace: fd.Namespace, Name: fd.Name})
	return nil
}

// sessionJobsRemain holds the deletion of a session cluster back while
// FlinkSessionJobs of its namespace still name it, as upstream does (unless
// kubernetes.operator.session.deletion.block-on-session-jobs is false):
// their deletion cancels their jobs through it. It says so in the status.
func (r *Reconciler) sessionJobsRemain(ctx context.Context, s *state) (bool, error) {
	if s.fd.Spec.Job != nil || plan.SettingOff(&s.fd.Spec, flinkconf.KeyBlockOnSessionJobs) {
		return false, nil
	}
	var jobs v1beta1.FlinkSessionJobList
	if err := s.cluster.GetClient().List(ctx, &jobs, client.InNamespace(s.fd.Namespace)); err != nil {
		if meta.IsNoMatchError(err) {
			return false, nil // no FlinkSessionJob CRD in this member: no session jobs
		}
		return false, fmt.Errorf("list session jobs: %w", err)
	}
	var names []string
	for _, j := range jobs.Items {
		if j.Spec.DeploymentName == s.fd.Name {
			names = append(names, j.Name)
		}
	}
	if len(names) == 0 {
		s.clear(problem.DeletionBlocked)
		return false, nil
	}
	return true, r.blockDeletion(ctx, s, fmt.Sprintf("the session cluster is deleted once its session jobs are: delete FlinkSessionJob %s", strings.Join(names, ", ")))
}

// savepointOnDeletion stops a running job with a savepoint before its
// cluster is deleted when kubernetes.operator.job.savepoint-on-deletion is
// true, as upstream does: the trigger is recorded first and followed to
// its path, which the status (last savepoint, history) and an event keep.
// A savepoint that fails holds the deletion back, reported, and is tried
// again. It reports whether the deletion may go on.
func (r *Reconciler) savepointOnDeletion(ctx context.Context, s *state) (bool, error) {
	fd := s.fd
	if fd.Spec.Job == nil || !plan.SettingOn(&fd.Spec, flinkconf.KeySavepointOnDeletion) {
		return true, nil
	}
	if s.written == nil {
		s.written = fd.DeepCopy()
	}
	st := &fd.Status
	info := st.JobStatus.SavepointInfo
	pending := info != nil && info.TriggerID != "" && info.TriggerType == v1beta1.TriggerUpgrade
	// The recorded status is not refreshed during a deletion: a READY
	// JobManager whose Deployment is gone (a namespace deletion) would be
	// asked for a savepoint forever.
	if deleted, err := jobManagerDeleted(ctx, s); err != nil || deleted {
		if deleted && (pending || st.JobStatus.State == v1beta1.JobRunning) {
			r.event(s, "Warning", "SavepointError", "The JobManager deployment is gone: no savepoint of job "+st.JobStatus.JobID+" for the deletion")
		}
		return deleted, err
	}
	if pending {
		loc, err := r.pollSavepoint(ctx, s, info)
		if err != nil {
			return false, err
		}
		st.JobStatus.State = v1beta1.JobFinished
		r.event(s, "Normal", "SavepointCompleted", "job "+st.JobStatus.JobID+" stopped for the deletion with savepoint "+loc)
		return true, r.persist(ctx, s)
	}
	if st.JobStatus.State != v1beta1.JobRunning || st.JobManagerDeploymentStatus != v1beta1.JobManagerReady {
		return true, nil // no running job to keep the state of
	}
	return false, r.triggerSavepoint(ctx, s, v1beta1.TriggerUpgrade, true)
}

// jobManagerDeleted reports whether the JobManager Deployment is gone or
// being deleted.
func jobManagerDeleted(ctx context.Context, s *state) (bool, error) {
	dep, err := JobManagerDeployment(ctx, s.cluster, s.fd)
	if err != nil {
		return false, err
	}
	return dep == nil || !dep.DeletionTimestamp.IsZero(), nil
}

// JobManagerDeployment reads fd's JobManager Deployment in cl from the
// cache, then live (an adopted JobManager, or one not cached yet, is not
// in the cache); nil when there is none.
func JobManagerDeployment(ctx context.Context, cl cluster.Cluster, fd *v1beta1.FlinkDeployment) (*appsv1.Deployment, error) {
	dep := &appsv1.Deployment{}
	key := client.ObjectKey{Namespace: fd.Namespace, Name: deployer.JobManagerDeploymentName(fd)}
	err := cl.GetClient().Get(ctx, key, dep)
	if apierrors.IsNotFound(err) {
		err = cl.GetAPIReader().Get(ctx, key, dep)
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read JobManager deployment %s: %w", key, err)
	}
	return dep, nil
}

// maxListed bounds the items a message names (jobs, keys): they are text
// of the tenant or the JobManager.
const maxListed = 5

// boundedList joins at most maxListed items, saying how many more there
// are.
func boundedList(items []string) string {
	listed := strings.Join(items[:min(len(items), maxListed)], ", ")
	if len(items) > maxListed {
		listed += fmt.Sprintf(" and %d more", len(items)-maxListed)
	}
	return listed
}

// unmanagedJobsRun holds the deletion of a session cluster back while it
// runs jobs no FlinkSessionJob manages (submitted with Flink's CLI or web
// UI), unless kubernetes.operator.session.deletion.block-on-unmanaged-jobs
// (or its deprecated name, session.block-on-unmanaged-jobs) is false, as
// upstream does. It runs after sessionJobsRemain, so every job
// left is unmanaged. A JobManager that is not ready, or does not answer,
// runs nothing to keep.
func (r *Reconciler) unmanagedJobsRun(ctx context.Context, s *state) (bool, error) {
	fd := s.fd
	if fd.Spec.Job != nil || fd.Status.JobManagerDeploymentStatus != v1beta1.JobManagerReady {
		return false, nil
	}
	if block, ok := flinkconf.Bool(plan.OperatorSetting(&fd.Spec, flinkconf.KeyBlockOnUnmanagedJobs)); ok && !block {
		return false, nil
	}
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), fd)
	if err != nil {
		return false, nil
	}
	jobs, err := jm.ListJobs(ctx)
	if err != nil {
		log.FromContext(ctx).Info("cannot list the session cluster's jobs; deleting it", "error", err.Error())
		return false, nil
	}
	var running []string
	for _, j := range jobs {
		switch v1beta1.JobStatusState(j.State) {
		case v1beta1.JobFinished, v1beta1.JobCanceled, v1beta1.JobFailed, v1beta1.JobSuspended:
			continue
		}
		name := []rune(j.Name) // the JobManager's text: bounded
		if len(name) > 64 {
			name = append(name[:64], '…')
		}
		running = append(running, fmt.Sprintf("%s (%q, %s)", j.Jid, string(name), j.State))
	}
	if len(running) == 0 {
		s.clear(problem.DeletionBlocked)
		return false, nil
	}
	listed := boundedList(running)
	return true, r.blockDeletion(ctx, s, fmt.Sprintf("the session cluster runs jobs no FlinkSessionJob manages: %s; cancel them, or set %s: \"false\" to delete it with them",
		listed, flinkconf.KeyBlockOnUnmanagedJobs))
}

// blockDeletion reports why the deletion waits, in the status, and waits.
func (r *Reconciler) blockDeletion(ctx context.Context, s *state, why string) error {
	before := s.fd.DeepCopy()
	s.report(problem.New(problem.DeletionBlocked, why))
	r.publish(s, &before.Status)
	if err := r.writeStatus(ctx, s.cluster.GetClient(), s.fd, before); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("write status: %w", err)
	}
	return requeue.Waiting(errors.New("deletion blocked: "+why), r.Options.ProgressCheckInterval)
}

// deployers are the reconciler's deployers, in a fixed order.
func (r *Reconciler) deployers() []deployer.Deployer {
	out := make([]deployer.Deployer, 0, len(r.Deployers))
	for _, mode := range []v1beta1.KubernetesDeploymentMode{v1beta1.ModeNative, v1beta1.ModeStandalone} {
		if d, ok := r.Deployers[mode]; ok {
			out = append(out, d)
		}
	}
	return out
}
