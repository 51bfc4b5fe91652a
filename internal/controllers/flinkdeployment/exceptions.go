package flinkdeployment

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// ReasonJobException is upstream's event of an exception in a job's
// history.
const ReasonJobException = "JobException"

// Upstream's defaults of the exception events' settings.
const (
	defaultExceptionEvents = 10
	defaultExceptionLines  = 5
	// maxExceptionLineLength bounds each stack trace line of an event:
	// the JobManager's text.
	maxExceptionLineLength = 512
)

// ExceptionMarks remember, per FlinkDeployment, the job whose exceptions
// were reported, its state and last modification then, and the newest
// exception reported; safe for concurrent use, the zero value is ready.
type ExceptionMarks struct{ marks memo[exceptionMark] }

type exceptionMark struct {
	jobID            string
	modified, newest int64
	// state is the job's state when last looked at.
	state string
}

func (m *ExceptionMarks) get(uid types.UID) (exceptionMark, bool) { return m.marks.get(uid) }

func (m *ExceptionMarks) set(uid types.UID, mark exceptionMark) { m.marks.set(uid, mark) }

// reportExceptions turns the job's new exceptions into JobException
// Warning events, newest first, at most
// kubernetes.operator.events.exceptions.limit-per-reconciliation of them
// (0 turns them off), each with the first
// events.exceptions.stacktrace-lines lines of its stack trace, as upstream
// does. Flink is asked only when the job may have raised something since
// the last look: it is failing or restarting, or it was and is running
// but changed (it restarted in between). The first look by this replica
// notes the time and asks nothing: exceptions raised while no replica
// looked (a restart, a handoff) are not reported (upstream reads its past
// events instead).
func (r *Reconciler) reportExceptions(ctx context.Context, s *state, jm flinkrest.Client, job api.JobDetails) {
	limit := countSetting(s, flinkconf.KeyExceptionEvents, defaultExceptionEvents)
	if limit == 0 {
		return
	}
	mark, seen := r.exceptions.get(s.fd.UID)
	state := string(job.State)
	switch {
	case seen && mark.jobID == string(job.Jid) && mark.modified == job.LastModification:
		return
	case !seen:
		// The first look notes the time, not Flink's history: nothing
		// raised before it is reported (no repeats after a restart or a
		// handoff), and no call is made.
		r.exceptions.set(s.fd.UID, exceptionMark{jobID: string(job.Jid), modified: job.LastModification, newest: r.now().UnixMilli(), state: state})
		return
	case !failureSuggested(mark, job):
		// A job that started (CREATED, INITIALIZING -> RUNNING) or ended
		// normally raised nothing: Flink is not asked. A new job's
		// exceptions all count.
		next := exceptionMark{jobID: string(job.Jid), modified: job.LastModification, newest: mark.newest, state: state}
		if next.jobID != mark.jobID {
			next.newest = 0
		}
		r.exceptions.set(s.fd.UID, next)
		return
	}
	history, err := jm.Exceptions(ctx, string(job.Jid))
	if err != nil {
		log.FromContext(ctx).Info("cannot read the job's exceptions", "error", err.Error())
		return
	}
	entries := slices.Clone(history.ExceptionHistory.Entries)
	slices.SortFunc(entries, func(a, b api.RootExceptionInfo) int { return cmp.Compare(b.Timestamp, a.Timestamp) })
	next := exceptionMark{jobID: string(job.Jid), modified: job.LastModification, newest: mark.newest, state: state}
	if len(entries) > 0 && entries[0].Timestamp > next.newest {
		next.newest = entries[0].Timestamp
	}
	last := mark.newest
	if mark.jobID != next.jobID {
		last = 0
	}
	lines := countSetting(s, flinkconf.KeyExceptionLines, defaultExceptionLines)
	for i, e := range entries {
		if e.Timestamp <= last || i >= limit {
			break
		}
		r.event(s, corev1.EventTypeWarning, ReasonJobException, exceptionMessage(e, lines))
	}
	r.exceptions.set(s.fd.UID, next)
}

// failureSuggested reports a change of the job since mark that may have
// raised exceptions: another job, a failing or restarting state, or a
// running job that changed (it restarted between two looks).
func failureSuggested(mark exceptionMark, job api.JobDetails) bool {
	switch {
	case job.State == api.JobStatusRESTARTING || job.State == api.JobStatusFAILING || job.State == api.JobStatusFAILED:
		return true
	case mark.jobID != string(job.Jid):
		return false // a new job (an upgrade) that did not fail yet
	}
	return mark.state == string(api.JobStatusRUNNING) && job.State == api.JobStatusRUNNING
}

// exceptionMessage is the first lines of e's stack trace (its name when it
// has none), each bounded, and how many lines were left out.
func exceptionMessage(e api.RootExceptionInfo, lines int) string {
	trace := strings.Split(strings.TrimSpace(e.Stacktrace), "\n")
	if len(trace) == 1 && trace[0] == "" {
		trace = []string{e.ExceptionName}
	}
	var b strings.Builder
	for i, line := range trace {
		if i >= lines {
			fmt.Fprintf(&b, "... (%d more lines)", len(trace)-lines)
			break
		}
		if r := []rune(line); len(r) > maxExceptionLineLength {
			line = string(r[:maxExceptionLineLength]) + "…"
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return strings.TrimSpace(b.String())
}

// countSetting reads a whole-number operator setting of the running
// spec (runningSpec), def when unset (the validation refuses what is not a number).
func countSetting(s *state, key string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(plan.OperatorSetting(runningSpec(s), key)))
	if err != nil || n < 0 {
		return def
	}
	return n
}

// ReadTimes remember, per FlinkDeployment, when something was last read
// from Flink, to read it at most once per interval; safe for concurrent
// use, the zero value is ready.
type ReadTimes struct{ last memo[time.Time] }

// due reports whether uid's read is due at now, once per interval, the
// first an interval after uid was first asked about (a job just started
// has nothing to read yet), and then counts it as done.
func (t *ReadTimes) due(uid types.UID, now time.Time, interval time.Duration) bool {
	due := false
	t.last.update(uid, func(last time.Time, ok bool) (time.Time, bool) {
		if !ok {
			return now, true
		}
		if now.Sub(last) < interval {
			return last, true
		}
		due = true
		return now, true
	})
	return due
}
