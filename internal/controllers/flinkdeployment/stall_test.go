package flinkdeployment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	mcreconcile "sigs.k8s.io/multicluster-runtime/pkg/reconcile"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/controllers/requeue"
	"github.com/flink-hub/flink-hub/internal/problem"
)

func TestExplainStallSaysWhatToDo(t *testing.T) {
	cm := schema.GroupResource{Resource: "configmaps"}
	for _, tc := range []struct {
		name string
		err  error
		want []string
	}{
		{"rbac", apierrors.NewForbidden(cm, "x", errors.New(`User "system:serviceaccount:flink-hub:flink-hub" cannot deletecollection resource "configmaps"`)),
			[]string{"may not do this", "kubectl flinkhub cluster add member-1", "deletecollection"}},
		{"quota", apierrors.NewForbidden(cm, "x", errors.New("exceeded quota: q, requested: configmaps=1, used: configmaps=0, limited: configmaps=0")),
			[]string{"ResourceQuota", "raise the quota"}},
		{"admission", apierrors.NewForbidden(cm, "x", errors.New(`admission webhook "deny.example.com" denied the request: no`)),
			[]string{"admission webhook or policy in member member-1", "deny.example.com"}},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "x", field.ErrorList{field.Invalid(field.NewPath("spec"), 1, "bad")}),
			[]string{"as invalid", "podTemplate"}},
		{"too large", apierrors.NewRequestEntityTooLargeError("limit is 3145728"), []string{"too large", "shrink"}},
		{"conflict", apierrors.NewConflict(cm, "x", errors.New("changed")), []string{"keep conflicting"}},
		{"unauthorized", apierrors.NewUnauthorized("token expired"), []string{"fresh token", "cluster add member-1"}},
		{"deadline", fmt.Errorf("apply: %w", context.DeadlineExceeded), []string{"did not answer in time"}},
		{"reconcile deadline", &requeue.DeadlineError{Limit: 2 * time.Minute, Step: "observing", Err: context.DeadlineExceeded}, []string{"2m0s", "observing", "keeps retrying"}},
		{"unavailable", apierrors.NewServiceUnavailable("etcd"), []string{"overloaded or failing"}},
		{"other", errors.New("something else"), []string{"something else"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := explainStall("member-1", tc.err)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("explainStall = %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

// TestRetryBackoffIsCapped: however often a FlinkDeployment's reconciles
// fail, the next retry comes within the cap, which the reconcile interval
// lowers; controller-runtime's default would wait up to 16 minutes.
func TestRetryBackoffIsCapped(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want time.Duration
	}{
		{DefaultOptions(), time.Minute},
		{Options{ReconcileInterval: 5 * time.Second, MaxRetryBackoff: time.Minute}, 5 * time.Second},
		{Options{ReconcileInterval: time.Hour, MaxRetryBackoff: 30 * time.Second}, 30 * time.Second},
		{Options{ReconcileInterval: time.Hour}, time.Minute},
	} {
		limiter := retryLimiter(tc.opts.maxRetryBackoff())
		req := mcreconcile.Request{Request: reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "fd"}}}
		var last time.Duration
		for range 40 {
			last = limiter.When(req)
			if last > tc.want {
				t.Fatalf("%+v: a retry after %s, over the cap %s", tc.opts, last, tc.want)
			}
		}
		if last != tc.want {
			t.Errorf("%+v: after 40 failures the retry comes after %s, want the cap %s", tc.opts, last, tc.want)
		}
	}
}

// TestSnapshotWait: a stalled savepoint or checkpoint is named with what
// waits on it, and an upgrade waiting on it is UpgradeStalled, the same
// for FlinkDeployments and session jobs.
func TestSnapshotWait(t *testing.T) {
	for _, tc := range []struct {
		checkpoint          bool
		trigger             v1beta1.SnapshotTriggerType
		deleting, upgrading bool
		reason              problem.Reason
		what                string
	}{
		{false, v1beta1.TriggerUpgrade, false, true, problem.UpgradeStalled, "the upgrade's stop-with-savepoint"},
		{false, v1beta1.TriggerUpgrade, false, false, problem.UpgradeStalled, "the upgrade's stop-with-savepoint"},
		{false, v1beta1.TriggerUpgrade, true, false, problem.SavepointStalled, "the stop-with-savepoint for the deletion"},
		{false, v1beta1.TriggerUpgrade, true, true, problem.SavepointStalled, "the stop-with-savepoint for the deletion"},
		{false, v1beta1.TriggerManual, false, true, problem.UpgradeStalled, "the manual savepoint the upgrade waits for"},
		{false, v1beta1.TriggerPeriodic, false, true, problem.UpgradeStalled, "the periodic savepoint the upgrade waits for"},
		{false, v1beta1.TriggerManual, false, false, problem.SavepointStalled, "the manual savepoint"},
		{false, v1beta1.TriggerManual, true, true, problem.SavepointStalled, "the manual savepoint"},
		{true, v1beta1.TriggerManual, false, false, problem.CheckpointStalled, "the manual checkpoint"},
		{true, v1beta1.TriggerPeriodic, false, false, problem.CheckpointStalled, "the periodic checkpoint"},
		{true, v1beta1.TriggerManual, false, true, problem.UpgradeStalled, "the manual checkpoint the upgrade waits for"},
		{true, v1beta1.TriggerManual, true, false, problem.CheckpointStalled, "the manual checkpoint"},
	} {
		reason, what := SnapshotWait(tc.checkpoint, tc.trigger, tc.deleting, tc.upgrading)
		if reason != tc.reason || what != tc.what {
			t.Errorf("SnapshotWait(checkpoint %v, %s, deleting %v, upgrading %v) = %s %q, want %s %q", tc.checkpoint, tc.trigger, tc.deleting, tc.upgrading, reason, what, tc.reason, tc.what)
		}
	}
}
