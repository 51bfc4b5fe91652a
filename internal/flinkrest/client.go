package flinkrest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// Client is what the operator asks of a Flink JobManager. Every method
// bounds its call by the client's timeout and returns an *Error on failure.
type Client interface {
	// Config returns the cluster's dashboard configuration: Flink version
	// and revision (GET /config).
	Config(ctx context.Context) (*api.DashboardConfiguration, error)
	// Overview returns task manager, slot and job counts (GET /overview).
	Overview(ctx context.Context) (*api.ClusterOverviewWithVersion, error)
	// ListJobs returns an overview of every job (GET /jobs/overview).
	ListJobs(ctx context.Context) ([]api.JobDetails, error)
	// JobDetails returns one job (GET /jobs/{id}).
	JobDetails(ctx context.Context, jobID string) (*api.JobDetailsInfo, error)
	// CancelJob cancels a job (PATCH /jobs/{id}?mode=cancel).
	CancelJob(ctx context.Context, jobID string) error
	// StopWithSavepoint stops a job after a final savepoint and returns the
	// trigger id to poll with SavepointStatus (POST /jobs/{id}/stop).
	StopWithSavepoint(ctx context.Context, jobID string, req SavepointRequest) (string, error)
	// TriggerSavepoint starts a savepoint and returns its trigger id
	// (POST /jobs/{id}/savepoints).
	TriggerSavepoint(ctx context.Context, jobID string, req SavepointRequest) (string, error)
	// SavepointStatus polls a savepoint or stop-with-savepoint trigger
	// (GET /jobs/{id}/savepoints/{trigger}).
	SavepointStatus(ctx context.Context, jobID, triggerID string) (OperationStatus, error)
	// TriggerCheckpoint starts a checkpoint and returns its trigger id
	// (POST /jobs/{id}/checkpoints).
	TriggerCheckpoint(ctx context.Context, jobID string, req CheckpointRequest) (string, error)
	// CheckpointStatus polls a checkpoint trigger
	// (GET /jobs/{id}/checkpoints/{trigger}).
	CheckpointStatus(ctx context.Context, jobID, triggerID string) (OperationStatus, error)
	// JobMetrics returns the values of the job's metrics names, by name;
	// a metric the job does not have is absent.
	JobMetrics(ctx context.Context, jobID string, names ...string) (map[string]string, error)
	// CheckpointStatistics returns checkpoint counts, the latest completed,
	// failed, restored checkpoints and savepoint (GET /jobs/{id}/checkpoints).
	CheckpointStatistics(ctx context.Context, jobID string) (*api.CheckpointingStatistics, error)
	// Exceptions returns the job's root exception and exception history
	// (GET /jobs/{id}/exceptions).
	Exceptions(ctx context.Context, jobID string) (*api.JobExceptionsInfoWithHistory, error)
	// TaskManagers lists the registered task managers (GET /taskmanagers).
	TaskManagers(ctx context.Context) ([]api.TaskManagerInfo, error)
	// UploadJar uploads a jar to a session cluster and returns its jar id
	// (POST /jars/upload).
	UploadJar(ctx context.Context, fileName string, jar io.Reader) (string, error)
	// RunJar submits a job from an uploaded jar and returns the job id
	// (POST /jars/{jar}/run).
	RunJar(ctx context.Context, jarID string, req api.JarRunRequestBody) (string, error)
	// DeleteJar removes an uploaded jar (DELETE /jars/{jar}).
	DeleteJar(ctx context.Context, jarID string) error
	// DisposeSavepoint starts deleting a savepoint and returns the trigger
	// id (POST /savepoint-disposal).
	DisposeSavepoint(ctx context.Context, savepointPath string) (string, error)
	// DisposalStatus polls a savepoint disposal
	// (GET /savepoint-disposal/{trigger}).
	DisposalStatus(ctx context.Context, triggerID string) (OperationStatus, error)
	// ResourceRequirements returns the parallelism bounds of the job's
	// vertices, by vertex id (GET /jobs/{id}/resource-requirements; the
	// adaptive scheduler only).
	ResourceRequirements(ctx context.Context, jobID string) (map[string]VertexParallelism, error)
	// UpdateResourceRequirements sets them, every vertex of the job named
	// (PUT /jobs/{id}/resource-requirements): the job rescales in place.
	UpdateResourceRequirements(ctx context.Context, jobID string, reqs map[string]VertexParallelism) error
}

