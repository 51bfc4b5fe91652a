package jobmanager_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

var eventually = framework.Await

func start(t *testing.T, cfg jobmanager.Config) (*jobmanager.JobManager, string) {
	t.Helper()
	jm := jobmanager.New(cfg)
	srv := httptest.NewServer(jm.Handler())
	t.Cleanup(func() { srv.Close(); jm.Stop() })
	return jm, srv.URL
}

// do sends a request and decodes a JSON answer into out.
func do(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var rd bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&rd).Encode(body)
	}
	req, _ := http.NewRequest(method, url, &rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
	return resp.StatusCode
}

func state(jm *jobmanager.JobManager, want api.JobStatus) func() error {
	return func() error {
		jobs := jm.Jobs()
		if len(jobs) != 1 || jobs[0].State != want {
			return fmt.Errorf("jobs %+v, want one %s", jobs, want)
		}
		return nil
	}
}

func TestJobWaitsForSlots(t *testing.T) {
	jm, _ := start(t, jobmanager.Config{ClusterID: "c", Application: true, Job: jobmanager.JobSpec{Parallelism: 2}})
	jm.SetTaskManagers([]string{"tm-1"})
	eventually(t, "CREATED", state(jm, api.JobStatusCREATED))
	jm.SetTaskManagers([]string{"tm-1", "tm-2"})
	eventually(t, "RUNNING", state(jm, api.JobStatusRUNNING))
	// Losing a TaskManager restarts the job.
	jm.SetTaskManagers([]string{"tm-1"})
	eventually(t, "RESTARTING", state(jm, api.JobStatusRESTARTING))
}

func TestReactiveModeRunsWithTheSlotsThereAre(t *testing.T) {
	jm, url := start(t, jobmanager.Config{ClusterID: "c", Application: true, Reactive: true, Job: jobmanager.JobSpec{JobID: strings.Repeat("a", 32), Parallelism: 4}})
	jm.SetTaskManagers([]string{"tm-1"})
	eventually(t, "RUNNING", state(jm, api.JobStatusRUNNING))
	var d api.JobDetailsInfo
	do(t, "GET", url+"/jobs/"+strings.Repeat("a", 32), nil, &d)
	if len(d.Vertices) != 2 || d.Vertices[0].Parallelism != 1 || d.Vertices[1].Parallelism != 1 {
		t.Fatalf("vertices %+v, want parallelism 1", d.Vertices)
	}
}

// TestParallelismOverridesAtSubmission: a program's vertices have the same
// ids in every submission, and the parallelism overrides it is submitted
// with set their parallelism: the job needs its largest vertex's slots.
func TestParallelismOverridesAtSubmission(t *testing.T) {
	spec := jobmanager.JobSpec{EntryClass: "org.example.Main", Parallelism: 2}
	plain, _ := start(t, jobmanager.Config{ClusterID: "c", Application: true, Job: spec})
	vertices := plain.Jobs()[0].Vertices
	spec.ParallelismOverrides = vertices[0].ID + ":3"
	jm, _ := start(t, jobmanager.Config{ClusterID: "c", Application: true, SlotsPerTaskManager: 2, Job: spec})
	jm.SetTaskManagers([]string{"tm-1"})
	eventually(t, "CREATED", state(jm, api.JobStatusCREATED))
	jm.SetTaskManagers([]string{"tm-1", "tm-2"})
	eventually(t, "RUNNING", state(jm, api.JobStatusRUNNING))
	got := jm.Jobs()[0].Vertices
	if got[0].ID != vertices[0].ID || got[1].ID != vertices[1].ID || got[0].Parallelism != 3 || got[1].Parallelism != 2 {
		t.Fatalf("vertices %+v, want %s at 3 and %s at 2", got, vertices[0].ID, vertices[1].ID)
	}
}

