package flinkdeployment

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/sharding/handoff"
	"github.com/flink-hub/flink-hub/internal/snapshots"
)

// disposingFlink answers a disposal trigger and then its status: running
// for polls more polls, then status.
type disposingFlink struct {
	flinkrest.Client // every method not below panics
	triggerErr       error
	polls            int
	status           flinkrest.OperationStatus
	disposed         []string
}

func (f *disposingFlink) DisposeSavepoint(_ context.Context, path string) (string, error) {
	f.disposed = append(f.disposed, path)
	return "trigger-1", f.triggerErr
}

func (f *disposingFlink) DisposalStatus(_ context.Context, id string) (flinkrest.OperationStatus, error) {
	if id != "trigger-1" {
		return flinkrest.OperationStatus{}, errors.New("unknown trigger " + id)
	}
	if f.polls > 0 {
		f.polls--
		return flinkrest.OperationStatus{}, nil
	}
	return f.status, nil
}

// TestDisposeWithFollowsTheDisposal: a disposal is followed until Flink
// says how it ended; a failure Flink reports after accepting the trigger
// is an error (the savepoint is kept and tried again), as is a refused
// trigger. A disposal that found nothing at the path (FileNotFoundException
// among its causes) is snapshots.ErrGone: the files are gone already.
func TestDisposeWithFollowsTheDisposal(t *testing.T) {
	cases := []struct {
		name    string
		flink   *disposingFlink
		wantErr string
	}{
		{"completes", &disposingFlink{polls: 2, status: flinkrest.OperationStatus{Done: true}}, ""},
		{"fails after it was accepted", &disposingFlink{polls: 1, status: flinkrest.OperationStatus{Done: true, Failure: "java.nio.file.AccessDeniedException: s3://b/sp-1",
			Exceptions: []string{"java.nio.file.AccessDeniedException"}}}, "disposal of s3://b/sp-1 failed: java.nio.file.AccessDeniedException"},
		{"nothing at the path", &disposingFlink{polls: 1, status: flinkrest.OperationStatus{Done: true,
			Failure:    "java.util.concurrent.CompletionException: org.apache.flink.util.FlinkException: Could not dispose savepoint s3://b/sp-1.; caused by: java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory 's3://b/sp-1' on file system 's3'.",
			Exceptions: []string{"java.util.concurrent.CompletionException", "org.apache.flink.util.FlinkException", "java.io.FileNotFoundException"}}}, "Cannot find checkpoint or savepoint"},
		{"trigger refused", &disposingFlink{triggerErr: errors.New("409 Conflict")}, "409 Conflict"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := DisposeWith(tc.flink)(context.Background(), "s3://b/sp-1")
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if gone := tc.name == "nothing at the path"; errors.Is(err, snapshots.ErrGone) != gone {
				t.Fatalf("error %v: gone (snapshots.ErrGone) is %v, want %v", err, !gone, gone)
			}
			if tc.flink.triggerErr == nil && tc.flink.polls != 0 {
				t.Fatalf("%d polls left: the disposal was not followed to its end", tc.flink.polls)
			}
		})
	}
}

// TestDisposeWithIsFenced: a replica that no longer owns the key (its
// ownership check failing, as after a pause past its fence) disposes of
// nothing: history trimming runs before the fenced status write, and a
// disposal cannot be taken back.
func TestDisposeWithIsFenced(t *testing.T) {
	flink := &disposingFlink{status: flinkrest.OperationStatus{Done: true}}
	ctx := handoff.WithOwnership(context.Background(), func() bool { return false })
	if err := DisposeWith(flink)(ctx, "s3://b/sp-1"); !errors.Is(err, handoff.ErrNotOwned) || len(flink.disposed) != 0 {
		t.Fatalf("error %v, disposed %v: want nothing disposed, ErrNotOwned", err, flink.disposed)
	}
}

