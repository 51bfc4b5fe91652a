package plan

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/utils/ptr"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/clusterhealth"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/flinkrest/checkpoints"
	"github.com/flink-hub/flink-hub/internal/problem"
)

var now = time.UnixMilli(1_800_000_000_000)

// app is an application spec in mode with the given configuration.
func app(mode v1beta1.UpgradeMode, conf string) *v1beta1.FlinkDeploymentSpec {
	return &v1beta1.FlinkDeploymentSpec{
		Image:              "flink:2.2",
		FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(conf)},
		Job:                &v1beta1.JobSpec{JarURI: "local:///job.jar", Parallelism: 2, UpgradeMode: mode},
	}
}

const haConf = `{"high-availability.type":"kubernetes","high-availability.storageDir":"file:///ha"}`

// with returns a copy of spec changed by change.
func with(spec *v1beta1.FlinkDeploymentSpec, change func(*v1beta1.FlinkDeploymentSpec)) *v1beta1.FlinkDeploymentSpec {
	c := spec.DeepCopy()
	change(c)
	return c
}

func suspend(s *v1beta1.FlinkDeploymentSpec)        { s.Job.State = v1beta1.JobStateSuspended }
func parallel3(s *v1beta1.FlinkDeploymentSpec)      { s.Job.Parallelism = 3 }
func savepointNonce(s *v1beta1.FlinkDeploymentSpec) { s.Job.SavepointTriggerNonce = ptr.To[int64](7) }

// status is a status in reconciliation state rs with the JobManager and
// job as given.
func status(rs v1beta1.ReconciliationState, jm v1beta1.JobManagerDeploymentStatus, job v1beta1.JobStatusState) *v1beta1.FlinkDeploymentStatus {
	return &v1beta1.FlinkDeploymentStatus{
		JobManagerDeploymentStatus: jm,
		JobStatus:                  v1beta1.JobStatus{State: job},
		ReconciliationStatus:       v1beta1.ReconciliationStatus{State: rs, ReconciliationTimestamp: now.Add(-time.Minute).UnixMilli()},
	}
}

func running() *v1beta1.FlinkDeploymentStatus {
	return status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobRunning)
}

func upgrading(jm v1beta1.JobManagerDeploymentStatus, job v1beta1.JobStatusState) *v1beta1.FlinkDeploymentStatus {
	return status(v1beta1.ReconciliationUpgrading, jm, job)
}

// edit returns st changed by change.
func edit(st *v1beta1.FlinkDeploymentStatus, change func(*v1beta1.FlinkDeploymentStatus)) *v1beta1.FlinkDeploymentStatus {
	change(st)
	return st
}

// startedAt sets the job's start time.
func startedAt(at time.Time) func(*v1beta1.FlinkDeploymentStatus) {
	return func(st *v1beta1.FlinkDeploymentStatus) {
		st.JobStatus.StartTime = strconv.FormatInt(at.UnixMilli(), 10)
	}
}

// updatedAt sets the job's last state change.
func updatedAt(at time.Time) func(*v1beta1.FlinkDeploymentStatus) {
	return func(st *v1beta1.FlinkDeploymentStatus) {
		st.JobStatus.UpdateTime = strconv.FormatInt(at.UnixMilli(), 10)
	}
}

// noState records, as RecordEmptyState does, that the cancelled job has
// no state to restore.
func noState(st *v1beta1.FlinkDeploymentStatus) {
	st.ClusterInfo = map[string]string{InfoUpgradeRestore: InfoNoState}
}

func savepointPath(p string) func(*v1beta1.FlinkDeploymentStatus) {
	return func(st *v1beta1.FlinkDeploymentStatus) { st.JobStatus.UpgradeSavepointPath = p }
}

// checkpointed is what Flink reports of a job whose latest completed
// checkpoint is id, triggered at at (none when zero), at path.
func checkpointed(id int64, at time.Time, path string) *api.LatestCheckpoints {
	c := api.CompletedCheckpointStatistics{Id: id, ExternalPath: path}
	if !at.IsZero() {
		c.TriggerTimestamp = at.UnixMilli()
	}
	return &api.LatestCheckpoints{Completed: c}
}

// lastSavepoint records loc as the last savepoint, completed at at.
func lastSavepoint(loc string, at time.Time) func(*v1beta1.FlinkDeploymentStatus) {
	return func(st *v1beta1.FlinkDeploymentStatus) {
		st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{LastSavepoint: &v1beta1.Savepoint{Location: loc, TimeStamp: at.UnixMilli()}}
	}
}

func pendingTrigger(kind v1beta1.SnapshotTriggerType, at time.Time) func(*v1beta1.FlinkDeploymentStatus) {
	return func(st *v1beta1.FlinkDeploymentStatus) {
		ms := at.UnixMilli()
		st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{TriggerID: "t1", TriggerType: kind, TriggerTimestamp: &ms}
	}
}

// stableSpecs marks last as both reconciled and stable, or only
// reconciled with an older stable spec.
func stableSpecs(t *testing.T, last *v1beta1.FlinkDeploymentSpec, stable bool) func(*v1beta1.FlinkDeploymentStatus) {
	return func(st *v1beta1.FlinkDeploymentStatus) {
		enc, err := EncodeSpec(last, false)
		if err != nil {
			t.Fatal(err)
		}
		st.ReconciliationStatus.LastReconciledSpec, st.ReconciliationStatus.LastStableSpec = enc, enc
		if !stable {
			st.ReconciliationStatus.LastStableSpec = `{"spec":{}}`
		}
	}
}

// stableSpecWas records last as the last reconciled spec and stable as
// the last stable one.
func stableSpecWas(t *testing.T, last, stable *v1beta1.FlinkDeploymentSpec) func(*v1beta1.FlinkDeploymentStatus) {
	return func(st *v1beta1.FlinkDeploymentStatus) {
		lastEnc, err := EncodeSpec(last, false)
		if err != nil {
			t.Fatal(err)
		}
		stableEnc, err := EncodeSpec(stable, false)
		if err != nil {
			t.Fatal(err)
		}
		st.ReconciliationStatus.LastReconciledSpec, st.ReconciliationStatus.LastStableSpec = lastEnc, stableEnc
	}
}

// flinkVersion sets a spec's Flink version.
func flinkVersion(v v1beta1.FlinkVersion) func(*v1beta1.FlinkDeploymentSpec) {
	return func(s *v1beta1.FlinkDeploymentSpec) { s.FlinkVersion = v }
}

func TestNext(t *testing.T) {
	specs := newNextSpecs()
	cases := slices.Concat(deployedCases(specs), suspendAndFailedJobCases(specs), rollbackCases(t, specs), rolledBackUpkeepCases(t), captureCases(specs), oldClusterCases(specs),
		jobManagerGoneCases(specs), endedJobCases(specs), keptLatestCases(specs), redeployCases(specs))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Next(tc.in); got != tc.want {
				t.Errorf("Next = %+v\nwant   %+v", got, tc.want)
			}
		})
	}
}

