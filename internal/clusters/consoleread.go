package clusters

import (
	"context"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/clusters/kindaccess"
	"github.com/flink-hub/flink-hub/internal/console"
)

// The console lists a resource's events in its namespace (granted by
// `cluster add`, see registration.MemberCalls).
const (
	maxConsoleEvents    = 100
	maxConsoleSnapshots = 50
	// eventPageSize and maxEventPages bound the live event list.
	eventPageSize = 500
	maxEventPages = 20
)

// consoleMembers reads what the console shows of one resource from its
// member: the resource from the member cache, its events live.
type consoleMembers struct {
	provider *Provider
}

var _ console.Members = consoleMembers{}

// Resource implements console.Members.
func (m consoleMembers) Resource(ctx context.Context, kind, cluster, namespace, name string) (console.Resource, bool, error) {
	var out console.Resource
	cl, err := m.provider.Get(ctx, multicluster.ClusterName(cluster))
	if err != nil {
		return out, false, nil
	}
	key := client.ObjectKey{Namespace: namespace, Name: name}
	var spec, status any
	switch kind {
	case fleetv1.KindFlinkDeployment:
		fd := &flinkv1beta1.FlinkDeployment{}
		err = cl.GetClient().Get(ctx, key, fd)
		spec, status = fd.Spec, fd.Status
	case fleetv1.KindFlinkSessionJob:
		job := &flinkv1beta1.FlinkSessionJob{}
		err = cl.GetClient().Get(ctx, key, job)
		spec, status = job.Spec, job.Status
	default:
		return out, false, nil
	}
	switch {
	case apierrors.IsNotFound(err):
		return out, false, nil
	case kindaccess.IsUnreadable(err):
		return out, false, &console.Refused{Reason: err.Error()}
	case err != nil:
		return out, false, err
	}
	if out.Spec, err = console.MaskedYAML(spec); err != nil {
		return out, false, err
	}
	if out.Status, err = console.MaskedYAML(status); err != nil {
		return out, false, err
	}
	out.Events, out.EventsError = resourceEvents(ctx, cl.GetAPIReader(), kind, namespace, name)
	var snaps flinkv1beta1.FlinkStateSnapshotList
	switch err := cl.GetClient().List(ctx, &snaps, client.InNamespace(namespace)); {
	case err == nil:
		out.Snapshots = snapshotsOf(snaps.Items, kind, name)
	case kindaccess.IsUnreadable(err):
		out.SnapshotsError = err.Error()
	default:
		out.SnapshotsError = "the member did not list the FlinkStateSnapshots"
	}
	return out, true, nil
}

// resourceEvents lists the events of one resource live, newest first, or
// says why it could not. The apiserver pages in name order, not by time,
// so every page is read (the field selector keeps them to the resource's
// own, at most maxEventPages) before the newest maxConsoleEvents are kept.
func resourceEvents(ctx context.Context, r client.Reader, kind, namespace, name string) ([]console.Event, string) {
	var items []corev1.Event
	cont := ""
	for range maxEventPages {
		var list corev1.EventList
		err := r.List(ctx, &list, client.InNamespace(namespace),
			client.MatchingFields{"involvedObject.kind": kind, "involvedObject.name": name},
			client.Limit(eventPageSize), client.Continue(cont))
		switch {
		case apierrors.IsForbidden(err):
			return nil, "the hub's identity in this member may not list events; run `kubectl flinkhub cluster add` again to grant it"
		case err != nil:
			return nil, "the member did not list the events"
		}
		items = append(items, list.Items...)
		if cont = list.Continue; cont == "" {
			break
		}
	}
	out := make([]console.Event, 0, len(items))
	for _, e := range items {
		t := e.LastTimestamp.Time
		if t.IsZero() {
			t = e.EventTime.Time
		}
		if t.IsZero() {
			t = e.CreationTimestamp.Time
		}
		count := e.Count
		if e.Series != nil {
			count = e.Series.Count
		}
		// An event written once through events.k8s.io has no count.
		count = max(count, 1)
		out = append(out, console.Event{Time: t, Type: e.Type, Reason: e.Reason, Message: e.Message, Count: count})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out[:min(len(out), maxConsoleEvents)], ""
}

// snapshotsOf picks the snapshots of one resource, newest first.
func snapshotsOf(items []flinkv1beta1.FlinkStateSnapshot, kind, name string) []console.Snapshot {
	sort.SliceStable(items, func(i, j int) bool {
		return items[j].CreationTimestamp.Before(&items[i].CreationTimestamp)
	})
	var out []console.Snapshot
	for _, s := range items {
		ref := s.Spec.JobReference
		if ref == nil || ref.Name != name || (ref.Kind != "" && string(ref.Kind) != kind) {
			continue
		}
		typ := "savepoint"
		if s.Spec.Checkpoint != nil {
			typ = "checkpoint"
		}
		out = append(out, console.Snapshot{
			Name: s.Name, Type: typ, State: string(s.Status.State), Path: s.Status.Path, Error: s.Status.Error,
			Trigger: s.Status.TriggerTimestamp, Result: s.Status.ResultTimestamp,
		})
		if len(out) == maxConsoleSnapshots {
			break
		}
	}
	return out
}
