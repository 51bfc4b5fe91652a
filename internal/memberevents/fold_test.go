package memberevents

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// clock is a settable clock for the tests that run no writer.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// unwritten returns a Recorder without a writer (its queue is read by the
// test) and its clock.
func unwritten(opts ...Option) (*Recorder, *clock) {
	c := &clock{t: time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC)}
	return New(nil, framework.Scheme, append(opts, withClock(c.now))...), c
}

// drain returns what the queue holds, as "create <note>" and
// "series <count>".
func drain(r *Recorder) []string {
	var out []string
	for {
		select {
		case w := <-r.queue:
			if w.event != nil {
				out = append(out, "create "+w.event.Note)
			} else {
				out = append(out, fmt.Sprintf("series %d", w.count))
			}
		default:
			return out
		}
	}
}

var about = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns", UID: "u1"}}

// TestFolding follows the writes a sequence of events queues: repeats fold
// into series updates at most once per interval, the rest of a count is
// written by the next flush, and an event first seen a window ago starts
// over.
func TestFolding(t *testing.T) {
	r, c := unwritten(WithWindow(10*time.Minute), WithSeriesInterval(30*time.Second))
	rec := r.For("flink-hub")
	steps := []struct {
		after time.Duration
		note  string // "" flushes instead
		want  []string
	}{
		{0, "a", []string{"create a"}},
		{time.Second, "a", nil},                      // within the interval: counted only
		{2 * time.Second, "b", []string{"create b"}}, // another note: its own event
		{10 * time.Second, "", nil},                  // flush: the interval has not passed
		{31 * time.Second, "", []string{"series 2"}},
		{40 * time.Second, "a", nil},
		{62 * time.Second, "a", []string{"series 4"}},
		{95 * time.Second, "", nil}, // nothing left to write
		{11 * time.Minute, "a", []string{"create a"}},
	}
	start := c.t
	for _, s := range steps {
		c.t = start.Add(s.after)
		if s.note == "" {
			r.flush()
		} else {
			rec.Eventf(about, nil, corev1.EventTypeNormal, "R", "R", "%s", s.note)
		}
		if got := drain(r); fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Errorf("after %v (%q): queued %v, want %v", s.after, s.note, got, s.want)
		}
	}
}

// TestBoundedMemoryAndQueue: at most MaxTracked recent events are kept,
// the oldest forgotten first; a full queue drops new events at once
// (counted) and keeps nothing of them, so a later equal event is written.
func TestBoundedMemoryAndQueue(t *testing.T) {
	r, _ := unwritten(WithMaxTracked(3), WithQueueLength(5))
	rec := r.For("flink-hub")
	for i := range 8 {
		rec.Eventf(about, nil, corev1.EventTypeNormal, "R", "R", "note %d", i)
	}
	if got := r.Dropped(); got != 3 {
		t.Errorf("dropped %d, want 3 (queue of 5, 8 events)", got)
	}
	if got := r.Tracked(); got != 3 {
		t.Errorf("tracked %d, want 3 (the limit)", got)
	}
	drain(r)
	rec.Eventf(about, nil, corev1.EventTypeNormal, "R", "R", "note %d", 7)
	if got := drain(r); fmt.Sprint(got) != "[create note 7]" {
		t.Errorf("a dropped event seen again queued %v, want it created", got)
	}
	rec.Eventf(about, nil, corev1.EventTypeNormal, "R", "R", "note %d", 0)
	if got := drain(r); fmt.Sprint(got) != "[create note 0]" {
		t.Errorf("a forgotten event seen again queued %v, want it created", got)
	}
}

// TestDigestTellsEveryField: events differing in any field a reader sees
// do not fold.
func TestDigestTellsEveryField(t *testing.T) {
	ref := &corev1.ObjectReference{Kind: "ConfigMap", Namespace: "ns", Name: "cm", UID: "u1"}
	other := &corev1.ObjectReference{Kind: "ConfigMap", Namespace: "ns", Name: "cm", UID: "u2"}
	base := digestOf("c", ref, nil, "Normal", "R", "A", "n")
	for name, d := range map[string]digest{
		"controller": digestOf("d", ref, nil, "Normal", "R", "A", "n"),
		"regarding":  digestOf("c", other, nil, "Normal", "R", "A", "n"),
		"related":    digestOf("c", ref, other, "Normal", "R", "A", "n"),
		"type":       digestOf("c", ref, nil, "Warning", "R", "A", "n"),
		"reason":     digestOf("c", ref, nil, "Normal", "S", "A", "n"),
		"action":     digestOf("c", ref, nil, "Normal", "R", "B", "n"),
		"note":       digestOf("c", ref, nil, "Normal", "R", "A", "m"),
		"boundaries": digestOf("c", ref, nil, "Normal", "RA", "", "n"),
	} {
		if d == base {
			t.Errorf("events differing in %s share a digest", name)
		}
	}
	if digestOf("c", ref, nil, "Normal", "R", "A", "n") != base {
		t.Error("equal events differ")
	}
}

// TestEventNameFitsAnyRegardingName: an event's name is a DNS subdomain
// of at most 253 characters whatever the regarding object's name, and
// objects whose long names differ only at the end get different names.
func TestEventNameFitsAnyRegardingName(t *testing.T) {
	now := time.Unix(0, math.MaxInt64)
	long := strings.Repeat("a", 240)
	for _, tc := range []struct {
		name, regarding, other string
	}{
		{"short", "orders", "orders-2"},
		{"236 characters", strings.Repeat("b", 236), strings.Repeat("c", 236)},
		{"253 characters", long + strings.Repeat("x", 13), long + strings.Repeat("y", 13)},
		{"cut at a dot", strings.Repeat("d", 226) + "." + strings.Repeat("e", 26), strings.Repeat("d", 226) + "." + strings.Repeat("f", 26)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, other := eventName(tc.regarding, now), eventName(tc.other, now)
			if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
				t.Errorf("%q (%d characters): %v", got, len(got), errs)
			}
			if got == other {
				t.Errorf("%s and %s share the event name %q", tc.regarding, tc.other, got)
			}
			if len(tc.regarding) <= 236 && got != tc.regarding+"."+strconv.FormatInt(math.MaxInt64, 16) {
				t.Errorf("%q: a name that fits keeps client-go's form", got)
			}
		})
	}
}
