package flinkconf

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// KeyScheduler is Flink's jobmanager.scheduler; SchedulerAdaptive is the
// value of the adaptive scheduler, the one that rescales a job in place.
const (
	KeyScheduler      = "jobmanager.scheduler"
	SchedulerAdaptive = "adaptive"
)

// KeyInPlaceScaling (true by default) rescales a native job in place,
// through Flink's resource requirements API, when only its parallelism
// overrides change (Flink 1.18 or later, the adaptive scheduler, a job
// that runs); otherwise, and when Flink refuses, the change is an upgrade.
const KeyInPlaceScaling = OperatorKeyPrefix + "job.upgrade.inplace-scaling.enabled"

// MaxParallelism is the largest parallelism Flink allows a vertex
// (2^15, its upper limit of max parallelism).
const MaxParallelism = 1 << 15

// MaxParallelismOverrides bounds the overrides one configuration holds.
const MaxParallelismOverrides = 1024

// vertexIDPattern is a Flink JobVertexID: 16 bytes, 32 hex digits.
var vertexIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{32}$`)

// ParallelismOverrides reads conf's KeyParallelismOverrides (in a native
// FlinkDeployment, a change of them alone rescales the job in place when it
// can, KeyInPlaceScaling): vertex id
// (lower case) to parallelism; empty when unset. Tenant text: every id
// must be a Flink job vertex id (32 hex digits) and every value a whole
// number from 1 to MaxParallelism, or nothing is returned.
func ParallelismOverrides(conf map[string]string) (map[string]int32, error) {
	raw, err := ParseMap(conf[KeyParallelismOverrides])
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxParallelismOverrides {
		return nil, fmt.Errorf("more than %d overrides", MaxParallelismOverrides)
	}
	out := make(map[string]int32, len(raw))
	for _, id := range slices.Sorted(maps.Keys(raw)) {
		v := strings.TrimSpace(raw[id])
		if !vertexIDPattern.MatchString(strings.TrimSpace(id)) {
			return nil, fmt.Errorf("%.40q is not a job vertex id (32 hexadecimal digits)", id)
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxParallelism {
			return nil, fmt.Errorf("the parallelism %.20q of job vertex %s is not a whole number from 1 to %d", v, strings.TrimSpace(id), MaxParallelism)
		}
		out[strings.ToLower(strings.TrimSpace(id))] = int32(n)
	}
	return out, nil
}

// AdaptiveScheduler reports conf's scheduler being Flink's adaptive one
// (jobmanager.scheduler: adaptive, in any case).
func AdaptiveScheduler(conf map[string]string) bool {
	return strings.EqualFold(strings.TrimSpace(conf[KeyScheduler]), SchedulerAdaptive)
}
