package flinkstatesnapshot

import (
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/memberkind"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

// SetupOptions wire the controller into a manager.
type SetupOptions = memberkind.SetupOptions

// kind is the controlled kind, sharded on each snapshot's own key.
var kind = memberkind.Kind{Name: "FlinkStateSnapshot", Object: &v1beta1.FlinkStateSnapshot{}, ShardKind: shardkey.KindSnapshot}

// RequestKey is the shard key of a FlinkStateSnapshot's request: its own.
func RequestKey(req mcreconcile.Request) string { return kind.KeyOf(req) }

// SetupWithManager registers the FlinkStateSnapshot controller
// (memberkind.Setup): snapshots are optional in a member.
func (r *Reconciler) SetupWithManager(mgr mcmanager.Manager, o SetupOptions) error {
	return memberkind.Setup(mgr, kind, r, r.Options, o, nil)
}
