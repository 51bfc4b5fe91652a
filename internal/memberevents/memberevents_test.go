package memberevents

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	eventsclient "k8s.io/client-go/kubernetes/typed/events/v1"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

// member is a real kube-apiserver + etcd; the tests write with the
// identity `cluster add` gives the hub.
var member *framework.ControlPlane

func TestMain(m *testing.M) {
	os.Exit(framework.RunWithControlPlane(m, framework.ControlPlaneOptions{Name: "memberevents"}, func(cp *framework.ControlPlane) { member = cp }))
}

// subject creates a namespace and a ConfigMap in it for events to be
// about.
func subject(t *testing.T, ctx context.Context, ns string) *corev1.ConfigMap {
	t.Helper()
	if err := member.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "subject", Namespace: ns}}
	if err := member.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	return cm
}

// hubRecorder runs a Recorder writing as the hub until the test ends.
func hubRecorder(t *testing.T, ctx context.Context, opts ...Option) *Recorder {
	t.Helper()
	cfg, err := member.HubIdentity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client, err := eventsclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := New(client, framework.Scheme, opts...)
	runCtx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go rec.Run(runCtx)
	return rec
}

// eventsIn lists the events of namespace by note.
func eventsIn(ctx context.Context, ns string) (map[string]eventsv1.Event, error) {
	var list eventsv1.EventList
	if err := member.Client.List(ctx, &list, ctrlclient.InNamespace(ns)); err != nil {
		return nil, err
	}
	out := map[string]eventsv1.Event{}
	for _, e := range list.Items {
		out[e.Note] = e
	}
	return out, nil
}

// TestEqualEventsFoldAndOthersDoNot: an event equal to an earlier one
// becomes the earlier one's series count; one that differs only in its
// note (a job RUNNING, then FINISHED) is an event of its own, unlike with
// client-go's tools/events, which folds by reason.
func TestEqualEventsFoldAndOthersDoNot(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cm := subject(t, ctx, "fold")
	rec := hubRecorder(t, ctx, WithSeriesInterval(100*time.Millisecond)).For("flink-hub")
	rec.Eventf(cm, nil, corev1.EventTypeNormal, "JobStatusChanged", "JobStatusChanged", "Job status changed from %s to %s", "CREATED", "RUNNING")
	rec.Eventf(cm, nil, corev1.EventTypeNormal, "JobStatusChanged", "JobStatusChanged", "Job status changed from %s to %s", "CREATED", "RUNNING")
	rec.Eventf(cm, nil, corev1.EventTypeNormal, "JobStatusChanged", "JobStatusChanged", "Job status changed from %s to %s", "RUNNING", "FINISHED")
	rec.Eventf(cm, nil, corev1.EventTypeNormal, "Submit", "Submit", "Starting deployment")
	var got map[string]eventsv1.Event
	err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		var err error
		got, err = eventsIn(ctx, "fold")
		s := got["Job status changed from CREATED to RUNNING"].Series
		return len(got) == 3 && s != nil && s.Count == 2, err
	})
	if err != nil {
		t.Fatalf("want 3 events, the first with a series of 2: %v; got %+v", err, got)
	}
	finished := got["Job status changed from RUNNING to FINISHED"]
	if finished.Series != nil || finished.Regarding.Name != cm.Name || finished.Regarding.UID != cm.UID || finished.ReportingController != "flink-hub" {
		t.Errorf("the FINISHED event: %+v", finished)
	}
}

// TestNotesAreQuoted: a note is written as the hub quotes text: one
// longer than events.k8s.io/v1 accepts is cut to NoteLimit bytes, on a
// character boundary, instead of the event being refused; control
// characters (a carriage return, a terminal escape, a NEL) are spaces,
// line feeds are kept (a JobException note quotes stack trace lines); an
// invalid byte is U+FFFD and the text after it is kept.
func TestNotesAreQuoted(t *testing.T) {
	long := strings.Repeat("é", 2000)
	for _, tc := range []struct {
		ns, note string
		want     func(string) bool
	}{
		{"long-note", long, func(n string) bool {
			return len(n) <= NoteLimit && len(n) >= NoteLimit-2 && utf8.ValidString(n) && strings.HasSuffix(n, "...")
		}},
		{"control-note", "failed:\n\r\x1b[31mred\u0085\xff" + long, func(n string) bool {
			return len(n) <= NoteLimit && strings.HasPrefix(n, "failed:\n  [31mred \uFFFDéé") && strings.HasSuffix(n, "...")
		}},
	} {
		t.Run(tc.ns, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cm := subject(t, ctx, tc.ns)
			rec := hubRecorder(t, ctx).For("flink-hub")
			rec.Eventf(cm, nil, corev1.EventTypeWarning, "JobException", "JobException", "%s", tc.note)
			var got map[string]eventsv1.Event
			err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
				var err error
				got, err = eventsIn(ctx, tc.ns)
				return len(got) == 1, err
			})
			if err != nil {
				t.Fatalf("no event: %v", err)
			}
			for note := range got {
				if !tc.want(note) {
					t.Errorf("note of %d bytes (valid UTF-8: %v): %.60q...", len(note), utf8.ValidString(note), note)
				}
			}
		})
	}
}

// TestLongRegardingNameAccepted: an event about an object whose name is
// as long as Kubernetes allows is written, not refused for its own name.
func TestLongRegardingNameAccepted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const ns = "long-name"
	if err := member.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{236, 237, 253} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: strings.Repeat("s", n), Namespace: ns}}
		if err := member.Client.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
		hubRecorder(t, ctx).For("flink-hub").Eventf(cm, nil, corev1.EventTypeNormal, "Submit", "Submit", "name of %d", n)
	}
	var got map[string]eventsv1.Event
	err := framework.Eventually(ctx, 30*time.Second, func(ctx context.Context) (bool, error) {
		var err error
		got, err = eventsIn(ctx, ns)
		return len(got) == 3, err
	})
	if err != nil {
		t.Fatalf("want an event about each object, got %d: %v", len(got), err)
	}
}
