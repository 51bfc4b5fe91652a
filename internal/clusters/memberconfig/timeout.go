package memberconfig

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// RequestTimeout bounds every request made with cfg and its copies to d, so
// that a member whose apiserver blackholes traffic (packets dropped, not
// refused) fails the caller after d instead of holding it for as long as
// the connection takes to die. A plain request (get, list, create, patch,
// ...) must be answered and read within d. A watch must only start within
// d (its response headers): it then streams for as long as the apiserver
// keeps it open. rest.Config.Timeout is not used because client-go applies
// it to watches too, as the HTTP client's timeout, which would cut every
// informer's watch after d. A zero d leaves cfg alone.
func RequestTimeout(cfg *rest.Config, d time.Duration) {
	if d <= 0 {
		return
	}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &deadlineTransport{next: rt, timeout: d} })
}

type ownDeadlineKey struct{}

// WithOwnDeadline marks the requests made with ctx, which must carry a
// deadline, as bounded by that deadline instead of the member request
// timeout: a jar upload through the member apiserver's service proxy,
// whose budget grows with the jar's size (the apiserver itself does not
// cut proxied requests: they are long-running). A ctx without a deadline
// is returned unmarked, so nothing goes unbounded.
func WithOwnDeadline(ctx context.Context) context.Context {
	if _, ok := ctx.Deadline(); !ok {
		return ctx
	}
	return context.WithValue(ctx, ownDeadlineKey{}, true)
}

// ownDeadline reports whether ctx was marked by WithOwnDeadline and still
// has a deadline.
func ownDeadline(ctx context.Context) bool {
	_, bounded := ctx.Deadline()
	marked, _ := ctx.Value(ownDeadlineKey{}).(bool)
	return marked && bounded
}

// TimeoutError is the cause of a member request cancelled by RequestTimeout.
type TimeoutError struct {
	// Timeout is the deadline that passed.
	Timeout time.Duration
	// Watch is true when a watch did not start in time.
	Watch bool
}

func (e *TimeoutError) Error() string {
	if e.Watch {
		return fmt.Sprintf("member watch not started within the member request timeout of %s", e.Timeout)
	}
	return fmt.Sprintf("member request timeout of %s exceeded", e.Timeout)
}

// deadlineTransport cancels a request whose answer does not come in time.
type deadlineTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (t *deadlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if IsStreaming(req) {
		return t.startWithin(req)
	}
	if ownDeadline(req.Context()) {
		return t.next.RoundTrip(req)
	}
	cause := &TimeoutError{Timeout: t.timeout}
	ctx, cancel := context.WithTimeoutCause(req.Context(), t.timeout, cause)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, explain(ctx, cause, err)
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, ctx: ctx, cause: cause, cancel: cancel}
	return resp, nil
}

// startWithin bounds only the wait for a streaming request's response
// headers.
func (t *deadlineTransport) startWithin(req *http.Request) (*http.Response, error) {
	cause := &TimeoutError{Timeout: t.timeout, Watch: true}
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(t.timeout, func() { cancel(cause) })
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	timer.Stop()
	if err != nil {
		cancel(nil)
		return nil, explain(ctx, cause, err)
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, ctx: ctx, cause: cause, cancel: func() { cancel(nil) }}
	return resp, nil
}

// IsStreaming reports whether req is a request that streams for as long as
// the server keeps it open: a watch (watch=true or a /watch/ path), a
// followed log, or a connection upgrade (exec, port-forward).
func IsStreaming(req *http.Request) bool {
	q := req.URL.Query()
	switch {
	case q.Get("watch") == "true" || q.Get("watch") == "1":
		return true
	case q.Get("follow") == "true" || q.Get("follow") == "1":
		return true
	case strings.Contains(req.URL.Path, "/watch/"):
		return true
	case req.Header.Get("Upgrade") != "":
		return true
	}
	return false
}

// explain names the timeout when it is why err happened.
func explain(ctx context.Context, cause *TimeoutError, err error) error {
	if context.Cause(ctx) == error(cause) {
		return fmt.Errorf("%w: %w", cause, err)
	}
	return err
}

// cancelOnClose releases the request's context when its body is closed,
// and names the timeout when reading the body fails because of it.
type cancelOnClose struct {
	io.ReadCloser
	ctx    context.Context
	cause  *TimeoutError
	cancel func()
}

func (b *cancelOnClose) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = explain(b.ctx, b.cause, err)
	}
	return n, err
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
