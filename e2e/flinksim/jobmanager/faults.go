package jobmanager

import (
	"io"
	"net/http"
	"strings"
	"time"
)

// Faults are injected into one JobManager. The zero value injects nothing.
type Faults struct {
	// Latency delays every REST answer.
	Latency time.Duration
	// ErrorStatus, if non-zero, answers every REST request with this status
	// and a Flink error body.
	ErrorStatus int
	// Hang holds every REST request until the client gives up.
	Hang bool
	// SavepointFailure, if set, fails every savepoint and
	// stop-with-savepoint with this cause.
	SavepointFailure string
	// CheckpointFailure, if set, fails every checkpoint with this cause.
	CheckpointFailure string
	// CheckpointsNotAddressable reports every completed checkpoint's
	// external path as Flink does when only the JobManager holds its
	// metadata (NonPersistentMetadataCheckpointStorageLocation: no
	// checkpoint directory): "<checkpoint-not-externally-addressable>".
	CheckpointsNotAddressable bool
	// NoCheckpointStatistics answers the checkpoint statistics of every
	// job it knows (GET /jobs/{id}/checkpoints) 404 "Checkpointing has not
	// been enabled.", as Flink does for a job it keeps none of: a batch
	// job, whose graph the adaptive batch scheduler builds without
	// checkpointing (Flink 1.15 on).
	NoCheckpointStatistics bool
	// SavepointDuration, if set, overrides Config.SavepointDuration.
	SavepointDuration time.Duration
	// Hostile, if set, answers every REST request as a hostile server
	// would (after Latency); RedirectTo is the base URL of HostileRedirect.
	Hostile    Hostile
	RedirectTo string
	// LoseTriggerAnswers carries out savepoint and stop-with-savepoint
	// triggers but never answers them: the client times out after Flink
	// accepted (a lost answer, a partition).
	LoseTriggerAnswers bool
	// LoseRunAnswers carries out jar runs (POST /jars/:id/run) but never
	// answers them: the answer is held until the faults change, then the
	// connection is reset. Flink accepted the job and the client never
	// learns it (a reset, a timeout); the hold lets a test end the job,
	// and expire it, before the client looks again.
	LoseRunAnswers bool
	// HoldCancelling keeps a job being cancelled CANCELLING, as Flink does
	// while a task does not acknowledge its cancellation (a TaskManager
	// stuck in user code or unreachable): it goes on to CANCELED once the
	// fault is lifted.
	HoldCancelling bool
	// HoldSavepoints keeps savepoints and stop-with-savepoints IN_PROGRESS
	// (the job RUNNING meanwhile), as Flink does while a task does not
	// acknowledge the savepoint's barrier: each completes once the fault
	// is lifted and its duration has passed.
	HoldSavepoints bool
	// HoldCheckpoints keeps triggered checkpoints IN_PROGRESS (the job
	// RUNNING meanwhile) until the fault is lifted, as HoldSavepoints
	// does savepoints.
	HoldCheckpoints bool
	// ForgetTriggers answers 404 to every savepoint status request, as
	// Flink does once its operation cache dropped the trigger
	// (rest.async.store-duration) or the JobManager restarted.
	ForgetTriggers bool
	// RescaleFailure, if set, fails every resource requirements update
	// (PUT /jobs/{id}/resource-requirements) with this cause, as a
	// JobMaster that cannot apply it answers: 500, nothing changed.
	RescaleFailure string
	// UploadRate, if set, reads a jar upload's body (POST /jars/upload) at
	// most this many bytes a second: a slow link to the JobManager.
	UploadRate int64
	// UploadStallAfter, if set, stops reading a jar upload's body after
	// this many bytes, until the request ends, the faults change or the
	// JobManager stops: a stalled transfer.
	UploadStallAfter int64
}

// SetFaults replaces the injected faults.
// Answers held by LoseRunAnswers are released, with a reset.
func (jm *JobManager) SetFaults(f Faults) {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	jm.faults = f
	if jm.faultsChanged != nil {
		close(jm.faultsChanged)
		jm.faultsChanged = nil
	}
}

