package clusters

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// pagedEvents answers event lists as the apiserver does: in name order,
// limit at a time, with a continue token.
type pagedEvents struct {
	client.Reader
	items []corev1.Event // in name order
}

func (p pagedEvents) List(_ context.Context, list client.ObjectList, opts ...client.ListOption) error {
	o := (&client.ListOptions{}).ApplyOptions(opts)
	start := 0
	if o.Continue != "" {
		start, _ = strconv.Atoi(o.Continue)
	}
	end := len(p.items)
	if o.Limit > 0 {
		end = min(end, start+int(o.Limit))
	}
	out := list.(*corev1.EventList)
	out.Items = append([]corev1.Event(nil), p.items[start:end]...)
	if end < len(p.items) {
		out.Continue = strconv.Itoa(end)
	}
	return nil
}

// TestResourceEventsNewestFirst: the console shows the newest events of a
// resource, not the first ones in name order, whatever page they are on.
func TestResourceEventsNewestFirst(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		events int
		want   int
	}{
		{"fewer than shown", 30, 30},
		{"more than one page", 3*eventPageSize + 7, maxConsoleEvents},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Names grow as times fall: name order is oldest last.
			var items []corev1.Event
			for i := range tc.events {
				items = append(items, corev1.Event{
					ObjectMeta:    metav1.ObjectMeta{Name: fmt.Sprintf("orders.%06d", i)},
					LastTimestamp: metav1.NewTime(base.Add(-time.Duration(i) * time.Minute)),
					Reason:        strconv.Itoa(i),
				})
			}
			// The newest event comes last in name order.
			items[len(items)-1].LastTimestamp = metav1.NewTime(base.Add(time.Hour))
			got, why := resourceEvents(t.Context(), pagedEvents{items: items}, "FlinkDeployment", "team-a", "orders")
			if why != "" || len(got) != tc.want {
				t.Fatalf("%d events (%q), want %d", len(got), why, tc.want)
			}
			if got[0].Reason != strconv.Itoa(tc.events-1) {
				t.Errorf("first shown %s, want the newest, %d", got[0].Reason, tc.events-1)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Time.After(got[i-1].Time) {
					t.Fatalf("not newest first at %d: %v after %v", i, got[i].Time, got[i-1].Time)
				}
			}
			if tc.events > maxConsoleEvents && got[len(got)-1].Reason != strconv.Itoa(maxConsoleEvents-2) {
				t.Errorf("last shown %s, want %d", got[len(got)-1].Reason, maxConsoleEvents-2)
			}
		})
	}
}
