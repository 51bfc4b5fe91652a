package v1beta1

import "testing"

func TestIsEqualOrNewer(t *testing.T) {
	for _, tc := range []struct {
		v, o FlinkVersion
		want bool
	}{
		{"v1_16", "v1_17", false}, {"v1_17", "v1_17", true}, {"v1_20", "v1_17", true}, {"v2_0", "v1_20", true},
		{"v1_15", "v2_0", false}, {"", "v1_17", true}, {"bogus", "v1_17", true},
	} {
		if got := tc.v.IsEqualOrNewer(tc.o); got != tc.want {
			t.Errorf("%q.IsEqualOrNewer(%q) = %v, want %v", tc.v, tc.o, got, tc.want)
		}
	}
}