// SavepointRequest configures a savepoint or a stop-with-savepoint.
type SavepointRequest struct {
	// TargetDirectory overrides the cluster's state.savepoints.dir.
	TargetDirectory string
	// FormatType is CANONICAL (default) or NATIVE.
	FormatType api.SavepointFormatType
	// TriggerID, if set, makes the trigger idempotent: Flink answers a
	// repeated trigger id with the same operation.
	TriggerID string
	// Drain emits MAX_WATERMARK before stopping (stop-with-savepoint only).
	Drain bool
	// CancelJob cancels the job after the savepoint (trigger only).
	CancelJob bool
}

// CheckpointRequest configures a manually triggered checkpoint.
type CheckpointRequest struct {
	// Type is CONFIGURED (default), FULL or INCREMENTAL.
	Type api.CheckpointType
	// TriggerID, if set, makes the trigger idempotent.
	TriggerID string
}

// OperationStatus is the state of an asynchronous Flink operation.
// Invariant: Failure and Location/CheckpointID are set only when Done.
type OperationStatus struct {
	// Done is true once the operation completed, successfully or not.
	Done bool
	// Failure is the failure cause (class and message) when it failed.
	Failure string
	// Location is the savepoint path of a completed savepoint.
	Location string
	// CheckpointID is the id of a completed checkpoint.
	CheckpointID int64
	// Exceptions names the Java exception classes of the failure, outermost
	// first (its stack trace's first line and "Caused by:" lines, at most
	// maxExceptions). Not part of Failure.
	Exceptions []string
}

// Succeeded reports whether the operation completed without failure.
func (s OperationStatus) Succeeded() bool { return s.Done && s.Failure == "" }

// FailedWith reports whether the operation failed with an exception of
// class (fully qualified) anywhere in the failure's cause chain.
func (s OperationStatus) FailedWith(class string) bool {
	return s.Failure != "" && slices.Contains(s.Exceptions, class)
}

// DefaultTimeout bounds every call unless WithTimeout says otherwise.
const DefaultTimeout = 10 * time.Second

// Option configures a Client.
type Option func(*client)

