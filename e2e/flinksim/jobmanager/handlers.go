package jobmanager

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/flink-hub/flink-hub/e2e/flinksim/restapi"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
	"github.com/flink-hub/flink-hub/internal/launcherjar"
)

// Handler serves the JobManager's REST API at the root path, through the
// handlers generated from Flink's spec. Unknown paths answer 404 with a
// Flink error body, as Flink does.
func (jm *JobManager) Handler() http.Handler {
	mux := http.NewServeMux()
	h := restapi.HandlerWithOptions(server{jm}, restapi.StdHTTPServerOptions{
		BaseRouter: mux,
		ErrorHandlerFunc: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, http.StatusBadRequest, err.Error())
		},
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not found: "+r.URL.Path)
	})
	return jm.faultMiddleware(h)
}

// jar is an uploaded jar of a session cluster.
type jar struct {
	name     string
	uploaded time.Time
	// manifest holds the jar's manifest attributes; nil when the upload is
	// not a zip the simulator can read (it then trusts the jar to name its
	// main class, as test jars stand for real ones).
	manifest map[string]string
}

// maxJarRead bounds the part of an upload the simulator reads.
const maxJarRead = 64 << 20

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers as Flink does: {"errors": [message]}.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string][]string{"errors": {msg}})
}

// server implements the generated restapi.ServerInterface.
type server struct{ jm *JobManager }

var _ restapi.ServerInterface = server{}

// withJob runs f with the job locked and advanced, or answers 404.
func (s server) withJob(w http.ResponseWriter, jobID string, f func(j *job, now time.Time)) {
	jm := s.jm
	jm.mu.Lock()
	now := time.Now()
	jm.advanceLocked(now)
	j, ok := jm.jobs[jobID]
	if !ok {
		if jm.results[jobID] {
			jm.countLocked(jobID).misses++
		}
		jm.mu.Unlock()
		writeError(w, http.StatusNotFound, fmt.Sprintf("org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (%s)", jobID))
		return
	}
	f(j, now)
	jm.mu.Unlock()
	jm.flush()
}

// locked runs f with the JobManager locked and advanced.
func (s server) locked(f func(now time.Time)) {
	s.jm.mu.Lock()
	now := time.Now()
	s.jm.advanceLocked(now)
	f(now)
	s.jm.mu.Unlock()
	s.jm.flush()
}

func (s server) GetDashboardConfiguration(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, api.DashboardConfiguration{
		FlinkVersion:    s.jm.cfg.FlinkVersion,
		FlinkRevision:   "simulated @ 2024-01-01T00:00:00+00:00",
		RefreshInterval: 3000,
		TimezoneName:    "Coordinated Universal Time",
		Features:        api.Features{WebCancel: true, WebSubmit: !s.jm.cfg.Application},
	})
}

func (s server) GetClusterOverview(w http.ResponseWriter, _ *http.Request) {
	var o api.ClusterOverviewWithVersion
	s.locked(func(time.Time) {
		o = api.ClusterOverviewWithVersion{
			FlinkVersion:   s.jm.cfg.FlinkVersion,
			FlinkCommit:    "simulated",
			Taskmanagers:   int32(len(s.jm.taskManager)),
			SlotsTotal:     int32(len(s.jm.taskManager) * s.jm.cfg.SlotsPerTaskManager),
			SlotsAvailable: int32(max(0, s.jm.freeSlotsLocked(nil))),
		}
		for _, j := range s.jm.jobs {
			switch api.JobStatus(j.state) {
			case api.JobStatusFINISHED:
				o.JobsFinished++
			case api.JobStatusCANCELED:
				o.JobsCancelled++
			case api.JobStatusFAILED:
				o.JobsFailed++
			default:
				o.JobsRunning++
			}
		}
	})
	writeJSON(w, http.StatusOK, o)
}

func (s server) jobDetails(j *job, now time.Time) api.JobDetails {
	end, dur := int64(-1), now.Sub(j.start).Milliseconds()
	if !j.end.IsZero() {
		end, dur = j.end.UnixMilli(), j.end.Sub(j.start).Milliseconds()
	}
	return api.JobDetails{Jid: j.id, Name: j.spec.Name, State: api.JobStatus(j.state), StartTime: j.start.UnixMilli(), EndTime: end, Duration: dur, LastModification: j.modified.UnixMilli(), Tasks: map[string]int32{"total": 1}}
}

