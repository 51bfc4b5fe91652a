package flinkconf

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flink-hub/flink-hub/internal/problem"
)

// OperatorKeyPrefix marks configuration for the operator itself: the hub
// reads it, Flink never needs it, and changing it redeploys nothing.
const OperatorKeyPrefix = "kubernetes.operator."

// The operator settings the hub reads, named as the Apache operator names
// them.
const (
	// KeyPeriodicSavepointInterval triggers a savepoint this often.
	KeyPeriodicSavepointInterval = OperatorKeyPrefix + "periodic.savepoint.interval"
	// KeyPeriodicCheckpointInterval triggers a checkpoint this often.
	KeyPeriodicCheckpointInterval = OperatorKeyPrefix + "periodic.checkpoint.interval"
	// KeySavepointHistoryMaxCount bounds status.jobStatus.savepointInfo's
	// history by count.
	KeySavepointHistoryMaxCount = OperatorKeyPrefix + "savepoint.history.max.count"
	// KeySavepointHistoryMaxAge bounds the savepoint history by age.
	KeySavepointHistoryMaxAge = OperatorKeyPrefix + "savepoint.history.max.age"
	// KeySavepointCleanup (true by default) disposes of the savepoints
	// dropped from the history.
	KeySavepointCleanup = OperatorKeyPrefix + "savepoint.cleanup.enabled"
	// KeySnapshotResource (true by default, as upstream) records the
	// savepoints the hub takes as FlinkStateSnapshots too.
	KeySnapshotResource = OperatorKeyPrefix + "snapshot.resource.enabled"
	// KeySavepointDisposeOnDelete sets disposeOnDelete on those
	// FlinkStateSnapshots.
	KeySavepointDisposeOnDelete = OperatorKeyPrefix + "savepoint.dispose-on-delete"
	// KeySavepointFormatType is CANONICAL (the default) or NATIVE.
	KeySavepointFormatType = OperatorKeyPrefix + "savepoint.format.type"
	// KeyCheckpointType is FULL (the default) or INCREMENTAL, for
	// triggered checkpoints.
	KeyCheckpointType = OperatorKeyPrefix + "checkpoint.type"
	// KeyRollbackEnabled rolls back a spec that does not become stable.
	KeyRollbackEnabled = OperatorKeyPrefix + "deployment.rollback.enabled"
	// KeyRestartFailed redeploys a job that failed for good.
	KeyRestartFailed = OperatorKeyPrefix + "job.restart.failed"
	// KeyReadinessTimeout overrides, for one FlinkDeployment, how long its
	// JobManager may take to become ready (and a new spec to become
	// stable before a rollback).
	KeyReadinessTimeout = OperatorKeyPrefix + "deployment.readiness.timeout"
	// KeySavepointOnDeletion stops a session job with a savepoint, instead
	// of cancelling it, when its FlinkSessionJob is deleted.
	KeySavepointOnDeletion = OperatorKeyPrefix + "job.savepoint-on-deletion"
	// KeyDrainOnSavepoint makes every stop-with-savepoint (an upgrade's,
	// a suspend's, a deletion's) drain the job first (Flink emits
	// MAX_WATERMARK, firing every event-time timer), as upstream passes
	// it to each of its stop-with-savepoint calls despite the name.
	KeyDrainOnSavepoint = OperatorKeyPrefix + "job.drain-on-savepoint-deletion"
	// KeyBlockOnUnmanagedJobs (true by default) keeps a session cluster
	// from being deleted while it runs jobs no FlinkSessionJob manages
	// (submitted with the CLI, say).
	KeyBlockOnUnmanagedJobs = OperatorKeyPrefix + "session.deletion.block-on-unmanaged-jobs"
	// KeyBlockOnSessionJobs (true by default) keeps a session cluster from
	// being deleted while FlinkSessionJobs name it.
	KeyBlockOnSessionJobs = OperatorKeyPrefix + "session.deletion.block-on-session-jobs"
	// KeyExceptionEvents bounds the JobException events of one reconcile
	// (10 by default; 0 turns them off).
	KeyExceptionEvents = OperatorKeyPrefix + "events.exceptions.limit-per-reconciliation"
	// KeyExceptionLines is how many stack trace lines a JobException event
	// holds (5 by default).
	KeyExceptionLines = OperatorKeyPrefix + "events.exceptions.stacktrace-lines"
	// KeyHealthCheck (false by default) restarts a job the cluster health
	// check finds unhealthy.
	KeyHealthCheck = OperatorKeyPrefix + "cluster.health-check.enabled"
	// KeyHealthRestartsThreshold (64) and KeyHealthRestartsWindow (2 min):
	// more restarts than the threshold within the window is unhealthy.
	KeyHealthRestartsThreshold = OperatorKeyPrefix + "cluster.health-check.restarts.threshold"
	KeyHealthRestartsWindow    = OperatorKeyPrefix + "cluster.health-check.restarts.window"
	// KeyHealthCheckpointProgress (true) and KeyHealthCheckpointWindow: no
	// checkpoint completed within the window is unhealthy.
	KeyHealthCheckpointProgress = OperatorKeyPrefix + "cluster.health-check.checkpoint-progress.enabled"
	KeyHealthCheckpointWindow   = OperatorKeyPrefix + "cluster.health-check.checkpoint-progress.window"
	// KeySavepointGracePeriod and KeyCheckpointGracePeriod (1 min each):
	// a manual savepoint or checkpoint that fails within this long of its
	// trigger is triggered again; one that fails later is not.
	KeySavepointGracePeriod  = OperatorKeyPrefix + "savepoint.trigger.grace-period"
	KeyCheckpointGracePeriod = OperatorKeyPrefix + "checkpoint.trigger.grace-period"
	// KeyCancelTimeout (1 min) is how long a job may stay CANCELLING
	// after the hub cancelled it for an upgrade (last-state; a session
	// job's stateless one too) before the wait is reported (the hub keeps
	// waiting: nothing is lost).
	KeyCancelTimeout = OperatorKeyPrefix + "flink.client.cancel.timeout"
	// KeyIgnorePendingSavepoint (false by default) lets a spec change go
	// ahead while a manual or periodic savepoint is under way.
	KeyIgnorePendingSavepoint = OperatorKeyPrefix + "job.upgrade.ignore-pending-savepoint"
	// KeyLastStateMaxCheckpointAge, when set, makes a last-state upgrade
	// of a running job whose latest checkpoint is older take a savepoint.
	KeyLastStateMaxCheckpointAge = OperatorKeyPrefix + "job.upgrade.last-state.max.allowed.checkpoint.age"
	// KeyRestReadyDelay delays the first REST call after the JobManager
	// became available (none by default: see the settings table).
	KeyRestReadyDelay = OperatorKeyPrefix + "observer.rest-ready.delay"
	// The exception settings shaping status.error (upstream's defaults:
	// no stack trace, 2048 characters, 2 causes, no labels).
	KeyExceptionStackTrace    = OperatorKeyPrefix + "exception.stacktrace.enabled"
	KeyExceptionStackTraceMax = OperatorKeyPrefix + "exception.stacktrace.max.length"
	KeyExceptionFieldMax      = OperatorKeyPrefix + "exception.field.max.length"
	KeyExceptionThrowableMax  = OperatorKeyPrefix + "exception.throwable.list.max.count"
	KeyExceptionLabelMapper   = OperatorKeyPrefix + "exception.label.mapper"
	// KeyLastStateCancel (false by default) makes a last-state upgrade of
	// a running job cancel it and restore from its latest retained
	// checkpoint instead of the HA metadata.
	KeyLastStateCancel = OperatorKeyPrefix + "job.upgrade.last-state.job-cancel.enabled"
	// KeyJMRecovery (true by default) recreates a JobManager Deployment
	// deleted behind the hub's back.
	KeyJMRecovery = OperatorKeyPrefix + "jm-deployment-recovery.enabled"
	// KeyLastStateFallback (true by default) lets a savepoint upgrade of a
	// job that does not run restore from the HA metadata instead.
	KeyLastStateFallback = OperatorKeyPrefix + "job.upgrade.last-state-fallback.enabled"
	// KeyMergeArraysByName merges the lists of pod templates item by item
	// by name; by position when false (the default, as upstream).
	KeyMergeArraysByName = OperatorKeyPrefix + "pod-template.merge-arrays-by-name"
	// KeyJMShutdownTTL is how long the JobManager of an application whose
	// job ended (finished, failed, cancelled) stays up; a day by default,
	// as upstream.
	KeyJMShutdownTTL = OperatorKeyPrefix + "jm-deployment.shutdown-ttl"
)

