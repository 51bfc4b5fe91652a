package jobmanager

import (
	"fmt"
	"strings"
	"time"

	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// maxHistory bounds the checkpoint and exception histories kept per job.
const maxHistory = 10

type job struct {
	id        string
	spec      JobSpec
	state     state
	start     time.Time
	end       time.Time
	modified  time.Time
	stamps    map[string]int64
	next      state // scheduled transition, "" for none
	nextAt    time.Time
	restored  *Restore
	restoreAt time.Time

	lastID         int64 // last checkpoint id used (savepoints use ids too)
	nextCheckpoint time.Time
	completed      []Checkpoint
	latestSP       *Checkpoint
	failedCount    int64
	savepoints     map[string]*operation
	checkpoints    map[string]*operation
	exceptions     []api.RootExceptionInfo
	// restarts counts the job's restarts (Flink's numRestarts).
	restarts int
	// completedCount counts the checkpoints completed (Flink's
	// numberOfCompletedCheckpoints); completed keeps only the latest.
	completedCount int
	// initFailure is the stack trace the job fails with instead of
	// starting (its JobMaster cannot be created), "" when it starts.
	initFailure string
	// vertices are the job's vertices and their parallelism bounds;
	// rescales counts the resource requirements updates it accepted.
	vertices []vertex
	rescales int
}

// operation is an asynchronous savepoint, checkpoint or disposal.
type operation struct {
	done      bool
	doneAt    time.Time
	location  string
	id        int64
	failure   string
	savepoint bool
	stopJob   bool
	drain     bool // a stopJob that drains the job first
	cancelJob bool
	dir       string
}

// submitLocked creates a job; it starts INITIALIZING.
func (jm *JobManager) submitLocked(spec JobSpec, now time.Time) *job {
	if spec.JobID == "" {
		spec.JobID = randomID()
	}
	if spec.Parallelism <= 0 {
		spec.Parallelism = 1
	}
	if spec.Name == "" {
		spec.Name = spec.EntryClass
	}
	if spec.Name == "" {
		spec.Name = jm.cfg.ClusterID
	}
	j := &job{id: spec.JobID, spec: spec, start: now, stamps: map[string]int64{}, savepoints: map[string]*operation{}, checkpoints: map[string]*operation{}, vertices: initVertices(spec)}
	next := api.JobStatusCREATED
	switch r := spec.Restore; {
	case r != nil && !jm.cfg.Storage.Holds(r.Path):
		j.initFailure, next = missingRestore(r.Path), api.JobStatusFAILED
	case r != nil:
		rr := *r
		j.restored, j.restoreAt, j.lastID = &rr, now, r.CheckpointID
	}
	if _, ok := jm.jobs[j.id]; !ok {
		jm.order = append(jm.order, j.id)
	}
	jm.jobs[j.id] = j
	jm.setStateLocked(j, api.JobStatusINITIALIZING, now)
	jm.schedule(j, next, now.Add(jm.cfg.StartDelay/2))
	jm.updateWantedLocked()
	return j
}

// failInitLocked ends a job whose JobMaster could not be created: FAILED,
// its initialization failure the root exception, as Flink's Dispatcher
// archives it.
func (jm *JobManager) failInitLocked(j *job, now time.Time) {
	name, _, _ := strings.Cut(j.initFailure, ":")
	jm.recordTrace(j, now, name, j.initFailure)
	jm.setStateLocked(j, api.JobStatusFAILED, now)
}

func (jm *JobManager) setStateLocked(j *job, s api.JobStatus, now time.Time) {
	j.state, j.modified, j.next = state(s), now, ""
	j.stamps[string(s)] = now.UnixMilli()
	if j.state.terminal() {
		j.end = now
		jm.updateWantedLocked()
		if h := jm.cfg.Hooks.JobTerminated; h != nil {
			id := j.id
			jm.later(func() { h(id) })
		}
	}
	if s == api.JobStatusRUNNING && jm.cfg.CheckpointInterval > 0 {
		j.nextCheckpoint = now.Add(jm.cfg.CheckpointInterval)
	}
	if s == api.JobStatusRUNNING && j.spec.Bounded {
		jm.schedule(j, api.JobStatusFINISHED, now.Add(j.spec.FinishAfter))
	}
}

func (jm *JobManager) schedule(j *job, s api.JobStatus, at time.Time) {
	j.next, j.nextAt = state(s), at
}

// neededSlots is how many slots a job needs to run: its largest vertex
// parallelism, or one in reactive mode, where it runs with what there is.
func (jm *JobManager) neededSlots(j *job) int {
	if jm.cfg.Reactive {
		return 1
	}
	return j.slots()
}

// parallelism is the job's effective parallelism given the slots.
func (jm *JobManager) parallelism(j *job) int {
	p := j.slots()
	if jm.cfg.Reactive {
		p = min(p, len(jm.taskManager)*jm.cfg.SlotsPerTaskManager)
	}
	return p
}

// freeSlotsLocked is the number of slots not used by running jobs other
// than except.
func (jm *JobManager) freeSlotsLocked(except *job) int {
	free := len(jm.taskManager) * jm.cfg.SlotsPerTaskManager
	for _, j := range jm.jobs {
		if j != except && (j.state == state(api.JobStatusRUNNING) || j.state == state(api.JobStatusCANCELLING)) {
			free -= jm.parallelism(j)
		}
	}
	return free
}

// advanceLocked applies every transition due by now.
func (jm *JobManager) advanceLocked(now time.Time) {
	for _, id := range jm.order {
		j := jm.jobs[id]
		held := jm.faults.HoldCancelling && j.state == state(api.JobStatusCANCELLING)
		if j.next != "" && !now.Before(j.nextAt) && !held {
			switch api.JobStatus(j.next) {
			case api.JobStatusRUNNING:
				if jm.freeSlotsLocked(j) >= jm.neededSlots(j) {
					jm.setStateLocked(j, api.JobStatusRUNNING, now)
				}
			case api.JobStatusCREATED:
				jm.setStateLocked(j, api.JobStatusCREATED, now)
				jm.schedule(j, api.JobStatusRUNNING, now.Add(jm.cfg.StartDelay/2))
			case api.JobStatusFAILED:
				if j.initFailure != "" {
					jm.failInitLocked(j, now)
				} else {
					jm.setStateLocked(j, api.JobStatusFAILED, now)
				}
			default:
				jm.setStateLocked(j, api.JobStatus(j.next), now)
			}
		}
		if j.state == state(api.JobStatusRUNNING) && jm.freeSlotsLocked(j) < jm.neededSlots(j) {
			jm.recordException(j, now, "org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: task manager lost")
			jm.setStateLocked(j, api.JobStatusRESTARTING, now)
			jm.schedule(j, api.JobStatusRUNNING, now.Add(jm.cfg.CancelDelay))
		}
		if j.state == state(api.JobStatusRUNNING) && jm.cfg.CheckpointInterval > 0 && !now.Before(j.nextCheckpoint) {
			j.nextCheckpoint = now.Add(jm.cfg.CheckpointInterval)
			if jm.faults.CheckpointFailure != "" {
				j.failedCount++
			} else {
				jm.completeCheckpointLocked(j, now)
			}
		}
		for _, op := range j.checkpoints {
			if !op.done && !now.Before(op.doneAt) && !jm.faults.HoldCheckpoints {
				jm.finishCheckpointTrigger(j, op, now)
			}
		}
		for _, op := range j.savepoints {
			if !op.done && !now.Before(op.doneAt) && !jm.faults.HoldSavepoints {
				jm.finishSavepoint(j, op, now)
			}
		}
	}
	for id, op := range jm.disposals {
		if !op.done && !now.Before(op.doneAt) {
			op.done = true
			jm.disposals[id] = op
		}
	}
}

// completeCheckpointLocked records a completed checkpoint of a running job.
func (jm *JobManager) completeCheckpointLocked(j *job, now time.Time) Checkpoint {
	j.lastID++
	dir := jm.cfg.CheckpointDir
	if dir == "" {
		dir = "file:///flink/checkpoints"
	}
	cp := Checkpoint{ID: j.lastID, Path: fmt.Sprintf("%s/%s/chk-%d", trimSlash(dir), j.id, j.lastID), Time: now}
	jm.cfg.Storage.Write(cp.Path)
	j.completed = append(j.completed, cp)
	j.completedCount++
	if len(j.completed) > maxHistory {
		j.completed = j.completed[len(j.completed)-maxHistory:]
	}
	if h := jm.cfg.Hooks.CheckpointCompleted; h != nil {
		id := j.id
		jm.later(func() { h(id, cp) })
	}
	return cp
}

func (jm *JobManager) finishCheckpointTrigger(j *job, op *operation, now time.Time) {
	op.done = true
	switch {
	case j.state != state(api.JobStatusRUNNING):
		op.failure = fmt.Sprintf("Checkpoint triggering task of job %s is not being executed at the moment.", j.id)
	case jm.faults.CheckpointFailure != "":
		op.failure = jm.faults.CheckpointFailure
		j.failedCount++
	default:
		op.id = jm.completeCheckpointLocked(j, now).ID
	}
}

func (jm *JobManager) finishSavepoint(j *job, op *operation, now time.Time) {
	op.done = true
	switch {
	case j.state != state(api.JobStatusRUNNING):
		op.failure = fmt.Sprintf("Not all required tasks are currently running: job %s is %s.", j.id, j.state)
	case jm.faults.SavepointFailure != "":
		op.failure = jm.faults.SavepointFailure
		j.failedCount++
	default:
		j.lastID++
		op.id, op.location = j.lastID, jm.savepointPath(op.dir, j.id)
		sp := Checkpoint{ID: op.id, Path: op.location, IsSavepoint: true, Time: now, Drained: op.stopJob && op.drain}
		jm.cfg.Storage.Write(sp.Path)
		j.latestSP = &sp
		if h := jm.cfg.Hooks.SavepointCompleted; h != nil {
			id := j.id
			jm.later(func() { h(id, sp) })
		}
		switch {
		case op.stopJob:
			jm.setStateLocked(j, api.JobStatusFINISHED, now)
		case op.cancelJob:
			jm.setStateLocked(j, api.JobStatusCANCELED, now)
		}
	}
}

// recordException adds cause ("<exception class>: <message>") to the job's
// exception history as Flink reports it: the class as the exception's name,
// cause as the first line of its stack trace.
func (jm *JobManager) recordException(j *job, now time.Time, cause string) {
	name, _, _ := strings.Cut(cause, ":")
	jm.recordTrace(j, now, name, cause+"\n\tat org.apache.flink.simulated(Simulated.java:1)")
}

// recordTrace adds an exception, its class name and whole stack trace, to
// the job's exception history.
func (jm *JobManager) recordTrace(j *job, now time.Time, name, trace string) {
	j.exceptions = append(j.exceptions, api.RootExceptionInfo{ExceptionName: name, Stacktrace: trace, Timestamp: now.UnixMilli()})
	if len(j.exceptions) > maxHistory {
		j.exceptions = j.exceptions[len(j.exceptions)-maxHistory:]
	}
}

// FailJob makes a job fail with cause: a permanent failure ends FAILED,
// otherwise the job restarts from its latest checkpoint.
func (jm *JobManager) FailJob(jobID, cause string, permanent bool) error {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	j, ok := jm.jobs[jobID]
	if !ok || j.state.terminal() {
		return fmt.Errorf("no active job %s", jobID)
	}
	now := time.Now()
	jm.recordException(j, now, cause)
	if permanent {
		jm.setStateLocked(j, api.JobStatusFAILING, now)
		jm.schedule(j, api.JobStatusFAILED, now.Add(jm.cfg.CancelDelay))
		return nil
	}
	if n := len(j.completed); n > 0 {
		cp := j.completed[n-1]
		j.restored, j.restoreAt = &Restore{Path: cp.Path, CheckpointID: cp.ID}, now
	}
	j.restarts++
	jm.setStateLocked(j, api.JobStatusRESTARTING, now)
	jm.schedule(j, api.JobStatusRUNNING, now.Add(jm.cfg.CancelDelay))
	return nil
}

// FinishJob makes a job end FINISHED, as a job whose bounded sources are
// exhausted does: its checkpoints and savepoint stay as they were.
func (jm *JobManager) FinishJob(jobID string) error {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	j, ok := jm.jobs[jobID]
	if !ok || j.state.terminal() {
		return fmt.Errorf("no active job %s", jobID)
	}
	jm.setStateLocked(j, api.JobStatusFINISHED, time.Now())
	return nil
}

// JobStatus is a job's state, spec, restore source, completed checkpoints
// and latest savepoint, as tests inspect them.
type JobStatus struct {
	ID          string
	State       api.JobStatus
	Spec        JobSpec
	Restored    *Restore
	Checkpoints []Checkpoint
	Savepoint   *Checkpoint
	// SavepointTriggers counts the distinct savepoint and
	// stop-with-savepoint triggers the job accepted.
	SavepointTriggers int
	// Vertices are the job's vertices; Rescales counts the resource
	// requirements updates it accepted.
	Vertices []Vertex
	Rescales int
}

// Jars lists the ids of the jars uploaded and not deleted.
func (jm *JobManager) Jars() []string {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	out := make([]string, 0, len(jm.jars))
	for id := range jm.jars {
		out = append(out, id)
	}
	return out
}

// Disposed returns the savepoint paths whose disposal was asked for, in
// order.
func (jm *JobManager) Disposed() []string {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	return append([]string(nil), jm.disposed...)
}

// Jobs returns the status of every job, in submission order.
func (jm *JobManager) Jobs() []JobStatus {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	jm.advanceLocked(time.Now())
	out := make([]JobStatus, 0, len(jm.order))
	for _, id := range jm.order {
		j := jm.jobs[id]
		s := JobStatus{ID: j.id, State: api.JobStatus(j.state), Spec: j.spec, Checkpoints: append([]Checkpoint(nil), j.completed...), SavepointTriggers: len(j.savepoints), Vertices: jm.vertexStatus(j), Rescales: j.rescales}
		if j.restored != nil {
			r := *j.restored
			s.Restored = &r
		}
		if j.latestSP != nil {
			sp := *j.latestSP
			s.Savepoint = &sp
		}
		out = append(out, s)
	}
	return out
}