func (s server) GetJobsOverview(w http.ResponseWriter, _ *http.Request) {
	var out api.MultipleJobsDetails
	s.locked(func(now time.Time) {
		out.Jobs = []api.JobDetails{}
		for _, id := range s.jm.order {
			out.Jobs = append(out.Jobs, s.jobDetails(s.jm.jobs[id], now))
		}
	})
	writeJSON(w, http.StatusOK, out)
}

func (s server) GetJobDetails(w http.ResponseWriter, _ *http.Request, jobID api.JobID) {
	s.withJob(w, jobID, func(j *job, now time.Time) {
		d := s.jobDetails(j, now)
		vertices := []api.JobDetailsVertexInfo{}
		for _, v := range s.jm.vertexStatus(j) {
			vertices = append(vertices, api.JobDetailsVertexInfo{Id: v.ID, Name: v.Name, Parallelism: int32(v.Parallelism), MaxParallelism: vertexMaxParallelism, Status: api.ExecutionState(d.State)})
		}
		writeJSON(w, http.StatusOK, api.JobDetailsInfo{
			Jid: d.Jid, Name: d.Name, State: d.State, StartTime: d.StartTime, EndTime: d.EndTime, Duration: d.Duration, Now: now.UnixMilli(),
			IsStoppable: false, MaxParallelism: vertexMaxParallelism, Timestamps: j.stamps, Vertices: vertices,
		})
	})
}

func (s server) GetJobStatusInfo(w http.ResponseWriter, _ *http.Request, jobID api.JobID) {
	s.withJob(w, jobID, func(j *job, _ time.Time) {
		writeJSON(w, http.StatusOK, api.JobStatusInfo{Status: api.JobStatus(j.state)})
	})
}

