package flinkdeployment

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// disposingFlink answers a disposal trigger and then its status: running
// for polls more polls, then status.
type disposingFlink struct {
	flinkrest.Client // every method not below panics
	triggerErr       error
	polls            int
	status           flinkrest.OperationStatus
}

func (f *disposingFlink) DisposeSavepoint(context.Context, string) (string, error) {
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
// trigger.
func TestDisposeWithFollowsTheDisposal(t *testing.T) {
	cases := []struct {
		name    string
		flink   *disposingFlink
		wantErr string
	}{
		{"completes", &disposingFlink{polls: 2, status: flinkrest.OperationStatus{Done: true}}, ""},
		{"fails after it was accepted", &disposingFlink{polls: 1, status: flinkrest.OperationStatus{Done: true, Failure: "java.io.FileNotFoundException: s3://b/sp-1"}},
			"disposal of s3://b/sp-1 failed: java.io.FileNotFoundException"},
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
			if tc.flink.triggerErr == nil && tc.flink.polls != 0 {
				t.Fatalf("%d polls left: the disposal was not followed to its end", tc.flink.polls)
			}
		})
	}
}
