package flinkdeployment_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// TestHAWithoutStorageDirIsRefused: Flink's JobManager does not start with
// high availability and no high-availability.storageDir (it crash-loops).
// The hub deploys nothing and says why in status.error; once the
// configuration names a storage directory, the job runs.
func TestHAWithoutStorageDirIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fd := haExample(t, "no-ha-dir", v1beta1.UpgradeModeSavepoint)
	conf, err := fd.Spec.FlatConfiguration()
	if err != nil {
		t.Fatal(err)
	}
	delete(conf, "high-availability.storageDir")
	fd.Spec.FlinkConfiguration = v1beta1.ConfigurationOf(conf)
	create(t, ctx, fd)
	const want = "spec.flinkConfiguration[high-availability.storageDir]: Required value: high availability"
	waitFor(t, ctx, fd, time.Minute, "refused for its missing HA storage", func(fd *v1beta1.FlinkDeployment) bool {
		p := failure(fd)
		return p.Reason == problem.InvalidSpec && strings.Contains(p.Message, want)
	})
	framework.Hold(t, 2*time.Second, "no JobManager deployed", func() error {
		err := fleet.Members[0].Client.Get(ctx, client.ObjectKeyFromObject(fd), &appsv1.Deployment{})
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("JobManager Deployment: %v", err)
		}
		return nil
	})
	patchSpec(t, ctx, fd, `{"spec":{"flinkConfiguration":{"high-availability.storageDir":"file:///flink-data/ha"}}}`)
	waitFor(t, ctx, fd, 2*time.Minute, "running with HA storage", func(fd *v1beta1.FlinkDeployment) bool {
		return running(fd) && fd.Status.Error == ""
	})
}
