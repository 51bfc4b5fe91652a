package flinkdeployment

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// conflictsBeforeReport is how many conflicts in a row a FlinkDeployment's
// reconciles meet before they are reported: one is normal (a write raced
// another), a series means something else keeps writing.
const conflictsBeforeReport = 3

// stallReporter remembers the conflicts in a row per FlinkDeployment, and
// which FlinkDeployments it reported as managed by another writer.
type stallReporter struct {
	mu        sync.Mutex
	conflicts map[string]int
	elsewhere map[string]foreignWriter
}

// managedElsewhere records that key is left to w and says whether that is
// news (not yet reported for this writer).
func (s *stallReporter) managedElsewhere(key string, w foreignWriter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.elsewhere == nil {
		s.elsewhere = map[string]foreignWriter{}
	}
	if prev, ok := s.elsewhere[key]; ok && prev.manager == w.manager {
		return false
	}
	s.elsewhere[key] = w
	return true
}

// managedHere forgets that key was left to another writer and says
// whether it was.
func (s *stallReporter) managedHere(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.elsewhere[key]
	delete(s.elsewhere, key)
	return ok
}

// conflict counts one more conflict for key and says whether the series is
// long enough to report.
func (s *stallReporter) conflict(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conflicts == nil {
		s.conflicts = map[string]int{}
	}
	s.conflicts[key]++
	return s.conflicts[key] >= conflictsBeforeReport
}

// progress forgets key's conflicts.
func (s *stallReporter) progress(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conflicts, key)
}

// reportStall makes a failed reconcile visible where the user looks: err,
// explained, becomes the ReconcileFailed problem (status.error, the Ready
// condition, a Warning event), unless it is a stalling, waiting or
// reported error (those report themselves) or a conflict that does not
// repeat. A reconcile that got through ends what an earlier one reported.
func (r *Reconciler) reportStall(s *state, err error) {
	key := s.key()
	var sErr *requeue.StallingError
	var wErr *requeue.WaitingError
	var rErr *requeue.ReportedError
	switch {
	case err == nil || errors.As(err, &sErr) || errors.As(err, &wErr):
		r.stalls.progress(key)
		s.clear(problem.ReconcileFailed)
	case errors.As(err, &rErr):
	case apierrors.IsConflict(err) && !r.stalls.conflict(key):
	default:
		s.report(problem.New(problem.ReconcileFailed, "reconcile failed: "+explainStall(s.clusterName, err)))
	}
}

// explainStall says in a user's words what err means and what to do. It
// names the member, never its credentials.
func explainStall(member string, err error) string {
	var netErr net.Error
	var deadline *requeue.DeadlineError
	switch {
	case errors.As(err, &deadline):
		return fmt.Sprintf("%v; the member or the JobManager is too slow or unreachable, the hub keeps retrying", err)
	case apierrors.IsForbidden(err) && strings.Contains(err.Error(), "exceeded quota"):
		return fmt.Sprintf("a ResourceQuota in the namespace refused an object of this FlinkDeployment; raise the quota or lower the resources asked for: %v", err)
	case apierrors.IsForbidden(err) && isAdmissionDenial(err):
		return fmt.Sprintf("an admission webhook or policy in member %s refused an object of this FlinkDeployment; change the spec or the policy: %v", member, err)
	case apierrors.IsForbidden(err):
		return fmt.Sprintf("the hub's identity in member %s may not do this; run `kubectl flinkhub cluster add %s` again to give it the current rights: %v", member, member, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Sprintf("member %s refused the hub's credentials; run `kubectl flinkhub cluster add %s` again for a fresh token: %v", member, member, err)
	case apierrors.IsInvalid(err):
		return fmt.Sprintf("member %s refused an object built from this spec as invalid (check podTemplate, flinkConfiguration and the resources): %v", member, err)
	case apierrors.IsRequestEntityTooLargeError(err) || strings.Contains(err.Error(), "too long") || strings.Contains(err.Error(), "Too long"):
		return fmt.Sprintf("an object built from this spec is too large for member %s; shrink flinkConfiguration, logConfiguration or podTemplate: %v", member, err)
	case apierrors.IsConflict(err):
		return fmt.Sprintf("writes in member %s keep conflicting; something else is changing the objects of this FlinkDeployment: %v", member, err)
	case errors.Is(err, context.DeadlineExceeded) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err) || (errors.As(err, &netErr) && netErr.Timeout()):
		return fmt.Sprintf("member %s did not answer in time; the hub keeps retrying: %v", member, err)
	case apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err):
		return fmt.Sprintf("member %s's API is overloaded or failing; the hub keeps retrying: %v", member, err)
	default:
		return err.Error()
	}
}