func (s server) CancelJob(w http.ResponseWriter, _ *http.Request, jobID api.JobID, params api.CancelJobParams) {
	// Flink's own client sends lower-case "cancel"; accept both spellings.
	if m := strings.ToLower(string(params.Mode)); m != "" && m != "cancel" {
		writeError(w, http.StatusBadRequest, "Termination mode "+string(params.Mode)+" is not supported.")
		return
	}
	s.withJob(w, jobID, func(j *job, now time.Time) {
		if j.state.terminal() {
			writeError(w, http.StatusConflict, fmt.Sprintf("Job %s already reached globally terminal state %s.", j.id, j.state))
			return
		}
		if j.state != state(api.JobStatusCANCELLING) {
			s.jm.setStateLocked(j, api.JobStatusCANCELLING, now)
			s.jm.schedule(j, api.JobStatusCANCELED, now.Add(s.jm.cfg.CancelDelay))
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

// startSavepoint registers a savepoint operation, idempotent by trigger id.
func (s server) startSavepoint(w http.ResponseWriter, j *job, now time.Time, triggerID, dir string, op operation) {
	if dir == "" {
		dir = s.jm.cfg.SavepointDir
	}
	if dir == "" {
		writeError(w, http.StatusBadRequest, "Config key [state.savepoints.dir] is not set. Property [targetDirectory] must be provided.")
		return
	}
	if triggerID == "" {
		triggerID = randomID()
	}
	if _, ok := j.savepoints[triggerID]; !ok {
		d := s.jm.cfg.SavepointDuration
		if s.jm.faults.SavepointDuration > 0 {
			d = s.jm.faults.SavepointDuration
		}
		op.savepoint, op.dir, op.doneAt = true, dir, now.Add(d)
		j.savepoints[triggerID] = &op
	}
	writeJSON(w, http.StatusAccepted, api.TriggerResponse{RequestId: triggerID})
}

func (s server) TriggerSavepoint(w http.ResponseWriter, r *http.Request, jobID api.JobID) {
	var body api.SavepointTriggerRequestBody
	if !s.decode(w, r, &body) {
		return
	}
	s.withJob(w, jobID, func(j *job, now time.Time) {
		s.startSavepoint(w, j, now, body.TriggerId, body.TargetDirectory, operation{cancelJob: body.CancelJob})
	})
}

func (s server) TriggerStopWithSavepoint(w http.ResponseWriter, r *http.Request, jobID api.JobID) {
	var body api.StopWithSavepointRequestBody
	if !s.decode(w, r, &body) {
		return
	}
	s.withJob(w, jobID, func(j *job, now time.Time) {
		s.startSavepoint(w, j, now, body.TriggerId, body.TargetDirectory, operation{stopJob: true, drain: body.Drain})
	})
}

// operationResult renders an asynchronous operation.
func operationResult(op *operation, info func(failure api.SerializedThrowable) any) api.AsynchronousOperationResult {
	res := api.AsynchronousOperationResult{Status: api.QueueStatus{Id: api.IdINPROGRESS}}
	if !op.done {
		return res
	}
	res.Status.Id = api.IdCOMPLETED
	var cause api.SerializedThrowable
	if op.failure != "" {
		// The failure's first line is the exception the future failed
		// with; its further lines, its causes.
		first, causes, _ := strings.Cut(op.failure, "\n")
		cause = api.SerializedThrowable{
			Class:      "java.util.concurrent.CompletionException",
			StackTrace: "java.util.concurrent.CompletionException: " + first + "\n\tat org.apache.flink.simulated(Simulated.java:1)\n" + causes,
		}
	}
	raw, _ := json.Marshal(info(cause))
	_ = res.Operation.UnmarshalJSON(raw)
	return res
}

func (s server) GetSavepointStatus(w http.ResponseWriter, _ *http.Request, jobID api.JobID, triggerID api.TriggerId) {
	s.triggerStatus(w, jobID, triggerID, "savepoint", func(j *job) map[string]*operation { return j.savepoints },
		func(op *operation, cause api.SerializedThrowable) any {
			return api.SavepointInfo{Location: op.location, FailureCause: cause}
		})
}

// triggerStatus answers the status of a job's savepoint or checkpoint
// trigger, or 404 for an unknown trigger id.
func (s server) triggerStatus(w http.ResponseWriter, jobID, triggerID, kind string, ops func(*job) map[string]*operation, info func(*operation, api.SerializedThrowable) any) {
	s.withJob(w, jobID, func(j *job, _ time.Time) {
		op, ok := ops(j)[triggerID]
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Sprintf("There is no %s operation with triggerId=%s for job %s.", kind, triggerID, jobID))
			return
		}
		writeJSON(w, http.StatusOK, operationResult(op, func(c api.SerializedThrowable) any { return info(op, c) }))
	})
}

// checkpointTriggers reports whether the JobManager's Flink serves
// checkpoint triggers (POST /jobs/{id}/checkpoints and its status), which
// Flink added in 1.17; before, its router answers 404 as for any path it
// does not know.
func (s server) checkpointTriggers(w http.ResponseWriter, r *http.Request) bool {
	if atLeast(s.jm.cfg.FlinkVersion, 1, 17) {
		return true
	}
	writeError(w, http.StatusNotFound, "Not found: "+r.URL.Path)
	return false
}

// atLeast reports whether version ("1.16", "1.19.1", "2.0") is
// major.minor or newer; a version it cannot read is taken as new.
func atLeast(version string, major, minor int) bool {
	r, ok := parseRelease(version)
	return !ok || !r.before(flinkRelease{major, minor})
}

func (s server) TriggerCheckpoint(w http.ResponseWriter, r *http.Request, jobID api.JobID) {
	s.locked(func(time.Time) { s.jm.countLocked(jobID).checkpointTriggers++ })
	if !s.checkpointTriggers(w, r) {
		return
	}
	var body api.CheckpointTriggerRequestBody
	if !s.decode(w, r, &body) {
		return
	}
	s.withJob(w, jobID, func(j *job, now time.Time) {
		id := body.TriggerId
		if id == "" {
			id = randomID()
		}
		if _, ok := j.checkpoints[id]; !ok {
			j.checkpoints[id] = &operation{doneAt: now.Add(s.jm.cfg.CancelDelay)}
		}
		writeJSON(w, http.StatusAccepted, api.TriggerResponse{RequestId: id})
	})
}

func (s server) GetCheckpointStatus(w http.ResponseWriter, r *http.Request, jobID api.JobID, triggerID api.TriggerId) {
	if !s.checkpointTriggers(w, r) {
		return
	}
	s.triggerStatus(w, jobID, triggerID, "checkpoint", func(j *job) map[string]*operation { return j.checkpoints },
		func(op *operation, cause api.SerializedThrowable) any {
			return api.CheckpointInfo{CheckpointId: op.id, FailureCause: cause}
		})
}

// notExternallyAddressable is the path Flink reports for a checkpoint
// whose metadata only the JobManager holds.
const notExternallyAddressable = "<checkpoint-not-externally-addressable>"

func (s server) GetCheckpointingStatistics(w http.ResponseWriter, _ *http.Request, jobID api.JobID) {
	s.withJob(w, jobID, func(j *job, _ time.Time) {
		if s.jm.faults.NoCheckpointStatistics {
			writeError(w, http.StatusNotFound, "Checkpointing has not been enabled.")
			return
		}
		st := api.CheckpointingStatistics{History: []api.CheckpointStatistics{}}
		completed := int64(len(j.completed))
		st.Counts = api.Counts{Completed: completed, Failed: j.failedCount, Total: completed + j.failedCount}
		status := api.CheckpointStatsStatusCOMPLETED
		stat := func(cp Checkpoint) api.CompletedCheckpointStatistics {
			kind := api.CHECKPOINT
			if cp.IsSavepoint {
				kind = api.SAVEPOINT
			}
			return api.CompletedCheckpointStatistics{ClassName: "completed", Id: cp.ID, ExternalPath: cp.Path, IsSavepoint: cp.IsSavepoint, Status: status,
				CheckpointType: kind, TriggerTimestamp: cp.Time.UnixMilli(), LatestAckTimestamp: cp.Time.UnixMilli(),
				// A state that grows with every checkpoint.
				StateSize: 1<<20 + cp.ID*4096}
		}
		if n := len(j.completed); n > 0 {
			c := stat(j.completed[n-1])
			if s.jm.faults.CheckpointsNotAddressable && !c.IsSavepoint {
				c.ExternalPath = notExternallyAddressable
			}
			st.Latest.Completed = c
		}
		if j.latestSP != nil {
			sp := stat(*j.latestSP)
			st.Latest.Savepoint = sp
		}
		if r := j.restored; r != nil {
			st.Counts.Restored = 1
			st.Latest.Restored = api.RestoredCheckpointStatistics{Id: r.CheckpointID, ExternalPath: r.Path, IsSavepoint: r.IsSavepoint, RestoreTimestamp: j.restoreAt.UnixMilli()}
		}
		for i := len(j.completed) - 1; i >= 0; i-- {
			cp := j.completed[i]
			st.History = append(st.History, api.CheckpointStatistics{ClassName: "completed", Id: cp.ID, Status: status, TriggerTimestamp: cp.Time.UnixMilli()})
		}
		writeJSON(w, http.StatusOK, st)
	})
}

// GetJobMetrics answers the job metrics the health check reads
// (numRestarts, numberOfCompletedCheckpoints), as Flink does: a bare array
// of the asked metrics the job has.
func (s server) GetJobMetrics(w http.ResponseWriter, _ *http.Request, jobID api.JobID, params api.GetJobMetricsParams) {
	s.withJob(w, jobID, func(j *job, _ time.Time) {
		have := map[string]int{"numRestarts": j.restarts, "numberOfCompletedCheckpoints": j.completedCount}
		out := api.MetricCollectionResponseBody{}
		for _, name := range strings.Split(params.Get, ",") {
			if v, ok := have[name]; ok {
				out = append(out, api.Metric{Id: name, Value: strconv.Itoa(v)})
			}
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func (s server) GetJobExceptions(w http.ResponseWriter, _ *http.Request, jobID api.JobID, _ api.GetJobExceptionsParams) {
	s.withJob(w, jobID, func(j *job, _ time.Time) {
		out := api.JobExceptionsInfoWithHistory{ExceptionHistory: api.JobExceptionHistory{Entries: []api.RootExceptionInfo{}}}
		for i := len(j.exceptions) - 1; i >= 0; i-- {
			out.ExceptionHistory.Entries = append(out.ExceptionHistory.Entries, j.exceptions[i])
		}
		if n := len(j.exceptions); n > 0 {
			out.RootException, out.Timestamp = j.exceptions[n-1].Stacktrace, j.exceptions[n-1].Timestamp
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func (s server) GetTaskManagers(w http.ResponseWriter, _ *http.Request) {
	var out api.TaskManagersInfo
	s.locked(func(time.Time) {
		out.Taskmanagers = []api.TaskManagerInfo{}
		slots := int32(s.jm.cfg.SlotsPerTaskManager)
		for _, id := range s.jm.taskManager {
			out.Taskmanagers = append(out.Taskmanagers, api.TaskManagerInfo{Id: id, Path: "pekko.tcp://flink@" + id + ":6122/user/rpc/taskmanager_0", DataPort: 6121, SlotsNumber: slots, FreeSlots: slots,
				Hardware: api.HardwareDescription{CpuCores: 1}})
		}
	})
	writeJSON(w, http.StatusOK, out)
}

// sessionOnly answers 404 in application mode, where Flink disables the
// jar handlers (web.submit.enable=false), and reports whether to go on.
func (s server) sessionOnly(w http.ResponseWriter, r *http.Request) bool {
	if s.jm.cfg.Application {
		writeError(w, http.StatusNotFound, "Not found: "+r.URL.Path)
		return false
	}
	return true
}

func (s server) GetJarList(w http.ResponseWriter, r *http.Request) {
	if !s.sessionOnly(w, r) {
		return
	}
	out := api.JarListInfo{Address: "http://jobmanager:8081", Files: []api.JarFileInfo{}}
	s.locked(func(time.Time) {
		for id, j := range s.jm.jars {
			out.Files = append(out.Files, api.JarFileInfo{Id: id, Name: j.name, Uploaded: j.uploaded.UnixMilli()})
		}
	})
	writeJSON(w, http.StatusOK, out)
}

func (s server) UploadJar(w http.ResponseWriter, r *http.Request) {
	if !s.sessionOnly(w, r) {
		return
	}
	f, hdr, err := r.FormFile("jarfile")
	if err != nil {
		writeError(w, http.StatusBadRequest, "Exactly 1 file must be sent, received 0.")
		return
	}
	content, _ := io.ReadAll(io.LimitReader(f, maxJarRead))
	_ = f.Close()
	if !strings.HasSuffix(hdr.Filename, ".jar") {
		writeError(w, http.StatusBadRequest, "Only Jar files are allowed.")
		return
	}
	manifest, err := launcherjar.Manifest(content)
	if err != nil {
		manifest = nil
	}
	id := randomID()[:8] + "-" + randomID()[:4] + "_" + path.Base(hdr.Filename)
	s.locked(func(now time.Time) {
		s.jm.jars[id] = jar{name: path.Base(hdr.Filename), uploaded: now, manifest: manifest}
	})
	writeJSON(w, http.StatusOK, api.JarUploadResponseBody{Filename: "/tmp/flink-web-upload/" + id, Status: api.Success})
}

func (s server) DeleteJar(w http.ResponseWriter, r *http.Request, jarID string) {
	if !s.sessionOnly(w, r) {
		return
	}
	found := false
	s.locked(func(time.Time) {
		_, found = s.jm.jars[jarID]
		delete(s.jm.jars, jarID)
	})
	if !found {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("File %s does not exist in /tmp/flink-web-upload.", jarID))
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s server) SubmitJobFromJar(w http.ResponseWriter, r *http.Request, jarID string, params api.SubmitJobFromJarParams) {
	if !s.sessionOnly(w, r) {
		return
	}
	var body api.JarRunRequestBody
	if !s.decode(w, r, &body) {
		return
	}
	spec := JobSpec{JobID: body.JobId, EntryClass: body.EntryClass, Args: body.ProgramArgsList, Parallelism: int(body.Parallelism), Configuration: body.FlinkConfiguration}
	sp, allow := body.SavepointPath, body.AllowNonRestoredState
	if sp == "" {
		sp, allow = params.SavepointPath, params.AllowNonRestoredState
	}
	if sp != "" {
		spec.Restore = &Restore{Path: sp, IsSavepoint: true, AllowNonRestoredState: allow, RestoreMode: string(body.RestoreMode), ClaimMode: string(body.ClaimMode)}
	}
	var id string
	var fail *runFailure
	s.locked(func(now time.Time) {
		if fail = s.jm.runCheckLocked(jarID, &spec); fail != nil {
			return
		}
		j := s.jm.submitLocked(spec, now)
		id = j.id
		if h := s.jm.cfg.Hooks.JobSubmitted; h != nil {
			submitted := spec
			submitted.JobID = id
			s.jm.later(func() { h(submitted) })
		}
		if j.initFailure != "" {
			// The run waits for the job's initialization, which failed:
			// the job stays, FAILED, and the run fails with its cause.
			s.jm.failInitLocked(j, now)
			fail = initFailedRun(j)
		}
	})
	if fail != nil {
		writeRestHandlerError(w, http.StatusBadRequest, fail.msg, fail.causes...)
		return
	}
	writeJSON(w, http.StatusOK, api.JarRunResponseBody{Jobid: id})
}

// runCheckLocked is why a run of the jar jarID fails, nil when it can run;
// it completes spec from the jar's manifest. A job id the Dispatcher
// knows, running or ended, is refused as Flink refuses it.
func (jm *JobManager) runCheckLocked(jarID string, spec *JobSpec) *runFailure {
	j, ok := jm.jars[jarID]
	if !ok {
		return &runFailure{msg: fmt.Sprintf("Jar file /tmp/flink-web-upload/%s does not exist", jarID)}
	}
	if j.manifest != nil {
		// Flink takes the entry class from the request, else from the
		// jar's manifest; the manifest's Class-Path joins the class path.
		if spec.EntryClass == "" && j.manifest["Main-Class"] == "" && j.manifest["program-class"] == "" {
			const noEntry = "Neither a 'Main-Class', nor a 'program-class' entry was found in the jar file."
			return &runFailure{msg: "Could not execute application.", causes: []string{"org.apache.flink.client.program.ProgramInvocationException: " + noEntry}}
		}
		if cp := j.manifest["Class-Path"]; cp != "" {
			spec.ClassPath = strings.Fields(cp)
		}
	}
	if spec.JobID != "" {
		jm.countLocked(spec.JobID).runs++
		if jm.knownLocked(spec.JobID) {
			return duplicateRun()
		}
	}
	return nil
}

func (s server) TriggerSavepointDisposal(w http.ResponseWriter, r *http.Request) {
	var body api.SavepointDisposalRequest
	if !s.decode(w, r, &body) {
		return
	}
	id := randomID()
	s.locked(func(now time.Time) {
		op := operation{doneAt: now.Add(s.jm.cfg.CancelDelay)}
		switch {
		case body.SavepointPath == "":
			op.failure = "Savepoint path must not be empty."
		case !s.jm.cfg.Storage.Holds(body.SavepointPath):
			op.failure = disposalNotFound(body.SavepointPath)
		default:
			s.jm.disposed = append(s.jm.disposed, body.SavepointPath)
			s.jm.cfg.Storage.Remove(body.SavepointPath)
		}
		s.jm.disposals[id] = op
	})
	writeJSON(w, http.StatusOK, api.TriggerResponse{RequestId: id})
}

func (s server) GetSavepointDisposalStatus(w http.ResponseWriter, _ *http.Request, triggerID api.TriggerId) {
	var op operation
	var ok bool
	s.locked(func(time.Time) { op, ok = s.jm.disposals[triggerID] })
	if !ok {
		writeError(w, http.StatusNotFound, "There is no savepoint disposal operation with triggerId="+triggerID+".")
		return
	}
	writeJSON(w, http.StatusOK, operationResult(&op, func(c api.SerializedThrowable) any {
		return api.AsynchronousOperationInfo{FailureCause: c}
	}))
}
