package jobmanager

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// vertexNames are the vertices every simulated job's graph has, in
// topological order.
var vertexNames = []string{"Source: Events", "Window -> Sink"}

// keyParallelismOverrides is Flink's per-vertex parallelism setting.
const keyParallelismOverrides = "pipeline.jobvertex-parallelism-overrides"

// vertexMaxParallelism is every vertex's max parallelism, as Flink
// derives it for small jobs (128).
const vertexMaxParallelism = 128

// vertex is a job vertex and the parallelism bounds the scheduler keeps
// for it (Flink's JobVertexResourceRequirements).
type vertex struct {
	id, name     string
	lower, upper int
}

// Vertex is a job vertex as tests inspect it.
type Vertex struct {
	// ID is the vertex id: 32 hex digits, the same for every submission of
	// the same program (Flink hashes the stream graph).
	ID string
	// Name is the vertex's chained operators.
	Name string
	// LowerBound and UpperBound are its resource requirements.
	LowerBound, UpperBound int
	// Parallelism is what it runs with.
	Parallelism int
}

// vertexID is the id of vertex i of the program spec runs: derived from
// the program (entry class and job name), so an upgraded job has the
// same vertex ids, as Flink's are hashes of the stream graph.
func vertexID(spec JobSpec, i int) string {
	sum := sha256.Sum256([]byte(spec.EntryClass + "\x00" + spec.Name + "\x00" + strconv.Itoa(i)))
	return hex.EncodeToString(sum[:16])
}

// initVertices gives a submitted job its vertices: each runs with the
// job's parallelism unless spec's parallelism overrides
// (pipeline.jobvertex-parallelism-overrides, of the cluster or the jar
// run) name it; the lower bound is 1, as Flink's initial requirements.
func initVertices(spec JobSpec) []vertex {
	overrides := map[string]string{}
	for _, value := range []string{spec.ParallelismOverrides, spec.Configuration[keyParallelismOverrides]} {
		// Flink's map syntax; vertex ids and numbers need no quoting.
		for _, entry := range strings.Split(value, ",") {
			if id, v, ok := strings.Cut(entry, ":"); ok {
				overrides[strings.ToLower(strings.TrimSpace(id))] = strings.TrimSpace(v)
			}
		}
	}
	out := make([]vertex, len(vertexNames))
	for i, name := range vertexNames {
		v := vertex{id: vertexID(spec, i), name: name, lower: 1, upper: spec.Parallelism}
		if n, err := strconv.Atoi(overrides[v.id]); err == nil && n > 0 {
			v.upper = n
		}
		out[i] = v
	}
	return out
}

// slots is how many slots the job needs: its largest vertex's upper
// bound (its vertices share slots).
func (j *job) slots() int {
	n := 1
	for _, v := range j.vertices {
		n = max(n, v.upper)
	}
	return n
}

// vertexStatus is the job's vertices as tests inspect them.
func (jm *JobManager) vertexStatus(j *job) []Vertex {
	out := make([]Vertex, len(j.vertices))
	for i, v := range j.vertices {
		out[i] = Vertex{ID: v.id, Name: v.name, LowerBound: v.lower, UpperBound: v.upper, Parallelism: min(v.upper, jm.parallelism(j))}
	}
	return out
}

// unsupportedScheduler answers a resource requirements request to a
// JobManager without the adaptive scheduler as Flink does: the default
// scheduler throws, and the REST handler answers 500.
func (s server) unsupportedScheduler(w http.ResponseWriter) bool {
	if s.jm.cfg.Adaptive {
		return false
	}
	serverSideError(w, "java.lang.UnsupportedOperationException: The DefaultScheduler does not support changing the parallelism without a job restart. "+
		"This feature is currently only expected to work with the AdaptiveScheduler.")
	return true
}

// serverSideError answers as Flink's REST handlers answer an exception
// they do not map: 500, "Internal server error." and the stack trace of
// the CompletionException caused by cause ("<class>: <message>").
func serverSideError(w http.ResponseWriter, cause string) {
	writeJSON(w, http.StatusInternalServerError, map[string][]string{"errors": {"Internal server error.",
		"<Exception on server side:\njava.util.concurrent.CompletionException: " + cause + "\n\tat org.apache.flink.simulated(Simulated.java:1)\nCaused by: " + cause +
			"\n\tat org.apache.flink.simulated(Simulated.java:1)\n\nEnd of exception on server side>"}})
}

// withRunningJob is withJob for a job that has not ended: an ended job has
// no JobMaster to ask, and Flink answers that it cannot find it.
func (s server) withRunningJob(w http.ResponseWriter, jobID string, f func(j *job, now time.Time)) {
	s.withJob(w, jobID, func(j *job, now time.Time) {
		if j.state.terminal() {
			writeError(w, http.StatusNotFound, fmt.Sprintf("org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (%s)", jobID))
			return
		}
		f(j, now)
	})
}