// rolledBackUpkeepCases: a rolled-back cluster whose spec did not change
// since runs the last stable spec, and is kept running by that spec's
// settings, as upstream's reconcileOtherChanges does with its deployed
// spec: a lost JobManager is recovered, a failed job restarted, an
// unhealthy one too, an ended job's JobManager shut down after its TTL.
// The failed spec (the last reconciled one, parallelism 3 here) has the
// opposite settings: they decide nothing.
func rolledBackUpkeepCases(t *testing.T) []nextCase {
	const restartOn, recoveryOff, healthOn, ttl3s = `"` + flinkconf.KeyRestartFailed + `":"true",`, `"` + flinkconf.KeyJMRecovery + `":"false",`,
		`"` + flinkconf.KeyHealthCheck + `":"true",`, `"` + flinkconf.KeyJMShutdownTTL + `":"3 s",`
	spec := func(mode v1beta1.UpgradeMode, settings string) *v1beta1.FlinkDeploymentSpec {
		return app(mode, strings.Replace(haConf, "{", "{"+settings, 1))
	}
	// rolledBack is a ROLLED_BACK status whose stable spec has stable, the
	// failed one failed, the JobManager and job as given.
	rolledBack := func(stable, failed string, jm v1beta1.JobManagerDeploymentStatus, job v1beta1.JobStatusState, more ...func(*v1beta1.FlinkDeploymentStatus)) Input {
		last := with(spec(v1beta1.UpgradeModeLastState, failed), parallel3)
		st := edit(status(v1beta1.ReconciliationRolledBack, jm, job), stableSpecWas(t, last, spec(v1beta1.UpgradeModeLastState, stable)))
		for _, m := range more {
			m(st)
		}
		return Input{Spec: last, Last: last, Status: st, JobManager: jm != v1beta1.JobManagerMissing, Now: now}
	}
	unhealthy := func(st *v1beta1.FlinkDeploymentStatus) {
		st.ClusterInfo = map[string]string{clusterhealth.InfoKey: `{"timeStamp":1,"healthResult":{"healthy":false,"error":"Restart count hit threshold: 1"}}`}
	}
	withHA := func(in Input) Input { in.HAMetadata = ptr.To(true); return in }
	return []nextCase{
		{"rolled back, JobManager deleted: recovered", rolledBack("", recoveryOff, v1beta1.JobManagerMissing, v1beta1.JobRunning),
			Plan{Step: RecoverJobManager, SnapshotsFirst: true}},
		{"rolled back, JobManager deleted, recovery off in the stable spec: not recovered", rolledBack(recoveryOff, "", v1beta1.JobManagerMissing, v1beta1.JobRunning),
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"rolled back, job failed: restarted from the newest savepoint", rolledBack(restartOn, "", v1beta1.JobManagerReady, v1beta1.JobFailed, savepointPath("s3://b/sp-5")),
			Plan{Step: RestartFailed, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-5"}}},
		{"rolled back, job failed, restarts off in the stable spec: left failed", rolledBack("", restartOn, v1beta1.JobManagerReady, v1beta1.JobFailed, updatedAt(now.Add(-time.Hour))),
			Plan{Step: Steady, After: 23 * time.Hour, SnapshotsFirst: true}},
		{"rolled back, unhealthy, HA not read yet", rolledBack(healthOn, "", v1beta1.JobManagerReady, v1beta1.JobRunning, unhealthy),
			Plan{Step: ReadHAMetadata}},
		{"rolled back, unhealthy: restarted from the HA metadata", withHA(rolledBack(healthOn, "", v1beta1.JobManagerReady, v1beta1.JobRunning, unhealthy)),
			Plan{Step: RestartUnhealthy, Why: "Restart count hit threshold: 1", KeepHA: true}},
		{"rolled back, unhealthy, health check off in the stable spec: left running", withHA(rolledBack("", healthOn, v1beta1.JobManagerReady, v1beta1.JobRunning, unhealthy)),
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"rolled back, job ended, the stable spec's TTL passed: shut down", rolledBack(ttl3s, "", v1beta1.JobManagerReady, v1beta1.JobFinished, updatedAt(now.Add(-4*time.Second))),
			Plan{Step: ShutDown, SnapshotsFirst: true}},
		{"rolled back to a suspended spec: nothing recovered", Input{Spec: with(spec(v1beta1.UpgradeModeLastState, ""), parallel3), Last: with(spec(v1beta1.UpgradeModeLastState, ""), parallel3),
			Status: edit(status(v1beta1.ReconciliationRolledBack, v1beta1.JobManagerMissing, v1beta1.JobRunning), stableSpecWas(t, with(spec(v1beta1.UpgradeModeLastState, ""), parallel3), with(spec(v1beta1.UpgradeModeLastState, ""), suspend)))},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"rolled back, job ended, the failed spec's TTL alone: not shut down", rolledBack("", ttl3s, v1beta1.JobManagerReady, v1beta1.JobFinished, updatedAt(now.Add(-4*time.Second))),
			Plan{Step: Steady, After: 24*time.Hour - 4*time.Second, SnapshotsFirst: true}},
	}
}

// nextCase is what Next must plan from an input.
type nextCase struct {
	name string
	in   Input
	want Plan
}

// nextSpecs are the specs the cases of Next start from.
type nextSpecs struct {
	savepoint, savepointNoHA, lastState, stateless, redeploy, restartFailed, rollback, rollbackLastState, reactive *v1beta1.FlinkDeploymentSpec
}

func newNextSpecs() nextSpecs {
	savepoint := app(v1beta1.UpgradeModeSavepoint, haConf)
	return nextSpecs{
		savepoint:     savepoint,
		savepointNoHA: app(v1beta1.UpgradeModeSavepoint, `{}`),
		lastState:     app(v1beta1.UpgradeModeLastState, haConf),
		stateless:     app(v1beta1.UpgradeModeStateless, `{}`),
		redeploy: with(savepoint, func(s *v1beta1.FlinkDeploymentSpec) {
			s.Job.SavepointRedeployNonce, s.Job.InitialSavepointPath = ptr.To[int64](1), "s3://b/sp-9"
		}),
		restartFailed: app(v1beta1.UpgradeModeSavepoint, `{"`+flinkconf.KeyRestartFailed+`":"true"}`),
		rollback:      app(v1beta1.UpgradeModeSavepoint, `{"`+flinkconf.KeyRollbackEnabled+`":"true","`+flinkconf.KeyReadinessTimeout+`":"30 s"}`),
		rollbackLastState: app(v1beta1.UpgradeModeLastState, `{"`+flinkconf.KeyRollbackEnabled+`":"true","`+flinkconf.KeyReadinessTimeout+`":"30 s",`+
			`"high-availability.type":"kubernetes","high-availability.storageDir":"file:///ha"}`),
		reactive: &v1beta1.FlinkDeploymentSpec{Mode: v1beta1.ModeStandalone, FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(`{"scheduler-mode":"reactive"}`)},
			TaskManager: &v1beta1.TaskManagerSpec{Replicas: ptr.To[int32](2)}, Job: &v1beta1.JobSpec{Parallelism: 2}},
	}
}

// deployedCases: before the first deployment, and with a deployed spec.
func deployedCases(specs nextSpecs) []nextCase {
	savepoint, redeploy, reactive := specs.savepoint, specs.redeploy, specs.reactive
	ttl3s := app(v1beta1.UpgradeModeSavepoint, `{"`+flinkconf.KeyJMShutdownTTL+`":"3 s"}`)
	ignorePending := app(v1beta1.UpgradeModeSavepoint, `{"`+flinkconf.KeyIgnorePendingSavepoint+`":"true"}`)
	noRecovery := app(v1beta1.UpgradeModeSavepoint, `{"`+flinkconf.KeyJMRecovery+`":"false"}`)
	healthChecked := app(v1beta1.UpgradeModeLastState, strings.Replace(haConf, "{", `{"`+flinkconf.KeyHealthCheck+`":"true",`, 1))
	healthCheckedStateless := app(v1beta1.UpgradeModeStateless, `{"`+flinkconf.KeyHealthCheck+`":"true"}`)
	unhealthy := func(st *v1beta1.FlinkDeploymentStatus) {
		st.ClusterInfo = map[string]string{clusterhealth.InfoKey: `{"timeStamp":1,"healthResult":{"healthy":false,"error":"Restart count hit threshold: 1"}}`}
	}
	return []nextCase{
		// Before the first deployment.
		{"first deployment", Input{Spec: with(savepoint, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.InitialSavepointPath = "s3://b/sp-1" }), Status: &v1beta1.FlinkDeploymentStatus{}},
			Plan{Step: Deploy, First: true, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-1"}}},
		{"created suspended", Input{Spec: with(savepoint, suspend), Status: &v1beta1.FlinkDeploymentStatus{}}, Plan{Step: RecordSpec, First: true}},

		// A deployed spec.
		{"steady", Input{Spec: savepoint, Last: savepoint, Status: running(), JobManager: true}, Plan{Step: Steady, SnapshotsFirst: true}},
		// A new snapshot trigger nonce is the snapshot steps' to take and
		// record, once the job runs: no spec change.
		{"a new savepoint nonce", Input{Spec: with(savepoint, savepointNonce), Last: savepoint, Status: running(), JobManager: true}, Plan{Step: Steady, SnapshotsFirst: true}},
		{"a new savepoint nonce while the JobManager deploys", Input{Spec: with(savepoint, savepointNonce), Last: savepoint, Status: status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), JobManager: true},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"JobManager deleted behind the hub's back", Input{Spec: savepoint, Last: savepoint, Status: status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerMissing, v1beta1.JobRunning)},
			Plan{Step: RecoverJobManager, SnapshotsFirst: true}},
		// A job that ended: its JobManager stays for the shutdown TTL (a
		// day by default) from the job's last change, then goes, and is
		// not recovered.
		{"ended job, TTL not passed", Input{Spec: savepoint, Last: savepoint, Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFinished), updatedAt(now.Add(-time.Hour))), JobManager: true, Now: now},
			Plan{Step: Steady, After: 23 * time.Hour, SnapshotsFirst: true}},
		{"ended job, TTL passed", Input{Spec: savepoint, Last: savepoint, Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobCanceled), updatedAt(now.Add(-25*time.Hour))), JobManager: true, Now: now},
			Plan{Step: ShutDown, SnapshotsFirst: true}},
		{"ended job, TTL set per deployment", Input{Spec: ttl3s, Last: ttl3s, Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFailed), updatedAt(now.Add(-4*time.Second))), JobManager: true, Now: now},
			Plan{Step: ShutDown, SnapshotsFirst: true}},
		{"ended job's JobManager shut down is not recovered", Input{Spec: savepoint, Last: savepoint, Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerMissing, v1beta1.JobFinished), updatedAt(now.Add(-25*time.Hour))), Now: now},
			Plan{Step: Steady, SnapshotsFirst: true}},
		// The cluster health check found the job unhealthy.
		{"unhealthy, HA not read yet", Input{Spec: healthChecked, Last: healthChecked, Status: edit(running(), unhealthy), JobManager: true},
			Plan{Step: ReadHAMetadata, SnapshotsFirst: false}},
		{"unhealthy, HA metadata to restart from", Input{Spec: healthChecked, Last: healthChecked, Status: edit(running(), unhealthy), JobManager: true, HAMetadata: ptr.To(true)},
			Plan{Step: RestartUnhealthy, Why: "Restart count hit threshold: 1", KeepHA: true}},
		{"unhealthy, no HA metadata: left running", Input{Spec: healthChecked, Last: healthChecked, Status: edit(running(), unhealthy), JobManager: true, HAMetadata: ptr.To(false)},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"unhealthy, stateless: no HA needed", Input{Spec: healthCheckedStateless, Last: healthCheckedStateless, Status: edit(running(), unhealthy), JobManager: true},
			Plan{Step: RestartUnhealthy, Why: "Restart count hit threshold: 1"}},
		{"unhealthy, check turned off", Input{Spec: savepoint, Last: savepoint, Status: edit(running(), unhealthy), JobManager: true},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"JobManager deleted, stateful without HA: not recovered empty", Input{Spec: specs.savepointNoHA, Last: specs.savepointNoHA, Status: status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerMissing, v1beta1.JobRunning)},
			Plan{Step: ManualRestore, Why: MsgNoRecoveryWithoutHA, SnapshotsFirst: true}},
		{"JobManager deleted, stateless without HA: recovered", Input{Spec: specs.stateless, Last: specs.stateless, Status: status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerMissing, v1beta1.JobRunning)},
			Plan{Step: RecoverJobManager, SnapshotsFirst: true}},
		{"JobManager deleted, recovery off", Input{Spec: noRecovery, Last: noRecovery, Status: status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerMissing, v1beta1.JobRunning)},
			Plan{Step: Steady, SnapshotsFirst: true}},
		// Recorded, the state and reconciliation timestamp kept, as
		// upstream leaves them (updateReconciliationMetadata).
		{"operator setting changed", Input{Spec: app(v1beta1.UpgradeModeSavepoint, `{"kubernetes.operator.periodic.savepoint.interval":"1h"}`), Last: app(v1beta1.UpgradeModeSavepoint, `{}`), Status: running(), JobManager: true},
			Plan{Step: RecordSpec, KeepState: true, SnapshotsFirst: true}},
		{"reactive scale", Input{Spec: with(reactive, func(s *v1beta1.FlinkDeploymentSpec) { s.TaskManager.Replicas = ptr.To[int32](4); s.Job.Parallelism = 4 }), Last: reactive, Status: running(), JobManager: true},
			Plan{Step: Scale, SnapshotsFirst: true}},
		{"spec changed while a manual savepoint is under way: wait", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: edit(running(), pendingTrigger(v1beta1.TriggerManual, now)), JobManager: true},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"spec changed while a manual savepoint is under way, ignored", Input{Spec: with(ignorePending, parallel3), Last: ignorePending, Status: edit(running(), pendingTrigger(v1beta1.TriggerManual, now)), JobManager: true},
			Plan{Step: Begin, Why: "Spec changed (upgrade)", SnapshotsFirst: true}},
		{"spec changed", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: running(), JobManager: true},
			Plan{Step: Begin, Why: "Spec changed (upgrade)", SnapshotsFirst: true}},
		{"savepoint redeploy", Input{Spec: redeploy, Last: savepoint, Status: running(), JobManager: true},
			Plan{Step: Begin, Why: "Spec changed (savepoint-redeploy)", SnapshotsFirst: true}},
		{"spec changed after a failed upgrade savepoint, retry not due", Input{Spec: with(savepoint, parallel3), Last: savepoint, Problem: problem.SavepointFailed, RetryAfterSavepointFailure: time.Minute,
			Status: edit(running(), pendingTrigger("", now.Add(-20*time.Second))), JobManager: true, Now: now},
			Plan{Step: Wait, After: 40 * time.Second, SnapshotsFirst: true}},
		{"spec changed after a failed upgrade savepoint, retry due", Input{Spec: with(savepoint, parallel3), Last: savepoint, Problem: problem.SavepointFailed, RetryAfterSavepointFailure: time.Minute,
			Status: edit(running(), pendingTrigger("", now.Add(-2*time.Minute))), JobManager: true, Now: now},
			Plan{Step: Begin, Why: "Spec changed (upgrade)", SnapshotsFirst: true}},
	}
}

