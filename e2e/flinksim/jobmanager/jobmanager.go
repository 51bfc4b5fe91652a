// Package jobmanager simulates one Flink JobManager: its REST API (served
// from the handlers generated from Flink's spec), its jobs with Flink's
// state machine, periodic checkpoints, savepoints and stop-with-savepoint
// that take time and return paths, restore bookkeeping, task manager slots,
// and injected faults. It knows nothing of Kubernetes: the simulator wires
// it to a member cluster through Config.Hooks.
package jobmanager

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// Restore says where a job's state comes from when it starts.
type Restore struct {
	// Path is the savepoint or checkpoint directory.
	Path string
	// CheckpointID is the checkpoint's id (0 for a savepoint).
	CheckpointID int64
	// IsSavepoint is true for a savepoint, false for an HA checkpoint.
	IsSavepoint bool
	// AllowNonRestoredState is passed through from the submission.
	AllowNonRestoredState bool
	// RestoreMode and ClaimMode are the restore mode a jar run asked for
	// in the body field of that name (restoreMode from Flink 1.15,
	// claimMode from 1.20), "" when it sent none.
	RestoreMode, ClaimMode string
}

// Checkpoint is a completed checkpoint or savepoint.
type Checkpoint struct {
	// ID is the checkpoint id; savepoints take ids from the same sequence.
	ID int64
	// Path is where it was written: <dir>/<job id>/chk-<id> for a
	// checkpoint, <dir>/savepoint-<job id prefix>-<random> for a savepoint.
	Path string
	// IsSavepoint tells savepoints from checkpoints.
	IsSavepoint bool
	// Time is when it completed.
	Time time.Time
	// Drained marks the savepoint of a stop-with-savepoint that drained
	// the job first (MAX_WATERMARK emitted).
	Drained bool
}

// Hooks connect a JobManager to the outside world; every hook is optional
// and is called without the JobManager's lock held.
type Hooks struct {
	// CheckpointCompleted is called after each completed checkpoint, e.g.
	// to record it in the HA ConfigMaps.
	CheckpointCompleted func(jobID string, cp Checkpoint)
	// TaskManagersWanted is called when the number of task managers a
	// native JobManager wants changes (Flink's resource manager).
	TaskManagersWanted func(count int)
	// SavepointCompleted is called after each completed savepoint,
	// including the one of a stop-with-savepoint.
	SavepointCompleted func(jobID string, sp Checkpoint)
	// JobSubmitted is called when a session cluster accepts a job, e.g. to
	// store it in HA metadata; JobTerminated when a job reaches a globally
	// terminal state (FINISHED, CANCELED, FAILED).
	JobSubmitted  func(spec JobSpec)
	JobTerminated func(jobID string)
}

// Config describes a simulated JobManager. Zero durations get defaults.
type Config struct {
	// ClusterID is the Flink cluster id (the FlinkDeployment's name).
	ClusterID string
	// FlinkVersion is reported by GET /config, e.g. "1.19.1".
	FlinkVersion string
	// Application is true for application mode: Job is submitted at start.
	Application bool
	// Job is the application job, used when Application is true.
	Job JobSpec
	// RecoveredJobs are a session cluster's jobs recovered from HA
	// metadata, submitted again at start.
	RecoveredJobs []JobSpec
	// SlotsPerTaskManager is taskmanager.numberOfTaskSlots (default 1).
	SlotsPerTaskManager int
	// Native makes the JobManager ask for task managers through
	// Hooks.TaskManagersWanted; otherwise SetTaskManagers supplies them.
	Native bool
	// Reactive is scheduler-mode: reactive: jobs run with the slots there are.
	Reactive bool
	// Adaptive is jobmanager.scheduler: adaptive (or reactive mode, which
	// runs it): the job's resource requirements can be read and updated
	// (GET and PUT /jobs/{id}/resource-requirements).
	Adaptive bool
	// SavepointDir is state.savepoints.dir; CheckpointDir state.checkpoints.dir.
	SavepointDir, CheckpointDir string
	// CheckpointInterval is execution.checkpointing.interval; 0 disables
	// periodic checkpoints.
	CheckpointInterval time.Duration
	// StartDelay is how long a job stays INITIALIZING/CREATED (default 100ms).
	StartDelay time.Duration
	// SavepointDuration is how long a savepoint takes (default 200ms).
	SavepointDuration time.Duration
	// CancelDelay is how long CANCELLING and FAILING last (default 100ms).
	CancelDelay time.Duration
	// Hooks are called on checkpoints and resource changes.
	Hooks Hooks
	// Storage holds the checkpoints and savepoints jobs write and restore
	// from; nil holds every path.
	Storage *Storage
}

// JobSpec is what a job is submitted with.
type JobSpec struct {
	// JobID is a fixed job id ($internal.pipeline.job-id); empty: random.
	JobID string
	// Name is the job name (default: the entry class or the cluster id).
	Name string
	// EntryClass and Args are the program's main class and arguments.
	EntryClass string
	Args       []string
	// ClassPath lists the URLs the uploaded jar's manifest adds to the
	// job's class path (a launcher jar's local jars).
	ClassPath []string
	// Parallelism is parallelism.default (default 1).
	Parallelism int
	// ParallelismOverrides is pipeline.jobvertex-parallelism-overrides
	// (vertex id:parallelism,...), "" for none; a jar run's Configuration
	// may hold it too.
	ParallelismOverrides string
	// Configuration is the configuration a jar run passed
	// (flinkConfiguration), nil when it passed none.
	Configuration map[string]string
	// Restore is the state the job starts from, if any.
	Restore *Restore
	// Bounded makes the job end on its own, FINISHED, FinishAfter after it
	// starts RUNNING, as a batch job does.
	Bounded     bool
	FinishAfter time.Duration
}

