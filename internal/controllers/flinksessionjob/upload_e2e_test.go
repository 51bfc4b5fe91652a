package flinksessionjob_test

import (
	"context"
	"strings"
	"testing"
	"time"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// TestSlowAndStalledJarUploads: a session job's jar upload that stalls is
// reported as JarUnavailable after the Flink REST timeout, naming the
// jar's size and the setting, never the jarURI's secrets; the same upload
// over a slow link, longer than the reconcile deadline, then runs the job.
// Before, the reconcile deadline cut both, and the status write that
// followed failed with it: nothing was ever reported.
func TestSlowAndStalledJarUploads(t *testing.T) {
	ctx := context.Background()
	fd := sessionCluster(t, ctx, "slow-upload")
	artifacts := framework.NewArtifacts(t)
	job := upstreamJobs(t, fd.Namespace, artifacts)[0]
	const size = 32 << 20 // beyond the connection's buffers
	jar := append([]byte("PK\x03\x04"), make([]byte, size-4)...)
	uri := artifacts.Put("/jars/big.jar", jar)
	job.Spec.Job.JarURI = strings.Replace(uri, "://", "://deployer:hunter2@", 1) + "?token=hunter2"
	faults := func(f jobmanager.Faults) {
		if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{JobManager: f}); err != nil {
			t.Fatal(err)
		}
	}
	faults(jobmanager.Faults{UploadStallAfter: 64 << 10})
	create(t, ctx, job)
	var reported string
	framework.AwaitWithin(t, flinkrest.DefaultTimeout+reconcileTimeout+framework.AwaitTimeout, "stalled upload reported", func() error {
		got := waitJob(t, job, "status", func(*v1beta1.FlinkSessionJob) bool { return true })
		p := problem.Decode(got.Status.Error)
		if p.Reason != problem.JarUnavailable || !strings.Contains(p.Message, "stalled") {
			return errorf("status.error %q", got.Status.Error)
		}
		reported = p.Message
		return nil
	})
	for _, want := range []string{"big.jar", "32.0 MiB", "--flink-rest-timeout", flinkrest.DefaultTimeout.String()} {
		if !strings.Contains(reported, want) {
			t.Errorf("status.error %q does not say %q", reported, want)
		}
	}
	if strings.Contains(reported, "hunter2") {
		t.Errorf("status.error %q shows the jarURI's secrets", reported)
	}

	// 3 MiB/s: about 11 s, past the reconcile deadline.
	faults(jobmanager.Faults{UploadRate: 3 << 20})
	start := time.Now()
	framework.AwaitWithin(t, 2*time.Minute, "job running after a slow upload", func() error {
		got := waitJob(t, job, "status", func(*v1beta1.FlinkSessionJob) bool { return true })
		if !runningJob(got) {
			return errorf("state %s, error %q", got.Status.JobStatus.State, got.Status.Error)
		}
		return nil
	})
	if took := time.Since(start); took < reconcileTimeout {
		t.Fatalf("job ran %s after the slow link was set: the upload was not slower than the reconcile deadline", took)
	}
}