// WithTimeout bounds every call of the client; d <= 0 keeps
// DefaultTimeout (it would expire every call before it starts).
func WithTimeout(d time.Duration) Option {
	return func(c *client) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// MinUploadRate is the slowest rate, in bytes a second, a jar upload is
// given time for: an upload's deadline is the client's timeout plus the
// jar's size at this rate (jars of up to MaxUploadBytes go through the
// member apiserver's proxy, far beyond what the general timeout covers).
const MinUploadRate = 1 << 20

// MinUploadRateFloor is the lowest upload rate the hub accepts, so an
// upload's budget stays bounded (a 256 MiB jar: about 68 minutes).
const MinUploadRateFloor = 64 << 10

// UploadBudget is the deadline of the upload of a jar of size bytes:
// timeout plus size at rate bytes a second.
func UploadBudget(size int64, timeout time.Duration, rate int64) time.Duration {
	return timeout + time.Duration(float64(size)/float64(rate)*float64(time.Second))
}

// MaxUploadBytes is the jar size an upload's deadline assumes when the
// reader cannot say its size: the largest jar the hub fetches by default.
const MaxUploadBytes = 256 << 20

// WithUploadRate sets the slowest upload rate, in bytes a second, an
// upload's deadline allows for; rate <= 0 keeps MinUploadRate.
func WithUploadRate(rate int64) Option {
	return func(c *client) {
		if rate > 0 {
			c.uploadRate = rate
		}
	}
}

// New returns a Client for the JobManager at the endpoint. The endpoint's
// transport is wrapped with OpenTelemetry instrumentation, so every call is
// a child span of the caller's context. Answers are treated as hostile:
// redirects are refused (RedirectError), bodies beyond MaxResponseBytes
// fail (BodyTooLargeError), and the call's timeout covers reading the body.
func New(ep Endpoint, opts ...Option) (Client, error) {
	c := &client{timeout: DefaultTimeout, uploadRate: MinUploadRate}
	for _, o := range opts {
		o(c)
	}
	hc := &http.Client{Transport: limitBodies{next: instrument(ep.Transport)}, CheckRedirect: noRedirects}
	gen, err := api.NewClientWithResponses(ep.BaseURL, api.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("flink rest client: %w", err)
	}
	c.api = gen
	return c, nil
}

type client struct {
	api     api.ClientWithResponsesInterface
	timeout time.Duration
	// uploadRate is the slowest upload rate, in bytes a second, a jar
	// upload's deadline allows for.
	uploadRate int64
}

// response is what every generated response type offers.
type response interface {
	StatusCode() int
	GetBody() []byte
	ContentType() string
}

// call runs one generated call under the client's timeout, which covers
// reading the response body, and turns every failure, including a non-2xx
// status, into an *Error.
func call[R response](c *client, ctx context.Context, op string, f func(context.Context, ...api.RequestEditorFn) (R, error)) (R, error) {
	return callWithin(ctx, op, c.timeout, f)
}

// callWithin is call under timeout rather than the client's.
func callWithin[R response](ctx context.Context, op string, timeout time.Duration, f func(context.Context, ...api.RequestEditorFn) (R, error)) (R, error) {
	ctx, cancel := context.WithTimeout(withOperation(ctx, op), timeout)
	defer cancel()
	r, err := f(ctx)
	if err != nil {
		var zero R
		return zero, transportError(op, ctx, err)
	}
	if code := r.StatusCode(); code < 200 || code > 299 {
		return r, statusError(op, code, r.ContentType(), r.GetBody())
	}
	return r, nil
}

// need returns a BadResponse error when a 2xx response lacks its JSON body.
func need[T any](op string, r response, v *T) (*T, error) {
	if v == nil {
		return nil, badResponse(op, r.StatusCode(), r.ContentType(), r.GetBody(), "no JSON body where one was expected")
	}
	return v, nil
}

func (c *client) Config(ctx context.Context) (*api.DashboardConfiguration, error) {
	const op = "getDashboardConfiguration"
	r, err := call(c, ctx, op, c.api.GetDashboardConfigurationWithResponse)
	if err != nil {
		return nil, err
	}
	v, err := need(op, r, r.JSON200)
	if err != nil {
		return nil, err
	}
	v.FlinkVersion, v.FlinkRevision = boundedtext.Quote(v.FlinkVersion, MaxVersionBytes), boundedtext.Quote(v.FlinkRevision, MaxVersionBytes)
	return v, nil
}

func (c *client) Overview(ctx context.Context) (*api.ClusterOverviewWithVersion, error) {
	const op = "getClusterOverview"
	r, err := call(c, ctx, op, c.api.GetClusterOverviewWithResponse)
	if err != nil {
		return nil, err
	}
	return need(op, r, r.JSON200)
}

func (c *client) ListJobs(ctx context.Context) ([]api.JobDetails, error) {
	const op = "getJobsOverview"
	r, err := call(c, ctx, op, c.api.GetJobsOverviewWithResponse)
	if err != nil {
		return nil, err
	}
	v, err := need(op, r, r.JSON200)
	if err != nil {
		return nil, err
	}
	for i := range v.Jobs {
		if err := checkJob(op, &v.Jobs[i].Jid, v.Jobs[i].State, &v.Jobs[i].Name); err != nil {
			return nil, err
		}
	}
	return v.Jobs, nil
}

func (c *client) JobDetails(ctx context.Context, jobID string) (*api.JobDetailsInfo, error) {
	const op = "getJobDetails"
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.GetJobDetailsResponse, error) {
		return c.api.GetJobDetailsWithResponse(ctx, jobID, e...)
	})
	if err != nil {
		return nil, err
	}
	v, err := need(op, r, r.JSON200)
	if err != nil {
		return nil, err
	}
	if err := checkJob(op, &v.Jid, v.State, &v.Name); err != nil {
		return nil, err
	}
	return v, nil
}