// JobManager is one simulated Flink JobManager. Safe for concurrent use.
type JobManager struct {
	cfg Config

	mu          sync.Mutex
	jobs        map[string]*job
	order       []string
	taskManager []string
	disposals   map[string]operation
	// disposed lists the savepoint paths disposal was asked for, in order.
	disposed []string
	jars     map[string]jar
	faults   Faults
	wantTMs  int
	stop     chan struct{}
	stopOnce sync.Once
	pending  []func()
	hookMu   sync.Mutex // serializes flush

	// largestHostile is the most bytes one hostile answer wrote.
	largestHostile int64
	// results is the job result store's ids of expired jobs (ExpireJobs);
	// counts the per-job request counters (JobRequests).
	results map[string]bool
	counts  map[string]*jobCounts
	// faultsChanged is closed when the faults are replaced (SetFaults);
	// made when a held answer waits for it.
	faultsChanged chan struct{}
}

// New starts a simulated JobManager; an application's job and recovered
// session jobs are submitted at once. Stop ends its timers.
func New(cfg Config) *JobManager {
	if cfg.FlinkVersion == "" {
		cfg.FlinkVersion = "1.19.1"
	}
	if cfg.SlotsPerTaskManager <= 0 {
		cfg.SlotsPerTaskManager = 1
	}
	if cfg.StartDelay <= 0 {
		cfg.StartDelay = 100 * time.Millisecond
	}
	if cfg.SavepointDuration <= 0 {
		cfg.SavepointDuration = 200 * time.Millisecond
	}
	if cfg.CancelDelay <= 0 {
		cfg.CancelDelay = 100 * time.Millisecond
	}
	jm := &JobManager{cfg: cfg, jobs: map[string]*job{}, disposals: map[string]operation{}, jars: map[string]jar{}, stop: make(chan struct{})}
	jm.mu.Lock()
	if cfg.Application {
		jm.submitLocked(cfg.Job, time.Now())
	}
	for _, spec := range cfg.RecoveredJobs {
		jm.submitLocked(spec, time.Now())
	}
	jm.mu.Unlock()
	jm.flush()
	go jm.tick()
	return jm
}

// Stop ends the JobManager's background timers.
func (jm *JobManager) Stop() { jm.stopOnce.Do(func() { close(jm.stop) }) }

// Config returns the configuration the JobManager was started with.
func (jm *JobManager) Config() Config { return jm.cfg }

// tick advances time-driven state (job transitions, checkpoints,
// savepoints) so that hooks fire even when nobody polls the REST API.
func (jm *JobManager) tick() {
	// REST requests advance state on their own; the ticker only drives
	// hooks, so it is coarse unless checkpoints are frequent.
	step := 50 * time.Millisecond
	if ci := jm.cfg.CheckpointInterval / 2; ci > 0 && ci < step {
		step = max(ci, 5*time.Millisecond)
	}
	t := time.NewTicker(step)
	defer t.Stop()
	for {
		select {
		case <-jm.stop:
			return
		case now := <-t.C:
			jm.mu.Lock()
			jm.advanceLocked(now)
			jm.mu.Unlock()
			jm.flush()
		}
	}
}

// later queues a hook call for after the lock is released.
func (jm *JobManager) later(f func()) { jm.pending = append(jm.pending, f) }

// flush runs queued hook calls in the order they were queued, one batch at
// a time (a checkpoint recorded after its job's cleanup would resurrect
// stale HA metadata); call it without the lock held.
func (jm *JobManager) flush() {
	jm.hookMu.Lock()
	defer jm.hookMu.Unlock()
	jm.mu.Lock()
	calls := jm.pending
	jm.pending = nil
	jm.mu.Unlock()
	for _, f := range calls {
		f()
	}
}

// SetTaskManagers sets the registered task managers (pod names). The
// simulator calls it as TaskManager pods become ready or go away.
func (jm *JobManager) SetTaskManagers(ids []string) {
	jm.mu.Lock()
	jm.taskManager = append([]string(nil), ids...)
	jm.advanceLocked(time.Now())
	jm.mu.Unlock()
	jm.flush()
}

// TotalSlots is the number of task slots of the registered task managers.
func (jm *JobManager) TotalSlots() int {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	return len(jm.taskManager) * jm.cfg.SlotsPerTaskManager
}

// updateWantedLocked recomputes how many task managers a native JobManager
// needs for its non-terminal jobs and tells the resource hook on change.
func (jm *JobManager) updateWantedLocked() {
	if !jm.cfg.Native {
		return
	}
	slots := 0
	for _, j := range jm.jobs {
		if !j.state.terminal() {
			slots += j.slots()
		}
	}
	want := (slots + jm.cfg.SlotsPerTaskManager - 1) / jm.cfg.SlotsPerTaskManager
	if want != jm.wantTMs {
		jm.wantTMs = want
		if h := jm.cfg.Hooks.TaskManagersWanted; h != nil {
			jm.later(func() { h(want) })
		}
	}
}

// WantedTaskManagers is the number of task managers a native JobManager
// currently asks for.
func (jm *JobManager) WantedTaskManagers() int {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	return jm.wantTMs
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (jm *JobManager) savepointPath(dir, jobID string) string {
	return fmt.Sprintf("%s/savepoint-%s-%s", trimSlash(dir), jobID[:6], randomID()[:12])
}

func trimSlash(s string) string {
	for len(s) > 1 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// state is a Flink job status.
type state api.JobStatus

func (s state) terminal() bool {
	switch api.JobStatus(s) {
	case api.JobStatusFINISHED, api.JobStatusCANCELED, api.JobStatusFAILED:
		return true
	}
	return false
}