// settingKind says how a setting's value is read.
type settingKind int

const (
	kindDuration settingKind = iota
	kindBool
	kindCount
	kindEnum
	// kindPatternMap is a Flink map from regular expressions to labels.
	kindPatternMap
	// kindHTTPHeaders is a Flink map of HTTP headers (HTTPHeaders).
	kindHTTPHeaders
)

// operatorSettings are the typed settings CheckOperatorSettings checks.
var operatorSettings = map[string]struct {
	kind   settingKind
	values []string // for kindEnum
}{
	KeyPeriodicSavepointInterval:  {kind: kindDuration},
	KeyPeriodicCheckpointInterval: {kind: kindDuration},
	KeySavepointHistoryMaxAge:     {kind: kindDuration},
	KeyReadinessTimeout:           {kind: kindDuration},
	KeySavepointHistoryMaxCount:   {kind: kindCount},
	KeySavepointFormatType:        {kind: kindEnum, values: []string{"CANONICAL", "NATIVE"}},
	KeyCheckpointType:             {kind: kindEnum, values: []string{"FULL", "INCREMENTAL"}},
	KeyRollbackEnabled:            {kind: kindBool},
	KeyRestartFailed:              {kind: kindBool},
	KeySavepointOnDeletion:        {kind: kindBool},
	KeyDrainOnSavepoint:           {kind: kindBool},
	KeySavepointCleanup:           {kind: kindBool},
	KeySnapshotResource:           {kind: kindBool},
	KeySavepointDisposeOnDelete:   {kind: kindBool},
	KeyBlockOnUnmanagedJobs:       {kind: kindBool},
	KeyBlockOnSessionJobs:         {kind: kindBool},
	KeyJMRecovery:                 {kind: kindBool},
	KeyLastStateCancel:            {kind: kindBool},
	KeyExceptionStackTrace:        {kind: kindBool},
	KeyExceptionStackTraceMax:     {kind: kindCount},
	KeyExceptionFieldMax:          {kind: kindCount},
	KeyExceptionThrowableMax:      {kind: kindCount},
	KeyExceptionLabelMapper:       {kind: kindPatternMap},
	KeyRestReadyDelay:             {kind: kindDuration},
	KeyLastStateMaxCheckpointAge:  {kind: kindDuration},
	KeyIgnorePendingSavepoint:     {kind: kindBool},
	KeySavepointGracePeriod:       {kind: kindDuration},
	KeyCheckpointGracePeriod:      {kind: kindDuration},
	KeyHealthCheck:                {kind: kindBool},
	KeyHealthRestartsThreshold:    {kind: kindCount},
	KeyHealthRestartsWindow:       {kind: kindDuration},
	KeyHealthCheckpointProgress:   {kind: kindBool},
	KeyHealthCheckpointWindow:     {kind: kindDuration},
	KeyExceptionEvents:            {kind: kindCount},
	KeyExceptionLines:             {kind: kindCount},
	KeyLastStateFallback:          {kind: kindBool},
	KeyMergeArraysByName:          {kind: kindBool},
	KeyJMShutdownTTL:              {kind: kindDuration},
	KeyCancelTimeout:              {kind: kindDuration},
	KeyArtifactHTTPHeader:         {kind: kindHTTPHeaders},
	KeyInPlaceScaling:             {kind: kindBool},
}

