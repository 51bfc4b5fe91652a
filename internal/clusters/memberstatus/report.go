package memberstatus

import (
	"time"

	"k8s.io/apimachinery/pkg/api/equality"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
)

// writeDue reports whether a probe's status (after, made from before)
// must be written now: when it changes anything but lastProbeTime, when
// before was never written or claims a probe later than now (another
// replica's clock), and otherwise once before's probe is every old. A
// member probed every 10 s whose state stays the same then costs the hub
// apiserver one write per every, not one per probe, and every replica one
// watch event (they all cache MemberClusters); a stale lastProbeTime, more
// than every plus a probe interval old, still says that nobody probes the
// member.
func writeDue(before, after *hubv1alpha1.MemberClusterStatus, now time.Time, every time.Duration) bool {
	last := before.LastProbeTime
	if last == nil || now.Before(last.Time) || now.Sub(last.Time) >= every {
		return true
	}
	a, b := before.DeepCopy(), after.DeepCopy()
	a.LastProbeTime, b.LastProbeTime = nil, nil
	return !equality.Semantic.DeepEqual(a, b)
}