// TestTrimHistoryWhileSteady: a running job's savepoints past the
// history's age are dropped and disposed of without a new savepoint (the
// last one kept), and a history with nothing due asks Flink nothing. One
// whose files are gone already (Flink's disposal fails with
// FileNotFoundException) is dropped all the same, a SavepointsGone event
// says so, and it is not asked of Flink at every reconcile.
func TestTrimHistoryWhileSteady(t *testing.T) {
	now := time.Now()
	sp := func(loc string, age time.Duration) v1beta1.Savepoint {
		return v1beta1.Savepoint{Location: loc, TimeStamp: now.Add(-age).UnixMilli(), TriggerType: v1beta1.TriggerPeriodic}
	}
	cases := []struct {
		name         string
		history      []v1beta1.Savepoint
		wantKept     []string
		wantDisposed []string
		status       flinkrest.OperationStatus
		wantEvent    string
	}{
		{"past the age", []v1beta1.Savepoint{sp("s3://b/sp-1", 50*time.Hour), sp("s3://b/sp-2", 49*time.Hour), sp("s3://b/sp-3", 48*time.Hour)},
			[]string{"s3://b/sp-3"}, []string{"s3://b/sp-1", "s3://b/sp-2"}, flinkrest.OperationStatus{Done: true}, "Normal SavepointsDisposed"},
		{"nothing due", []v1beta1.Savepoint{sp("s3://b/sp-1", 2*time.Hour), sp("s3://b/sp-2", time.Hour)},
			[]string{"s3://b/sp-1", "s3://b/sp-2"}, nil, flinkrest.OperationStatus{Done: true}, ""},
		{"files gone", []v1beta1.Savepoint{sp("s3://b/sp-1", 50*time.Hour), sp("s3://b/sp-3", 48*time.Hour)},
			[]string{"s3://b/sp-3"}, []string{"s3://b/sp-1"}, flinkrest.OperationStatus{Done: true, Failure: "java.util.concurrent.CompletionException: ...; caused by: java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory 's3://b/sp-1' on file system 's3'.",
				Exceptions: []string{"java.util.concurrent.CompletionException", "org.apache.flink.util.FlinkException", "java.io.FileNotFoundException"}}, "Warning SavepointsGone"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			last := tc.history[len(tc.history)-1]
			fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "fd", UID: "uid-1"}}
			fd.Status.JobStatus.SavepointInfo = &v1beta1.SavepointInfo{LastSavepoint: &last, SavepointHistory: tc.history}
			flink := &disposingFlink{status: tc.status}
			r := &Reconciler{JobManagers: func(string, *rest.Config, *v1beta1.FlinkDeployment) (flinkrest.Client, error) { return flink, nil }, Options: DefaultOptions()}
			recorder := events.NewFakeRecorder(10)
			s := &state{cluster: fakeMember{events: recorder}, clusterName: "m1", fd: fd}
			r.trimHistory(context.Background(), s)
			if tc.wantEvent != "" {
				if ev := <-recorder.Events; !strings.HasPrefix(ev, tc.wantEvent) {
					t.Fatalf("event %q, want %s", ev, tc.wantEvent)
				}
			}
			if len(recorder.Events) != 0 {
				t.Fatalf("%d more events", len(recorder.Events))
			}
			var kept []string
			for _, h := range fd.Status.JobStatus.SavepointInfo.SavepointHistory {
				kept = append(kept, h.Location)
			}
			if !slices.Equal(kept, tc.wantKept) || !slices.Equal(flink.disposed, tc.wantDisposed) {
				t.Fatalf("kept %v, disposed %v; want %v and %v", kept, flink.disposed, tc.wantKept, tc.wantDisposed)
			}
		})
	}
}

// TestSavepointStepsWriteNothingWhenNothingIsDue: the savepoint steps of a
// steady reconcile (manual, periodic) leave the status of a running job
// with nothing due as it was: an empty savepointInfo made on reading
// would be a status write for nothing on every steady reconcile.
func TestSavepointStepsWriteNothingWhenNothingIsDue(t *testing.T) {
	for _, tc := range []struct {
		name string
		conf string
	}{
		{"no periodic savepoints", "{}"},
		{"periodic savepoint not due", `{"` + flinkconf.KeyPeriodicSavepointInterval + `":"1h"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd := &v1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "fd", UID: "uid-1"}}
			fd.Spec = *stepSpec(v1beta1.UpgradeModeSavepoint, tc.conf)
			runningJob(&fd.Status)
			fd.Status.JobStatus.StartTime = strconv.FormatInt(time.Now().UnixMilli(), 10)
			before := fd.Status.DeepCopy()
			r := &Reconciler{JobManagers: func(string, *rest.Config, *v1beta1.FlinkDeployment) (flinkrest.Client, error) {
				return nil, errors.New("no Flink call is due")
			}, Options: DefaultOptions(), Now: time.Now}
			s := &state{cluster: fakeMember{events: events.NewFakeRecorder(10)}, clusterName: "m1", fd: fd, lastSpec: fd.Spec.DeepCopy(), next: time.Hour}
			if err := r.manualSavepoint(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			if err := r.periodicSavepoint(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(before, &fd.Status) {
				t.Fatalf("the status changed with nothing due: savepointInfo %+v", fd.Status.JobStatus.SavepointInfo)
			}
		})
	}
}
