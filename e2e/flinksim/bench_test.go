package flinksim_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// BenchmarkApplicationToRunning measures how long the simulator takes from
// the deployer's objects to a RUNNING job with its TaskManager pods, with
// b.N clusters created at once in one namespace.
func BenchmarkApplicationToRunning(b *testing.B) {
	ctx := context.Background()
	ns := fmt.Sprintf("bench-%d", namespaces.Add(1))
	if err := member.CreateNamespace(ctx, ns); err != nil {
		b.Fatal(err)
	}
	sim := flinksim.New(flinksim.Options{Namespace: ns})
	if err := sim.AddMember("m1", member.Config); err != nil {
		b.Fatal(err)
	}
	defer sim.Stop()
	b.ResetTimer()
	var clusters []cluster
	for i := range b.N {
		c := nativeCluster(fmt.Sprintf("bench-%d", i), ns, "kubernetes-application", "parallelism.default: 2\n")
		create(b, c)
		clusters = append(clusters, c)
	}
	for _, c := range clusters {
		eventually(b, "job of "+c.name+" running", func() error {
			jm := sim.JobManager("m1", ns, c.name)
			if jm == nil {
				return fmt.Errorf("no JobManager")
			}
			if jobs := jm.Jobs(); len(jobs) != 1 || jobs[0].State != api.JobStatusRUNNING {
				return fmt.Errorf("jobs %+v", jobs)
			}
			return nil
		})
	}
}
