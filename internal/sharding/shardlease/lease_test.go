package shardlease

import (
	"slices"
	"strings"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestParseShardList(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []int
		wantErr string
	}{
		{in: "", want: nil},
		{in: "3", want: []int{3}},
		{in: "7,0,3", want: []int{0, 3, 7}},
		{in: "8", wantErr: "not a distinct shard"},
		{in: "-1", wantErr: "not a distinct shard"},
		{in: "03", wantErr: "not a distinct shard"},
		{in: "1,1", wantErr: "not a distinct shard"},
		{in: "1,,2", wantErr: "not a distinct shard"},
		{in: " 1", wantErr: "not a distinct shard"},
		{in: strings.Repeat("1,", 9) + "1", wantErr: "more than the 8"},
	} {
		got, err := ParseShardList(tc.in, 8)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || !slices.Equal(got, tc.want)):
			t.Errorf("%q = %v, %v; want %v", tc.in, got, err, tc.want)
		case tc.wantErr == "" && FormatShardList(got) != FormatShardList(tc.want):
			t.Errorf("%q does not format back", tc.in)
		}
	}
}

// TestParsePeerAnnouncements: a peer Lease's leaving flag and ready list
// are read; a garbage ready list makes the whole Lease untrusted.
func TestParsePeerAnnouncements(t *testing.T) {
	lease := func(annotations map[string]string) *coordinationv1.Lease {
		a := map[string]string{ShardsAnnotation: "8"}
		for k, v := range annotations {
			a[k] = v
		}
		return &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: PeerLeaseName("a"), Labels: map[string]string{RoleLabel: RolePeer}, Annotations: a},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr.To("a"), LeaseDurationSeconds: ptr.To(int32(10))},
		}
	}
	p, err := ParsePeer(lease(map[string]string{LeavingAnnotation: "true", ReadyAnnotation: "5,2"}))
	if err != nil || !p.Leaving || !slices.Equal(p.Ready, []int{2, 5}) {
		t.Errorf("leaving, ready 5,2: %+v, %v", p, err)
	}
	p, err = ParsePeer(lease(nil))
	if err != nil || p.Leaving || p.Ready != nil {
		t.Errorf("no announcement: %+v, %v", p, err)
	}
	if _, err := ParsePeer(lease(map[string]string{ReadyAnnotation: "9"})); err == nil {
		t.Error("a ready shard beyond S was trusted")
	}
}