// deprecatedKeys are older names upstream still reads for a setting, read
// when the setting itself is not set.
var deprecatedKeys = map[string][]string{
	KeyBlockOnUnmanagedJobs: {OperatorKeyPrefix + "session.block-on-unmanaged-jobs"},
	KeySavepointGracePeriod: {OperatorKeyPrefix + "observer.savepoint.trigger.grace-period"},
	KeyCancelTimeout:        {OperatorKeyPrefix + "reconciler.flink.cancel.job.timeout"},
}

// OperatorSetting is conf's value of an operator setting, under its name or
// a deprecated one; "" when unset.
func OperatorSetting(conf map[string]string, key string) string {
	v, _ := LookupOperatorSetting(conf, key)
	return v
}

// LookupOperatorSetting is conf's value of a setting, under its name or a
// deprecated one, and whether conf sets it.
func LookupOperatorSetting(conf map[string]string, key string) (string, bool) {
	if v, ok := conf[key]; ok {
		return v, true
	}
	for _, old := range deprecatedKeys[key] {
		if v, ok := conf[old]; ok {
			return v, true
		}
	}
	return "", false
}

// settingOf is the setting key names, under its name or a deprecated one.
func settingOf(key string) (string, bool) {
	if _, ok := operatorSettings[key]; ok {
		return key, true
	}
	for current, olds := range deprecatedKeys {
		if slices.Contains(olds, key) {
			return current, true
		}
	}
	return "", false
}