// terminationModeCancel is what Flink's own client sends: the spec's enum
// says "CANCEL", Flink's handler expects lower case.
const terminationModeCancel api.TerminationMode = "cancel"

func (c *client) CancelJob(ctx context.Context, jobID string) error {
	_, err := call(c, ctx, "cancelJob", func(ctx context.Context, e ...api.RequestEditorFn) (*api.CancelJobResponse, error) {
		return c.api.CancelJobWithResponse(ctx, jobID, &api.CancelJobParams{Mode: terminationModeCancel}, e...)
	})
	return err
}

func (c *client) StopWithSavepoint(ctx context.Context, jobID string, req SavepointRequest) (string, error) {
	const op = "triggerStopWithSavepoint"
	body := api.StopWithSavepointRequestBody{TargetDirectory: req.TargetDirectory, FormatType: req.FormatType, TriggerId: req.TriggerID, Drain: req.Drain}
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.TriggerStopWithSavepointResponse, error) {
		return c.api.TriggerStopWithSavepointWithResponse(ctx, jobID, body, e...)
	})
	if err != nil {
		return "", err
	}
	return triggerID(op, r, r.JSON202)
}

func (c *client) TriggerSavepoint(ctx context.Context, jobID string, req SavepointRequest) (string, error) {
	const op = "triggerSavepoint"
	body := api.SavepointTriggerRequestBody{TargetDirectory: req.TargetDirectory, FormatType: req.FormatType, TriggerId: req.TriggerID, CancelJob: req.CancelJob}
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.TriggerSavepointResponse, error) {
		return c.api.TriggerSavepointWithResponse(ctx, jobID, body, e...)
	})
	if err != nil {
		return "", err
	}
	return triggerID(op, r, r.JSON202)
}

func (c *client) SavepointStatus(ctx context.Context, jobID, trigger string) (OperationStatus, error) {
	const op = "getSavepointStatus"
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.GetSavepointStatusResponse, error) {
		return c.api.GetSavepointStatusWithResponse(ctx, jobID, trigger, e...)
	})
	return operationStatus(op, r, err, func(o *api.AsynchronousOperationResult) (OperationStatus, error) {
		info, err := o.Operation.AsSavepointInfo()
		st := failed(info.FailureCause)
		st.Location = info.Location
		return st, err
	})
}

func (c *client) TriggerCheckpoint(ctx context.Context, jobID string, req CheckpointRequest) (string, error) {
	const op = "triggerCheckpoint"
	body := api.CheckpointTriggerRequestBody{CheckpointType: req.Type, TriggerId: req.TriggerID}
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.TriggerCheckpointResponse, error) {
		return c.api.TriggerCheckpointWithResponse(ctx, jobID, body, e...)
	})
	if err != nil {
		return "", err
	}
	return triggerID(op, r, r.JSON202)
}

func (c *client) CheckpointStatus(ctx context.Context, jobID, trigger string) (OperationStatus, error) {
	const op = "getCheckpointStatus"
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.GetCheckpointStatusResponse, error) {
		return c.api.GetCheckpointStatusWithResponse(ctx, jobID, trigger, e...)
	})
	return operationStatus(op, r, err, func(o *api.AsynchronousOperationResult) (OperationStatus, error) {
		info, err := o.Operation.AsCheckpointInfo()
		st := failed(info.FailureCause)
		st.CheckpointID = info.CheckpointId
		return st, err
	})
}

func (c *client) CheckpointStatistics(ctx context.Context, jobID string) (*api.CheckpointingStatistics, error) {
	const op = "getCheckpointingStatistics"
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.GetCheckpointingStatisticsResponse, error) {
		return c.api.GetCheckpointingStatisticsWithResponse(ctx, jobID, e...)
	})
	if err != nil {
		return nil, err
	}
	v, err := need(op, r, r.JSON200)
	if err != nil {
		return nil, err
	}
	for _, p := range []string{v.Latest.Completed.ExternalPath, v.Latest.Savepoint.ExternalPath, v.Latest.Restored.ExternalPath} {
		if err := checkPath(op, p); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func (c *client) Exceptions(ctx context.Context, jobID string) (*api.JobExceptionsInfoWithHistory, error) {
	const op = "getJobExceptions"
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.GetJobExceptionsResponse, error) {
		// nil params: the generated code would send zero-valued filters.
		return c.api.GetJobExceptionsWithResponse(ctx, jobID, nil, e...)
	})
	if err != nil {
		return nil, err
	}
	return need(op, r, r.JSON200)
}

