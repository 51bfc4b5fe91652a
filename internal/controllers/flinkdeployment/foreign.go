package flinkdeployment

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// Another operator beside the hub. The Apache operator (or any other
// controller of FlinkDeployments) uses the same finalizer and writes the
// same status; two of them on one FlinkDeployment take two savepoints,
// deploy twice and delete each other's clusters. The hub writes status with
// its own field manager, so the managed fields tell who wrote the status
// last: when another manager wrote it after the hub's last status write,
// the hub leaves the FlinkDeployment alone (no write, no Flink call) and
// says so in an event. Two hubs on one member are kept apart by the claim
// Lease instead (clusters/claim).

// statusSubresource is the managed-fields subresource of status writes.
const statusSubresource = "status"

// foreignWriter is a status write by a manager other than the hub.
type foreignWriter struct {
	manager string
	at      time.Time
}

// foreignStatusWriter returns the other manager whose status write is at
// least as recent as the newest status write of ours (any one, if ours
// never wrote status) and not before adoptBefore (the member was handed
// over: `kubectl flinkhub adopt`). Entries are compared at their
// one-second resolution; a tie counts as the other's, the safe side.
func foreignStatusWriter(fields []metav1.ManagedFieldsEntry, ours string, adoptBefore time.Time) (foreignWriter, bool) {
	newestOurs := adoptBefore
	for _, f := range fields {
		if f.Subresource == statusSubresource && f.Manager == ours && f.Time != nil && f.Time.After(newestOurs) {
			newestOurs = f.Time.Time
		}
	}
	var found foreignWriter
	ok := false
	for _, w := range foreignWriters(fields, ours) {
		if w.at.Before(newestOurs) || (ok && !w.at.After(found.at)) {
			continue
		}
		found, ok = w, true
	}
	return found, ok
}

// managedElsewhereMessage is the event of a FlinkDeployment the hub leaves
// to another writer.
func managedElsewhereMessage(name string, w foreignWriter) string {
	return fmt.Sprintf("field manager %q wrote this FlinkDeployment's status at %s, after the hub last did: another operator manages it, "+
		"and the hub leaves it alone (no write, no Flink call) while that holds. If %q was a one-off edit, not an operator, "+
		"clear the record and the hub resumes: kubectl patch flinkdeployment %s --type=merge -p '{\"metadata\":{\"managedFields\":[{}]}}'",
		w.manager, w.at.UTC().Format(time.RFC3339), w.manager, name)
}

// statusWriters keeps, of managed fields, the status entries without
// their field sets: all foreignStatusWriter reads, a few bytes per entry.
func statusWriters(fields []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
	var kept []metav1.ManagedFieldsEntry
	for _, f := range fields {
		if f.Subresource == statusSubresource {
			kept = append(kept, metav1.ManagedFieldsEntry{Manager: f.Manager, Operation: f.Operation, Subresource: f.Subresource, Time: f.Time})
		}
	}
	return kept
}

// Events of FlinkDeployments left to another writer, and taken back.
const (
	ReasonManagedElsewhere = "ManagedElsewhere"
	ReasonManagedByHub     = "ManagedByHub"
)

// reportManagedElsewhere says, once per writer, that the hub leaves s's
// FlinkDeployment to w: a Warning event (an event is not the
// FlinkDeployment, so it fights nobody) and a log line.
func (r *Reconciler) reportManagedElsewhere(ctx context.Context, s *state, w foreignWriter) {
	if !r.stalls.managedElsewhere(s.key(), w) {
		return
	}
	msg := managedElsewhereMessage(s.fd.Name, w)
	log.FromContext(ctx).Info("another writer manages this FlinkDeployment; leaving it alone", "manager", w.manager, "at", w.at)
	r.event(s, corev1.EventTypeWarning, ReasonManagedElsewhere, msg)
}

// resumeManaging says when a FlinkDeployment left to another writer is
// the hub's again.
func (r *Reconciler) resumeManaging(ctx context.Context, s *state) {
	if !r.stalls.managedHere(s.key()) {
		return
	}
	log.FromContext(ctx).Info("no other writer of this FlinkDeployment's status is newer than the hub; managing it again")
	r.event(s, corev1.EventTypeNormal, ReasonManagedByHub, "no other writer of the status is newer than the hub's last write; the hub manages this FlinkDeployment again")
}

// foreignWritersChanged passes the updates of a FlinkDeployment whose
// status writers other than ours changed: another operator's first write,
// and the managed fields cleared. The hub's own status writes do not pass.
func foreignWritersChanged(ours string) predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		if e.ObjectOld == nil || e.ObjectNew == nil {
			return false
		}
		return !slices.Equal(foreignWriters(e.ObjectOld.GetManagedFields(), ours), foreignWriters(e.ObjectNew.GetManagedFields(), ours))
	}}
}

// foreignWriters lists the status writes of managers other than ours.
func foreignWriters(fields []metav1.ManagedFieldsEntry, ours string) []foreignWriter {
	var out []foreignWriter
	for _, f := range fields {
		if f.Subresource == statusSubresource && f.Manager != ours {
			w := foreignWriter{manager: f.Manager}
			if f.Time != nil {
				w.at = f.Time.Time
			}
			out = append(out, w)
		}
	}
	return out
}
