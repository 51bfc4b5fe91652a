package sharding

import (
	"flag"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "defaults", args: []string{"--replica-id=hub-0"}},
		{name: "fast", args: []string{"--replica-id=hub-0", "--lease-duration=4s", "--renew-deadline=2s", "--retry-period=500ms", "--shards=128"}},
		{name: "retry not below renew deadline", args: []string{"--replica-id=hub-0", "--lease-duration=10s", "--renew-deadline=1s", "--retry-period=2s"}, wantErr: "shorter than the renew deadline"},
		{name: "retry too long", args: []string{"--replica-id=hub-0", "--lease-duration=10s", "--renew-deadline=8s", "--retry-period=2s"}, wantErr: "retry period"},
		{name: "fractional lease", args: []string{"--replica-id=hub-0", "--lease-duration=2500ms", "--renew-deadline=1s", "--retry-period=200ms"}, wantErr: "whole seconds"},
		{name: "zero shards means the default", args: []string{"--replica-id=hub-0", "--shards=0"}, wantErr: ""},
		{name: "negative shards", args: []string{"--replica-id=hub-0", "--shards=-1"}, wantErr: "shards must be"},
		{name: "bad identity", args: []string{"--replica-id=Hub_0"}, wantErr: "Lease name"},
		{name: "zero weight", args: []string{"--replica-id=hub-0", "--shard-weight=-2"}, wantErr: "weight"},
		{name: "handoff wait", args: []string{"--replica-id=hub-0", "--member-spread=1", "--handoff-wait=3s"}},
		{name: "negative handoff wait", args: []string{"--replica-id=hub-0", "--handoff-wait=-1s"}, wantErr: "handoff wait must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f Flags
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			f.BindFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			e, err := New(fake.NewClientset(), "flink-hub", f.Identity, f.Options()...)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			case err == nil && tc.name == "defaults":
				// Crash failover is about lease duration + retry period.
				if got := e.opts.LeaseDuration + e.opts.RetryPeriod; got >= 15e9 {
					t.Fatalf("default crash failover %v, want under 15s", got)
				}
			}
		})
	}
}