func TestPermanentFailureEndsFailedAndReleasesTaskManagers(t *testing.T) {
	var wanted atomic.Int32
	jm, _ := start(t, jobmanager.Config{ClusterID: "c", Application: true, Native: true, SlotsPerTaskManager: 2,
		Job:   jobmanager.JobSpec{Parallelism: 3},
		Hooks: jobmanager.Hooks{TaskManagersWanted: func(n int) { wanted.Store(int32(n)) }}})
	eventually(t, "2 TaskManagers wanted", func() error {
		if n := wanted.Load(); n != 2 {
			return fmt.Errorf("%d wanted", n)
		}
		return nil
	})
	jm.SetTaskManagers([]string{"tm-1", "tm-2"})
	eventually(t, "RUNNING", state(jm, api.JobStatusRUNNING))
	if err := jm.FailJob(jm.Jobs()[0].ID, "java.lang.IllegalStateException: bad record", true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "FAILED", state(jm, api.JobStatusFAILED))
	eventually(t, "TaskManagers released", func() error {
		if n := wanted.Load(); n != 0 {
			return fmt.Errorf("%d wanted", n)
		}
		return nil
	})
	if err := jm.FailJob(jm.Jobs()[0].ID, "again", true); err == nil {
		t.Fatal("failing a FAILED job succeeded")
	}
}

// TestFinishJobEndsFinishedKeepingItsCheckpoints: FinishJob ends a
// running job FINISHED, its completed checkpoints still reported; a job
// that ended cannot be finished again.
func TestFinishJobEndsFinishedKeepingItsCheckpoints(t *testing.T) {
	jm, _ := start(t, jobmanager.Config{ClusterID: "c", Application: true, CheckpointDir: "s3://chk", CheckpointInterval: 20 * time.Millisecond})
	jm.SetTaskManagers([]string{"tm"})
	eventually(t, "a checkpoint", func() error {
		if n := len(jm.Jobs()[0].Checkpoints); n == 0 {
			return fmt.Errorf("%d checkpoints", n)
		}
		return nil
	})
	id := jm.Jobs()[0].ID
	if err := jm.FinishJob(id); err != nil {
		t.Fatal(err)
	}
	eventually(t, "FINISHED", state(jm, api.JobStatusFINISHED))
	if job := jm.Jobs()[0]; len(job.Checkpoints) == 0 {
		t.Errorf("the finished job's checkpoints are gone: %+v", job)
	}
	if err := jm.FinishJob(id); err == nil {
		t.Fatal("finishing a FINISHED job succeeded")
	}
}

func TestRestartRestoresLatestCheckpoint(t *testing.T) {
	var recorded atomic.Int64
	jm, _ := start(t, jobmanager.Config{ClusterID: "c", Application: true, CheckpointDir: "s3://chk", CheckpointInterval: 20 * time.Millisecond,
		Hooks: jobmanager.Hooks{CheckpointCompleted: func(_ string, cp jobmanager.Checkpoint) { recorded.Store(cp.ID) }}})
	jm.SetTaskManagers([]string{"tm"})
	eventually(t, "a checkpoint", func() error {
		if recorded.Load() < 2 {
			return fmt.Errorf("checkpoint %d", recorded.Load())
		}
		return nil
	})
	job := jm.Jobs()[0]
	if err := jm.FailJob(job.ID, "java.io.IOException: flaky", false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "RUNNING again", state(jm, api.JobStatusRUNNING))
	r := jm.Jobs()[0].Restored
	if r == nil || r.IsSavepoint || r.CheckpointID < 2 || !strings.HasPrefix(r.Path, "s3://chk/"+job.ID+"/chk-") {
		t.Fatalf("restored %+v", r)
	}
}