func (s server) GetJobResourceRequirements(w http.ResponseWriter, _ *http.Request, jobID api.JobID) {
	if s.unsupportedScheduler(w) {
		return
	}
	s.withRunningJob(w, jobID, func(j *job, _ time.Time) {
		body := api.JobResourceRequirementsBody{}
		for _, v := range j.vertices {
			body[v.id] = api.JobVertexResourceRequirements{Parallelism: api.Parallelism{LowerBound: int32(v.lower), UpperBound: int32(v.upper)}}
		}
		writeJSON(w, http.StatusOK, body)
	})
}

// UpdateJobResourceRequirements sets the job's vertices' parallelism
// bounds as Flink's adaptive scheduler does: the request is validated as
// Flink validates it (every vertex named, none unknown, bounds above zero,
// lower not above upper, upper not above the max parallelism; -1 is the
// default bound), and a running job whose parallelism changes restarts its
// tasks (RESTARTING, then RUNNING), keeping its id and failing the
// savepoints in flight (abortSavepoints).
func (s server) UpdateJobResourceRequirements(w http.ResponseWriter, r *http.Request, jobID api.JobID) {
	var body api.JobResourceRequirementsBody
	if !s.decode(w, r, &body) {
		return
	}
	if len(body) == 0 {
		writeError(w, http.StatusBadRequest, "Request body does not specify resource requirements.")
		return
	}
	if s.unsupportedScheduler(w) {
		return
	}
	s.withRunningJob(w, jobID, func(j *job, now time.Time) {
		if cause := s.jm.faults.RescaleFailure; cause != "" {
			serverSideError(w, cause)
			return
		}
		if errs := validateRequirements(j, body); len(errs) > 0 {
			writeError(w, http.StatusBadRequest, strings.Join(errs, "\n"))
			return
		}
		before := s.jm.vertexStatus(j)
		for i := range j.vertices {
			p := body[j.vertices[i].id].Parallelism
			j.vertices[i].lower, j.vertices[i].upper = bound(int(p.LowerBound), 1), bound(int(p.UpperBound), vertexMaxParallelism)
		}
		j.rescales++
		if !slices.Equal(before, s.jm.vertexStatus(j)) && j.state == state(api.JobStatusRUNNING) {
			s.jm.setStateLocked(j, api.JobStatusRESTARTING, now)
			abortSavepoints(j)
			s.jm.schedule(j, api.JobStatusRUNNING, now.Add(s.jm.cfg.CancelDelay))
		}
		s.jm.updateWantedLocked()
		writeJSON(w, http.StatusOK, struct{}{})
	})
}

// msgCoordinatorSuspending is how Flink fails the savepoints in flight
// when the job's tasks restart (CheckpointFailureReason
// CHECKPOINT_COORDINATOR_SUSPEND).
const msgCoordinatorSuspending = "org.apache.flink.runtime.checkpoint.CheckpointException: Checkpoint Coordinator is suspending."

// abortSavepoints fails the savepoints of j still in flight, as Flink's
// checkpoint coordinator aborts them when a rescale restarts the job's
// tasks.
func abortSavepoints(j *job) {
	for _, op := range j.savepoints {
		if !op.done {
			op.done, op.failure = true, msgCoordinatorSuspending
		}
	}
}

// bound is a requested bound, def for Flink's -1.
func bound(v, def int) int {
	if v == -1 {
		return def
	}
	return v
}

// validateRequirements is what Flink's JobResourceRequirements.validate
// says of body for j.
func validateRequirements(j *job, body api.JobResourceRequirementsBody) []string {
	var errs []string
	known := map[string]bool{}
	for _, v := range j.vertices {
		known[v.id] = true
		if _, ok := body[v.id]; !ok {
			errs = append(errs, fmt.Sprintf("The request is incomplete, missing job vertex [%s] resource requirements.", v.id))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(body)) {
		if !known[id] {
			errs = append(errs, fmt.Sprintf("Job vertex [%s] was not found in the JobGraph.", id))
			continue
		}
		p := body[id].Parallelism
		lower, upper := bound(int(p.LowerBound), 1), bound(int(p.UpperBound), vertexMaxParallelism)
		if lower < 1 || upper < 1 {
			errs = append(errs, fmt.Sprintf("Both, the requested lower bound [%d] and upper bound [%d] for job vertex [%s] must be greater than zero.", lower, upper, id))
			continue
		}
		if lower > upper {
			errs = append(errs, fmt.Sprintf("The requested lower bound [%d] for job vertex [%s] is higher than the upper bound [%d].", lower, id, upper))
		}
		if upper > vertexMaxParallelism {
			errs = append(errs, fmt.Sprintf("The newly requested parallelism %d for the job vertex %s exceeds its maximum parallelism %d.", upper, id, vertexMaxParallelism))
		}
	}
	return errs
}