// UnknownOperatorSettings lists, sorted, the kubernetes.operator.* keys of
// conf that the hub does not read: a typo, or an upstream setting of a
// feature the hub does not have. Either way it does nothing here.
func UnknownOperatorSettings(conf map[string]string) []string {
	var unknown []string
	for key := range conf {
		if _, known := settingOf(key); strings.HasPrefix(key, OperatorKeyPrefix) && !known {
			unknown = append(unknown, key)
		}
	}
	slices.Sort(unknown)
	return unknown
}

// CheckOperatorSetting reports why value cannot be read for key, nil if it
// can (or the hub does not read key). Durations are Flink's ("6h",
// "10 min"); booleans true or false and enums in any case, as Flink reads
// them.
func CheckOperatorSetting(key, value string) error {
	current, ok := settingOf(key)
	if !ok {
		return nil
	}
	setting := operatorSettings[current]
	switch setting.kind {
	case kindDuration:
		if _, err := ParseDuration(value); err != nil {
			if len(strings.Fields(value)) >= 6 {
				return fmt.Errorf("%w; cron schedules are not supported by flink-hub, use a duration such as 6h", err)
			}
			return err
		}
	case kindBool:
		if _, ok := Bool(value); !ok {
			return fmt.Errorf("%q is neither true nor false", value)
		}
	case kindCount:
		if n, err := strconv.Atoi(strings.TrimSpace(value)); err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole number", value)
		}
	case kindPatternMap:
		if _, err := patternLabels(value); err != nil {
			return err
		}
	case kindHTTPHeaders:
		if _, err := HTTPHeaders(value); err != nil {
			return err
		}
	case kindEnum:
		for _, v := range setting.values {
			if strings.EqualFold(strings.TrimSpace(value), v) {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", value, strings.Join(setting.values, ", "))
	}
	return nil
}

// Bool reads a boolean setting as Flink does: true or false in any case.
func Bool(value string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// maxPatterns bounds a label mapper (tenant text, matched on every
// problem).
const maxPatterns = 32

// patternLabels reads a label mapper: pattern:label entries in Flink's map
// syntax, each pattern an RE2 regular expression (linear time, whatever
// the tenant writes).
func patternLabels(value string) (map[*regexp.Regexp]string, error) {
	m, err := ParseMap(value)
	if err != nil {
		return nil, err
	}
	if len(m) > maxPatterns {
		return nil, fmt.Errorf("more than %d patterns", maxPatterns)
	}
	out := map[*regexp.Regexp]string{}
	for pattern, label := range m {
		if len(pattern) > 512 {
			return nil, fmt.Errorf("pattern %.20q… is longer than 512 characters", pattern)
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", pattern, err)
		}
		out[re] = label
	}
	return out, nil
}

// ExceptionOptions are the exception settings of conf (operator settings,
// under their deprecated names too), upstream's defaults where unset or
// unreadable (the validation refuses those).
func ExceptionOptions(conf map[string]string) problem.ExceptionOptions {
	o := problem.DefaultExceptionOptions()
	o.StackTrace, _ = Bool(OperatorSetting(conf, KeyExceptionStackTrace))
	for key, dst := range map[string]*int{KeyExceptionStackTraceMax: &o.StackTraceMax, KeyExceptionFieldMax: &o.FieldMax, KeyExceptionThrowableMax: &o.ThrowableMax} {
		if n, err := strconv.Atoi(strings.TrimSpace(OperatorSetting(conf, key))); err == nil && n >= 0 {
			*dst = n
		}
	}
	if v := OperatorSetting(conf, KeyExceptionLabelMapper); v != "" {
		o.Labels, _ = patternLabels(v)
	}
	return o
}
