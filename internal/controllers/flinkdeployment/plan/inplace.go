package plan

import (
	"fmt"
	"maps"
	"slices"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// inPlaceSince is the first Flink release with the resource requirements
// API (FLIP-291).
const inPlaceSince v1beta1.FlinkVersion = "v1_18"

// scale is the step of a DiffScale change: a reactive standalone cluster
// resizes its TaskManagers; a native job's new parallelism overrides are
// set in place when they can be, as upstream's NativeFlinkService.scale
// decides it, and are an upgrade otherwise (Why says why not in place).
// A rolled-back cluster's change is an upgrade either way (Why says so).
func scale(in Input) Plan {
	if reactiveStandalone(in.Spec) {
		if in.Status.ReconciliationStatus.State == v1beta1.ReconciliationRolledBack {
			// Scale applies the whole changed spec, the failed one with
			// the new count (JobManager and TaskManagers), onto the cluster
			// that runs the last stable spec, without the upgrade's
			// savepoint, and records it deployed, to be marked stable.
			// Upstream only resizes the TaskManager Deployment there (its
			// diff is against the failed spec too) and records the failed
			// spec deployed; the hub upgrades, as for a rolled-back
			// cluster's in-place rescale.
			return begin(in, fmt.Sprintf("Spec changed (%s), not by resizing the TaskManagers: %s", DiffScale, msgRolledBack))
		}
		return Plan{Step: Scale}
	}
	if why := NotInPlace(in); why != "" {
		return begin(in, fmt.Sprintf("Spec changed (%s), not in place: %s", DiffScale, why))
	}
	return Plan{Step: ScaleInPlace}
}

// NotInPlace says why a native job's parallelism overrides change cannot
// be made in place, "" when it can: a session cluster (no job), this
// reconcile's attempt refused (ScaleRefused), or what InPlaceCase.Why
// says of the FlinkDeployment: in-place scaling turned off (read from the
// new spec), the Flink version and the scheduler of the deployed spec, the
// JobManager's readiness, the job's state, a rollback and the overrides
// before and after.
func NotInPlace(in Input) string {
	spec, last, st := in.Spec, in.Last, in.Status
	switch {
	case in.ScaleRefused != "":
		return in.ScaleRefused
	case spec.Job == nil:
		return "a session cluster has no job to rescale"
	}
	return InPlaceCase{
		Off:             SettingOff(spec, flinkconf.KeyInPlaceScaling),
		Version:         last.FlinkVersion,
		Adaptive:        adaptive(last),
		JobManagerReady: st.JobManagerDeploymentStatus == v1beta1.JobManagerReady,
		RolledBack:      st.ReconciliationStatus.State == v1beta1.ReconciliationRolledBack,
		Job:             st.JobStatus.State,
		Last:            last,
		New:             spec,
	}.Why()
}

// Configured is a spec with a Flink configuration: a FlinkDeployment's or
// a FlinkSessionJob's.
type Configured interface {
	FlatConfiguration() (map[string]string, error)
}

// InPlaceCase is what decides whether a running job whose only change is
// its parallelism overrides is rescaled in place, as upstream's
// NativeFlinkService.supportsInPlaceScaling and scale decide it, for the
// job of a FlinkDeployment and a session job alike.
type InPlaceCase struct {
	// Off reports kubernetes.operator.job.upgrade.inplace-scaling.enabled
	// (flinkconf.KeyInPlaceScaling) set to false.
	Off bool
	// Version is the Flink version of the cluster that runs the job.
	Version v1beta1.FlinkVersion
	// Adaptive reports the job run by Flink's adaptive scheduler.
	Adaptive bool
	// JobManagerReady reports the cluster's JobManager ready.
	JobManagerReady bool
	// RolledBack reports a FlinkDeployment rolled back to its last stable
	// spec (ROLLED_BACK).
	RolledBack bool
	// Job is the job's state as observed.
	Job v1beta1.JobStatusState
	// Last and New are the last reconciled spec and the new one.
	Last, New Configured
}

// Why says why the case's change cannot be made in place, "" when it can:
// the cluster rolled back (it runs the last stable spec, not the last
// reconciled one the change is made to), in-place scaling turned off, a
// cluster older than Flink 1.18 or without the adaptive scheduler
// (jobmanager.scheduler: adaptive), its JobManager not ready, the job
// ended or reconciling (or not observed yet), overrides that cannot be
// read, an override removed (the vertex goes back to the job's
// parallelism: an upgrade, as upstream), or no overrides at all.
func (c InPlaceCase) Why() string {
	switch js := c.Job; {
	case c.RolledBack:
		// Rescaled in place and recorded as deployed, the rest of the last
		// reconciled spec (what failed) would be taken as running, and
		// marked stable, without ever being deployed.
		return msgRolledBack
	case c.Off:
		return flinkconf.KeyInPlaceScaling + " is false"
	case !c.Version.IsEqualOrNewer(inPlaceSince):
		return "in-place scaling needs Flink 1.18 or later, the cluster runs " + c.Version.Number()
	case !c.Adaptive:
		return "in-place scaling needs the adaptive scheduler (" + flinkconf.KeyScheduler + ": " + flinkconf.SchedulerAdaptive + ")"
	case !c.JobManagerReady:
		return "the JobManager is not ready"
	case js == "" || js == v1beta1.JobReconciling || terminalState(js):
		return fmt.Sprintf("the job is %q", js)
	}
	return overridesWhy(c.Last, c.New)
}

// overridesWhy says why the overrides of last and spec keep a change from
// being made in place: unreadable, one removed, none before or after.
func overridesWhy(last, spec Configured) string {
	before, err := Overrides(last)
	if err != nil {
		return err.Error()
	}
	after, err := Overrides(spec)
	if err != nil {
		return err.Error()
	}
	if len(before) == 0 && len(after) == 0 {
		return "no parallelism overrides before or after"
	}
	for _, id := range slices.Sorted(maps.Keys(before)) {
		if _, kept := after[id]; !kept {
			return "the parallelism override of job vertex " + id + " was removed"
		}
	}
	return ""
}

// msgRolledBack says why a rolled-back cluster's DiffScale change is an
// upgrade.
const msgRolledBack = "the cluster was rolled back: it runs the last stable spec, not the one changed"

// Overrides is spec's parallelism overrides, by job vertex id
// (flinkconf.ParallelismOverrides).
func Overrides(spec Configured) (map[string]int32, error) {
	conf, err := spec.FlatConfiguration()
	if err != nil {
		return nil, err
	}
	o, err := flinkconf.ParallelismOverrides(conf)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flinkconf.KeyParallelismOverrides, err)
	}
	return o, nil
}

// OverridesChange reads the parallelism overrides of the new spec and of
// the last reconciled one, for an in-place rescale; why is the error of
// one that cannot be read (the change is then an upgrade), "" otherwise.
func OverridesChange(newSpec, last Configured) (overrides, previous map[string]int32, why string) {
	overrides, err := Overrides(newSpec)
	if err != nil {
		return nil, nil, err.Error()
	}
	if previous, err = Overrides(last); err != nil {
		return nil, nil, err.Error()
	}
	return overrides, previous, ""
}

// adaptive reports a spec whose cluster runs Flink's adaptive scheduler.
func adaptive(spec *v1beta1.FlinkDeploymentSpec) bool {
	conf, err := spec.FlatConfiguration()
	return err == nil && flinkconf.AdaptiveScheduler(conf)
}
