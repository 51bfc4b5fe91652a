package flinkdeployment

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// TestRecordSnapshotFollowsTheSetting: with
// kubernetes.operator.snapshot.resource.enabled unset (upstream's default,
// on) a savepoint the hub took is recorded as an alreadyExists snapshot
// with no owner (it outlives the job) and dispose-on-delete as set; with
// it false, nothing is recorded and the status fields alone keep it.
func TestRecordSnapshotFollowsTheSetting(t *testing.T) {
	fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "orders", UID: "uid-1"}}
	sp := v1beta1.Savepoint{TimeStamp: 1700000000000, Location: "s3://b/savepoint-1", TriggerType: v1beta1.TriggerManual}
	cases := []struct {
		name        string
		settings    map[string]string
		wantRecords bool
		wantDispose bool
	}{
		{"default: recorded", nil, true, false},
		{"on, disposed on delete", map[string]string{flinkconf.KeySnapshotResource: "true", flinkconf.KeySavepointDisposeOnDelete: "true"}, true, true},
		{"off: not recorded", map[string]string{flinkconf.KeySnapshotResource: "false"}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			scheme := runtime.NewScheme()
			if err := v1beta1.AddToScheme(scheme); err != nil {
				t.Fatal(err)
			}
			c := fake.NewClientBuilder().WithScheme(scheme).Build()
			warned := ""
			RecordSnapshot(context.Background(), c, fd, v1beta1.JobKindFlinkDeployment, sp, func(key string) string { return tc.settings[key] }, func(msg string) { warned = msg })
			if warned != "" {
				t.Fatalf("warned: %s", warned)
			}
			var snaps v1beta1.FlinkStateSnapshotList
			if err := c.List(context.Background(), &snaps, client.InNamespace(fd.Namespace)); err != nil {
				t.Fatal(err)
			}
			if !tc.wantRecords {
				if len(snaps.Items) != 0 {
					t.Fatalf("%d snapshots recorded with the setting off", len(snaps.Items))
				}
				return
			}
			if len(snaps.Items) != 1 {
				t.Fatalf("%d snapshots, want 1", len(snaps.Items))
			}
			s := snaps.Items[0]
			if s.Spec.Savepoint == nil || !s.Spec.Savepoint.AlreadyExists || s.Spec.Savepoint.Path != sp.Location || s.Spec.Savepoint.DisposeOnDelete != tc.wantDispose {
				t.Errorf("snapshot spec %+v", s.Spec.Savepoint)
			}
			if len(s.OwnerReferences) != 0 || s.Spec.JobReference == nil || s.Spec.JobReference.Name != fd.Name {
				t.Errorf("snapshot owners %v, job reference %+v: want none, and the job named", s.OwnerReferences, s.Spec.JobReference)
			}
		})
	}
}
