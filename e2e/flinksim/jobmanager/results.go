package jobmanager

import (
	"fmt"
	"net/http"
	"strings"
)

// jobCounts are the REST requests one job id received that tests look at.
type jobCounts struct {
	// runs counts the jar runs (POST /jars/:id/run) naming the id,
	// accepted or refused.
	runs int
	// misses counts the job requests answered 404 after the job expired.
	misses int
	// checkpointTriggers counts the checkpoint triggers (POST
	// /jobs/:id/checkpoints), served or not.
	checkpointTriggers int
}

// countLocked is the counters of job id, created on first use.
func (jm *JobManager) countLocked(id string) *jobCounts {
	if jm.counts == nil {
		jm.counts = map[string]*jobCounts{}
	}
	c := jm.counts[id]
	if c == nil {
		c = &jobCounts{}
		jm.counts[id] = c
	}
	return c
}

// knownLocked reports whether Flink's Dispatcher refuses a submission of
// id as a duplicate: the job is running, or it reached a globally terminal
// state and the job result store keeps it (after the REST API forgot it).
func (jm *JobManager) knownLocked(id string) bool {
	_, running := jm.jobs[id]
	return running || jm.results[id]
}

// ExpireJobs drops every globally terminal job from the REST API, as
// Flink's execution graph store does jobstore.expiration-time after a job
// ended: its requests answer 404 from then on. The job result store still
// holds the ids, so running one of them again is refused as a duplicate.
func (jm *JobManager) ExpireJobs() {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	if jm.results == nil {
		jm.results = map[string]bool{}
	}
	order := jm.order[:0]
	for _, id := range jm.order {
		if jm.jobs[id].state.terminal() {
			jm.results[id] = true
			delete(jm.jobs, id)
			continue
		}
		order = append(order, id)
	}
	jm.order = order
}

// JobRequests returns how many jar runs named job id (accepted or
// refused) and how many of its requests were answered 404 after it
// expired (ExpireJobs).
func (jm *JobManager) JobRequests(id string) (runs, misses int) {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	c := jm.countLocked(id)
	return c.runs, c.misses
}

// CheckpointTriggerRequests returns how many checkpoint triggers named
// job id, served or answered 404 (a Flink before 1.17).
func (jm *JobManager) CheckpointTriggerRequests(id string) int {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	return jm.countLocked(id).checkpointTriggers
}

// javaFrames stand for the frames of a Java stack trace; Flink's answer
// holds the real ones, which no client can rely on.
const javaFrames = "\tat org.apache.flink.runtime.webmonitor.handlers.JarRunHandler.lambda$handleRequest$0(JarRunHandler.java)\n" +
	"\tat java.base/java.util.concurrent.CompletableFuture$AsyncSupply.run(CompletableFuture.java)\n"

// writeRestHandlerError answers as Flink's REST handlers answer a
// RestHandlerException: status and one error string, the exception's
// whole stack trace, msg first, then each of causes ("class: message",
// outermost first) as a "Caused by:" section.
func writeRestHandlerError(w http.ResponseWriter, status int, msg string, causes ...string) {
	var b strings.Builder
	b.WriteString("org.apache.flink.runtime.rest.handler.RestHandlerException: " + msg + "\n" + javaFrames)
	for _, c := range causes {
		b.WriteString("Caused by: " + c + "\n" + javaFrames + "\t... 9 more\n")
	}
	writeError(w, status, b.String())
}

// runFailure is why a jar run failed, answered as Flink's JarRunHandler
// does: a RestHandlerException, its message and its causes.
type runFailure struct {
	msg    string
	causes []string
}

// duplicateRun is the failure of running a job id the Dispatcher knows.
func duplicateRun() *runFailure {
	return &runFailure{msg: "Could not execute application.", causes: []string{
		"java.util.concurrent.CompletionException: org.apache.flink.util.FlinkRuntimeException: Could not execute application.",
		"org.apache.flink.util.FlinkRuntimeException: Could not execute application.",
		"org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: Job has already been submitted.",
		"org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted.",
	}}
}

// initFailedRun is the failure of a jar run whose job was submitted and
// failed to initialize: the program's execute() fails with the job's
// initialization failure, each of its causes in turn.
func initFailedRun(j *job) *runFailure {
	failed := fmt.Sprintf("Failed to execute job '%s'.", j.spec.Name)
	causes := []string{
		"java.util.concurrent.CompletionException: org.apache.flink.util.FlinkRuntimeException: Could not execute application.",
		"org.apache.flink.util.FlinkRuntimeException: Could not execute application.",
		"org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: " + failed,
		"org.apache.flink.util.FlinkException: " + failed,
	}
	first, _, _ := strings.Cut(j.initFailure, "\n")
	causes = append(causes, "java.lang.RuntimeException: "+first, first)
	for line := range strings.Lines(j.initFailure) {
		if c, ok := strings.CutPrefix(strings.TrimSpace(line), "Caused by: "); ok {
			causes = append(causes, c)
		}
	}
	return &runFailure{msg: "Could not execute application.", causes: causes}
}