// faultsChange is closed when the faults are next replaced.
func (jm *JobManager) faultsChange() <-chan struct{} {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	if jm.faultsChanged == nil {
		jm.faultsChanged = make(chan struct{})
	}
	return jm.faultsChanged
}

// Faults returns the injected faults.
func (jm *JobManager) Faults() Faults {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	return jm.faults
}

// faultMiddleware applies latency, hangs, hostile answers and error
// statuses to requests.
func (jm *JobManager) faultMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := jm.Faults()
		if f.Hang {
			select {
			case <-r.Context().Done():
			case <-jm.stop:
			}
			return
		}
		if f.Latency > 0 {
			t := time.NewTimer(f.Latency)
			select {
			case <-r.Context().Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if f.Hostile != "" && jm.serveHostile(w, r, f) {
			return
		}
		if f.ErrorStatus != 0 {
			writeError(w, f.ErrorStatus, "Simulated failure: injected HTTP "+http.StatusText(f.ErrorStatus))
			return
		}
		if f.LoseTriggerAnswers && isSavepointTrigger(r) {
			next.ServeHTTP(discardWriter{header: http.Header{}}, r)
			select {
			case <-r.Context().Done():
			case <-jm.stop:
			}
			return
		}
		if isJarUpload(r) && (f.UploadRate > 0 || f.UploadStallAfter > 0) {
			r.Body = &slowBody{ReadCloser: r.Body, rate: f.UploadRate, stallAfter: f.UploadStallAfter, done: r.Context().Done(), stop: jm.stop, changed: jm.faultsChange()}
		}
		if f.LoseRunAnswers && isJarRun(r) {
			changed := jm.faultsChange()
			next.ServeHTTP(discardWriter{header: http.Header{}}, r)
			select {
			case <-r.Context().Done():
			case <-jm.stop:
			case <-changed:
			}
			panic(http.ErrAbortHandler) // the connection is reset, unanswered
		}
		if f.ForgetTriggers && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/savepoints/") {
			writeError(w, http.StatusNotFound, "There is no savepoint operation with this triggerId (simulated: forgotten).")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isSavepointTrigger reports a savepoint or stop-with-savepoint trigger.
func isSavepointTrigger(r *http.Request) bool {
	return r.Method == http.MethodPost && (strings.HasSuffix(r.URL.Path, "/savepoints") || strings.HasSuffix(r.URL.Path, "/stop"))
}

// isJarRun reports a jar run (a job submission).
func isJarRun(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/jars/") && strings.HasSuffix(r.URL.Path, "/run")
}

func isJarUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/jars/upload"
}

// slowBodySteps is how many reads a second a slow body allows at most.
const slowBodySteps = 20

// slowBody is a request body read at most rate bytes a second (each read
// waits the time its bytes take at the rate), and not at all after
// stallAfter bytes (a stall).
type slowBody struct {
	io.ReadCloser
	rate, stallAfter, read int64
	// A stall ends when the request is done, the JobManager stops or the
	// faults change: a server does not see its client go while it reads
	// nothing, and a stalled handler left alone would keep its server's
	// Close waiting.
	done, stop, changed <-chan struct{}
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.stallAfter > 0 && b.read >= b.stallAfter {
		select {
		case <-b.done:
		case <-b.stop:
		case <-b.changed:
		}
		return 0, io.ErrUnexpectedEOF
	}
	if b.rate > 0 {
		p = p[:min(int64(len(p)), max(b.rate/slowBodySteps, 1))]
	}
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if b.rate > 0 && n > 0 {
		// The time n bytes take at the rate.
		t := time.NewTimer(time.Duration(int64(n) * int64(time.Second) / b.rate))
		defer t.Stop()
		select {
		case <-b.done:
			return n, io.ErrUnexpectedEOF
		case <-b.stop:
			return n, io.ErrUnexpectedEOF
		case <-t.C:
		}
	}
	return n, err
}

// discardWriter is a ResponseWriter whose answer nobody reads.
type discardWriter struct{ header http.Header }

func (d discardWriter) Header() http.Header         { return d.header }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}