// suspendAndFailedJobCases: suspend and resume, and a job that failed for
// good.
func suspendAndFailedJobCases(specs nextSpecs) []nextCase {
	savepoint, stateless, restartFailed := specs.savepoint, specs.stateless, specs.restartFailed
	return []nextCase{
		// Suspend and resume.
		{"suspend", Input{Spec: with(savepoint, suspend), Last: savepoint, Status: running(), JobManager: true}, Plan{Step: Begin, Why: "Suspending the job"}},
		{"resume in savepoint mode", Input{Spec: savepoint, Last: with(savepoint, suspend), Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerMissing, v1beta1.JobSuspended), savepointPath("s3://b/sp-2"))},
			Plan{Step: Deploy, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-2"}}},
		{"resume stateless", Input{Spec: stateless, Last: with(stateless, suspend), Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerMissing, v1beta1.JobSuspended), savepointPath("s3://b/sp-2"))},
			Plan{Step: Deploy}},
		{"changed while suspended", Input{Spec: with(with(savepoint, suspend), parallel3), Last: with(savepoint, suspend), Status: status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerMissing, v1beta1.JobSuspended)},
			Plan{Step: RecordSpec}},
		{"suspended, unchanged", Input{Spec: with(savepoint, suspend), Last: with(savepoint, suspend), Status: status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerMissing, v1beta1.JobSuspended)},
			Plan{Step: Nothing}},

		// A job that failed for good.
		{"failed job, restart on, from the upgrade savepoint", Input{Spec: restartFailed, Last: restartFailed, Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFailed), savepointPath("s3://b/sp-3")), JobManager: true},
			Plan{Step: RestartFailed, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-3"}}},
		{"failed job, restart on, from the last savepoint", Input{Spec: restartFailed, Last: restartFailed, Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFailed), func(st *v1beta1.FlinkDeploymentStatus) {
			st.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{LastSavepoint: &v1beta1.Savepoint{Location: "s3://b/sp-4"}}
		}), JobManager: true},
			Plan{Step: RestartFailed, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-4"}}},
		{"failed job, restart on, from a periodic savepoint newer than the upgrade savepoint", Input{Spec: restartFailed, Last: restartFailed,
			Status: edit(edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFailed), savepointPath("s3://b/sp-1")), lastSavepoint("s3://b/sp-5", now)), JobManager: true},
			Plan{Step: RestartFailed, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-5"}}},
		{"failed stateless job, restart on", Input{Spec: with(restartFailed, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.UpgradeMode = v1beta1.UpgradeModeStateless }), Last: with(restartFailed, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.UpgradeMode = v1beta1.UpgradeModeStateless }),
			Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFailed), savepointPath("s3://b/sp-3")), JobManager: true},
			Plan{Step: RestartFailed}},
		{"failed job, restart on, a savepoint nonce pending: restarted", Input{Spec: with(restartFailed, savepointNonce), Last: restartFailed, Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFailed), savepointPath("s3://b/sp-3")), JobManager: true},
			Plan{Step: RestartFailed, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-3"}}},
		{"failed job, restart off", Input{Spec: savepoint, Last: savepoint, Status: status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFailed), JobManager: true},
			Plan{Step: Steady, After: DefaultShutdownTTL, SnapshotsFirst: true}}, // its JobManager stays for the shutdown TTL
		{"failed job being restarted: its cluster is deleted without HA", Input{Spec: restartFailed, Last: restartFailed, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobFailed), JobManager: true},
			Plan{Step: Delete}},
	}
}

