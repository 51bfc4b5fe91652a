package flinkstatesnapshot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment"
	"github.com/flink-hub/flink-hub/internal/controllers/memberkind"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/snapshots"
)

// advance moves the snapshot one step towards its end: COMPLETED, FAILED
// or ABANDONED, each final.
func (r *Reconciler) advance(ctx context.Context, s *state) error {
	st, spec := &s.snap.Status, &s.snap.Spec
	switch st.State {
	case v1beta1.SnapshotCompleted, v1beta1.SnapshotFailed, v1beta1.SnapshotAbandoned:
		return nil
	}
	if why := invalid(spec); why != "" {
		r.end(s, v1beta1.SnapshotFailed, "invalid spec: "+why)
		r.event(s, "Warning", "ValidationError", st.Error)
		return nil
	}
	if sp := spec.Savepoint; sp != nil && sp.AlreadyExists {
		st.State, st.Path, st.Error, st.ResultTimestamp = v1beta1.SnapshotCompleted, sp.Path, "", timestamp(r.now())
		return nil
	}
	j, why, err := r.job(ctx, s)
	switch {
	case err != nil:
		return err
	case why != "":
		r.end(s, v1beta1.SnapshotAbandoned, why)
		r.event(s, "Warning", "SnapshotAbandoned", why)
		return nil
	}
	if v := j.cluster.Spec.FlinkVersion; spec.Checkpoint != nil && !snapshots.CheckpointTriggerSupported(v) {
		// Failed at once, never sent: Flink would answer 404 to every attempt.
		r.end(s, v1beta1.SnapshotFailed, snapshots.CheckpointTriggerUnsupported("snapshot", v))
		r.event(s, "Warning", "SnapshotFailed", st.Error)
		return nil
	}
	if st.State == v1beta1.SnapshotInProgress && st.TriggerID != "" {
		return r.poll(ctx, s, j)
	}
	if wait := r.backoffLeft(st); wait > 0 {
		return requeue.Waiting(errors.New("waiting to trigger the snapshot again"), wait)
	}
	return r.trigger(ctx, s, j)
}

// invalid says what is wrong with spec, "" if nothing.
func invalid(spec *v1beta1.FlinkStateSnapshotSpec) string {
	switch {
	case (spec.Savepoint == nil) == (spec.Checkpoint == nil):
		return "exactly one of spec.savepoint and spec.checkpoint must be set"
	case spec.Savepoint != nil && spec.Savepoint.AlreadyExists:
		if spec.Savepoint.Path == "" {
			return "spec.savepoint.path is required when alreadyExists is true"
		}
		return ""
	case spec.JobReference == nil || spec.JobReference.Name == "":
		return "spec.jobReference.name is required to take a snapshot"
	case spec.JobReference.Kind != v1beta1.JobKindFlinkDeployment && spec.JobReference.Kind != v1beta1.JobKindFlinkSessionJob:
		return fmt.Sprintf("spec.jobReference.kind must be FlinkDeployment or FlinkSessionJob, not %q", spec.JobReference.Kind)
	}
	return ""
}

// end makes the snapshot final with state and why.
func (r *Reconciler) end(s *state, state v1beta1.SnapshotState, why string) {
	st := &s.snap.Status
	st.State, st.Error, st.ResultTimestamp = state, why, timestamp(r.now())
}

// job is the running job a snapshot is of.
type job struct {
	// cluster is the FlinkDeployment whose JobManager runs the job (a
	// session job's session cluster).
	cluster *v1beta1.FlinkDeployment
	id      string
	running bool
	// setting reads the job's operator and Flink settings.
	setting snapshots.Setting
}

