package flinkdeployment

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/event"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

func TestForeignStatusWriter(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { return &metav1.Time{Time: t0.Add(d)} }
	status := func(manager string, when *metav1.Time) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Subresource: statusSubresource, Operation: metav1.ManagedFieldsOperationUpdate, Time: when}
	}
	spec := func(manager string, when *metav1.Time) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, Time: when}
	}
	for _, tc := range []struct {
		name   string
		fields []metav1.ManagedFieldsEntry
		want   string
		adopt  time.Time
	}{
		// A member handed over (kubectl flinkhub adopt) at t0+5s.
		{name: "adopted: another wrote before the hand-over", fields: []metav1.ManagedFieldsEntry{status("flink-kubernetes-operator", at(time.Second))}, adopt: t0.Add(5 * time.Second)},
		{name: "adopted: another wrote after the hand-over", fields: []metav1.ManagedFieldsEntry{status("flink-kubernetes-operator", at(6*time.Second))}, want: "flink-kubernetes-operator", adopt: t0.Add(5 * time.Second)},
		{name: "adopted: another wrote in the hand-over's second", fields: []metav1.ManagedFieldsEntry{status("flink-kubernetes-operator", at(5*time.Second))}, want: "flink-kubernetes-operator", adopt: t0.Add(5 * time.Second)},
		{name: "adopted: the hub wrote, then another", fields: []metav1.ManagedFieldsEntry{status("flink-hub", at(7*time.Second)), status("flink-kubernetes-operator", at(8*time.Second))}, want: "flink-kubernetes-operator", adopt: t0.Add(5 * time.Second)},
		{name: "nobody wrote status", fields: []metav1.ManagedFieldsEntry{spec("kubectl-client-side-apply", at(0))}},
		{name: "only the hub", fields: []metav1.ManagedFieldsEntry{spec("kubectl", at(0)), status("flink-hub", at(time.Second))}},
		{name: "another wrote before the hub", fields: []metav1.ManagedFieldsEntry{status("kubectl-patch", at(0)), status("flink-hub", at(time.Second))}},
		{name: "another wrote after the hub", fields: []metav1.ManagedFieldsEntry{status("flink-hub", at(0)), status("flink-kubernetes-operator", at(time.Second))}, want: "flink-kubernetes-operator"},
		{name: "in the same second", fields: []metav1.ManagedFieldsEntry{status("flink-hub", at(0)), status("flink-kubernetes-operator", at(0))}, want: "flink-kubernetes-operator"},
		{name: "the hub never wrote status", fields: []metav1.ManagedFieldsEntry{status("flink-kubernetes-operator", at(0))}, want: "flink-kubernetes-operator"},
		{name: "an entry without a time", fields: []metav1.ManagedFieldsEntry{status("old-controller", nil)}, want: "old-controller"},
		{name: "the newest of two others", fields: []metav1.ManagedFieldsEntry{status("a", at(time.Second)), status("flink-hub", at(0)), status("b", at(2*time.Second))}, want: "b"},
		{name: "another's spec write after the hub's status", fields: []metav1.ManagedFieldsEntry{status("flink-hub", at(0)), spec("kubectl-edit", at(time.Second))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := foreignStatusWriter(tc.fields, "flink-hub", tc.adopt)
			if got := map[bool]string{true: w.manager}[ok]; got != tc.want || ok != (tc.want != "") {
				t.Errorf("foreignStatusWriter = %q, %v; want %q", w.manager, ok, tc.want)
			}
		})
	}
}

func TestStatusWritersKeepOnlyWhoWroteStatus(t *testing.T) {
	when := &metav1.Time{Time: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	fields := []metav1.ManagedFieldsEntry{
		{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, Time: when, FieldsV1: metav1.NewFieldsV1(`{"f:spec":{}}`)},
		{Manager: "flink-hub", Subresource: statusSubresource, Operation: metav1.ManagedFieldsOperationUpdate, Time: when, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:status":{}}`)},
	}
	got := statusWriters(fields)
	if len(got) != 1 || got[0].Manager != "flink-hub" || got[0].FieldsV1 != nil || !got[0].Time.Equal(when) || got[0].Subresource != statusSubresource {
		t.Errorf("statusWriters = %+v", got)
	}
}

func TestForeignWritersChangedPassesOnlyOtherWriters(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	fd := func(fields ...metav1.ManagedFieldsEntry) *v1beta1.FlinkDeployment {
		return &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{ManagedFields: fields}}
	}
	status := func(manager string, s int) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Subresource: statusSubresource, Time: &metav1.Time{Time: t0.Add(time.Duration(s) * time.Second)}}
	}
	p := foreignWritersChanged("flink-hub")
	for _, tc := range []struct {
		name     string
		old, new *v1beta1.FlinkDeployment
		want     bool
	}{
		{"the hub wrote status again", fd(status("flink-hub", 0)), fd(status("flink-hub", 1)), false},
		{"another operator wrote status", fd(status("flink-hub", 0)), fd(status("flink-hub", 0), status("flink-kubernetes-operator", 1)), true},
		{"another operator wrote status again", fd(status("flink-kubernetes-operator", 1)), fd(status("flink-kubernetes-operator", 2)), true},
		{"managed fields cleared", fd(status("flink-hub", 0), status("flink-kubernetes-operator", 1)), fd(), true},
		{"nothing about status", fd(), fd(metav1.ManagedFieldsEntry{Manager: "kubectl"}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
				t.Errorf("passes = %v, want %v", got, tc.want)
			}
		})
	}
}
