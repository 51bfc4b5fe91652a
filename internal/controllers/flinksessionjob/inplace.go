package flinksessionjob

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime/schema"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// sessionJobs names the resource in conflict errors.
var sessionJobs = schema.GroupResource{Group: v1beta1.GroupVersion.Group, Resource: "flinksessionjobs"}

// rescale makes a change of the job's parallelism overrides alone
// (overridesOnly) in place when it can (notInPlace), as upstream's
// AbstractJobReconciler tries NativeFlinkService.scale for a session job's
// SCALE change: the running job keeps its id, its state and its savepoint
// history, and the new spec is recorded. Otherwise, and when the
// JobManager does not take it, the change is an upgrade whose SpecChanged
// event says why not in place. A call the hub cut short ends the
// reconcile instead: the next one tries in place again. A manual or
// periodic savepoint under way is followed to its end first, as an
// upgrade does (followPendingSavepoint) and as upstream's readyToReconcile
// holds any spec change for it: the rescale restarts the job's tasks,
// which would abort it. Until 2026-12-07 the job was rescaled at once.
func (r *Reconciler) rescale(ctx context.Context, s *state, jm flinkrest.Client) error {
	if err := r.followPendingSavepoint(ctx, s, jm); err != nil {
		return err
	}
	why := notInPlace(s)
	if why == "" {
		var err error
		if why, err = r.scaleInPlace(ctx, s, jm); err != nil || why == "" {
			return err
		}
	}
	return r.beginUpgrade(ctx, s, jm, why)
}

// notInPlace says why the job's overrides-only change cannot be made in
// place, "" when it can: a session cluster in standalone mode (upstream's
// spec diff makes the change a scale in native mode only), a job the
// session cluster does not know, or what plan.InPlaceCase.Why says, as for
// a FlinkDeployment: in-place scaling turned off
// (kubernetes.operator.job.upgrade.inplace-scaling.enabled of the job's
// configuration, else its session cluster's, else the member's default),
// a session cluster older than Flink 1.18 (its deployed spec's version),
// no adaptive scheduler (jobmanager.scheduler of the job's configuration,
// else of the session cluster's deployed one, as upstream reads it from
// the two merged), the job ended or reconciling, an override removed, no
// overrides before or after.
func notInPlace(s *state) string {
	st := &s.job.Status
	switch {
	case s.session.Spec.Mode == v1beta1.ModeStandalone:
		return "session cluster " + s.session.Name + " runs in standalone mode"
	case s.missing:
		return "session cluster " + s.session.Name + " does not know job " + st.JobStatus.JobID
	}
	on, set := flinkconf.Bool(s.setting(flinkconf.KeyInPlaceScaling))
	return plan.InPlaceCase{
		Off:             set && !on,
		Version:         s.flinkVersion(),
		Adaptive:        s.adaptive(),
		JobManagerReady: s.session.Status.JobManagerDeploymentStatus == v1beta1.JobManagerReady,
		RolledBack:      st.ReconciliationStatus.State == v1beta1.ReconciliationRolledBack,
		Job:             st.JobStatus.State,
		Last:            s.last,
		New:             &s.job.Spec,
	}.Why()
}

// adaptive reports the job run by Flink's adaptive scheduler:
// jobmanager.scheduler of the job's configuration, else of its session
// cluster's deployed one.
func (s *state) adaptive() bool {
	for _, spec := range []plan.Configured{&s.job.Spec, s.deployedSession()} {
		if conf, err := spec.FlatConfiguration(); err == nil {
			if _, set := conf[flinkconf.KeyScheduler]; set {
				return flinkconf.AdaptiveScheduler(conf)
			}
		}
	}
	return false
}

// scaleInPlace sets the running job's new parallelism overrides through
// its session cluster's resource requirements API
// (flinkdeployment.RescaleInPlace, with its Scaling event), once the
// session job is confirmed current, and records the new spec as the last
// reconciled one of the job that runs on (recordRunning: its job id,
// state, savepoint history and reconciliation timestamp stay). It returns
// why the rescale did not apply ("" when it did).
func (r *Reconciler) scaleInPlace(ctx context.Context, s *state, jm flinkrest.Client) (string, error) {
	overrides, previous, why := plan.OverridesChange(&s.job.Spec, s.last)
	if why != "" {
		return why, nil
	}
	if err := flinkdeployment.ConfirmLive(ctx, s.cluster, s.job, sessionJobs, "rescaling the job"); err != nil {
		return "", err
	}
	why, err := flinkdeployment.RescaleInPlace(ctx, jm, s.job.Status.JobStatus.JobID, overrides, previous,
		func(eventType, reason, msg string) { r.event(s, eventType, reason, msg) })
	if why != "" || err != nil {
		return why, err
	}
	s.next = r.Options.ProgressCheckInterval
	return "", recordRunning(s)
}
