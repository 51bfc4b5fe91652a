package flinkconf

import (
	"fmt"
	"regexp"
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
// can, KeyInPlaceScaling): vertex id to parallelism; empty when unset.
// Tenant text, read as Flink reads it: every id must be a Flink job vertex
// id as Flink writes it (32 hex digits, in lower case: Flink looks the
// overrides up by the vertex's id so written, and ignores any other
// spelling), given once (Flink refuses the whole value when a key repeats,
// and the job is not submitted), and every value a whole number from 1 to
// MaxParallelism, or nothing is returned.
func ParallelismOverrides(conf map[string]string) (map[string]int32, error) {
	entries, err := mapEntries(conf[KeyParallelismOverrides])
	if err != nil {
		return nil, err
	}
	if len(entries) > MaxParallelismOverrides {
		return nil, fmt.Errorf("more than %d overrides", MaxParallelismOverrides)
	}
	out := make(map[string]int32, len(entries))
	for _, kv := range entries {
		id, n, err := parallelismOverride(kv[0], kv[1])
		if err != nil {
			return nil, err
		}
		if _, twice := out[id]; twice {
			return nil, fmt.Errorf("job vertex %s is given twice (Flink refuses the value, and the job would not start)", id)
		}
		out[id] = n
	}
	return out, nil
}

// parallelismOverride checks one override, id and value as read (spaces
// around an unquoted token trimmed, a quoted one kept whole, as Flink).
func parallelismOverride(id, value string) (string, int32, error) {
	if !vertexIDPattern.MatchString(id) {
		return "", 0, fmt.Errorf("%.40q is not a job vertex id (32 hexadecimal digits)", id)
	}
	if lower := strings.ToLower(id); lower != id {
		return "", 0, fmt.Errorf("job vertex id %s is not in lower case: Flink matches the ids as it writes them and would ignore this override (write %s)", id, lower)
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 || n > MaxParallelism {
		return "", 0, fmt.Errorf("the parallelism %.20q of job vertex %s is not a whole number from 1 to %d", value, id, MaxParallelism)
	}
	return id, int32(n), nil
}

// AdaptiveScheduler reports conf's scheduler being Flink's adaptive one
// (jobmanager.scheduler: adaptive, in any case).
func AdaptiveScheduler(conf map[string]string) bool {
	return strings.EqualFold(strings.TrimSpace(conf[KeyScheduler]), SchedulerAdaptive)
}
