// Package memberevents records the hub's events.k8s.io/v1 Events in one
// member cluster. It stands in for client-go's tools/events broadcaster,
// which keeps a whole copy of every event it sent for six minutes to fold
// repeats (memory that grows with the event rate: 3.5 KB of the hub's heap
// per FlinkDeployment right after a fleet deploys) and folds events by
// reason alone, so that a second event of the same reason with another
// note (a job RUNNING, then FAILED) is lost into the first one's count.
//
// A Recorder folds an event into an earlier one only when everything a
// reader sees is the same: the regarding and related objects, type,
// reason, action and note, within Window of the first. It keeps, per
// recent event, a digest of that, the event's name and its counts: at
// most MaxTracked of them, the oldest forgotten first. A repeat updates
// the earlier event's series (count, last observed) at most once per
// SeriesInterval; counts left over are written by the next tick. One
// goroutine (Run) writes, from a queue of QueueLength; when the member
// does not keep up and the queue is full, new events are dropped and
// logged, and a reconcile never waits for an event.
package memberevents

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	eventsclient "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/reference"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/flink-hub/flink-hub/internal/boundedtext"
	"github.com/flink-hub/flink-hub/internal/fielddigest"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// Defaults of the options.
const (
	DefaultWindow         = 10 * time.Minute
	DefaultSeriesInterval = 30 * time.Second
	DefaultMaxTracked     = 4096
	DefaultQueueLength    = 1024
	// NoteLimit is the longest note events.k8s.io/v1 accepts, in bytes
	// (problem.MaxEventNote); every note is quoted with boundedtext.QuoteLines
	// to it (a longer one cut, control characters made spaces).
	NoteLimit = problem.MaxEventNote
	// writeTimeout bounds one write to the member.
	writeTimeout = 10 * time.Second
)

// Recorder records events in one member. Its zero value is not usable:
// use New. It is safe for concurrent use.
type Recorder struct {
	client   eventsclient.EventsV1Interface
	scheme   *runtime.Scheme
	instance string
	opts     options
	queue    chan write

	mu      sync.Mutex
	tracked map[digest]*series
	order   []digest // by first sight, oldest first
	dropped int
	warned  time.Time
}

// series is what a Recorder keeps of a recent event.
type series struct {
	name, namespace string
	first, last     time.Time
	count, written  int32
	lastWrite       time.Time
}

type digest = fielddigest.Digest

// write is one request for Run: a new event, or a series update of the
// named one.
type write struct {
	event           *eventsv1.Event
	name, namespace string
	count           int32
	lastObserved    time.Time
}

// New returns a Recorder writing with client; scheme names the kinds of
// the objects events are about. Run must run for events to be written.
func New(client eventsclient.EventsV1Interface, scheme *runtime.Scheme, opts ...Option) *Recorder {
	o := options{window: DefaultWindow, seriesInterval: DefaultSeriesInterval, maxTracked: DefaultMaxTracked, queueLength: DefaultQueueLength, now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	host, _ := os.Hostname()
	return &Recorder{client: client, scheme: scheme, instance: host, opts: o,
		queue: make(chan write, o.queueLength), tracked: map[digest]*series{}}
}

// For returns the events.EventRecorder of one reporting controller.
func (r *Recorder) For(controller string) events.EventRecorder {
	return &controllerRecorder{r: r, controller: controller}
}

type controllerRecorder struct {
	r          *Recorder
	controller string
}

// Eventf implements events.EventRecorder.
func (c *controllerRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	c.r.record(c.controller, regarding, related, eventtype, reason, action, fmt.Sprintf(note, args...))
}

// record folds the event into a recent equal one, or queues it.
func (r *Recorder) record(controller string, regarding, related runtime.Object, eventtype, reason, action, note string) {
	logger := log.Log.WithName("memberevents")
	ref, err := reference.GetReference(r.scheme, regarding)
	if err != nil {
		logger.Info("event not recorded: no reference to its object", "reason", reason, "error", err.Error())
		return
	}
	var relatedRef *corev1.ObjectReference
	if related != nil {
		if relatedRef, err = reference.GetReference(r.scheme, related); err != nil {
			relatedRef = nil
		}
	}
	note = boundedtext.QuoteLines(note, NoteLimit)
	key := digestOf(controller, ref, relatedRef, eventtype, reason, action, note)
	now := r.opts.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forget(now)
	if s, ok := r.tracked[key]; ok {
		s.count++
		s.last = now
		if now.Sub(s.lastWrite) >= r.opts.seriesInterval {
			r.enqueueSeries(s, now)
		}
		return
	}
	namespace := ref.Namespace
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	ev := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: eventName(ref.Name, now), Namespace: namespace},
		EventTime:           metav1.NewMicroTime(now),
		ReportingController: controller,
		ReportingInstance:   boundedtext.Cut(controller+"-"+r.instance, 128),
		Action:              action,
		Reason:              reason,
		Regarding:           *ref,
		Related:             relatedRef,
		Note:                note,
		Type:                eventtype,
	}
	if !r.enqueue(write{event: ev}) {
		return
	}
	r.tracked[key] = &series{name: ev.Name, namespace: namespace, first: now, last: now, count: 1, written: 1, lastWrite: now}
	r.order = append(r.order, key)
	for len(r.order) > r.opts.maxTracked {
		delete(r.tracked, r.order[0])
		r.order = r.order[1:]
	}
}

