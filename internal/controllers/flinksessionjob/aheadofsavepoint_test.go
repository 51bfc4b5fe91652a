package flinksessionjob

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

func (f *fakeJobManager) CancelJob(context.Context, string) error {
	f.calls = append(f.calls, "CancelJob")
	return nil
}

func (f *fakeJobManager) StopWithSavepoint(_ context.Context, _ string, req flinkrest.SavepointRequest) (string, error) {
	f.calls = append(f.calls, "StopWithSavepoint")
	return req.TriggerID, nil
}

// TestSessionJobGoesAheadOfAPendingSavepoint: with
// kubernetes.operator.job.upgrade.ignore-pending-savepoint on (the job's
// configuration, else its session cluster's, else the member's default),
// a spec change goes ahead of a manual or periodic savepoint in progress,
// as upstream's readyToReconcile (SessionJobReconcilerTest's
// testJobUpgradeIgnorePendingSavepoint) and as a FlinkDeployment's: the
// savepoint is looked at once; a rescale in place goes on, the savepoint
// followed later; an upgrade looks again as it stops the job and gives
// the trigger up (the stop-with-savepoint takes its place, or the job is
// cancelled) with a SavepointSuperseded event. Off, the change waits for
// it. Before, every change waited.
func TestSessionJobGoesAheadOfAPendingSavepoint(t *testing.T) {
	const on, off = `"kubernetes.operator.job.upgrade.ignore-pending-savepoint":"true"`, `"kubernetes.operator.job.upgrade.ignore-pending-savepoint":"false"`
	requirements := map[string]flinkrest.VertexParallelism{vertexA: {LowerBound: 1, UpperBound: 2}, vertexB: {LowerBound: 1, UpperBound: 2}}
	for _, tc := range []struct {
		name                    string
		conf, session, defaults string // where the setting is, JSON members
		mode                    v1beta1.UpgradeMode
		rescale                 bool // an overrides-only change, else the parallelism
		calls                   []string
		trigger                 v1beta1.SnapshotTriggerType // pending after the reconcile
	}{
		{"on in the job: a rescale in place goes ahead", on, "", "", v1beta1.UpgradeModeSavepoint, true,
			[]string{"SavepointStatus", "ResourceRequirements", "UpdateResourceRequirements"}, v1beta1.TriggerManual},
		{"on in the session cluster: a savepoint upgrade stops the job with its own savepoint", "", on, "", v1beta1.UpgradeModeSavepoint, false,
			[]string{"SavepointStatus", "SavepointStatus", "StopWithSavepoint"}, v1beta1.TriggerUpgrade},
		{"on by the member's default: a stateless upgrade cancels the job", "", "", "true", v1beta1.UpgradeModeStateless, false,
			[]string{"SavepointStatus", "SavepointStatus", "CancelJob"}, ""},
		{"unset: the upgrade waits", "", "", "", v1beta1.UpgradeModeSavepoint, false, []string{"SavepointStatus"}, v1beta1.TriggerManual},
		{"off in the job, on in the session cluster: the rescale waits", off, on, "", v1beta1.UpgradeModeSavepoint, true, []string{"SavepointStatus"}, v1beta1.TriggerManual},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var defaults map[string]string
			if tc.defaults != "" {
				defaults = map[string]string{"kubernetes.operator.job.upgrade.ignore-pending-savepoint": tc.defaults}
			}
			session := `{"jobmanager.scheduler":"adaptive"` + strings.TrimSuffix(","+tc.session, ",") + `}`
			s := inPlaceJob(t, overridesConf(vertexA+":4", tc.conf), overridesConf(vertexA+":2", tc.conf), session, defaults)
			s.job.Spec.Job.UpgradeMode, s.last.Job.UpgradeMode = tc.mode, tc.mode
			if !tc.rescale {
				s.job.Spec.FlinkConfiguration, s.job.Spec.Job.Parallelism = s.last.FlinkConfiguration, 3
			}
			triggered := time.Now().UnixMilli()
			pending := s.job.Status.JobStatus.SavepointInfo
			pending.TriggerID, pending.TriggerType, pending.TriggerTimestamp = "t1", v1beta1.TriggerManual, &triggered
			rec := onFakeMember(t, s)
			jm := &fakeJobManager{requirements: requirements}
			err := (&Reconciler{Now: time.Now}).reconcileSpec(context.Background(), s, jm)
			if !slices.Equal(jm.calls, tc.calls) || (err == nil) != (tc.rescale && len(tc.calls) > 1) {
				t.Fatalf("reconcile: %v after calls %v, want calls %v", err, jm.calls, tc.calls)
			}
			info := s.job.Status.JobStatus.SavepointInfo
			if info.TriggerType != tc.trigger || (info.TriggerID == "t1") != (tc.trigger == v1beta1.TriggerManual) || len(info.SavepointHistory) != 1 {
				t.Errorf("savepoint info %+v: want a %q trigger pending, the history as it was", info, tc.trigger)
			}
			var said []string
			for len(rec.Events) > 0 {
				said = append(said, <-rec.Events)
			}
			superseded := slices.ContainsFunc(said, func(e string) bool { return strings.Contains(e, flinkdeployment.ReasonSavepointSuperseded) })
			if superseded != (tc.trigger != v1beta1.TriggerManual) {
				t.Errorf("events %q: want SavepointSuperseded %v", said, tc.trigger != v1beta1.TriggerManual)
			}
		})
	}
}