func TestInjectedSavepointAndCheckpointFailures(t *testing.T) {
	id := strings.Repeat("b", 32)
	jm, url := start(t, jobmanager.Config{ClusterID: "c", Application: true, SavepointDir: "s3://sp", CheckpointInterval: 20 * time.Millisecond, Job: jobmanager.JobSpec{JobID: id}})
	jm.SetTaskManagers([]string{"tm"})
	eventually(t, "RUNNING", state(jm, api.JobStatusRUNNING))
	jm.SetFaults(jobmanager.Faults{SavepointFailure: "java.io.IOException: bucket gone", CheckpointFailure: "checkpoint declined"})

	var trig api.TriggerResponse
	if code := do(t, "POST", url+"/jobs/"+id+"/stop", api.StopWithSavepointRequestBody{}, &trig); code != http.StatusAccepted {
		t.Fatalf("stop: HTTP %d", code)
	}
	awaitSavepointFailure(t, url, id, trig.RequestId, "bucket gone")
	// The failed stop-with-savepoint leaves the job running.
	if got := jm.Jobs()[0].State; got != api.JobStatusRUNNING {
		t.Fatalf("job %s after a failed stop-with-savepoint", got)
	}
	eventually(t, "failed checkpoints counted", func() error {
		var st api.CheckpointingStatistics
		do(t, "GET", url+"/jobs/"+id+"/checkpoints", nil, &st)
		if st.Counts.Failed < 2 {
			return fmt.Errorf("counts %+v", st.Counts)
		}
		return nil
	})
	// Savepoints without any directory are refused at once, as Flink does.
	jm2, url2 := start(t, jobmanager.Config{ClusterID: "d", Application: true, Job: jobmanager.JobSpec{JobID: id}})
	jm2.SetTaskManagers([]string{"tm"})
	var errBody struct{ Errors []string }
	if code := do(t, "POST", url2+"/jobs/"+id+"/savepoints", api.SavepointTriggerRequestBody{}, &errBody); code != http.StatusBadRequest || !strings.Contains(errBody.Errors[0], "state.savepoints.dir") {
		t.Fatalf("savepoint without a directory: HTTP %d %v", code, errBody)
	}
}

// TestHeldCancellationAndSavepoints: HoldCancelling keeps a cancelled job
// CANCELLING, and HoldSavepoints a stop-with-savepoint IN_PROGRESS with
// the job RUNNING, well past their durations; once the fault is lifted
// each goes on as Flink's state machine does (CANCELED; the savepoint
// completed and the job FINISHED).
func TestHeldCancellationAndSavepoints(t *testing.T) {
	id := strings.Repeat("c", 32)
	hold := 200 * time.Millisecond // twenty times the cancellation and the savepoint
	for _, tc := range []struct {
		name   string
		faults jobmanager.Faults
		path   string
		body   any
		held   api.JobStatus
		ended  api.JobStatus
	}{
		{"cancel", jobmanager.Faults{HoldCancelling: true}, "/jobs/" + id + "?mode=cancel", nil, api.JobStatusCANCELLING, api.JobStatusCANCELED},
		{"stop-with-savepoint", jobmanager.Faults{HoldSavepoints: true}, "/jobs/" + id + "/stop", api.StopWithSavepointRequestBody{}, api.JobStatusRUNNING, api.JobStatusFINISHED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jm, url := start(t, jobmanager.Config{ClusterID: "c", Application: true, SavepointDir: "s3://sp", CancelDelay: 10 * time.Millisecond,
				SavepointDuration: 10 * time.Millisecond, Job: jobmanager.JobSpec{JobID: id}})
			jm.SetTaskManagers([]string{"tm"})
			eventually(t, "RUNNING", state(jm, api.JobStatusRUNNING))
			jm.SetFaults(tc.faults)
			method := http.MethodPost
			if tc.body == nil {
				method = http.MethodPatch
			}
			if code := do(t, method, url+tc.path, tc.body, nil); code != http.StatusAccepted {
				t.Fatalf("%s %s: HTTP %d", method, tc.path, code)
			}
			framework.Hold(t, hold, string(tc.held)+" while held", func() error {
				if j := jm.Jobs()[0]; j.State != tc.held || j.Savepoint != nil {
					return fmt.Errorf("job %s, savepoint %+v", j.State, j.Savepoint)
				}
				return nil
			})
			jm.SetFaults(jobmanager.Faults{})
			eventually(t, string(tc.ended)+" once lifted", state(jm, tc.ended))
			if j := jm.Jobs()[0]; (tc.ended == api.JobStatusFINISHED) != (j.Savepoint != nil) {
				t.Errorf("savepoint %+v after %s", j.Savepoint, tc.ended)
			}
		})
	}
}

func TestBoundedJobFinishesOnItsOwn(t *testing.T) {
	jm, _ := start(t, jobmanager.Config{ClusterID: "c", Application: true, Job: jobmanager.JobSpec{Bounded: true, FinishAfter: 50 * time.Millisecond}})
	jm.SetTaskManagers([]string{"tm"})
	eventually(t, "FINISHED", state(jm, api.JobStatusFINISHED))
	if job := jm.Jobs()[0]; job.State != api.JobStatusFINISHED {
		t.Fatalf("job %+v", job)
	}
}