// rollbackCases: rollbacks of a spec not stable in time.
func rollbackCases(t *testing.T, specs nextSpecs) []nextCase {
	savepoint, rollback := specs.savepoint, specs.rollback
	operatorSetting := func(s *v1beta1.FlinkDeploymentSpec) {
		s.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(strings.Replace(string(s.FlinkConfiguration.Raw), "{", `{"kubernetes.operator.savepoint.history.max.count":"5",`, 1))}
	}
	return []nextCase{
		// Rollbacks.
		{"not stable within the readiness timeout", Input{Spec: rollback, Last: rollback, Now: now, JobManager: true,
			Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), stableSpecs(t, rollback, false))},
			Plan{Step: RollBack}},
		{"not stable yet, within the timeout", Input{Spec: rollback, Last: rollback, Now: now.Add(-45 * time.Second), JobManager: true,
			Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), stableSpecs(t, rollback, false))},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"stable spec running", Input{Spec: rollback, Last: rollback, Now: now, JobManager: true, Status: edit(running(), stableSpecs(t, rollback, true))},
			Plan{Step: Steady, SnapshotsFirst: true}},
		// As upstream's shouldRollBack: no rollback of a spec changed since,
		// back to a suspended job, across a Flink version change, or of a
		// last-state job without HA metadata to restore from.
		{"not stable within the readiness timeout, spec changed since: the change is applied", Input{Spec: with(rollback, parallel3), Last: rollback, Now: now, JobManager: true,
			Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), stableSpecs(t, rollback, false))},
			Plan{Step: Begin, Why: "Spec changed (upgrade)", SnapshotsFirst: true}},
		{"not stable within the readiness timeout, the stable job suspended", Input{Spec: rollback, Last: rollback, Now: now, JobManager: true,
			Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), stableSpecWas(t, rollback, with(rollback, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.State = v1beta1.JobStateSuspended })))},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"not stable within the readiness timeout, the Flink version changed", Input{Spec: with(rollback, flinkVersion("v2_2")), Last: with(rollback, flinkVersion("v2_2")), Now: now, JobManager: true,
			Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), stableSpecWas(t, with(rollback, flinkVersion("v2_2")), with(rollback, flinkVersion("v1_20"))))},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"not stable within the readiness timeout, same Flink version", Input{Spec: with(rollback, flinkVersion("v2_2")), Last: with(rollback, flinkVersion("v2_2")), Now: now, JobManager: true,
			Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), stableSpecWas(t, with(rollback, flinkVersion("v2_2")), with(with(rollback, flinkVersion("v2_2")), parallel3)))},
			Plan{Step: RollBack}},
		{"last-state, not stable within the readiness timeout: HA metadata read first", Input{Spec: specs.rollbackLastState, Last: specs.rollbackLastState, Now: now, JobManager: true,
			Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), stableSpecs(t, specs.rollbackLastState, false))},
			Plan{Step: ReadHAMetadata}},
		{"last-state, not stable within the readiness timeout, HA metadata", Input{Spec: specs.rollbackLastState, Last: specs.rollbackLastState, Now: now, JobManager: true, HAMetadata: ptr.To(true),
			Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), stableSpecs(t, specs.rollbackLastState, false))},
			Plan{Step: RollBack}},
		{"last-state, not stable within the readiness timeout, no HA metadata: no rollback", Input{Spec: specs.rollbackLastState, Last: specs.rollbackLastState, Now: now, JobManager: true, HAMetadata: ptr.To(false),
			Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), stableSpecs(t, specs.rollbackLastState, false))},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"rollbacks off", Input{Spec: savepoint, Last: savepoint, Now: now, JobManager: true,
			Status: edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), stableSpecs(t, savepoint, false))},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"rolling back", Input{Spec: savepoint, Last: savepoint, Status: edit(status(v1beta1.ReconciliationRollingBack, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), savepointPath("s3://b/sp-5"))},
			Plan{Step: RollBack, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-5"}}},
		// The stable spec's job runs on: its periodic snapshots go on too.
		{"rolled back, spec unchanged", Input{Spec: savepoint, Last: savepoint, Status: status(v1beta1.ReconciliationRolledBack, v1beta1.JobManagerReady, v1beta1.JobRunning)},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"rolled back, a new savepoint nonce: the snapshot step takes it", Input{Spec: with(savepoint, savepointNonce), Last: savepoint, Status: status(v1beta1.ReconciliationRolledBack, v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"rolled back, spec unchanged, not stable within the readiness timeout: no second rollback", Input{Spec: rollback, Last: rollback, Now: now, JobManager: true,
			Status: edit(status(v1beta1.ReconciliationRolledBack, v1beta1.JobManagerDeploying, v1beta1.JobReconciling), stableSpecs(t, rollback, false))},
			Plan{Step: Steady, SnapshotsFirst: true}},
		{"rolled back, new spec", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: status(v1beta1.ReconciliationRolledBack, v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: Begin, Why: "Spec changed (upgrade)", SnapshotsFirst: true}},
		// A change that needs no redeploy deploys nothing on a rolled-back
		// cluster: recorded, it keeps ROLLED_BACK, else the failed spec it
		// is recorded with would be marked stable.
		{"rolled back, operator setting changed", Input{Spec: with(savepoint, operatorSetting), Last: savepoint, Status: status(v1beta1.ReconciliationRolledBack, v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: RecordSpec, KeepState: true, SnapshotsFirst: true}},
		// A reactive cluster's TaskManagers resized after a rollback: an
		// upgrade, not the failed spec applied onto the stable cluster.
		{"rolled back, reactive scale", Input{Spec: with(specs.reactive, func(s *v1beta1.FlinkDeploymentSpec) { s.TaskManager.Replicas = ptr.To[int32](4) }), Last: specs.reactive, Status: status(v1beta1.ReconciliationRolledBack, v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: Begin, Why: "Spec changed (scale), not by resizing the TaskManagers: the cluster was rolled back: it runs the last stable spec, not the one changed", SnapshotsFirst: true}},
		{"rolled back, upgrade mode changed", Input{Spec: with(savepoint, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.UpgradeMode = v1beta1.UpgradeModeStateless }), Last: savepoint,
			Status: status(v1beta1.ReconciliationRolledBack, v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: RecordSpec, KeepState: true, SnapshotsFirst: true}},
	}
}

// captureCases: capturing the job's state before an upgrade.
func captureCases(specs nextSpecs) []nextCase {
	savepoint, savepointNoHA, lastState, stateless, redeploy := specs.savepoint, specs.savepointNoHA, specs.lastState, specs.stateless, specs.redeploy
	yes, no := ptr.To(true), ptr.To(false)
	noFallback := app(v1beta1.UpgradeModeSavepoint, strings.Replace(haConf, "{", `{"`+flinkconf.KeyLastStateFallback+`":"false",`, 1))
	lastStateSpDir := app(v1beta1.UpgradeModeLastState, strings.Replace(haConf, "{", `{"state.savepoints.dir":"s3://b/sp",`, 1))
	cases := append(lastStateSettingCases(specs), cancelAgeCases()...)
	cases = append(cases, emptyStateCases(specs.lastState)...)
	return append(cases, []nextCase{
		// Capturing the job's state.
		{"stateless: cancel, then delete", Input{Spec: with(stateless, parallel3), Last: stateless, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: Delete, CancelJob: true}},
		{"redeploy: cancel, then delete without HA", Input{Spec: redeploy, Last: savepoint, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: Delete, CancelJob: true}},
		{"last-state: HA metadata not read yet", Input{Spec: with(lastState, parallel3), Last: lastState, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: ReadHAMetadata}},
		{"last-state with HA metadata", Input{Spec: with(lastState, parallel3), Last: lastState, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true, HAMetadata: yes},
			Plan{Step: Delete, KeepHA: true}},
		// No checkpoint in the HA metadata: a running job is captured by a
		// savepoint when a savepoint directory is set (upstream cancels
		// it: see docs/DESIGN.md); without one, as upstream, by
		// cancellation (a savepoint would fail at every attempt); one
		// that ended cannot be.
		{"last-state without HA metadata, job running: savepoint instead", Input{Spec: with(lastStateSpDir, parallel3), Last: lastStateSpDir, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true, HAMetadata: no},
			Plan{Step: TriggerSavepoint}},
		{"last-state without HA metadata, job running, savepoint directory only in the new spec: savepoint", Input{Spec: with(lastStateSpDir, parallel3), Last: lastState, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true, HAMetadata: no},
			Plan{Step: TriggerSavepoint}},
		{"last-state without HA metadata, job running, no savepoint directory: cancel it", Input{Spec: with(lastState, parallel3), Last: lastState, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true, HAMetadata: no},
			Plan{Step: CancelJob}},
		{"last-state without HA metadata, fallback savepoint pending", Input{Spec: with(lastState, parallel3), Last: lastState, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), pendingTrigger(v1beta1.TriggerUpgrade, now)), JobManager: true, HAMetadata: no},
			Plan{Step: PollSavepoint}},
		{"last-state without HA metadata, fallback savepoint taken", Input{Spec: with(lastState, parallel3), Last: lastState, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobFinished), savepointPath("s3://b/sp-7")), JobManager: true, HAMetadata: no},
			Plan{Step: Delete}},
		// A job that does not run, and Flink can cancel, with no
		// checkpoint in the HA metadata: as upstream, by cancellation (no
		// savepoint can be taken; the old plan waited for a manual
		// restore while the job restarted).
		{"last-state without HA metadata, restarting job: HA metadata not read yet", Input{Spec: with(lastState, parallel3), Last: lastState, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRestarting), JobManager: true},
			Plan{Step: ReadHAMetadata}},
		{"last-state without HA metadata, restarting job: cancel it", Input{Spec: with(lastState, parallel3), Last: lastState, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRestarting), JobManager: true, HAMetadata: no},
			Plan{Step: CancelJob}},
		{"last-state with HA metadata, restarting job: from the HA metadata", Input{Spec: with(lastState, parallel3), Last: lastState, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRestarting), JobManager: true, HAMetadata: yes},
			Plan{Step: Delete, KeepHA: true}},
		{"last-state with HA, job cancelling: wait for it", Input{Spec: with(lastState, parallel3), Last: lastState, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobCancelling), JobManager: true, HAMetadata: yes, ProgressCheckInterval: time.Second},
			Plan{Step: Wait, After: time.Second, Why: "waiting for the job to be cancelled for the last-state upgrade"}},
		{"last-state with HA, job cancelled: its latest checkpoint, read from Flink", Input{Spec: with(lastState, parallel3), Last: lastState, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), JobManager: true},
			Plan{Step: ReadCheckpoints}},
		{"last-state with HA, job cancelled: record its latest checkpoint", Input{Spec: with(lastState, parallel3), Last: lastState, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), JobManager: true, HAMetadata: no,
			Latest: checkpointed(5, now, "s3://b/chk-5")},
			Plan{Step: RecordCheckpoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/chk-5"}}},
		{"last-state without HA metadata, job not running", Input{Spec: with(lastState, parallel3), Last: lastState, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobFailed), JobManager: true, HAMetadata: no},
			Plan{Step: ManualRestore}},
		{"same-spec restart (unhealthy): delete keeping HA", Input{Spec: lastState, Last: lastState, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: Delete, KeepHA: true}},
		{"savepoint: job running", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: TriggerSavepoint}},
		{"savepoint: trigger pending", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), pendingTrigger(v1beta1.TriggerUpgrade, now)), JobManager: true},
			Plan{Step: PollSavepoint}},
		{"savepoint: a manual trigger pending is not the upgrade's", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), pendingTrigger(v1beta1.TriggerManual, now)), JobManager: true},
			Plan{Step: TriggerSavepoint}},
		{"savepoint: taken", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobFinished), savepointPath("s3://b/sp-6")), JobManager: true},
			Plan{Step: Delete}},
		{"savepoint: job not running, HA not read yet", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobFailed), JobManager: true},
			Plan{Step: ReadHAMetadata}},
		{"savepoint: job not running, HA metadata to fall back to", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobFailed), JobManager: true, HAMetadata: yes},
			Plan{Step: Delete, KeepHA: true, Fallback: true}},
		{"savepoint: job not running, HA metadata, fallback off", Input{Spec: with(noFallback, parallel3), Last: noFallback, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobFailed), JobManager: true, HAMetadata: yes},
			Plan{Step: Blocked}},
		{"savepoint: job not running, no HA metadata", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobFailed), JobManager: true, HAMetadata: no},
			Plan{Step: Blocked}},
		{"savepoint: job not running, HA off", Input{Spec: with(savepointNoHA, parallel3), Last: savepointNoHA, Status: upgrading(v1beta1.JobManagerDeployedNotReady, v1beta1.JobReconciling), JobManager: true},
			Plan{Step: Blocked}},
	}...)
}