// isAdmissionDenial tells an admission refusal from an authorization one:
// both are 403 Forbidden, only the message differs.
func isAdmissionDenial(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "admission webhook") || strings.Contains(msg, "ValidatingAdmissionPolicy") || strings.Contains(msg, "denied request")
}

// reportStallAndPersist is reportStall for the deletion path, which keeps
// no written copy: it writes the status alone when the problem changed.
func (r *Reconciler) reportStallAndPersist(ctx context.Context, s *state, err error) {
	ctx, cancel := reportContext(ctx)
	defer cancel()
	before := s.fd.DeepCopy()
	r.reportStall(s, err)
	r.publish(s, &before.Status)
	if equalStatus(&before.Status, &s.fd.Status) {
		return
	}
	// When the status cannot be written either, the event and the
	// returned error remain.
	_ = r.writeStatus(ctx, s.cluster.GetClient(), s.fd, before)
}

// awaitJobManagerGone is the wait for the JobManager Deployment deleted
// in the foreground for what (the deletion, an upgrade): its deletion
// event brings the next reconcile. A Deployment still there longer than
// the readiness timeout after its deletion is reported (DeletionStalled),
// naming what holds it, and waited for still: nothing is forced.
func (r *Reconciler) awaitJobManagerGone(ctx context.Context, s *state, what string) error {
	jm := &appsv1.Deployment{}
	key := client.ObjectKey{Namespace: s.fd.Namespace, Name: deployer.JobManagerDeploymentName(s.fd)}
	if err := s.cluster.GetClient().Get(ctx, key, jm); err != nil || jm.DeletionTimestamp == nil {
		// Read again on the next reconcile.
		return requeue.Waiting(fmt.Errorf("waiting for the JobManager Deployment to be deleted for %s", what), r.Options.ReconcileInterval)
	}
	return r.awaitDeleted(s, "JobManager Deployment", jm, what, r.Options.ReconcileInterval)
}

// awaitDeleted is the wait for obj, a kind the hub deleted for what,
// looked at again every so often. One still there longer than the
// readiness timeout after its deletion is reported (DeletionStalled),
// naming what holds it, and waited for still (an event instead while
// status.error holds a failed job's cause, which stays).
func (r *Reconciler) awaitDeleted(s *state, kind string, obj client.Object, what string, every time.Duration) error {
	wait := requeue.Waiting(fmt.Errorf("waiting for the %s %s to be deleted for %s", kind, obj.GetName(), what), every)
	timeout := r.readinessTimeout(&s.fd.Spec)
	since := obj.GetDeletionTimestamp().Time
	if left := timeout - r.now().Sub(since); left >= 0 {
		// Looked at again when the timeout passes, to report it.
		return requeue.Waiting(wait, min(every, left+time.Second))
	}
	msg := fmt.Sprintf("the %s %s/%s, deleted for %s at %s, is still there after the readiness timeout of %s: %s; the hub keeps waiting",
		kind, obj.GetNamespace(), obj.GetName(), what, since.UTC().Format(time.RFC3339), timeout, deletionHolders(obj))
	if s.problem.Is(problem.JobFailed) {
		r.event(s, corev1.EventTypeWarning, string(problem.DeletionStalled), msg)
		return wait
	}
	s.report(problem.New(problem.DeletionStalled, msg))
	return wait
}

// deletionHolders says what keeps a deleted object: its finalizers.
func deletionHolders(obj client.Object) string {
	if len(obj.GetFinalizers()) == 0 {
		return "it has no finalizers left; the member's garbage collector has not removed it"
	}
	var out []string
	for _, f := range obj.GetFinalizers() {
		if f == metav1.FinalizerDeleteDependents {
			out = append(out, f+" (its ReplicaSets and pods are not gone yet: pods on a lost node stay until the node returns or they are force-deleted)")
			continue
		}
		out = append(out, f+" (set by another controller, which has not removed it)")
	}
	return "held by finalizers " + strings.Join(out, ", ")
}