func (c *client) JobMetrics(ctx context.Context, jobID string, names ...string) (map[string]string, error) {
	const op = "getJobMetrics"
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.GetJobMetricsResponse, error) {
		return c.api.GetJobMetricsWithResponse(ctx, jobID, &api.GetJobMetricsParams{Get: strings.Join(names, ",")}, e...)
	})
	if err != nil {
		return nil, err
	}
	v, err := need(op, r, r.JSON200)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(*v))
	for _, m := range *v {
		out[m.Id] = m.Value
	}
	return out, nil
}

func (c *client) TaskManagers(ctx context.Context) ([]api.TaskManagerInfo, error) {
	const op = "getTaskManagers"
	r, err := call(c, ctx, op, c.api.GetTaskManagersWithResponse)
	if err != nil {
		return nil, err
	}
	v, err := need(op, r, r.JSON200)
	if err != nil {
		return nil, err
	}
	return v.Taskmanagers, nil
}

func (c *client) UploadJar(ctx context.Context, fileName string, jar io.Reader) (string, error) {
	const op = "uploadJar"
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		part, err := mw.CreateFormFile("jarfile", path.Base(fileName))
		if err == nil {
			_, err = io.Copy(part, jar)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	cut := &UploadCutError{Size: jarSize(jar), Budget: c.uploadTimeout(jar), Timeout: c.timeout, Rate: c.uploadRate}
	ctx, body, stop := c.watchUpload(ctx, pr, cut)
	r, err := callWithin(ctx, op, cut.Budget, func(ctx context.Context, e ...api.RequestEditorFn) (*api.UploadJarResponse, error) {
		return c.api.UploadJarWithBodyWithResponse(ctx, mw.FormDataContentType(), body, e...)
	})
	stop()
	pr.Close()
	if err != nil {
		return "", cut.explain(ctx, err)
	}
	v, err := need(op, r, r.JSON200)
	if err != nil {
		return "", err
	}
	// Flink answers with the stored file's path; the jar id is its base name.
	id := path.Base(v.Filename)
	if v.Filename == "" || id == "/" || id == "." {
		return "", badResponse(op, r.StatusCode(), r.ContentType(), nil, "upload response without a file name")
	}
	if len(id) > MaxJarIDBytes {
		return "", &Error{Kind: KindBadResponse, Op: op, Message: fmt.Sprintf("JobManager answered a jar id of %d bytes, over %d: %s", len(id), MaxJarIDBytes, quoted(id))}
	}
	return id, nil
}

// uploadTimeout is the deadline of jar's upload: the client's timeout
// plus the jar's size at the slowest upload rate allowed for.
func (c *client) uploadTimeout(jar io.Reader) time.Duration {
	return UploadBudget(jarSize(jar), c.timeout, c.uploadRate)
}

// jarSize is how many bytes jar holds, as it can say (Len, Size or Stat,
// as bytes.Reader, strings.Reader and os.File do), else MaxUploadBytes.
func jarSize(jar io.Reader) int64 {
	switch j := jar.(type) {
	case interface{ Len() int }:
		return int64(j.Len())
	case interface{ Size() int64 }:
		return j.Size()
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := j.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	}
	return MaxUploadBytes
}

func (c *client) RunJar(ctx context.Context, jarID string, req api.JarRunRequestBody) (string, error) {
	const op = "submitJobFromJar"
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.SubmitJobFromJarResponse, error) {
		// nil params: everything goes in the body, which Flink prefers.
		return c.api.SubmitJobFromJarWithResponse(ctx, jarID, nil, req, e...)
	})
	if err != nil {
		return "", err
	}
	v, err := need(op, r, r.JSON200)
	if err != nil {
		return "", err
	}
	if v.Jobid == "" {
		return "", badResponse(op, r.StatusCode(), r.ContentType(), nil, "run response without a job id")
	}
	if !flinkIDPattern.MatchString(v.Jobid) {
		return "", &Error{Kind: KindBadResponse, Op: op, Message: "JobManager answered a job id that is not a Flink job id: " + quoted(v.Jobid)}
	}
	return v.Jobid, nil
}