// lastStateSettingCases capture a last-state job's state under upstream's
// last-state settings: the checkpoint age limit and cancellation.
func lastStateSettingCases(specs nextSpecs) []nextCase {
	lastState := specs.lastState
	yes := ptr.To(true)
	cancelSpec := app(v1beta1.UpgradeModeLastState, strings.Replace(haConf, "{", `{"`+flinkconf.KeyLastStateCancel+`":"true",`, 1))
	maxAge := app(v1beta1.UpgradeModeLastState, strings.Replace(haConf, "{", `{"`+flinkconf.KeyLastStateMaxCheckpointAge+`":"1 min",`, 1))
	noHA := app(v1beta1.UpgradeModeLastState, `{"state.checkpoints.dir":"file:///c"}`)
	return []nextCase{
		// kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age (1 min).
		{"last-state, max age: job started within it", Input{Spec: with(maxAge, parallel3), Last: maxAge, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), startedAt(now.Add(-30*time.Second))), JobManager: true, HAMetadata: yes, Now: now},
			Plan{Step: Delete, KeepHA: true}},
		{"last-state, max age: checkpoints not read yet", Input{Spec: with(maxAge, parallel3), Last: maxAge, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), startedAt(now.Add(-time.Hour))), JobManager: true, HAMetadata: yes, Now: now},
			Plan{Step: ReadCheckpoints}},
		{"last-state, max age: a recent checkpoint", Input{Spec: with(maxAge, parallel3), Last: maxAge, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), startedAt(now.Add(-time.Hour))), JobManager: true, HAMetadata: yes, Now: now,
			Checkpoints: &checkpoints.Times{Completed: now.Add(-20 * time.Second)}},
			Plan{Step: Delete, KeepHA: true}},
		{"last-state, max age: a checkpoint pending", Input{Spec: with(maxAge, parallel3), Last: maxAge, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), startedAt(now.Add(-time.Hour))), JobManager: true, HAMetadata: yes, Now: now,
			Checkpoints: &checkpoints.Times{Completed: now.Add(-10 * time.Minute), Pending: now.Add(-5 * time.Second)}, ProgressCheckInterval: 10 * time.Second},
			Plan{Step: Wait, After: 10 * time.Second, Why: "waiting for the pending checkpoint before the last-state upgrade"}},
		{"last-state, max age: the latest checkpoint too old: savepoint", Input{Spec: with(maxAge, parallel3), Last: maxAge, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), startedAt(now.Add(-time.Hour))), JobManager: true, HAMetadata: yes, Now: now,
			Checkpoints: &checkpoints.Times{Completed: now.Add(-10 * time.Minute)}},
			Plan{Step: TriggerSavepoint}},
		{"last-state, max age: the savepoint instead under way", Input{Spec: with(maxAge, parallel3), Last: maxAge, Status: edit(edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), startedAt(now.Add(-time.Hour))), pendingTrigger(v1beta1.TriggerUpgrade, now)), JobManager: true, HAMetadata: yes, Now: now,
			Checkpoints: &checkpoints.Times{Completed: now.Add(-10 * time.Minute)}},
			Plan{Step: PollSavepoint}},
		{"switched to last-state while an upgrade savepoint is under way: the HA checkpoint wins", Input{Spec: with(lastState, parallel3), Last: lastState, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), pendingTrigger(v1beta1.TriggerUpgrade, now)), JobManager: true, HAMetadata: yes},
			Plan{Step: Delete, KeepHA: true}},
		// last-state.job-cancel.enabled: cancel, wait, read the latest
		// checkpoint, record it, then as for a savepoint.
		{"last-state by cancel: cancel the running job", Input{Spec: with(cancelSpec, parallel3), Last: cancelSpec, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true, HAMetadata: yes},
			Plan{Step: CancelJob}},
		{"last-state by cancel: cancelling", Input{Spec: with(cancelSpec, parallel3), Last: cancelSpec, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobCancelling), JobManager: true, ProgressCheckInterval: time.Second},
			Plan{Step: Wait, After: time.Second, Why: "waiting for the job to be cancelled for the last-state upgrade"}},
		{"last-state by cancel: cancelled, checkpoints not read", Input{Spec: with(cancelSpec, parallel3), Last: cancelSpec, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), JobManager: true},
			Plan{Step: ReadCheckpoints}},
		{"last-state by cancel: record the latest checkpoint", Input{Spec: with(cancelSpec, parallel3), Last: cancelSpec, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), JobManager: true,
			Latest: checkpointed(9, now, "s3://b/chk-9")},
			Plan{Step: RecordCheckpoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/chk-9"}}},
		// Without HA (upstream since FLINK-35414): by cancellation, for
		// any job Flink can cancel.
		{"last-state without HA: cancel the running job", Input{Spec: with(noHA, parallel3), Last: noHA, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: CancelJob}},
		{"last-state without HA: cancel the restarting job", Input{Spec: with(noHA, parallel3), Last: noHA, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRestarting), JobManager: true},
			Plan{Step: CancelJob}},
		{"last-state without HA: cancelling", Input{Spec: with(noHA, parallel3), Last: noHA, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobCancelling), JobManager: true, ProgressCheckInterval: time.Second},
			Plan{Step: Wait, After: time.Second, Why: "waiting for the job to be cancelled for the last-state upgrade"}},
		{"last-state without HA: record the cancelled job's latest checkpoint", Input{Spec: with(noHA, parallel3), Last: noHA, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), JobManager: true,
			Latest: checkpointed(4, now, "s3://b/chk-4")},
			Plan{Step: RecordCheckpoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/chk-4"}}},
		{"last-state without HA: suspend by cancellation", Input{Spec: with(noHA, suspend), Last: noHA, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: CancelJob}},
		{"last-state without HA: the spec changed back mid-upgrade still captures", Input{Spec: noHA, Last: noHA, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), JobManager: true},
			Plan{Step: CancelJob}},
		{"last-state without HA: JobManager not answering: wait for it, no empty start", Input{Spec: with(noHA, parallel3), Last: noHA, Status: upgrading(v1beta1.JobManagerDeploying, v1beta1.JobRunning), JobManager: true, ProgressCheckInterval: time.Second},
			Plan{Step: Wait, After: time.Second, Why: "waiting for a job Flink can cancel: without HA, a last-state upgrade takes the state by cancelling the job"}},
		{"last-state without HA: ended job, HA metadata not read", Input{Spec: with(noHA, parallel3), Last: noHA, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobFailed), JobManager: true},
			Plan{Step: ReadHAMetadata}},
		{"last-state without HA: ended job restarts from its newest savepoint", Input{Spec: with(noHA, parallel3), Last: noHA, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobFailed), lastSavepoint("s3://b/sp-3", now)), JobManager: true, HAMetadata: ptr.To(false)},
			Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-3"}}},
		{"last-state without HA: recorded, delete", Input{Spec: with(noHA, parallel3), Last: noHA, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), savepointPath("s3://b/chk-4")), JobManager: true},
			Plan{Step: Delete}},
		{"last-state by cancel: recorded, delete", Input{Spec: with(cancelSpec, parallel3), Last: cancelSpec, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), savepointPath("s3://b/chk-9")), JobManager: true},
			Plan{Step: Delete}},
	}
}

// emptyStateCases: a last-state upgrade by cancellation of a job of which
// Flink reports nothing to restore, or a checkpoint without a path or
// time.
func emptyStateCases(lastState *v1beta1.FlinkDeploymentSpec) []nextCase {
	cancelSpec := app(v1beta1.UpgradeModeLastState, strings.Replace(haConf, "{", `{"`+flinkconf.KeyLastStateCancel+`":"true",`, 1))
	noHA := app(v1beta1.UpgradeModeLastState, `{"state.checkpoints.dir":"file:///c"}`)
	return []nextCase{
		// Flink reports no checkpoint, savepoint or restore of the
		// cancelled job: it never had state; as upstream, it starts empty
		// (recorded, then deleted without HA metadata, its JobManager
		// there or gone).
		{"last-state by cancel: no state to restore: recorded", Input{Spec: with(cancelSpec, parallel3), Last: cancelSpec, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), JobManager: true,
			Latest: &api.LatestCheckpoints{}},
			Plan{Step: RecordEmptyState}},
		{"last-state without HA: no state to restore: recorded", Input{Spec: with(noHA, parallel3), Last: noHA, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), JobManager: true,
			Latest: &api.LatestCheckpoints{}},
			Plan{Step: RecordEmptyState}},
		// A savepoint recorded (a job started from it, cancelled before
		// its first checkpoint, or that never checkpoints): as upstream's
		// restoreJob, from it, where the job used to start empty; never
		// from a savepoint older than a checkpoint Flink reports.
		{"last-state by cancel: nothing reported, a savepoint recorded: from it", Input{Spec: with(cancelSpec, parallel3), Last: cancelSpec, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), lastSavepoint("s3://b/sp-3", now.Add(-time.Hour))), JobManager: true,
			Latest: &api.LatestCheckpoints{}},
			Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-3"}}},
		{"last-state without HA: a checkpoint after the savepoint recorded: the checkpoint", Input{Spec: with(noHA, parallel3), Last: noHA, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), lastSavepoint("s3://b/sp-3", now.Add(-time.Hour))), JobManager: true,
			Latest: checkpointed(4, now, "s3://b/chk-4")},
			Plan{Step: RecordCheckpoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/chk-4"}}},
		{"last-state without HA: a savepoint recorded after the checkpoint: the savepoint", Input{Spec: with(noHA, parallel3), Last: noHA, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), lastSavepoint("s3://b/sp-3", now.Add(-time.Hour))), JobManager: true,
			Latest: checkpointed(2, now.Add(-2*time.Hour), "s3://b/chk-2")},
			Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-3"}}},
		{"last-state without HA: recorded without state, delete", Input{Spec: with(noHA, parallel3), Last: noHA, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), noState), JobManager: true},
			Plan{Step: Delete}},
		{"last-state without HA: recorded without state, JobManager being deleted: delete", Input{Spec: with(noHA, parallel3), Last: noHA, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), noState)},
			Plan{Step: Delete}},
		{"last-state with HA: recorded without state, JobManager gone: delete, no HA metadata read", Input{Spec: with(lastState, parallel3), Last: lastState, Status: edit(upgrading(v1beta1.JobManagerMissing, v1beta1.JobCanceled), noState)},
			Plan{Step: Delete}},
		{"last-state: a no-state record on a running job is not honoured", Input{Spec: with(noHA, parallel3), Last: noHA, Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), noState), JobManager: true},
			Plan{Step: CancelJob}},
		// A checkpoint Flink names without a path: nothing to restore
		// from, a manual restore, as upstream.
		{"last-state by cancel: latest checkpoint without a path", Input{Spec: with(cancelSpec, parallel3), Last: cancelSpec, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), JobManager: true,
			Latest: checkpointed(3, now, "")},
			Plan{Step: ManualRestore, Why: MsgCheckpointNotAddressable}},
		{"last-state by cancel: a checkpoint without a time still restores", Input{Spec: with(cancelSpec, parallel3), Last: cancelSpec, Status: upgrading(v1beta1.JobManagerReady, v1beta1.JobCanceled), JobManager: true,
			Latest: checkpointed(2, time.Time{}, "s3://b/chk-2")},
			Plan{Step: RecordCheckpoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/chk-2"}}},
	}
}

