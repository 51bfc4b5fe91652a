package flinkrest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// MaxResponseBytes bounds the body of every JobManager answer: Flink's
// largest (a job's exception history) stays far below it, and the
// generated client reads bodies whole.
const MaxResponseBytes = 4 << 20

// RedirectError is the error of a call the JobManager answered with a
// redirect. Redirects are never followed: the proxy transport adds the
// hub's member credentials to every request it sends, redirected ones too.
type RedirectError struct {
	// Location is the redirect's scheme and host, without path, query or
	// user information.
	Location string
}

// Error implements error.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("JobManager answered a redirect to %s; redirects are not followed", e.Location)
}

// noRedirects is the http.Client CheckRedirect of every Client.
func noRedirects(req *http.Request, _ []*http.Request) error {
	u := url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host}
	return &RedirectError{Location: u.String()}
}

// BodyTooLargeError is the error of reading a JobManager answer longer
// than MaxResponseBytes; the rest of it is not read.
type BodyTooLargeError struct{}

// Error implements error.
func (*BodyTooLargeError) Error() string {
	return fmt.Sprintf("JobManager answer larger than %d MiB; not read further", MaxResponseBytes>>20)
}

// limitBodies caps the body of every response next returns.
type limitBodies struct{ next http.RoundTripper }

func (t limitBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.Body != nil {
		b := &limitedBody{rc: resp.Body, left: MaxResponseBytes}
		if resp.ContentLength > MaxResponseBytes {
			b.left = -1 // declared too long: not a byte is read
		}
		resp.Body = b
	}
	return resp, err
}

// limitedBody fails a read beyond its limit instead of truncating, so a
// cut answer is never mistaken for a whole one. A declared Content-Length
// beyond the limit fails the first read.
type limitedBody struct {
	rc   io.ReadCloser
	left int64 // -1 once the limit is exceeded
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &BodyTooLargeError{}
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		n, b.left = int(b.left), -1
		return n, &BodyTooLargeError{}
	}
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
