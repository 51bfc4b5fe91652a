package jobmanager

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Hostile is how a hostile JobManager answers every REST request, to test
// that its client stays safe: no credentials follow a redirect, memory stays
// flat, and a slow answer is cut by the client's timeout.
type Hostile string

// Hostile answers.
const (
	// HostileRedirect answers 302 to Faults.RedirectTo plus the request path.
	HostileRedirect Hostile = "redirect"
	// HostileHugeBody answers 200 with a HugeBodyBytes JSON body, its
	// length declared in Content-Length.
	HostileHugeBody Hostile = "huge-body"
	// HostileEndlessBody answers 200 with a JSON body that never ends.
	HostileEndlessBody Hostile = "endless-body"
	// HostileInvalidJSON answers 200 with an application/json body that is
	// not JSON.
	HostileInvalidJSON Hostile = "invalid-json"
	// HostileStall answers 200, sends the start of a JSON body, and stalls
	// StallTime before sending the rest.
	HostileStall Hostile = "stall"
	// HostileBogusJobs answers the jobs overview with a job in a state
	// Flink does not have (BogusJobState) and a name of BogusJobNameBytes;
	// every other request is answered as usual.
	HostileBogusJobs Hostile = "bogus-jobs"
)

// HostileAnswers lists every Hostile answer.
var HostileAnswers = []Hostile{HostileRedirect, HostileHugeBody, HostileEndlessBody, HostileInvalidJSON, HostileStall, HostileBogusJobs}

// BogusJobState and BogusJobNameBytes are what a HostileBogusJobs answer
// says of its job.
const (
	BogusJobState     = "PWNED"
	BogusJobNameBytes = 1 << 20
)

// HugeBodyBytes is the length of a HostileHugeBody answer: 100 MiB.
const HugeBodyBytes = 100 << 20

// StallTime is how long a HostileStall answer stalls.
const StallTime = 30 * time.Second

// Check reports whether h is a known Hostile answer, with what it needs.
func (h Hostile) Check(redirectTo string) error {
	switch h {
	case "", HostileHugeBody, HostileEndlessBody, HostileInvalidJSON, HostileStall, HostileBogusJobs:
		return nil
	case HostileRedirect:
		if redirectTo == "" {
			return fmt.Errorf("hostile %q needs a redirect target", h)
		}
		return nil
	}
	return fmt.Errorf("hostile %q: want one of %v", h, HostileAnswers)
}

// LargestHostileBody returns the most bytes one hostile answer of this
// JobManager wrote before its client stopped reading (or it ended).
func (jm *JobManager) LargestHostileBody() int64 {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	return jm.largestHostile
}

func (jm *JobManager) recordHostileBody(n int64) {
	jm.mu.Lock()
	defer jm.mu.Unlock()
	jm.largestHostile = max(jm.largestHostile, n)
}

// hostileChunk is what huge and endless bodies are made of; written again
// and again, so the simulator's own memory stays flat too.
var hostileChunk = bytes.Repeat([]byte("a"), 32<<10)

// serveHostile answers r as f.Hostile says, and reports whether it did
// (a HostileBogusJobs answers only the jobs overview).
func (jm *JobManager) serveHostile(w http.ResponseWriter, r *http.Request, f Faults) bool {
	const head, tail = `{"flink-version":"`, `"}`
	switch f.Hostile {
	case HostileBogusJobs:
		if r.Method != http.MethodGet || r.URL.Path != "/jobs/overview" {
			return false
		}
		writeJSON(w, http.StatusOK, map[string]any{"jobs": []any{map[string]any{
			"jid": randomID(), "name": strings.Repeat("n", BogusJobNameBytes), "state": BogusJobState, "start-time": time.Now().UnixMilli(),
		}}})
	case HostileRedirect:
		http.Redirect(w, r, f.RedirectTo+r.URL.Path, http.StatusFound)
	case HostileInvalidJSON:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"flink-version": "1.19.1", oops}`))
	case HostileHugeBody, HostileEndlessBody:
		w.Header().Set("Content-Type", "application/json")
		if f.Hostile == HostileHugeBody {
			w.Header().Set("Content-Length", strconv.Itoa(HugeBodyBytes))
		}
		n, err := w.Write([]byte(head))
		written := int64(n)
		for err == nil && (f.Hostile == HostileEndlessBody || written < HugeBodyBytes-int64(len(tail))) {
			chunk := hostileChunk
			if f.Hostile == HostileHugeBody {
				chunk = chunk[:min(int64(len(chunk)), HugeBodyBytes-int64(len(tail))-written)]
			}
			select {
			case <-jm.stop:
				err = http.ErrAbortHandler
			default:
				n, err = w.Write(chunk)
				written += int64(n)
			}
		}
		if err == nil {
			n, _ = w.Write([]byte(tail))
			written += int64(n)
		}
		jm.recordHostileBody(written)
	case HostileStall:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"flink-version":"1.19.1",`))
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		t := time.NewTimer(StallTime)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return true
		case <-jm.stop:
			return true
		case <-t.C:
		}
		_, _ = w.Write([]byte(`"flink-revision":"stalled"}`))
	}
	return true
}

// Elsewhere is an http.Handler standing for any other host, for a
// HostileRedirect to point at: it records every request it gets with its
// Authorization header, so a test proves that none (and no credential)
// reached it.
type Elsewhere struct {
	mu       sync.Mutex
	requests []string
}

func (e *Elsewhere) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests = append(e.requests, r.Method+" "+r.URL.Path+" Authorization="+r.Header.Get("Authorization"))
	writeJSON(w, http.StatusOK, map[string]any{"flink-version": "stolen", "jobs": []any{}})
}

// Requests returns "<method> <path> Authorization=<header>" of every
// request received.
func (e *Elsewhere) Requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.requests...)
}