// cancelAgeCases: upstream's max checkpoint age rule on the cancellation
// path (without HA, and with last-state.job-cancel.enabled): a running
// job is cancelled only with a checkpoint within the age, else a
// savepoint captures it.
func cancelAgeCases() []nextCase {
	const age = `"` + flinkconf.KeyLastStateMaxCheckpointAge + `":"1 min","state.savepoints.dir":"file:///s",`
	noHA := app(v1beta1.UpgradeModeLastState, `{`+age+`"state.checkpoints.dir":"file:///c"}`)
	cancelHA := app(v1beta1.UpgradeModeLastState, strings.Replace(haConf, "{", `{`+age+`"`+flinkconf.KeyLastStateCancel+`":"true",`, 1))
	runningFor := func(extra ...func(*v1beta1.FlinkDeploymentStatus)) *v1beta1.FlinkDeploymentStatus {
		st := edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), startedAt(now.Add(-time.Hour)))
		for _, e := range extra {
			e(st)
		}
		return st
	}
	stale := &checkpoints.Times{Completed: now.Add(-10 * time.Minute), CompletedPath: "s3://b/chk-1"}
	in := func(spec *v1beta1.FlinkDeploymentSpec, st *v1beta1.FlinkDeploymentStatus, cps *checkpoints.Times) Input {
		return Input{Spec: with(spec, parallel3), Last: spec, Status: st, JobManager: true, HAMetadata: ptr.To(true), Checkpoints: cps, Now: now, ProgressCheckInterval: time.Second}
	}
	return []nextCase{
		{"without HA, max age: job started within it: cancel", in(noHA, edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobRunning), startedAt(now.Add(-30*time.Second))), nil),
			Plan{Step: CancelJob}},
		{"without HA, max age: checkpoints not read yet", in(noHA, runningFor(), nil),
			Plan{Step: ReadCheckpoints}},
		{"without HA, max age: a recent checkpoint: cancel", in(noHA, runningFor(), &checkpoints.Times{Completed: now.Add(-20 * time.Second)}),
			Plan{Step: CancelJob}},
		{"without HA, max age: a checkpoint pending: wait for it", in(noHA, runningFor(), &checkpoints.Times{Completed: now.Add(-10 * time.Minute), Pending: now.Add(-5 * time.Second)}),
			Plan{Step: Wait, After: time.Second, Why: "waiting for the pending checkpoint before the last-state upgrade"}},
		{"without HA, max age: the latest checkpoint too old: savepoint", in(noHA, runningFor(), stale),
			Plan{Step: TriggerSavepoint}},
		{"without HA, max age: no checkpoint at all: savepoint", in(noHA, runningFor(), &checkpoints.Times{}),
			Plan{Step: TriggerSavepoint}},
		{"without HA, max age: the savepoint instead under way is followed, not cancelled", in(noHA, runningFor(pendingTrigger(v1beta1.TriggerUpgrade, now)), stale),
			Plan{Step: PollSavepoint}},
		{"without HA, max age: the savepoint instead taken", in(noHA, edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobFinished), savepointPath("s3://b/sp-2")), nil),
			Plan{Step: Delete}},
		{"without HA, max age: a job that does not run is cancelled whatever its checkpoint's age", in(noHA, runningFor(func(st *v1beta1.FlinkDeploymentStatus) { st.JobStatus.State = v1beta1.JobRestarting }), stale),
			Plan{Step: CancelJob}},
		{"without HA, max age: the suspend too takes a savepoint", Input{Spec: with(noHA, suspend), Last: noHA, Status: runningFor(), JobManager: true, Checkpoints: stale, Now: now},
			Plan{Step: TriggerSavepoint}},
		{"job-cancel.enabled, max age: a recent checkpoint: cancel", in(cancelHA, runningFor(), &checkpoints.Times{Completed: now.Add(-20 * time.Second)}),
			Plan{Step: CancelJob}},
		{"job-cancel.enabled, max age: the latest checkpoint too old: savepoint", in(cancelHA, runningFor(), stale),
			Plan{Step: TriggerSavepoint}},
		{"job-cancel.enabled, max age: the savepoint instead under way", in(cancelHA, runningFor(pendingTrigger(v1beta1.TriggerUpgrade, now)), stale),
			Plan{Step: PollSavepoint}},
	}
}

