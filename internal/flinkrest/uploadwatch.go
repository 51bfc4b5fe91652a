package flinkrest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/deadline"
)

// UploadCutError says why a jar upload was cut short: its budget passed,
// or no byte of it moved for the client's timeout (stalled). Its message
// names the jar's size, the time the upload got and the setting to change.
type UploadCutError struct {
	// Size is the jar's size in bytes (as its reader says, else
	// MaxUploadBytes); Sent is how many bytes the transport took.
	Size, Sent int64
	// Budget is the upload's deadline: Timeout plus Size at Rate bytes a
	// second.
	Budget, Timeout time.Duration
	Rate            int64
	// Elapsed is the time the upload ran.
	Elapsed time.Duration
	// StallTimeout is how long nothing may move: Timeout plus
	// UploadBufferBytes at Rate.
	StallTimeout time.Duration
	// Stalled is true when nothing moved for StallTimeout.
	Stalled bool
}

// UploadBufferBytes is how much a connection's buffers may take of an
// upload at once (Linux grows a socket's send buffer to 4 MiB), and so
// how long a writer may see nothing move on a link at the slowest rate
// allowed: a stall is nothing moving for the timeout plus this at the
// rate.
const UploadBufferBytes = 4 << 20

func (e *UploadCutError) Error() string {
	if e.Stalled {
		return fmt.Sprintf("jar upload of %s stalled: nothing moved for %s (--flink-rest-timeout %s plus 4 MiB at --jar-upload-min-rate %s/s) after %s sent in %s; "+
			"the JobManager or the way to it (the member apiserver's service proxy) stopped taking the jar",
			mib(e.Size), e.StallTimeout.Round(time.Millisecond), e.Timeout, mib(e.Rate), mib(e.Sent), e.Elapsed.Round(time.Millisecond))
	}
	return fmt.Sprintf("jar upload of %s not done within its %s (--flink-rest-timeout %s plus the jar at --jar-upload-min-rate %s/s); %s sent. "+
		"On a slower link to the JobManager lower --jar-upload-min-rate",
		mib(e.Size), e.Budget.Round(time.Millisecond), e.Timeout, mib(e.Rate), mib(e.Sent))
}

// mib is n bytes for people.
func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// explain turns err, from an upload cut short (stalled, or its budget
// passed: cut.Elapsed is set), into a Timeout *Error whose message is cut's; other
// errors are returned as they are.
func (cut *UploadCutError) explain(ctx context.Context, err error) error {
	var cause *UploadCutError
	if !errors.As(context.Cause(ctx), &cause) && cut.Elapsed < cut.Budget {
		return err // not the budget's doing
	}
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Op: "uploadJar", Err: err}
	}
	e.Kind, e.Message, e.Err = KindTimeout, "", cut
	return e
}

// watchUpload bounds an upload of body: ctx is marked to go beyond the
// reconcile deadline and the member request timeout (deadline.Beyond,
// memberconfig.WithOwnDeadline) for cut.Budget, and is cancelled, with
// cut as its cause, when the budget passes or when no byte is taken from
// body for cut.StallTimeout. Once body is all taken only the budget bounds the
// answer: the connection's buffers (megabytes) may still be draining over
// a slow link. stop ends the watch.
func (c *client) watchUpload(ctx context.Context, body io.Reader, cut *UploadCutError) (context.Context, io.Reader, func()) {
	start := time.Now()
	cut.StallTimeout = UploadBudget(UploadBufferBytes, cut.Timeout, cut.Rate)
	ctx, cancelBudget := deadline.Beyond(ctx, cut.Budget)
	ctx, cancel := context.WithCancelCause(ctx)
	stalled := time.AfterFunc(cut.StallTimeout, func() {
		cut.Stalled = true
		cancel(cut)
	})
	budget := time.AfterFunc(cut.Budget, func() { cancel(cut) })
	w := &progressReader{r: body, moved: func(done bool) {
		if done {
			stalled.Stop()
		} else {
			stalled.Reset(cut.StallTimeout)
		}
	}}
	stop := func() {
		stalled.Stop()
		budget.Stop()
		cut.Sent, cut.Elapsed = w.sent.Load(), time.Since(start)
		cancel(nil)
		cancelBudget()
	}
	return memberconfig.WithOwnDeadline(ctx), w, stop
}

// progressReader counts what is read from r and calls moved for every
// read that took bytes, done at the end of r.
type progressReader struct {
	r     io.Reader
	sent  atomic.Int64
	moved func(done bool)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 || err != nil {
		p.sent.Add(int64(n))
		p.moved(err != nil)
	}
	return n, err
}