// enqueueSeries queues the update of s's series to its count; r.mu held.
func (r *Recorder) enqueueSeries(s *series, now time.Time) {
	if r.enqueue(write{name: s.name, namespace: s.namespace, count: s.count, lastObserved: s.last}) {
		s.written, s.lastWrite = s.count, now
	}
}

// enqueue queues w unless the queue is full; r.mu held.
func (r *Recorder) enqueue(w write) bool {
	select {
	case r.queue <- w:
		return true
	default:
	}
	r.dropped++
	if now := r.opts.now(); now.Sub(r.warned) >= time.Minute {
		r.warned = now
		log.Log.WithName("memberevents").Info("events dropped: the member does not keep up with them", "dropped", r.dropped)
	}
	return false
}

// forget drops the events first seen a window ago; r.mu held.
func (r *Recorder) forget(now time.Time) {
	for len(r.order) > 0 {
		s := r.tracked[r.order[0]]
		if s != nil && now.Sub(s.first) < r.opts.window {
			return
		}
		delete(r.tracked, r.order[0])
		r.order = r.order[1:]
	}
}

// Dropped is how many events and series updates were dropped for a full
// queue.
func (r *Recorder) Dropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Tracked is how many recent events the Recorder keeps to fold repeats.
func (r *Recorder) Tracked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tracked)
}

// Run writes the queued events until ctx ends, and every SeriesInterval
// the counts of repeats not written yet.
func (r *Recorder) Run(ctx context.Context) {
	tick := time.NewTicker(r.opts.seriesInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case w := <-r.queue:
			r.write(ctx, w)
		case <-tick.C:
			r.flush()
		}
	}
}

// flush queues the series updates of repeats not written yet.
func (r *Recorder) flush() {
	now := r.opts.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forget(now)
	for _, key := range r.order {
		if s := r.tracked[key]; s.count > s.written && now.Sub(s.lastWrite) >= r.opts.seriesInterval {
			r.enqueueSeries(s, now)
		}
	}
}

// write sends one write to the member; failures are logged, not retried
// (events are best effort, as in client-go).
func (r *Recorder) write(ctx context.Context, w write) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	var err error
	if w.event != nil {
		_, err = r.client.Events(w.event.Namespace).Create(ctx, w.event, metav1.CreateOptions{})
	} else {
		patch := fmt.Sprintf(`{"series":{"count":%d,"lastObservedTime":%q}}`, w.count, metav1.NewMicroTime(w.lastObserved).UTC().Format(metav1.RFC3339Micro))
		_, err = r.client.Events(w.namespace).Patch(ctx, w.name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	}
	if err != nil && ctx.Err() == nil {
		log.Log.WithName("memberevents").Info("event not written", "event", w.describe(), "error", err.Error())
	}
}

// describe names the event of w for logs.
func (w write) describe() string {
	if w.event == nil {
		return w.namespace + "/" + w.name + " (series)"
	}
	return w.event.Namespace + "/" + w.event.Name + " (" + w.event.Reason + ")"
}

// digestOf is the key under which equal events fold.
func digestOf(controller string, ref, related *corev1.ObjectReference, eventtype, reason, action, note string) digest {
	return digest(fielddigest.Of(controller, refString(ref), refString(related), eventtype, reason, action, note))
}

func refString(ref *corev1.ObjectReference) string {
	if ref == nil {
		return ""
	}
	return ref.APIVersion + "/" + ref.Kind + "/" + ref.Namespace + "/" + ref.Name + "/" + string(ref.UID) + "/" + ref.FieldPath
}

// maxEventName is the longest name an Event may have (a DNS subdomain).
const maxEventName = 253

// eventName names an event about the object named regarding at now:
// regarding.<time in hex>, as client-go names them. A regarding name too
// long for that (over 236 characters, which FlinkSessionJobs and
// FlinkStateSnapshots may have) is cut and followed by a hash of the whole
// name, so that events of objects whose names differ only past the cut
// do not share names.
func eventName(regarding string, now time.Time) string {
	suffix := fmt.Sprintf(".%x", now.UnixNano())
	if len(regarding)+len(suffix) <= maxEventName {
		return regarding + suffix
	}
	hash := fmt.Sprintf(".%x", sha256.Sum256([]byte(regarding)))[:9]
	prefix := strings.TrimRight(regarding[:maxEventName-len(suffix)-len(hash)], ".-")
	return prefix + hash + suffix
}