// TestNoCheckpointStatistics: with NoCheckpointStatistics a known job's
// checkpoint statistics are Flink's 404 for a job it keeps none of (a
// batch job), and an unknown job's stay Flink's job-not-found 404.
func TestNoCheckpointStatistics(t *testing.T) {
	id := strings.Repeat("e", 32)
	jm, url := start(t, jobmanager.Config{ClusterID: "c", Application: true, Job: jobmanager.JobSpec{JobID: id}})
	jm.SetTaskManagers([]string{"tm"})
	jm.SetFaults(jobmanager.Faults{NoCheckpointStatistics: true})
	for _, tc := range []struct{ job, want string }{
		{id, "Checkpointing has not been enabled."},
		{strings.Repeat("f", 32), "FlinkJobNotFoundException"},
	} {
		var body struct{ Errors []string }
		if code := do(t, "GET", url+"/jobs/"+tc.job+"/checkpoints", nil, &body); code != http.StatusNotFound || len(body.Errors) != 1 || !strings.Contains(body.Errors[0], tc.want) {
			t.Errorf("job %s: HTTP %d %v, want 404 %q", tc.job, code, body.Errors, tc.want)
		}
	}
}

// TestRestoreNeedsTheSavepoint: a job restores only from a path the
// storage holds. An application's job told to restore from a missing
// savepoint fails to initialize, FAILED with Flink's cause; a session's
// jar run from one answers Flink's error and leaves the job FAILED; a
// savepoint taken is there to restore from until it is disposed of.
func TestRestoreNeedsTheSavepoint(t *testing.T) {
	const missing = "s3://sp/savepoint-gone"
	storage := jobmanager.NewStorage()
	app, appURL := start(t, jobmanager.Config{ClusterID: "app", Application: true, Storage: storage,
		Job: jobmanager.JobSpec{JobID: strings.Repeat("a", 32), Restore: &jobmanager.Restore{Path: missing, IsSavepoint: true}}})
	app.SetTaskManagers([]string{"tm"})
	eventually(t, "FAILED", state(app, api.JobStatusFAILED))
	var ex api.JobExceptionsInfoWithHistory
	do(t, "GET", appURL+"/jobs/"+strings.Repeat("a", 32)+"/exceptions", nil, &ex)
	notFound := "java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory '" + missing + "' on file system 's3'."
	if len(ex.ExceptionHistory.Entries) != 1 || ex.ExceptionHistory.Entries[0].ExceptionName != "org.apache.flink.runtime.client.JobInitializationException" ||
		!strings.Contains(ex.RootException, "Caused by: "+notFound) {
		t.Fatalf("exceptions %+v", ex)
	}
	if job := app.Jobs()[0]; job.Restored != nil {
		t.Fatalf("the failed job restored from %+v", job.Restored)
	}

	session, url := start(t, jobmanager.Config{ClusterID: "session", SavepointDir: "s3://sp", Storage: storage})
	session.SetTaskManagers([]string{"tm-1", "tm-2"})
	run := func(jobID, from string) (int, []string) {
		jarID := upload(t, url)
		var body struct{ Errors []string }
		code := do(t, "POST", url+"/jars/"+jarID+"/run", api.JarRunRequestBody{JobId: jobID, EntryClass: "org.example.Main", SavepointPath: from}, &body)
		return code, body.Errors
	}
	lost := strings.Repeat("b", 32)
	if code, errs := run(lost, missing); code != http.StatusBadRequest || len(errs) != 1 || !strings.Contains(errs[0], "Caused by: "+notFound) ||
		!strings.HasPrefix(errs[0], "org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.") {
		t.Fatalf("run from a missing savepoint: HTTP %d %q", code, errs)
	}
	var st api.JobStatusInfo
	if do(t, "GET", url+"/jobs/"+lost+"/status", nil, &st); st.Status != api.JobStatusFAILED {
		t.Fatalf("the job run from a missing savepoint is %s", st.Status)
	}

	// A savepoint taken is there until it is disposed of.
	taken := strings.Repeat("c", 32)
	if code, errs := run(taken, ""); code != http.StatusOK {
		t.Fatalf("run: HTTP %d %q", code, errs)
	}
	eventually(t, "RUNNING", func() error {
		if do(t, "GET", url+"/jobs/"+taken+"/status", nil, &st); st.Status != api.JobStatusRUNNING {
			return fmt.Errorf("job %s", st.Status)
		}
		return nil
	})
	var trig api.TriggerResponse
	do(t, "POST", url+"/jobs/"+taken+"/savepoints", api.SavepointTriggerRequestBody{}, &trig)
	var path string
	eventually(t, "savepoint", func() error {
		for _, j := range session.Jobs() {
			if j.ID == taken && j.Savepoint != nil {
				path = j.Savepoint.Path
				return nil
			}
		}
		return fmt.Errorf("no savepoint yet")
	})
	if !storage.Holds(path) || !storage.Holds(path+"/_metadata") {
		t.Fatalf("the storage does not hold the savepoint %s", path)
	}
	if code, errs := run(strings.Repeat("d", 32), path); code != http.StatusOK {
		t.Fatalf("run from the savepoint taken: HTTP %d %q", code, errs)
	}
	do(t, "POST", url+"/savepoint-disposal", api.SavepointDisposalRequest{SavepointPath: path}, &trig)
	if storage.Holds(path) {
		t.Fatalf("the disposed savepoint %s is still there", path)
	}

}