// job finds the referenced job. why, when not empty, says why the snapshot
// cannot be taken: the job is gone or not running.
func (r *Reconciler) job(ctx context.Context, s *state) (*job, string, error) {
	ref := s.snap.Spec.JobReference
	c := s.cluster.GetClient()
	key := client.ObjectKey{Namespace: s.snap.Namespace, Name: ref.Name}
	j := &job{}
	var js v1beta1.JobStatus
	switch ref.Kind {
	case v1beta1.JobKindFlinkSessionJob:
		sj := &v1beta1.FlinkSessionJob{}
		if err := c.Get(ctx, key, sj); err != nil {
			return lookupFailed(err, "FlinkSessionJob", key)
		}
		fd := &v1beta1.FlinkDeployment{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: sj.Namespace, Name: sj.Spec.DeploymentName}, fd); err != nil {
			return lookupFailed(err, "session cluster FlinkDeployment", client.ObjectKey{Namespace: sj.Namespace, Name: sj.Spec.DeploymentName})
		}
		j.cluster, js = fd, sj.Status.JobStatus
		j.setting = settings(sj.Spec.FlatConfiguration, fd.Spec.FlatConfiguration)
	default:
		fd := &v1beta1.FlinkDeployment{}
		if err := c.Get(ctx, key, fd); err != nil {
			return lookupFailed(err, "FlinkDeployment", key)
		}
		j.cluster, js = fd, fd.Status.JobStatus
		j.setting = settings(fd.Spec.FlatConfiguration)
	}
	j.id = js.JobID
	j.running = js.State == v1beta1.JobRunning && j.cluster.Status.JobManagerDeploymentStatus == v1beta1.JobManagerReady
	if !j.running || j.id == "" {
		return nil, fmt.Sprintf("%s %s is not running (job %s, JobManager %s)", ref.Kind, ref.Name, js.State, j.cluster.Status.JobManagerDeploymentStatus), nil
	}
	return j, "", nil
}

// lookupFailed is the outcome of a failed read of what a snapshot needs.
func lookupFailed(err error, what string, key client.ObjectKey) (*job, string, error) {
	if apierrors.IsNotFound(err) {
		return nil, fmt.Sprintf("%s %s does not exist", what, key), nil
	}
	return nil, "", fmt.Errorf("read %s %s: %w", what, key, err)
}

// settings reads a key from the first configuration that has it.
func settings(confs ...func() (map[string]string, error)) snapshots.Setting {
	return func(key string) string {
		for _, conf := range confs {
			if m, err := conf(); err == nil {
				if v, ok := m[key]; ok {
					return v
				}
			}
		}
		return ""
	}
}

// backoffLeft is how long a failed snapshot still waits before its next
// attempt: the progress check interval, doubled per failure, at most the
// reconcile interval, counted from the last attempt.
func (r *Reconciler) backoffLeft(st *v1beta1.FlinkStateSnapshotStatus) time.Duration {
	if st.Failures == 0 || st.TriggerTimestamp == "" {
		return 0
	}
	last, err := time.Parse(time.RFC3339, st.TriggerTimestamp)
	if err != nil {
		return 0
	}
	return last.Add(r.backoff(st.Failures)).Sub(r.now())
}

// backoff is the wait after the failures-th failed attempt.
func (r *Reconciler) backoff(failures int32) time.Duration {
	d := r.Options.ProgressCheckInterval
	for i := int32(1); i < failures && d < r.Options.ReconcileInterval; i++ {
		d *= 2
	}
	return min(d, r.Options.ReconcileInterval)
}

// trigger records a new trigger id (IN_PROGRESS), persists it, then asks
// Flink for the snapshot under that id.
func (r *Reconciler) trigger(ctx context.Context, s *state, j *job) error {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	st := &s.snap.Status
	st.State, st.TriggerID, st.TriggerTimestamp, st.Error = v1beta1.SnapshotInProgress, hex.EncodeToString(b[:]), timestamp(r.now()), ""
	if err := r.persist(ctx, s); err != nil {
		return err
	}
	return r.send(ctx, s, j)
}

