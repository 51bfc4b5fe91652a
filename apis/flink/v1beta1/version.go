package v1beta1

import (
	"strconv"
	"strings"
)

// release is the major and minor number of v ("v1_17" is 1, 17); ok is
// false for a version it cannot read.
func (v FlinkVersion) release() (major, minor int, ok bool) {
	ma, mi, found := strings.Cut(strings.TrimPrefix(string(v), "v"), "_")
	if !found {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(ma)
	minor, err2 := strconv.Atoi(mi)
	return major, minor, err1 == nil && err2 == nil
}

// IsEqualOrNewer reports whether v is the release o or a later one, as
// upstream's FlinkVersion.isEqualOrNewer. A v that cannot be read (unset)
// is not known to be older: it counts as newer than any o.
func (v FlinkVersion) IsEqualOrNewer(o FlinkVersion) bool {
	ma, mi, ok := v.release()
	oMa, oMi, oOK := o.release()
	if !ok || !oOK {
		return !ok
	}
	return ma > oMa || (ma == oMa && mi >= oMi)
}

// Number is v as Flink numbers its releases: "1.16" for v1_16.
func (v FlinkVersion) Number() string {
	return strings.ReplaceAll(strings.TrimPrefix(string(v), "v"), "_", ".")
}