// TestDisposalOfAMissingPath: a disposal deletes the savepoint from the
// storage; disposing of a path the storage does not hold fails as
// Flink's does, the operation completed with the failure cause Flink's
// Dispatcher gives (FlinkException caused by FileNotFoundException).
func TestDisposalOfAMissingPath(t *testing.T) {
	const path = "s3://sp/savepoint-0a1b2c-0123456789ab"
	storage := jobmanager.NewStorage()
	storage.Write(path)
	_, url := start(t, jobmanager.Config{ClusterID: "session", SavepointDir: "s3://sp", Storage: storage})
	dispose := func() api.AsynchronousOperationInfo {
		t.Helper()
		var trig api.TriggerResponse
		do(t, "POST", url+"/savepoint-disposal", api.SavepointDisposalRequest{SavepointPath: path}, &trig)
		var res api.AsynchronousOperationResult
		eventually(t, "disposal done", func() error {
			if do(t, "GET", url+"/savepoint-disposal/"+string(trig.RequestId), nil, &res); res.Status.Id != api.IdCOMPLETED {
				return fmt.Errorf("disposal %s", res.Status.Id)
			}
			return nil
		})
		info, _ := res.Operation.AsAsynchronousOperationInfo()
		return info
	}
	if info := dispose(); info.FailureCause.StackTrace != "" || storage.Holds(path) {
		t.Fatalf("disposal of a savepoint there: %+v, still held %v", info.FailureCause, storage.Holds(path))
	}
	info := dispose()
	if !strings.Contains(info.FailureCause.StackTrace, "Caused by: java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory '"+path+"' on file system 's3'.") ||
		!strings.HasPrefix(info.FailureCause.StackTrace, "java.util.concurrent.CompletionException: org.apache.flink.util.FlinkException: Could not dispose savepoint "+path+".") {
		t.Fatalf("disposal of a savepoint gone: %+v", info.FailureCause)
	}
}

// upload uploads a jar (not a zip: the simulator trusts it to hold the
// entry class) and returns its jar id.
func upload(t *testing.T, url string) string {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, _ := w.CreateFormFile("jarfile", "job.jar")
	_, _ = part.Write([]byte("not a zip"))
	_ = w.Close()
	resp, err := http.Post(url+"/jars/upload", w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out api.JarUploadResponseBody
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: HTTP %d %v", resp.StatusCode, err)
	}
	return path.Base(out.Filename)
}

