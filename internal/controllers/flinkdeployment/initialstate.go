package flinkdeployment

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// resolveInitialState turns job.initialStateReference into the savepoint
// path the job first starts from, in the spec this reconcile works on (the
// user's spec is not written): the reference's path, or the path of the
// COMPLETED FlinkStateSnapshot it names. Only a snapshot of the
// FlinkDeployment's own namespace may be named: a tenant never starts from
// another namespace's state. It matters only before the first deployment;
// afterwards a reference that no longer resolves is left alone.
func (r *Reconciler) resolveInitialState(ctx context.Context, s *state) error {
	job := s.fd.Spec.Job
	if job == nil || job.InitialSavepointPath != "" || job.InitialStateReference == nil {
		return nil
	}
	ref := job.InitialStateReference
	if ref.Path != "" {
		job.InitialSavepointPath = ref.Path
		return nil
	}
	path, why := r.snapshotPath(ctx, s, ref)
	switch {
	case path != "":
		job.InitialSavepointPath = path
		return nil
	case s.lastSpec != nil:
		return nil // already deployed: the reference no longer matters
	}
	s.report(problem.New(problem.InvalidSpec, "invalid spec: spec.job.initialStateReference: "+why))
	return requeue.Stalling(errors.New(why))
}

// snapshotPath is the path of the completed snapshot ref names, or why
// there is none.
func (r *Reconciler) snapshotPath(ctx context.Context, s *state, ref *v1beta1.FlinkStateSnapshotReference) (path, why string) {
	ns := ref.Namespace
	if ns == "" {
		ns = s.fd.Namespace
	}
	switch {
	case ref.Name == "":
		return "", "name a FlinkStateSnapshot, or give a path"
	case ns != s.fd.Namespace:
		return "", fmt.Sprintf("the snapshot must be in the FlinkDeployment's namespace %s, not %s", s.fd.Namespace, ns)
	}
	snap := &v1beta1.FlinkStateSnapshot{}
	err := s.cluster.GetClient().Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, snap)
	switch {
	case apierrors.IsNotFound(err):
		return "", fmt.Sprintf("FlinkStateSnapshot %s/%s does not exist", ns, ref.Name)
	case meta.IsNoMatchError(err):
		return "", "the member has no FlinkStateSnapshot CRD"
	case err != nil:
		return "", fmt.Sprintf("cannot read FlinkStateSnapshot %s/%s: %v", ns, ref.Name, err)
	case snap.Status.State != v1beta1.SnapshotCompleted || snap.Status.Path == "":
		return "", fmt.Sprintf("FlinkStateSnapshot %s/%s is %s, not COMPLETED with a path", ns, ref.Name, snap.Status.State)
	}
	return snap.Status.Path, ""
}
