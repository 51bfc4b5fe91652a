package flinkdeployment

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// ReasonScaling is the event of a rescale that does not restart the
// cluster: a reactive cluster's TaskManagers resized, or a native job's
// parallelism overrides set in place.
const ReasonScaling = "Scaling"

// MsgInPlaceScaling is upstream's text of the Scaling event of an in-place
// rescale.
const MsgInPlaceScaling = "In-place scaling triggered"

// ReasonUnknownVertices is the Warning event of parallelism overrides
// naming vertices the running job does not have: they do nothing.
const ReasonUnknownVertices = "UnknownJobVertices"

// scaleInPlace sets the job's new parallelism overrides in place
// (RescaleInPlace) once the FlinkDeployment is confirmed current, and
// records the new spec as deployed (lastReconciledSpec, DEPLOYED). It
// returns why the rescale did not apply ("" when it did): the change is
// then an upgrade.
func (r *Reconciler) scaleInPlace(ctx context.Context, s *state) (string, error) {
	overrides, previous, why := plan.OverridesChange(&s.fd.Spec, s.lastSpec)
	if why != "" {
		return why, nil
	}
	jobID := s.fd.Status.JobStatus.JobID
	if jobID == "" {
		return "the job's id is not known yet", nil
	}
	if err := confirmCurrent(ctx, s, "rescaling the job"); err != nil {
		return "", err
	}
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), s.fd)
	if err != nil {
		return "", err
	}
	why, err = RescaleInPlace(ctx, jm, jobID, overrides, previous, func(eventType, reason, msg string) { r.event(s, eventType, reason, msg) })
	if why != "" || err != nil {
		return why, err
	}
	s.next = r.Options.ProgressCheckInterval
	return "", r.recordSpec(s, v1beta1.ReconciliationDeployed, false)
}

// RescaleInPlace sets job jobID's new parallelism overrides (previous
// were the last reconciled ones) through the resource requirements API of
// its JobManager jm, as upstream's NativeFlinkService.scale, for a
// FlinkDeployment's job and a session job alike: per vertex of the job,
// the override is the upper bound and lowers the lower bound only when it
// is above; the adaptive scheduler then restarts the job's tasks itself,
// the job keeping its id. Requirements already as asked are not sent
// again; sent, they are said in a Scaling event (MsgInPlaceScaling), and
// overrides of vertices the job lacks in an UnknownJobVertices warning,
// both through event. It returns why the rescale did not apply ("" when
// it did): the JobManager did not answer or refused, or a vertex's
// override was removed; the change is then an upgrade. A call the hub cut
// short (refusedOrStopped) is an error instead.
func RescaleInPlace(ctx context.Context, jm flinkrest.Client, jobID string, overrides, previous map[string]int32, event func(eventType, reason, msg string)) (string, error) {
	current, err := jm.ResourceRequirements(ctx, jobID)
	if err != nil {
		return refusedOrStopped(ctx, "the JobManager did not give the job's resource requirements: ", err)
	}
	next, changed, why := rescaled(current, overrides, previous)
	if why != "" {
		return why, nil
	}
	if changed {
		if err := jm.UpdateResourceRequirements(ctx, jobID, next); err != nil {
			return refusedOrStopped(ctx, "the JobManager refused the new resource requirements: ", err)
		}
		event(corev1.EventTypeNormal, ReasonScaling, MsgInPlaceScaling)
	}
	if unknown := unknownVertices(overrides, current); len(unknown) > 0 {
		event(corev1.EventTypeWarning, ReasonUnknownVertices, "The job has no vertex "+listed(unknown, 8)+
			": their parallelism overrides do nothing (GET /jobs/<id> lists the job's vertices)")
	}
	return "", nil
}

// refusedOrStopped is what a failed resource requirements call of
// scaleInPlace means: the JobManager's refusal or failure (why, prefixed:
// the change is an upgrade), unless this reconcile was stopped (its
// deadline passed, the hub shuts down): then not Flink but the hub cut
// the call short, and err ends the reconcile, the next one trying in
// place again (an update that went through is then found as asked).
func refusedOrStopped(ctx context.Context, prefix string, err error) (string, error) {
	if ctx.Err() != nil {
		return "", fmt.Errorf("rescaling the job in place: %w", err)
	}
	return prefix + err.Error(), nil
}

// rescaled is the job's resource requirements current with overrides
// applied, as upstream: a vertex with an override gets it as its upper
// bound, and its lower bound lowered to it when above; changed says
// whether anything changed. A vertex whose override was removed (in
// previous, not in overrides) cannot go back in place: why says so.
func rescaled(current map[string]flinkrest.VertexParallelism, overrides, previous map[string]int32) (next map[string]flinkrest.VertexParallelism, changed bool, why string) {
	next = make(map[string]flinkrest.VertexParallelism, len(current))
	for id, p := range current {
		o, ok := overrides[strings.ToLower(id)]
		if !ok {
			if _, had := previous[strings.ToLower(id)]; had {
				return nil, false, "the parallelism override of job vertex " + id + " was removed"
			}
			next[id] = p
			continue
		}
		want := flinkrest.VertexParallelism{LowerBound: min(o, p.LowerBound), UpperBound: o}
		changed = changed || want != p
		next[id] = want
	}
	return next, changed, ""
}

// unknownVertices lists, sorted, the overridden vertex ids the job does
// not have.
func unknownVertices(overrides map[string]int32, current map[string]flinkrest.VertexParallelism) []string {
	have := map[string]bool{}
	for id := range current {
		have[strings.ToLower(id)] = true
	}
	var unknown []string
	for _, id := range slices.Sorted(maps.Keys(overrides)) {
		if !have[id] {
			unknown = append(unknown, id)
		}
	}
	return unknown
}

// listed is the first n of items, comma separated, and how many more.
func listed(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}
