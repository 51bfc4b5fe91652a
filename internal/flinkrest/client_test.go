package flinkrest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// eventually waits for cond with framework.Eventually.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	framework.Await(t, what, func() error {
		if !cond() {
			return errors.New("not yet")
		}
		return nil
	})
}

// serve starts a simulated JobManager on a real HTTP server, behind a path
// prefix as an ingress would put it, and returns a client of the url
// transport for it.
func serve(t *testing.T, cfg jobmanager.Config) (*jobmanager.JobManager, flinkrest.Client) {
	t.Helper()
	jm := jobmanager.New(cfg)
	mux := http.NewServeMux()
	mux.Handle("/m1/flink/"+cfg.ClusterID+"/", http.StripPrefix("/m1/flink/"+cfg.ClusterID, jm.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); jm.Stop() })
	r, err := flinkrest.NewResolver(flinkrest.Options{Transport: flinkrest.TransportURL, URLTemplate: srv.URL + "/{{.Cluster}}/{{.Namespace}}/{{.Name}}", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Client(flinkrest.Target{Cluster: "m1", Namespace: "flink", Name: cfg.ClusterID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return jm, c
}

func jobState(t *testing.T, c flinkrest.Client, id string) api.JobStatus {
	t.Helper()
	d, err := c.JobDetails(context.Background(), id)
	if err != nil {
		t.Fatalf("job details: %v", err)
	}
	return d.State
}

func waitState(t *testing.T, c flinkrest.Client, id string, want api.JobStatus) {
	t.Helper()
	eventually(t, "job "+string(want), func() bool { return jobState(t, c, id) == want })
}

// waitOperation polls an asynchronous operation until it is done.
func waitOperation(t *testing.T, poll func() (flinkrest.OperationStatus, error)) flinkrest.OperationStatus {
	t.Helper()
	var st flinkrest.OperationStatus
	eventually(t, "operation done", func() bool {
		var err error
		st, err = poll()
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		return st.Done
	})
	return st
}

func TestApplicationClusterCalls(t *testing.T) {
	const jobID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	jm, c := serve(t, jobmanager.Config{
		ClusterID: "basic", FlinkVersion: "1.19.1", Application: true, SlotsPerTaskManager: 2,
		Job:                jobmanager.JobSpec{JobID: jobID, EntryClass: "org.example.Main", Parallelism: 2},
		SavepointDir:       "file:///flink/savepoints",
		CheckpointDir:      "file:///flink/checkpoints",
		CheckpointInterval: 50 * time.Millisecond,
	})
	jm.SetTaskManagers([]string{"basic-taskmanager-1-1"})

	checkClusterInfo(t, c, jobID)
	checkCheckpoints(t, c, jobID)
	checkSavepoints(t, c, jobID)
	checkExceptions(t, jm, c, jobID)
	checkStopAndDispose(t, c, jobID)
}

// checkClusterInfo checks the configuration, the jobs (jobID, which must
// come to run), the overview and the TaskManagers of c's cluster.
func checkClusterInfo(t *testing.T, c flinkrest.Client, jobID string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := c.Config(ctx)
	if err != nil || cfg.FlinkVersion != "1.19.1" || cfg.FlinkRevision == "" {
		t.Fatalf("config = %+v, %v", cfg, err)
	}
	jobs, err := c.ListJobs(ctx)
	if err != nil || len(jobs) != 1 || jobs[0].Jid != jobID || jobs[0].Name != "org.example.Main" {
		t.Fatalf("jobs = %+v, %v", jobs, err)
	}
	waitState(t, c, jobID, api.JobStatusRUNNING)

	ov, err := c.Overview(ctx)
	if err != nil || ov.Taskmanagers != 1 || ov.SlotsTotal != 2 || ov.JobsRunning != 1 {
		t.Fatalf("overview = %+v, %v", ov, err)
	}
	tms, err := c.TaskManagers(ctx)
	if err != nil || len(tms) != 1 || tms[0].Id != "basic-taskmanager-1-1" || tms[0].SlotsNumber != 2 {
		t.Fatalf("task managers = %+v, %v", tms, err)
	}
}

// checkCheckpoints checks periodic and manual checkpoints of job jobID.
func checkCheckpoints(t *testing.T, c flinkrest.Client, jobID string) {
	t.Helper()
	ctx := context.Background()
	// Periodic checkpoints complete on the timer.
	eventually(t, "two periodic checkpoints", func() bool {
		st, err := c.CheckpointStatistics(ctx, jobID)
		if err != nil {
			t.Fatal(err)
		}
		return st.Counts.Completed >= 2 && strings.HasPrefix(st.Latest.Completed.ExternalPath, "file:///flink/checkpoints/"+jobID+"/chk-")
	})

	// A manual checkpoint returns a trigger id, then the checkpoint id.
	trig, err := c.TriggerCheckpoint(ctx, jobID, flinkrest.CheckpointRequest{Type: api.FULL})
	if err != nil {
		t.Fatal(err)
	}
	cp := waitOperation(t, func() (flinkrest.OperationStatus, error) { return c.CheckpointStatus(ctx, jobID, trig) })
	if !cp.Succeeded() || cp.CheckpointID == 0 {
		t.Fatalf("checkpoint = %+v", cp)
	}
}

// checkSavepoints checks a savepoint of job jobID, triggered twice with
// one trigger id, and the checkpoint statistics that record it.
func checkSavepoints(t *testing.T, c flinkrest.Client, jobID string) {
	t.Helper()
	ctx := context.Background()
	// A savepoint returns a trigger id, then a path; the same trigger id
	// is idempotent.
	sp1, err := c.TriggerSavepoint(ctx, jobID, flinkrest.SavepointRequest{TriggerID: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	sp2, err := c.TriggerSavepoint(ctx, jobID, flinkrest.SavepointRequest{TriggerID: "0123456789abcdef0123456789abcdef"})
	if err != nil || sp1 != sp2 {
		t.Fatalf("repeated trigger id gave %q and %q (%v)", sp1, sp2, err)
	}
	sp := waitOperation(t, func() (flinkrest.OperationStatus, error) { return c.SavepointStatus(ctx, jobID, sp1) })
	if !sp.Succeeded() || !strings.HasPrefix(sp.Location, "file:///flink/savepoints/savepoint-a1b2c3-") {
		t.Fatalf("savepoint = %+v", sp)
	}
	st, err := c.CheckpointStatistics(ctx, jobID)
	if err != nil || st.Latest.Savepoint.ExternalPath != sp.Location || !st.Latest.Savepoint.IsSavepoint {
		t.Fatalf("latest savepoint = %+v, %v", st.Latest.Savepoint, err)
	}
}

// checkExceptions fails job jobID of jm once and checks that c reports the
// restart with its cause.
func checkExceptions(t *testing.T, jm *jobmanager.JobManager, c flinkrest.Client, jobID string) {
	t.Helper()
	ctx := context.Background()
	// Exceptions: a restart is recorded with its cause.
	if err := jm.FailJob(jobID, "java.lang.RuntimeException: boom", false); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, jobID, api.JobStatusRUNNING)
	ex, err := c.Exceptions(ctx, jobID)
	if err != nil || len(ex.ExceptionHistory.Entries) != 1 || !strings.Contains(ex.RootException, "boom") {
		t.Fatalf("exceptions = %+v, %v", ex, err)
	}
	if e := ex.ExceptionHistory.Entries[0]; e.ExceptionName != "java.lang.RuntimeException" || !strings.HasPrefix(e.Stacktrace, "java.lang.RuntimeException: boom\n") {
		t.Errorf("history entry: name %q, stack trace %q; want the class, and the cause as the trace's first line", e.ExceptionName, e.Stacktrace)
	}
}

// checkStopAndDispose stops job jobID with a savepoint, disposes of the
// savepoint and checks that the application cluster has no jar endpoints.
func checkStopAndDispose(t *testing.T, c flinkrest.Client, jobID string) {
	t.Helper()
	ctx := context.Background()
	// Stop with savepoint: the job ends FINISHED with a savepoint path.
	stop, err := c.StopWithSavepoint(ctx, jobID, flinkrest.SavepointRequest{TargetDirectory: "s3://bucket/sp", Drain: true})
	if err != nil {
		t.Fatal(err)
	}
	final := waitOperation(t, func() (flinkrest.OperationStatus, error) { return c.SavepointStatus(ctx, jobID, stop) })
	if !final.Succeeded() || !strings.HasPrefix(final.Location, "s3://bucket/sp/savepoint-") {
		t.Fatalf("stop with savepoint = %+v", final)
	}
	if got := jobState(t, c, jobID); got != api.JobStatusFINISHED {
		t.Fatalf("after stop-with-savepoint job is %s", got)
	}

	// Savepoint disposal.
	disp, err := c.DisposeSavepoint(ctx, final.Location)
	if err != nil {
		t.Fatal(err)
	}
	if d := waitOperation(t, func() (flinkrest.OperationStatus, error) { return c.DisposalStatus(ctx, disp) }); !d.Succeeded() {
		t.Fatalf("disposal = %+v", d)
	}

	// Application clusters have no jar endpoints, as in Flink.
	if _, err := c.UploadJar(ctx, "x.jar", strings.NewReader("PK")); !flinkrest.IsNotFound(err) {
		t.Fatalf("upload to an application cluster: %v", err)
	}
}

func TestSessionClusterCalls(t *testing.T) {
	ctx := context.Background()
	jm, c := serve(t, jobmanager.Config{ClusterID: "session", SavepointDir: "file:///sp"})
	jm.SetTaskManagers([]string{"tm-1", "tm-2"})

	jarID, err := c.UploadJar(ctx, "/opt/flink/examples/streaming/StateMachineExample.jar", strings.NewReader("PK\x03\x04 jar bytes"))
	if err != nil || !strings.HasSuffix(jarID, "_StateMachineExample.jar") {
		t.Fatalf("upload = %q, %v", jarID, err)
	}
	jobID, err := c.RunJar(ctx, jarID, api.JarRunRequestBody{EntryClass: "org.example.Main", Parallelism: 2, ProgramArgsList: []string{"--x", "1"},
		SavepointPath: "file:///sp/savepoint-old", AllowNonRestoredState: true})
	if err != nil || len(jobID) != 32 {
		t.Fatalf("run = %q, %v", jobID, err)
	}
	waitState(t, c, jobID, api.JobStatusRUNNING)
	st, err := c.CheckpointStatistics(ctx, jobID)
	if err != nil || st.Latest.Restored.ExternalPath != "file:///sp/savepoint-old" || !st.Latest.Restored.IsSavepoint || st.Counts.Restored != 1 {
		t.Fatalf("restored = %+v, %v", st.Latest.Restored, err)
	}
	got := jm.Jobs()
	if len(got) != 1 || got[0].Spec.Args[1] != "1" || !got[0].Restored.AllowNonRestoredState {
		t.Fatalf("submitted job = %+v", got)
	}

	if err := c.CancelJob(ctx, jobID); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, jobID, api.JobStatusCANCELED)
	// Cancelling a terminated job is refused, with Flink's message.
	err = c.CancelJob(ctx, jobID)
	if flinkrest.KindOf(err) != flinkrest.KindRejected || !strings.Contains(err.Error(), "globally terminal state CANCELED") {
		t.Fatalf("second cancel: %v", err)
	}
	// A savepoint of a job that is not running fails with a cause.
	trig, err := c.TriggerSavepoint(ctx, jobID, flinkrest.SavepointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if sp := waitOperation(t, func() (flinkrest.OperationStatus, error) { return c.SavepointStatus(ctx, jobID, trig) }); sp.Succeeded() || !strings.Contains(sp.Failure, "Not all required tasks are currently running") {
		t.Fatalf("savepoint of a cancelled job = %+v", sp)
	}

	if err := c.DeleteJar(ctx, jarID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RunJar(ctx, jarID, api.JarRunRequestBody{}); flinkrest.KindOf(err) != flinkrest.KindRejected || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("run of a deleted jar: %v", err)
	}
}

// sessionWithJar serves a simulated session cluster with a TaskManager
// and a jar uploaded; it returns the cluster, its client and the jar's id.
func sessionWithJar(t *testing.T, ctx context.Context) (*jobmanager.JobManager, flinkrest.Client, string) {
	t.Helper()
	jm, c := serve(t, jobmanager.Config{ClusterID: "session"})
	jm.SetTaskManagers([]string{"tm-1"})
	jarID, err := c.UploadJar(ctx, "job.jar", strings.NewReader("PK\x03\x04 jar bytes"))
	if err != nil {
		t.Fatal(err)
	}
	return jm, c, jarID
}

// TestLostRunAnswer: the simulator's LoseRunAnswers runs the job but holds
// the answer until the faults change, then resets the connection, as a
// JobManager whose answer is lost after it accepted the job: the client
// sees an error that is no refusal, the job runs meanwhile, and running
// its id again is refused as a duplicate.
func TestLostRunAnswer(t *testing.T) {
	ctx := context.Background()
	jm, c, jarID := sessionWithJar(t, ctx)
	jm.SetFaults(jobmanager.Faults{LoseRunAnswers: true})
	const id = "0123456789abcdef0123456789abcdef"
	run := api.JarRunRequestBody{JobId: id, EntryClass: "org.example.Main"}
	lost := make(chan error, 1)
	go func() {
		_, err := c.RunJar(ctx, jarID, run)
		lost <- err
	}()
	eventually(t, "the job running, its answer held", func() bool {
		d, err := c.JobDetails(ctx, id)
		return err == nil && d.State == api.JobStatusRUNNING
	})
	select {
	case err := <-lost:
		t.Fatalf("run answered while its answer is held: %v", err)
	default:
	}
	jm.SetFaults(jobmanager.Faults{})
	if err := <-lost; err == nil || flinkrest.KindOf(err) == flinkrest.KindRejected || flinkrest.IsTimeout(err) {
		t.Fatalf("lost answer: %v, want the connection reset", err)
	}
	if _, err := c.RunJar(ctx, jarID, run); !flinkrest.IsDuplicateSubmission(err) {
		t.Fatalf("run again: %v, want a duplicate submission", err)
	}
}

// TestKnownJobIDsAreRefusedAsDuplicates: running a job id the session
// cluster knows is refused as Flink's Dispatcher refuses it, while the job
// runs, after it ended and after its details expired (the job result store
// still holds it), and the client recognises each refusal as a duplicate
// submission with a one-line message.
func TestKnownJobIDsAreRefusedAsDuplicates(t *testing.T) {
	ctx := context.Background()
	jm, c, jarID := sessionWithJar(t, ctx)
	const id = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	run := api.JarRunRequestBody{JobId: id, EntryClass: "org.example.Main"}
	if _, err := c.RunJar(ctx, jarID, run); err != nil {
		t.Fatal(err)
	}
	checkDuplicate := func(when string) {
		t.Helper()
		_, err := c.RunJar(ctx, jarID, run)
		if !flinkrest.IsDuplicateSubmission(err) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("run %s: %v, want a one-line duplicate submission error", when, err)
		}
	}
	checkDuplicate("while the job runs")
	if err := c.CancelJob(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, id, api.JobStatusCANCELED)
	checkDuplicate("after the job was cancelled")
	jm.ExpireJobs()
	if _, err := c.JobDetails(ctx, id); !flinkrest.IsNotFound(err) {
		t.Fatalf("details of an expired job: %v, want NotFound", err)
	}
	checkDuplicate("after the job's details expired")
	if runs, _ := jm.JobRequests(id); runs != 4 {
		t.Fatalf("%d runs counted, want 4", runs)
	}
	if n := len(jm.Jobs()); n != 0 {
		t.Fatalf("%d jobs after expiry, want none", n)
	}
}

// TestDisposalOfAMissingSavepoint: Flink's disposal of a path with no
// savepoint (its files deleted already) completes with a failure whose
// cause chain ends in FileNotFoundException; the status names that class
// among its exceptions and keeps the root cause in its message. A
// savepoint that is there is disposed of, and a second disposal fails so.
func TestDisposalOfAMissingSavepoint(t *testing.T) {
	ctx := context.Background()
	storage := jobmanager.NewStorage()
	_, c := serve(t, jobmanager.Config{ClusterID: "session", Storage: storage})
	const path = "s3://bucket/sp/savepoint-0a1b2c-0123456789ab"
	dispose := func() flinkrest.OperationStatus {
		t.Helper()
		id, err := c.DisposeSavepoint(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		return waitOperation(t, func() (flinkrest.OperationStatus, error) { return c.DisposalStatus(ctx, id) })
	}
	storage.Write(path)
	if st := dispose(); !st.Succeeded() || st.FailedWith("java.io.FileNotFoundException") {
		t.Fatalf("disposal of a savepoint there: %+v", st)
	}
	st := dispose()
	if st.Succeeded() || !st.FailedWith("java.io.FileNotFoundException") || !st.FailedWith("org.apache.flink.util.FlinkException") ||
		!strings.Contains(st.Failure, "Could not dispose savepoint "+path) ||
		!strings.Contains(st.Failure, "caused by: java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory '"+path+"' on file system 's3'.") {
		t.Fatalf("disposal of a savepoint gone: %+v", st)
	}
}