// TestCheckpointTriggersSince117: Flink serves checkpoint triggers from
// 1.17 on; an older JobManager answers 404, as for any path it lacks.
func TestCheckpointTriggersSince117(t *testing.T) {
	id := strings.Repeat("e", 32)
	for _, tc := range []struct {
		version string
		want    int
	}{{"1.16", http.StatusNotFound}, {"1.15.4", http.StatusNotFound}, {"1.17", http.StatusAccepted}, {"1.19.1", http.StatusAccepted}, {"2.0", http.StatusAccepted}} {
		t.Run(tc.version, func(t *testing.T) {
			jm, url := start(t, jobmanager.Config{ClusterID: "c", FlinkVersion: tc.version, Application: true, Job: jobmanager.JobSpec{JobID: id}})
			jm.SetTaskManagers([]string{"tm"})
			eventually(t, "RUNNING", state(jm, api.JobStatusRUNNING))
			var trig api.TriggerResponse
			if code := do(t, "POST", url+"/jobs/"+id+"/checkpoints", api.CheckpointTriggerRequestBody{}, &trig); code != tc.want {
				t.Fatalf("checkpoint trigger: HTTP %d, want %d", code, tc.want)
			}
			var body json.RawMessage
			if code := do(t, "GET", url+"/jobs/"+id+"/checkpoints/"+strings.Repeat("f", 32), nil, &body); tc.want == http.StatusNotFound && code != http.StatusNotFound {
				t.Fatalf("checkpoint status: HTTP %d", code)
			}
			if code := do(t, "GET", url+"/jobs/"+id+"/checkpoints", nil, &body); code != http.StatusOK {
				t.Fatalf("checkpoint statistics: HTTP %d", code)
			}
			if n := jm.CheckpointTriggerRequests(id); n != 1 {
				t.Fatalf("%d checkpoint triggers counted, want 1", n)
			}
		})
	}
}

// TestRequestBodiesByRelease: Flink reads a request body with Jackson
// failing on unknown properties, so a field the JobManager's release does
// not have yet (flinkConfiguration before 1.17, formatType before 1.15,
// claimMode before 1.20) or never had is refused with 400, as Flink's
// AbstractHandler answers; a field the release has is taken.
func TestRequestBodiesByRelease(t *testing.T) {
	const refused = "org.apache.flink.runtime.rest.handler.RestHandlerException: Request did not match expected format "
	runs := []struct {
		body, field string
		since       string
	}{
		{`{"entryClass":"org.example.Main","flinkConfiguration":{"pipeline.name":"x"}}`, "flinkConfiguration", "1.17"},
		{`{"entryClass":"org.example.Main","claimMode":"NO_CLAIM"}`, "claimMode", "1.20"},
		{`{"entryClass":"org.example.Main","restoreMode":"NO_CLAIM"}`, "restoreMode", "1.15"},
		{`{"entryClass":"org.example.Main","bogus":true}`, "bogus", "never"},
	}
	for _, version := range []string{"1.14.6", "1.15.4", "1.16.3", "1.17.2", "1.19.1", "1.20.0"} {
		t.Run(version, func(t *testing.T) {
			_, url := start(t, jobmanager.Config{ClusterID: "session", SavepointDir: "s3://sp", FlinkVersion: version})
			for _, tc := range runs {
				var body struct{ Errors []string }
				code := do(t, "POST", url+"/jars/"+upload(t, url)+"/run", json.RawMessage(tc.body), &body)
				want := tc.since != "never" && !olderThan(version, tc.since)
				switch {
				case want && code != http.StatusOK:
					t.Errorf("run with %s: HTTP %d %q, want 200", tc.field, code, body.Errors)
				case !want && (code != http.StatusBadRequest || len(body.Errors) != 1 || !strings.HasPrefix(body.Errors[0], refused+"JarRunRequestBody.") ||
					!strings.Contains(body.Errors[0], `UnrecognizedPropertyException: Unrecognized field "`+tc.field+`" (class org.apache.flink.runtime.webmonitor.handlers.JarRunRequestBody)`)):
					t.Errorf("run with %s: HTTP %d %q, want 400 naming the field", tc.field, code, body.Errors)
				}
			}
		})
	}
}

