package memberstatus

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
)

func TestWriteDue(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	const every = time.Minute
	status := func(probed *time.Time, mutate ...func(*hubv1alpha1.MemberClusterStatus)) *hubv1alpha1.MemberClusterStatus {
		st := &hubv1alpha1.MemberClusterStatus{
			KubernetesVersion: "v1.34.0", Server: "https://member:6443", FlinkDeployments: 3,
			Conditions: []metav1.Condition{{Type: hubv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: hubv1alpha1.ReasonReachable, Message: "ok", LastTransitionTime: metav1.NewTime(t0)}},
		}
		if probed != nil {
			st.LastProbeTime = &metav1.Time{Time: *probed}
		}
		for _, m := range mutate {
			m(st)
		}
		return st
	}
	at := func(d time.Duration) *time.Time { t := t0.Add(d); return &t }
	for _, tc := range []struct {
		name          string
		before, after *hubv1alpha1.MemberClusterStatus
		now           time.Time
		every         time.Duration
		want          bool
	}{
		{"nothing new, last written 10 s ago", status(at(0)), status(at(10 * time.Second)), t0.Add(10 * time.Second), every, false},
		{"nothing new, last written just under a report interval ago", status(at(0)), status(at(every - time.Millisecond)), t0.Add(every - time.Millisecond), every, false},
		{"nothing new, last written a report interval ago", status(at(0)), status(at(every)), t0.Add(every), every, true},
		{"never written", status(nil), status(at(0)), t0, every, true},
		{"another replica's clock wrote a later probe", status(at(time.Hour)), status(at(0)), t0, every, true},
		{"every probe written (0)", status(at(0)), status(at(time.Second)), t0.Add(time.Second), 0, true},
		{"a count changed", status(at(0)), status(at(10*time.Second), func(st *hubv1alpha1.MemberClusterStatus) { st.FlinkDeployments = 4 }), t0.Add(10 * time.Second), every, true},
		{"a condition's message changed", status(at(0)), status(at(10*time.Second), func(st *hubv1alpha1.MemberClusterStatus) { st.Conditions[0].Message = "other" }), t0.Add(10 * time.Second), every, true},
		{"a condition came", status(at(0)), status(at(10*time.Second), func(st *hubv1alpha1.MemberClusterStatus) {
			st.Conditions = append(st.Conditions, metav1.Condition{Type: hubv1alpha1.ConditionEngaged, Status: metav1.ConditionTrue, Reason: "Engaged"})
		}), t0.Add(10 * time.Second), every, true},
		{"the version changed", status(at(0)), status(at(10*time.Second), func(st *hubv1alpha1.MemberClusterStatus) { st.KubernetesVersion = "v1.35.0" }), t0.Add(10 * time.Second), every, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := writeDue(tc.before, tc.after, tc.now, tc.every); got != tc.want {
				t.Errorf("writeDue = %v, want %v", got, tc.want)
			}
		})
	}
}