// oldClusterCases: deleting the old cluster, when its JobManager is gone
// already, and deploying once it is recorded gone.
func oldClusterCases(specs nextSpecs) []nextCase {
	savepoint, lastState, stateless, redeploy := specs.savepoint, specs.lastState, specs.stateless, specs.redeploy
	return []nextCase{
		// Deleting the old cluster when its JobManager is gone already.
		{"JobManager gone, last-state keeps HA", Input{Spec: with(lastState, parallel3), Last: lastState, Status: upgrading(v1beta1.JobManagerMissing, v1beta1.JobRunning), HAMetadata: ptr.To(true)},
			Plan{Step: Delete, KeepHA: true}},
		{"JobManager gone, savepoint without a path keeps HA", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: upgrading(v1beta1.JobManagerMissing, v1beta1.JobRunning), HAMetadata: ptr.To(true)},
			Plan{Step: Delete, KeepHA: true}},
		{"JobManager gone, savepoint with a path", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: edit(upgrading(v1beta1.JobManagerMissing, v1beta1.JobFinished), savepointPath("s3://b/sp-7"))},
			Plan{Step: Delete}},
		{"JobManager gone, last-state captured by a fallback savepoint drops HA", Input{Spec: with(lastState, parallel3), Last: lastState, Status: edit(upgrading(v1beta1.JobManagerMissing, v1beta1.JobFinished), savepointPath("s3://b/sp-7"))},
			Plan{Step: Delete}},
		{"JobManager gone, redeploy drops HA", Input{Spec: with(redeploy, func(s *v1beta1.FlinkDeploymentSpec) { s.Job.UpgradeMode = v1beta1.UpgradeModeLastState }), Last: lastState, Status: upgrading(v1beta1.JobManagerMissing, v1beta1.JobRunning)},
			Plan{Step: Delete}},
		{"old cluster deleted", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: upgrading(v1beta1.JobManagerMissing, v1beta1.JobFinished), ClusterGone: true},
			Plan{Step: RecordGone}},

		// After the old cluster is recorded gone.
		{"upgrade deployed from the savepoint", Input{Spec: with(savepoint, parallel3), Last: with(with(savepoint, parallel3), suspend), Status: edit(upgrading(v1beta1.JobManagerMissing, v1beta1.JobSuspended), savepointPath("s3://b/sp-8"))},
			Plan{Step: DeployUpgrade, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-8"}}},
		{"redeploy deployed from initialSavepointPath", Input{Spec: redeploy, Last: with(savepoint, suspend), Status: edit(upgrading(v1beta1.JobManagerMissing, v1beta1.JobSuspended), savepointPath("s3://b/sp-8"))},
			Plan{Step: DeployUpgrade, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-9"}}},
		{"stateless upgrade deployed empty", Input{Spec: with(stateless, parallel3), Last: with(with(stateless, parallel3), suspend), Status: upgrading(v1beta1.JobManagerMissing, v1beta1.JobSuspended)},
			Plan{Step: DeployUpgrade}},
		{"suspend finished", Input{Spec: with(savepoint, suspend), Last: with(savepoint, suspend), Status: edit(upgrading(v1beta1.JobManagerMissing, v1beta1.JobSuspended), savepointPath("s3://b/sp-8"))},
			Plan{Step: Suspend}},
	}
}

// jobManagerGoneCases: a stateful upgrade whose old JobManager is gone
// (shut down after the job ended, or deleted) never deploys empty state:
// it restores from the HA metadata, else (as upstream) an ended job from
// its newest known savepoint, else it waits for a manual restore.
func jobManagerGoneCases(specs nextSpecs) []nextCase {
	savepoint, savepointNoHA, lastState, stateless := specs.savepoint, specs.savepointNoHA, specs.lastState, specs.stateless
	no := ptr.To(false)
	gone := func(job v1beta1.JobStatusState) *v1beta1.FlinkDeploymentStatus {
		return edit(upgrading(v1beta1.JobManagerMissing, job), lastSavepoint("s3://b/sp-5", now.Add(-time.Hour)))
	}
	return []nextCase{
		{"JobManager gone, HA metadata not read yet", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: gone(v1beta1.JobFailed)},
			Plan{Step: ReadHAMetadata}},
		{"JobManager gone, HA off, the job ended: from its last savepoint", Input{Spec: with(savepointNoHA, parallel3), Last: savepointNoHA, Status: gone(v1beta1.JobFailed)},
			Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-5"}}},
		{"JobManager gone, no HA metadata left, last-state job finished: from its last savepoint", Input{Spec: with(lastState, parallel3), Last: lastState, Status: gone(v1beta1.JobFinished), HAMetadata: no},
			Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-5"}}},
		{"JobManager gone, no HA metadata, the job ended, no savepoint known", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: upgrading(v1beta1.JobManagerMissing, v1beta1.JobFailed), HAMetadata: no},
			Plan{Step: ManualRestore, Why: MsgNoSavepointKnown}},
		{"JobManager deleted under a running job, no HA metadata: manual restore", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: gone(v1beta1.JobRunning), HAMetadata: no},
			Plan{Step: ManualRestore, Why: MsgJobManagerGone}},
		{"JobManager gone, the last savepoint recorded: delete", Input{Spec: with(savepointNoHA, parallel3), Last: savepointNoHA, Status: edit(gone(v1beta1.JobFailed), savepointPath("s3://b/sp-5"))},
			Plan{Step: Delete}},
		{"JobManager gone, stateless needs no state", Input{Spec: with(stateless, parallel3), Last: stateless, Status: gone(v1beta1.JobFailed)},
			Plan{Step: Delete}},
		// The same rule when the JobManager is still there.
		{"last-state without HA metadata, the job ended: from its last savepoint", Input{Spec: with(lastState, parallel3), Last: lastState,
			Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobFailed), lastSavepoint("s3://b/sp-5", now.Add(-time.Hour))), JobManager: true, HAMetadata: no},
			Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-5"}}},
		{"savepoint, HA off, the job ended: from its last savepoint", Input{Spec: with(savepointNoHA, parallel3), Last: savepointNoHA,
			Status: edit(upgrading(v1beta1.JobManagerReady, v1beta1.JobFinished), lastSavepoint("s3://b/sp-5", now.Add(-time.Hour))), JobManager: true},
			Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-5"}}},
	}
}

// endedJobCases: a stateful upgrade, or the restart, of a job that
// FAILED or FINISHED whose JobManager answers starts, as upstream, from
// the newer of the latest checkpoint Flink reports of it and the newest
// savepoint recorded; nothing known is a manual restore, as before; a
// checkpoint without a path needs one too.
func endedJobCases(specs nextSpecs) []nextCase {
	savepoint, savepointNoHA, lastState, restart := specs.savepoint, specs.savepointNoHA, specs.lastState, specs.restartFailed
	no, yes := ptr.To(false), ptr.To(true)
	ended := func(rs v1beta1.ReconciliationState, jm v1beta1.JobManagerDeploymentStatus, job v1beta1.JobStatusState) *v1beta1.FlinkDeploymentStatus {
		return edit(edit(status(rs, jm, job), lastSavepoint("s3://b/sp-5", now.Add(-time.Hour))), func(st *v1beta1.FlinkDeploymentStatus) { st.JobStatus.JobID = "j1" })
	}
	up := func(job v1beta1.JobStatusState) *v1beta1.FlinkDeploymentStatus {
		return ended(v1beta1.ReconciliationUpgrading, v1beta1.JobManagerReady, job)
	}
	failed := ended(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFailed)
	sp5 := api.CompletedCheckpointStatistics{Id: 5, TriggerTimestamp: now.Add(-time.Hour).UnixMilli(), ExternalPath: "s3://b/sp-5"}
	chk7 := api.CompletedCheckpointStatistics{Id: 7, TriggerTimestamp: now.Add(-time.Minute).UnixMilli(), ExternalPath: "s3://c/chk-7"}
	blind := api.CompletedCheckpointStatistics{Id: 7, TriggerTimestamp: now.Add(-time.Minute).UnixMilli(), ExternalPath: "<checkpoint-not-externally-addressable>"}
	newer := &api.LatestCheckpoints{Completed: chk7, Savepoint: sp5}
	nothing := &api.LatestCheckpoints{}
	fromChk7 := Plan{Step: RecordCheckpoint, Restore: flinkconf.Restore{SavepointPath: "s3://c/chk-7"}}
	return []nextCase{
		{"last-state, failed, no HA metadata: read its latest state", Input{Spec: with(lastState, parallel3), Last: lastState, Status: up(v1beta1.JobFailed), JobManager: true, HAMetadata: no},
			Plan{Step: ReadCheckpoints}},
		{"last-state, failed: a checkpoint newer than the savepoint", Input{Spec: with(lastState, parallel3), Last: lastState, Status: up(v1beta1.JobFailed), JobManager: true, HAMetadata: no, Latest: newer},
			fromChk7},
		{"last-state, finished: a checkpoint newer than the savepoint", Input{Spec: with(lastState, parallel3), Last: lastState, Status: up(v1beta1.JobFinished), JobManager: true, HAMetadata: no, Latest: newer},
			fromChk7},
		{"savepoint, failed, no HA metadata to fall back to: the newer checkpoint", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: up(v1beta1.JobFailed), JobManager: true, HAMetadata: no, Latest: newer},
			fromChk7},
		{"savepoint without HA, finished: the newer checkpoint", Input{Spec: with(savepointNoHA, parallel3), Last: savepointNoHA, Status: up(v1beta1.JobFinished), JobManager: true, Latest: newer},
			fromChk7},
		{"savepoint, failed, HA metadata holds a checkpoint: from it, as before", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: up(v1beta1.JobFailed), JobManager: true, HAMetadata: yes},
			Plan{Step: Delete, KeepHA: true, Fallback: true}},
		{"Flink reports nothing: the savepoint recorded", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: up(v1beta1.JobFailed), JobManager: true, HAMetadata: no, Latest: nothing},
			Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-5"}}},
		{"nothing reported nor recorded: a manual restore, as before", Input{Spec: with(lastState, parallel3), Last: lastState, JobManager: true, HAMetadata: no, Latest: nothing,
			Status: edit(up(v1beta1.JobFailed), func(st *v1beta1.FlinkDeploymentStatus) { st.JobStatus.SavepointInfo = nil })},
			Plan{Step: ManualRestore}},
		{"Flink's latest checkpoint has no path: a manual restore", Input{Spec: with(lastState, parallel3), Last: lastState, Status: up(v1beta1.JobFinished), JobManager: true, HAMetadata: no, Latest: &api.LatestCheckpoints{Completed: blind, Savepoint: sp5}},
			Plan{Step: ManualRestore, Why: MsgCheckpointNotAddressable}},
		{"JobManager not ready: the savepoint recorded", Input{Spec: with(savepointNoHA, parallel3), Last: savepointNoHA, Status: ended(v1beta1.ReconciliationUpgrading, v1beta1.JobManagerError, v1beta1.JobFailed), JobManager: true},
			Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-5"}}},
		{"restart of a failed job: read its latest state", Input{Spec: restart, Last: restart, Status: failed, JobManager: true},
			Plan{Step: ReadCheckpoints}},
		{"restart of a failed job: from the newer checkpoint", Input{Spec: restart, Last: restart, Status: failed, JobManager: true, Latest: newer},
			Plan{Step: RestartFailed, Restore: flinkconf.Restore{SavepointPath: "s3://c/chk-7"}}},
		{"restart of a failed job: Flink reports nothing, the savepoint recorded", Input{Spec: restart, Last: restart, Status: failed, JobManager: true, Latest: nothing},
			Plan{Step: RestartFailed, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-5"}}},
		{"restart of a failed job: nothing reported nor recorded starts empty, as upstream", Input{Spec: restart, Last: restart, JobManager: true, Latest: nothing,
			Status: edit(ended(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFailed), func(st *v1beta1.FlinkDeploymentStatus) { st.JobStatus.SavepointInfo = nil })},
			Plan{Step: RestartFailed}},
		{"restart of a failed job: a checkpoint without a path", Input{Spec: restart, Last: restart, Status: failed, JobManager: true, Latest: &api.LatestCheckpoints{Completed: blind}},
			Plan{Step: ManualRestore, Why: MsgCheckpointNotAddressable}},
	}
}

// keptLatestCases: what Flink reports of the latest checkpoints of a job
// that ended is kept while its JobManager answers, before its TTL
// shutdown; once the JobManager is gone, an upgrade or a restart of the
// failed job starts from it as endedJobCases do from Flink's answer; kept
// of another job (the same deployment's earlier run), it is not used.
func keptLatestCases(specs nextSpecs) []nextCase {
	savepoint, lastState, restart := specs.savepoint, specs.lastState, specs.restartFailed
	ttl3s := app(v1beta1.UpgradeModeSavepoint, `{"`+flinkconf.KeyJMShutdownTTL+`":"3 s"}`)
	no := ptr.To(false)
	chk7 := api.CompletedCheckpointStatistics{Id: 7, TriggerTimestamp: now.Add(-time.Minute).UnixMilli(), ExternalPath: "s3://c/chk-7"}
	sp5 := api.CompletedCheckpointStatistics{Id: 5, TriggerTimestamp: now.Add(-time.Hour).UnixMilli(), ExternalPath: "s3://b/sp-5"}
	blind := api.CompletedCheckpointStatistics{Id: 7, TriggerTimestamp: now.Add(-time.Minute).UnixMilli(), ExternalPath: "<checkpoint-not-externally-addressable>"}
	// ended is a job that ended 4 s ago after its savepoint sp-5, its
	// JobManager as jm, with latest kept (nil: nothing kept).
	ended := func(rs v1beta1.ReconciliationState, jm v1beta1.JobManagerDeploymentStatus, job v1beta1.JobStatusState, latest *api.LatestCheckpoints) *v1beta1.FlinkDeploymentStatus {
		return edit(edit(status(rs, jm, job), lastSavepoint("s3://b/sp-5", now.Add(-time.Hour))), func(st *v1beta1.FlinkDeploymentStatus) {
			st.JobStatus.JobID = "j1"
			updatedAt(now.Add(-4 * time.Second))(st)
			if latest != nil {
				RecordLatest(st, *latest)
			}
		})
	}
	gone := func(job v1beta1.JobStatusState, latest *api.LatestCheckpoints) *v1beta1.FlinkDeploymentStatus {
		return ended(v1beta1.ReconciliationUpgrading, v1beta1.JobManagerMissing, job, latest)
	}
	newer := &api.LatestCheckpoints{Completed: chk7, Savepoint: sp5}
	ofAnotherJob := edit(gone(v1beta1.JobFailed, newer), func(st *v1beta1.FlinkDeploymentStatus) { st.JobStatus.JobID = "j2" })
	return []nextCase{
		{"ended job, JobManager answers: keep its latest checkpoints", Input{Spec: savepoint, Last: savepoint, Status: ended(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFinished, nil), JobManager: true, Now: now},
			Plan{Step: KeepLatest, SnapshotsFirst: true}},
		{"ended job past its TTL: kept first", Input{Spec: ttl3s, Last: ttl3s, Status: ended(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFailed, nil), JobManager: true, Now: now},
			Plan{Step: KeepLatest, SnapshotsFirst: true}},
		{"ended job past its TTL, kept: shut down", Input{Spec: ttl3s, Last: ttl3s, Status: ended(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobFailed, newer), JobManager: true, Now: now},
			Plan{Step: ShutDown, SnapshotsFirst: true}},
		{"ended job, nothing retained kept: shut down", Input{Spec: ttl3s, Last: ttl3s, Status: ended(v1beta1.ReconciliationDeployed, v1beta1.JobManagerReady, v1beta1.JobCanceled, &api.LatestCheckpoints{}), JobManager: true, Now: now},
			Plan{Step: ShutDown, SnapshotsFirst: true}},
		{"ended job, JobManager not ready: nothing to keep", Input{Spec: ttl3s, Last: ttl3s, Status: ended(v1beta1.ReconciliationDeployed, v1beta1.JobManagerDeployedNotReady, v1beta1.JobFailed, nil), JobManager: true, Now: now},
			Plan{Step: ShutDown, SnapshotsFirst: true}},
		{"JobManager gone, last-state: from the kept checkpoint, newer than the savepoint", Input{Spec: with(lastState, parallel3), Last: lastState, Status: gone(v1beta1.JobFailed, newer), HAMetadata: no},
			Plan{Step: RecordCheckpoint, Restore: flinkconf.Restore{SavepointPath: "s3://c/chk-7"}}},
		{"JobManager gone, savepoint: from the kept checkpoint, newer than the savepoint", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: gone(v1beta1.JobFinished, newer), HAMetadata: no},
			Plan{Step: RecordCheckpoint, Restore: flinkconf.Restore{SavepointPath: "s3://c/chk-7"}}},
		{"JobManager gone, HA metadata holds a checkpoint: from it, as before", Input{Spec: with(savepoint, parallel3), Last: savepoint, Status: gone(v1beta1.JobFinished, newer), HAMetadata: ptr.To(true)},
			Plan{Step: Delete, KeepHA: true}},
		{"JobManager gone, nothing retained kept: the savepoint", Input{Spec: with(lastState, parallel3), Last: lastState, Status: gone(v1beta1.JobFinished, &api.LatestCheckpoints{}), HAMetadata: no},
			Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-5"}}},
		{"JobManager gone, the kept checkpoint has no path: a manual restore", Input{Spec: with(lastState, parallel3), Last: lastState, Status: gone(v1beta1.JobFinished, &api.LatestCheckpoints{Completed: blind, Savepoint: sp5}), HAMetadata: no},
			Plan{Step: ManualRestore, Why: MsgCheckpointNotAddressable}},
		{"JobManager gone, kept of another job: the savepoint", Input{Spec: with(lastState, parallel3), Last: lastState, Status: ofAnotherJob, HAMetadata: no},
			Plan{Step: RecordSavepoint, Restore: flinkconf.Restore{SavepointPath: "s3://b/sp-5"}}},
		{"restart of a failed job, JobManager gone: from the kept checkpoint", Input{Spec: restart, Last: restart, Status: ended(v1beta1.ReconciliationDeployed, v1beta1.JobManagerMissing, v1beta1.JobFailed, newer), Now: now},
			Plan{Step: RestartFailed, Restore: flinkconf.Restore{SavepointPath: "s3://c/chk-7"}}},
	}
}

// redeployCases: a changed savepointRedeployNonce wins over a resume or a
// suspend, as upstream checks it first: the job starts from
// initialSavepointPath, not from the suspend's savepoint.
func redeployCases(specs nextSpecs) []nextCase {
	savepoint, redeploy := specs.savepoint, specs.redeploy
	suspendedAt := func() *v1beta1.FlinkDeploymentStatus {
		return edit(status(v1beta1.ReconciliationDeployed, v1beta1.JobManagerMissing, v1beta1.JobSuspended), savepointPath("s3://b/sp-8"))
	}
	sp9 := flinkconf.Restore{SavepointPath: "s3://b/sp-9"}
	return []nextCase{
		{"resume with a new savepointRedeployNonce: from initialSavepointPath", Input{Spec: redeploy, Last: with(savepoint, suspend), Status: suspendedAt()},
			Plan{Step: Deploy, Restore: sp9}},
		{"new savepointRedeployNonce while suspended: recorded for the resume", Input{Spec: with(redeploy, suspend), Last: with(savepoint, suspend), Status: suspendedAt()},
			Plan{Step: RecordSpec, Restore: sp9}},
		{"suspend with a new savepointRedeployNonce: the resume starts from initialSavepointPath", Input{Spec: with(redeploy, suspend), Last: with(with(redeploy, suspend), func(s *v1beta1.FlinkDeploymentSpec) { s.Job.SavepointRedeployNonce = nil }),
			Status: upgrading(v1beta1.JobManagerMissing, v1beta1.JobSuspended)},
			Plan{Step: Suspend, Restore: sp9}},
	}
}

// TestNewestRestorePoint: a failed job restarts from the newest savepoint
// known, whether that is the path its deployment started from or a
// savepoint of the running job taken since.
func TestNewestRestorePoint(t *testing.T) {
	deployed := now.Add(-time.Hour)
	for _, tc := range []struct {
		name, path, last string
		lastAt, started  time.Time // zero: unknown
		want             string
	}{
		{"nothing known", "", "", time.Time{}, time.Time{}, ""},
		{"only the deployment's path", "s3://b/sp-1", "", time.Time{}, time.Time{}, "s3://b/sp-1"},
		{"only a last savepoint", "", "s3://b/sp-4", time.Time{}, time.Time{}, "s3://b/sp-4"},
		{"the upgrade savepoint is the last one", "s3://b/sp-1", "s3://b/sp-1", deployed.Add(-time.Minute), time.Time{}, "s3://b/sp-1"},
		{"a periodic savepoint after the upgrade", "s3://b/sp-1", "s3://b/sp-5", deployed.Add(10 * time.Minute), time.Time{}, "s3://b/sp-5"},
		{"a savepoint before a redeploy's initialSavepointPath", "s3://b/sp-9", "s3://b/sp-4", deployed.Add(-time.Minute), deployed.Add(time.Minute), "s3://b/sp-9"},
		{"a periodic savepoint after the job started, before a later spec record", "s3://b/sp-1", "s3://b/sp-5", deployed.Add(-time.Minute), deployed.Add(-2 * time.Minute), "s3://b/sp-5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := v1beta1.JobStatus{UpgradeSavepointPath: tc.path}
			if tc.last != "" {
				sp := &v1beta1.Savepoint{Location: tc.last}
				if !tc.lastAt.IsZero() {
					sp.TimeStamp = tc.lastAt.UnixMilli()
				}
				js.SavepointInfo = &v1beta1.SavepointInfo{LastSavepoint: sp}
			}
			if !tc.started.IsZero() {
				js.StartTime = strconv.FormatInt(tc.started.UnixMilli(), 10)
			}
			if got := NewestRestorePoint(&js, deployed.UnixMilli()); got != tc.want {
				t.Errorf("NewestRestorePoint = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRecordedSpecRoundTrips(t *testing.T) {
	spec := app(v1beta1.UpgradeModeSavepoint, haConf)
	enc, err := EncodeSpec(spec, true)
	if err != nil {
		t.Fatal(err)
	}
	got, meta, err := DecodeSpec(enc)
	if err != nil || meta == nil || !meta.FirstDeployment || meta.APIVersion != v1beta1.GroupVersion.String() || Changed(spec, got) {
		t.Fatalf("round trip: %+v %+v %v", got, meta, err)
	}
	if got, meta, err := DecodeSpec(""); got != nil || meta != nil || err != nil {
		t.Errorf("empty lastReconciledSpec: %v %v %v", got, meta, err)
	}
	if _, _, err := DecodeSpec("{"); err == nil {
		t.Error("garbage decoded")
	}
}

// TestRecordedSpecWithHostileQuantityRefused: a lastReconciledSpec whose
// podTemplate holds a quantity that resource.ParseQuantity would never
// finish (planted by whoever may write the status) is refused at once,
// naming it.
func TestRecordedSpecWithHostileQuantityRefused(t *testing.T) {
	for _, q := range []string{`"9e3372036854775807"`, "\"\u00a09e3372036854775807\"", `"\t9e3372036854775807"`, `"\u0039e3372036854775807"`} {
		enc := `{"spec":{"podTemplate":{"spec":{"containers":[{"name":"c","resources":{"limits":{"memory":` + q + `}}}]}}}}`
		done := make(chan error, 1)
		go func() { _, _, err := DecodeSpec(enc); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "quantities with an exponent of three digits or more are refused: \"") {
				t.Errorf("%s: got %v", q, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: decoding did not return", q)
		}
	}
}

func TestSettings(t *testing.T) {
	spec := app(v1beta1.UpgradeModeSavepoint, `{"`+flinkconf.KeyReadinessTimeout+`":"2 min","`+flinkconf.KeyRestartFailed+`":"true"}`)
	if got := ReadinessTimeout(spec, time.Minute); got != 2*time.Minute {
		t.Errorf("readiness timeout %s, want the spec's 2m", got)
	}
	if got := ReadinessTimeout(app("", `{}`), time.Minute); got != time.Minute {
		t.Errorf("readiness timeout %s, want the default", got)
	}
	if !SettingOn(spec, flinkconf.KeyRestartFailed) || SettingOn(spec, flinkconf.KeyRollbackEnabled) {
		t.Error("SettingOn")
	}
	broken := &v1beta1.FlinkDeploymentSpec{FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(`[1]`)}}
	if OperatorSetting(broken, flinkconf.KeyRestartFailed) != "" || HAEnabled(broken) {
		t.Error("an unreadable configuration has no settings")
	}
	if !HAEnabled(app("", haConf)) || HAEnabled(app("", `{}`)) {
		t.Error("HAEnabled")
	}
	if UpgradeMode(&v1beta1.FlinkDeploymentSpec{}) != v1beta1.UpgradeModeStateless || InitialSavepoint(&v1beta1.FlinkDeploymentSpec{}) != "" {
		t.Error("defaults of a session cluster")
	}
}

// TestCancelStalled: a job cancelled for a last-state upgrade that stays
// CANCELLING past flink.client.cancel.timeout (1 min, or its setting, or
// its deprecated name) makes the wait report itself; before, and without
// a known start, it does not.
func TestCancelStalled(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	spec := func(extra string) *v1beta1.FlinkDeploymentSpec {
		conf := strings.Replace(haConf, "{", `{"`+flinkconf.KeyLastStateCancel+`":"true",`+extra, 1)
		return app(v1beta1.UpgradeModeLastState, conf)
	}
	for _, tc := range []struct {
		name    string
		since   time.Duration // before now; 0 leaves updateTime unset
		extra   string
		stalled bool
	}{
		{"unknown start", 0, "", false},
		{"within the default minute", 50 * time.Second, "", false},
		{"past the default minute", 61 * time.Second, "", true},
		{"within a longer setting", 3 * time.Minute, `"` + flinkconf.KeyCancelTimeout + `":"5 min",`, false},
		{"past a shorter setting", 20 * time.Second, `"` + flinkconf.KeyCancelTimeout + `":"10 s",`, true},
		{"past the deprecated name's value", 20 * time.Second, `"kubernetes.operator.reconciler.flink.cancel.job.timeout":"10 s",`, true},
	} {
		st := upgrading(v1beta1.JobManagerReady, v1beta1.JobCancelling)
		if tc.since > 0 {
			st.JobStatus.UpdateTime = strconv.FormatInt(now.Add(-tc.since).UnixMilli(), 10)
		}
		s := spec(tc.extra)
		p := Next(Input{Spec: with(s, parallel3), Last: s, Status: st, JobManager: true, Now: now, ProgressCheckInterval: time.Second})
		if p.Step != Wait {
			t.Fatalf("%s: step %s, want Wait", tc.name, p.Step)
		}
		if got := p.Stalled != ""; got != tc.stalled {
			t.Errorf("%s: stalled %q, want stalled=%v", tc.name, p.Stalled, tc.stalled)
		}
		if tc.stalled && !strings.Contains(p.Stalled, flinkconf.KeyCancelTimeout) {
			t.Errorf("%s: the report does not name the setting: %q", tc.name, p.Stalled)
		}
	}
}
