package flinkdeployment

import (
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

func TestTrimHistory(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	sp := func(ageMinutes int) v1beta1.Savepoint {
		return v1beta1.Savepoint{TimeStamp: now.Add(-time.Duration(ageMinutes) * time.Minute).UnixMilli()}
	}
	spec := func(conf string) *v1beta1.FlinkDeploymentSpec {
		return &v1beta1.FlinkDeploymentSpec{FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(conf)}}
	}
	cases := []struct {
		name    string
		history []v1beta1.Savepoint
		conf    string
		want    []int64 // timestamps kept, oldest first
	}{
		{"defaults keep ten of the last day", []v1beta1.Savepoint{sp(2000), sp(30), sp(20), sp(10)}, `{}`,
			[]int64{sp(30).TimeStamp, sp(20).TimeStamp, sp(10).TimeStamp}},
		{"max count keeps the newest", []v1beta1.Savepoint{sp(30), sp(20), sp(10)}, `{"kubernetes.operator.savepoint.history.max.count": "2"}`,
			[]int64{sp(20).TimeStamp, sp(10).TimeStamp}},
		{"max age drops the old", []v1beta1.Savepoint{sp(30), sp(20), sp(10)}, `{"kubernetes.operator.savepoint.history.max.age": "15m"}`,
			[]int64{sp(10).TimeStamp}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := trimHistory(tc.history, spec(tc.conf), now)
			if len(got) != len(tc.want) {
				t.Fatalf("kept %d, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i].TimeStamp != tc.want[i] {
					t.Errorf("entry %d = %d, want %d", i, got[i].TimeStamp, tc.want[i])
				}
			}
		})
	}
}

func TestPeriodicWait(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	const start = "900000" // the job started 100 s ago
	for _, tc := range []struct {
		name string
		last int64
		job  string
		want time.Duration
	}{
		{"first, counted from the job's start", 0, start, 20 * time.Second},
		{"first, job start unknown: due", 0, "", -880 * time.Second},
		{"after the last one", 990_000, start, 110 * time.Second},
		{"overdue", 800_000, start, -80 * time.Second},
	} {
		if got := periodicWait(tc.last, tc.job, 2*time.Minute, now); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