// TestSavepointBodiesByRelease: formatType, in the savepoint trigger and
// the stop-with-savepoint bodies from Flink 1.15 on, is refused before.
func TestSavepointBodiesByRelease(t *testing.T) {
	id := strings.Repeat("e", 32)
	for _, tc := range []struct {
		version string
		want    int
	}{{"1.14.6", http.StatusBadRequest}, {"1.15.4", http.StatusAccepted}, {"1.19.1", http.StatusAccepted}} {
		t.Run(tc.version, func(t *testing.T) {
			jm, url := start(t, jobmanager.Config{ClusterID: "c", FlinkVersion: tc.version, SavepointDir: "s3://sp", Application: true, Job: jobmanager.JobSpec{JobID: id}})
			jm.SetTaskManagers([]string{"tm"})
			eventually(t, "RUNNING", state(jm, api.JobStatusRUNNING))
			var body json.RawMessage
			if code := do(t, "POST", url+"/jobs/"+id+"/savepoints", api.SavepointTriggerRequestBody{FormatType: api.NATIVE}, &body); code != tc.want {
				t.Fatalf("savepoint with formatType: HTTP %d %s, want %d", code, body, tc.want)
			}
			if code := do(t, "POST", url+"/jobs/"+id+"/stop", api.StopWithSavepointRequestBody{FormatType: api.NATIVE}, &body); code != tc.want {
				t.Fatalf("stop with formatType: HTTP %d %s, want %d", code, body, tc.want)
			}
		})
	}
}

// olderThan reports whether Flink version is older than major.minor since.
func olderThan(version, since string) bool {
	var vMa, vMi, sMa, sMi int
	fmt.Sscanf(version, "%d.%d", &vMa, &vMi)
	fmt.Sscanf(since, "%d.%d", &sMa, &sMi)
	return vMa < sMa || (vMa == sMa && vMi < sMi)
}

// TestRescaleAbortsSavepointsInFlight: a resource requirements update that
// changes a running job's parallelism restarts its tasks, and Flink's
// checkpoint coordinator fails the savepoint in flight (held here, so only
// the rescale can end it); the job runs on under its id.
func TestRescaleAbortsSavepointsInFlight(t *testing.T) {
	id := strings.Repeat("d", 32)
	jm, url := start(t, jobmanager.Config{ClusterID: "c", Application: true, Adaptive: true, SlotsPerTaskManager: 2, SavepointDir: "s3://sp", CancelDelay: 10 * time.Millisecond,
		Job: jobmanager.JobSpec{JobID: id, Parallelism: 2}})
	jm.SetTaskManagers([]string{"tm"})
	eventually(t, "RUNNING", state(jm, api.JobStatusRUNNING))
	jm.SetFaults(jobmanager.Faults{HoldSavepoints: true})
	var trig api.TriggerResponse
	if code := do(t, "POST", url+"/jobs/"+id+"/savepoints", api.SavepointTriggerRequestBody{}, &trig); code != http.StatusAccepted {
		t.Fatalf("savepoint: HTTP %d", code)
	}
	body := api.JobResourceRequirementsBody{}
	for i, v := range jm.Jobs()[0].Vertices {
		body[v.ID] = api.JobVertexResourceRequirements{Parallelism: api.Parallelism{LowerBound: 1, UpperBound: int32(2 - i%2)}}
	}
	if code := do(t, "PUT", url+"/jobs/"+id+"/resource-requirements", body, nil); code != http.StatusOK {
		t.Fatalf("rescale: HTTP %d", code)
	}
	awaitSavepointFailure(t, url, id, trig.RequestId, "Checkpoint Coordinator is suspending")
	jm.SetFaults(jobmanager.Faults{})
	eventually(t, "RUNNING again", state(jm, api.JobStatusRUNNING))
}

// awaitSavepointFailure waits until savepoint trigger requestID of job id
// is COMPLETED with a failure whose stack trace holds cause, and no
// location.
func awaitSavepointFailure(t *testing.T, url, id, requestID, cause string) {
	t.Helper()
	eventually(t, "savepoint failed with "+cause, func() error {
		var res struct {
			Status    api.QueueStatus   `json:"status"`
			Operation api.SavepointInfo `json:"operation"`
		}
		do(t, "GET", url+"/jobs/"+id+"/savepoints/"+requestID, nil, &res)
		if res.Status.Id != api.IdCOMPLETED || !strings.Contains(res.Operation.FailureCause.StackTrace, cause) || res.Operation.Location != "" {
			return fmt.Errorf("result %+v", res)
		}
		return nil
	})
}
