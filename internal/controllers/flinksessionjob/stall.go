package flinksessionjob

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// stallReasons are the reports of a wait on Flink that lasts longer than
// it should. Each wait reports itself again while it lasts
// (awaitCancel, reportSavepointStalled), so a reconcile starts without
// them: one whose wait ended clears the report.
var stallReasons = []problem.Reason{problem.UpgradeStalled, problem.SavepointStalled, problem.CheckpointStalled}

// cancelForUpgrade cancels the running job for what (an upgrade by
// cancellation) and records it CANCELLING from now, as upstream's
// cancelJobOrError does, so the wait for Flink to end it is timed; a job
// Flink does not know is left to the next observation.
func (r *Reconciler) cancelForUpgrade(ctx context.Context, s *state, jm flinkrest.Client, what string) error {
	js := &s.job.Status.JobStatus
	if err := jm.CancelJob(ctx, js.JobID); err != nil && !flinkrest.IsNotFound(err) {
		return fmt.Errorf("cancel job %s for %s: %w", js.JobID, what, err)
	}
	js.State, js.UpdateTime = v1beta1.JobCancelling, strconv.FormatInt(r.now().UnixMilli(), 10)
	return nil
}

// awaitCancel is the wait of what (an upgrade) for the job it cancelled
// to leave CANCELLING. Past kubernetes.operator.flink.client.cancel.timeout
// (1 min by default, as upstream) from status.jobStatus.updateTime it is
// reported as UpgradeStalled, as a FlinkDeployment's is, and waited for
// still: the job, its state and the savepoint paths stay as they are.
func (r *Reconciler) awaitCancel(s *state, what string) error {
	js := &s.job.Status.JobStatus
	timeout, _ := flinkconf.ParseDuration(s.setting(flinkconf.KeyCancelTimeout))
	if msg := plan.CancelStalled(js.UpdateTime, timeout, r.now(), what); msg != "" {
		s.problem = problem.New(problem.UpgradeStalled, msg)
	}
	return requeue.Waiting(errors.New("job cancelling for "+what), r.Options.ProgressCheckInterval)
}

// reportSavepointStalled reports the pending savepoint once it has been in
// progress longer than Flink's execution.checkpointing.timeout (which
// should have ended it) and one more look, as a FlinkDeployment's is:
// UpgradeStalled while an upgrade waits on it, else SavepointStalled. The
// hub keeps following it.
func (r *Reconciler) reportSavepointStalled(s *state) {
	info := s.job.Status.JobStatus.SavepointInfo
	r.reportSnapshotStalled(s, false, info.TriggerType, info.TriggerTimestamp)
}

// reportSnapshotStalled reports the pending savepoint (or, checkpoint
// set, checkpoint) triggered as trigger at triggered once it has been in
// progress past Flink's execution.checkpointing.timeout and one more
// look, named with what waits on it as a FlinkDeployment's is
// (flinkdeployment.SnapshotWait).
func (r *Reconciler) reportSnapshotStalled(s *state, checkpoint bool, trigger v1beta1.SnapshotTriggerType, triggered *int64) {
	if triggered == nil {
		return
	}
	timeout, _ := flinkconf.ParseDuration(s.setting(flinkconf.KeyCheckpointTimeout))
	start := time.UnixMilli(*triggered)
	if _, limit, stalled := flinkconf.SnapshotStalled(timeout, start, r.now(), r.Options.ProgressCheckInterval); stalled {
		upgrading := s.job.Status.ReconciliationStatus.State == v1beta1.ReconciliationUpgrading
		reason, what := flinkdeployment.SnapshotWait(checkpoint, trigger, !s.job.DeletionTimestamp.IsZero(), upgrading)
		s.problem = problem.New(reason, flinkdeployment.SnapshotStalledText(what, start, limit))
	}
}