func (c *client) DeleteJar(ctx context.Context, jarID string) error {
	_, err := call(c, ctx, "deleteJar", func(ctx context.Context, e ...api.RequestEditorFn) (*api.DeleteJarResponse, error) {
		return c.api.DeleteJarWithResponse(ctx, jarID, e...)
	})
	return err
}

func (c *client) DisposeSavepoint(ctx context.Context, savepointPath string) (string, error) {
	const op = "triggerSavepointDisposal"
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.TriggerSavepointDisposalResponse, error) {
		return c.api.TriggerSavepointDisposalWithResponse(ctx, api.SavepointDisposalRequest{SavepointPath: savepointPath}, e...)
	})
	if err != nil {
		return "", err
	}
	return triggerID(op, r, r.JSON200)
}

func (c *client) DisposalStatus(ctx context.Context, trigger string) (OperationStatus, error) {
	const op = "getSavepointDisposalStatus"
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.GetSavepointDisposalStatusResponse, error) {
		return c.api.GetSavepointDisposalStatusWithResponse(ctx, trigger, e...)
	})
	return operationStatus(op, r, err, func(o *api.AsynchronousOperationResult) (OperationStatus, error) {
		info, err := o.Operation.AsAsynchronousOperationInfo()
		return failed(info.FailureCause), err
	})
}

// triggerID returns the request id of a trigger response.
func triggerID(op string, r response, v *api.TriggerResponse) (string, error) {
	if v == nil || v.RequestId == "" {
		return "", badResponse(op, r.StatusCode(), r.ContentType(), r.GetBody(), "no request-id in the trigger response")
	}
	if err := checkTrigger(op, string(v.RequestId)); err != nil {
		return "", err
	}
	return string(v.RequestId), nil
}

// failed is the status of an operation that failed with t (none when t
// is empty): its failure cause, and the root cause of a stack trace with
// causes, and the exception classes of the trace.
func failed(t api.SerializedThrowable) OperationStatus {
	st := OperationStatus{Failure: failureCause(t)}
	if st.Failure == "" {
		return st
	}
	var root string
	st.Exceptions, root = traceExceptions(t.StackTrace, nil)
	if len(st.Exceptions) == 0 && t.Class != "" {
		st.Exceptions = []string{t.Class}
	}
	st.Failure = withRoot(st.Failure, root)
	return st
}

// failureCause renders a serialized Java throwable as "class: first line".
func failureCause(t api.SerializedThrowable) string {
	msg := firstLine(t.StackTrace)
	switch {
	case msg == "" && t.Class == "" && len(t.SerializedThrowable) == 0:
		return ""
	case msg == "" && t.Class == "":
		return "unknown failure"
	case msg == "":
		return t.Class
	case t.Class != "" && !strings.HasPrefix(msg, t.Class):
		return truncate(t.Class + ": " + msg)
	}
	return truncate(msg)
}

// asyncResponse is a generated response holding an AsynchronousOperationResult.
type asyncResponse interface {
	response
	GetJSON200() *api.AsynchronousOperationResult
}

// operationStatus turns an asynchronous operation's result into an
// OperationStatus; completed reads the finished operation's details.
func operationStatus[R asyncResponse](op string, r R, err error, completed func(*api.AsynchronousOperationResult) (OperationStatus, error)) (OperationStatus, error) {
	if err != nil {
		return OperationStatus{}, err
	}
	res, err := need(op, r, r.GetJSON200())
	if err != nil {
		return OperationStatus{}, err
	}
	if res.Status.Id != api.IdCOMPLETED {
		return OperationStatus{}, nil
	}
	st, err := completed(res)
	if err != nil {
		return OperationStatus{}, badResponse(op, r.StatusCode(), r.ContentType(), nil, "malformed operation result: "+err.Error())
	}
	if err := checkPath(op, st.Location); err != nil {
		return OperationStatus{}, err
	}
	st.Done = true
	return st, nil
}