// send asks Flink for the recorded trigger. An answer that does not come
// leaves it to be polled; a refusal is a failed attempt.
func (r *Reconciler) send(ctx context.Context, s *state, j *job) error {
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), j.cluster)
	if err != nil {
		return err
	}
	st := &s.snap.Status
	if sp := s.snap.Spec.Savepoint; sp != nil {
		format := sp.FormatType
		if format == "" || format == v1beta1.SavepointFormatUnknown {
			format = v1beta1.SavepointFormatCanonical
		}
		dir := sp.Path
		if dir == "" {
			dir = flinkconf.SavepointsDir(j.setting)
		}
		_, err = jm.TriggerSavepoint(ctx, j.id, flinkrest.SavepointRequest{TriggerID: st.TriggerID, FormatType: api.SavepointFormatType(format), TargetDirectory: dir})
	} else {
		_, err = jm.TriggerCheckpoint(ctx, j.id, flinkrest.CheckpointRequest{TriggerID: st.TriggerID, Type: api.CheckpointType(snapshots.CheckpointType(j.setting))})
	}
	if err != nil && flinkrest.KindOf(err) != flinkrest.KindTimeout {
		return r.failed(s, err.Error())
	}
	r.event(s, "Normal", "SnapshotTriggered", kindOf(s.snap)+" triggered on job "+j.id)
	return requeue.Waiting(errInProgress, r.Options.ProgressCheckInterval)
}

// poll follows the trigger: COMPLETED with its path once done; a trigger
// Flink does not know while the job runs never reached it (the replica
// stopped between recording and sending) and is sent again, same id.
func (r *Reconciler) poll(ctx context.Context, s *state, j *job) error {
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), j.cluster)
	if err != nil {
		return err
	}
	st := &s.snap.Status
	var op flinkrest.OperationStatus
	if s.snap.Spec.Savepoint != nil {
		op, err = jm.SavepointStatus(ctx, j.id, st.TriggerID)
	} else {
		op, err = jm.CheckpointStatus(ctx, j.id, st.TriggerID)
	}
	switch {
	case flinkrest.IsNotFound(err):
		return r.send(ctx, s, j)
	case err != nil:
		return fmt.Errorf("%s of job %s: %w", kindOf(s.snap), j.id, err)
	case !op.Done:
		r.reportStalled(s, j)
		return requeue.Waiting(errInProgress, r.Options.ProgressCheckInterval)
	case op.Failure != "":
		return r.failed(s, op.Failure)
	}
	path := op.Location
	if path == "" && op.CheckpointID != 0 {
		path = checkpointPath(ctx, jm, j.id, op.CheckpointID)
	}
	st.State, st.Path, st.Error, st.ResultTimestamp = v1beta1.SnapshotCompleted, path, "", timestamp(r.now())
	r.event(s, "Normal", "SnapshotCompleted", kindOf(s.snap)+" completed"+at(path))
	return nil
}

// reportStalled puts into status.error, once, that the snapshot has been
// in progress longer than the job's execution.checkpointing.timeout, which
// should have ended it; the snapshot stays IN_PROGRESS and followed.
func (r *Reconciler) reportStalled(s *state, j *job) {
	st := &s.snap.Status
	triggered, err := time.Parse(time.RFC3339, st.TriggerTimestamp)
	if err != nil {
		return
	}
	timeout, _ := flinkconf.ParseDuration(j.setting(flinkconf.KeyCheckpointTimeout))
	_, limit, stalled := flinkconf.SnapshotStalled(timeout, triggered, r.now(), r.Options.ProgressCheckInterval)
	if !stalled {
		return
	}
	msg := fmt.Sprintf("%s in progress since %s, longer than Flink's %s (%s), which should have ended it; still following it: look at the job's checkpoints in Flink",
		kindOf(s.snap), st.TriggerTimestamp, flinkconf.KeyCheckpointTimeout, limit)
	if st.Error != msg {
		st.Error = msg
		r.event(s, "Warning", "SnapshotStalled", msg)
	}
}

// checkpointPath is where checkpoint id was written, if Flink says.
func checkpointPath(ctx context.Context, jm flinkrest.Client, jobID string, id int64) string {
	stats, err := jm.CheckpointStatistics(ctx, jobID)
	if err != nil {
		return ""
	}
	if c := stats.Latest.Completed; c.Id == id {
		return c.ExternalPath
	}
	return ""
}

// failed counts a failed attempt: triggered again after a backoff while
// spec.backoffLimit allows, else FAILED.
func (r *Reconciler) failed(s *state, cause string) error {
	st := &s.snap.Status
	st.Failures++
	st.TriggerID = ""
	if limit := s.snap.Spec.Retries(); limit >= 0 && st.Failures > limit {
		r.end(s, v1beta1.SnapshotFailed, cause)
		r.event(s, "Warning", "SnapshotFailed", fmt.Sprintf("%s failed after %d attempts: %s", kindOf(s.snap), st.Failures, cause))
		return nil
	}
	st.State, st.Error = v1beta1.SnapshotTriggerPending, cause
	r.event(s, "Warning", "SnapshotFailed", fmt.Sprintf("%s attempt %d failed, tried again: %s", kindOf(s.snap), st.Failures, cause))
	return requeue.Waiting(errors.New(cause), r.backoff(st.Failures))
}

// kindOf names what the snapshot takes.
func kindOf(snap *v1beta1.FlinkStateSnapshot) string {
	if snap.Spec.Checkpoint != nil {
		return "checkpoint"
	}
	return "savepoint"
}

func at(path string) string {
	if path == "" {
		return ""
	}
	return ": " + path
}

// finalize disposes of a completed savepoint with disposeOnDelete through
// the JobManager of its job's cluster, then removes the finalizer. A
// disposal Flink refuses is reported and tried again; one that finds no
// files at the path (gone already) is as good as done, an event says so;
// with no JobManager to ask (the cluster is gone or not ready), the files
// are left and an event says where.
func (r *Reconciler) finalize(ctx context.Context, s *state) error {
	snap := s.snap
	if !controllerutil.ContainsFinalizer(snap, Finalizer) {
		return nil
	}
	st := &snap.Status
	if disposes(snap) && st.State == v1beta1.SnapshotCompleted && st.Path != "" {
		if err := r.dispose(ctx, s); err != nil {
			return err
		}
	}
	return memberkind.SetFinalizer(ctx, s.cluster.GetClient(), snap, Finalizer, false)
}

// dispose asks the job's JobManager to dispose of the savepoint.
func (r *Reconciler) dispose(ctx context.Context, s *state) error {
	st := &s.snap.Status
	fd, err := r.clusterOf(ctx, s)
	if err != nil {
		return err
	}
	if fd == nil || fd.Status.JobManagerDeploymentStatus != v1beta1.JobManagerReady {
		r.event(s, "Warning", "SavepointNotDisposed", "no ready JobManager to dispose of the savepoint through; its files are left at "+st.Path)
		return nil
	}
	jm, err := r.JobManagers(s.clusterName, s.cluster.GetConfig(), fd)
	if err != nil {
		return err
	}
	err = flinkdeployment.DisposeWith(jm)(ctx, st.Path)
	if errors.Is(err, snapshots.ErrGone) {
		r.event(s, "Warning", "SavepointGone", "nothing to dispose of: "+err.Error())
		return nil
	}
	if err != nil {
		st.Error = "savepoint disposal failed: " + err.Error()
		r.event(s, "Warning", "SavepointDisposalFailed", st.Error)
		if perr := r.persist(ctx, s); perr != nil {
			return perr
		}
		return requeue.Waiting(err, r.Options.ReconcileInterval)
	}
	r.event(s, "Normal", "SavepointDisposed", "disposal of "+st.Path+" asked of "+fd.Name+"'s JobManager")
	return nil
}

// clusterOf is the FlinkDeployment whose JobManager runs the snapshot's
// job; nil when there is none.
func (r *Reconciler) clusterOf(ctx context.Context, s *state) (*v1beta1.FlinkDeployment, error) {
	ref := s.snap.Spec.JobReference
	if ref == nil || ref.Name == "" {
		return nil, nil
	}
	c := s.cluster.GetClient()
	name := ref.Name
	if ref.Kind == v1beta1.JobKindFlinkSessionJob {
		sj := &v1beta1.FlinkSessionJob{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: s.snap.Namespace, Name: ref.Name}, sj); err != nil {
			return nil, client.IgnoreNotFound(err)
		}
		name = sj.Spec.DeploymentName
	}
	fd := &v1beta1.FlinkDeployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: s.snap.Namespace, Name: name}, fd); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return fd, nil
}
