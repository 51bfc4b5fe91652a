package memberevents

import (
	"context"

	eventsclient "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/cluster"
)

// Start makes the Recorder of cl's member, runs it until ctx ends, and
// returns cl with GetEventRecorder answering from it (the reporting
// controller is the name asked for).
func Start(ctx context.Context, cl cluster.Cluster, opts ...Option) (cluster.Cluster, error) {
	client, err := eventsclient.NewForConfigAndClient(cl.GetConfig(), cl.GetHTTPClient())
	if err != nil {
		return nil, err
	}
	rec := New(client, cl.GetScheme(), opts...)
	go rec.Run(ctx)
	return &recordingCluster{Cluster: cl, rec: rec}, nil
}

// recordingCluster is a member cluster whose events go through a Recorder.
type recordingCluster struct {
	cluster.Cluster
	rec *Recorder
}

// GetEventRecorder returns the Recorder's recorder for controller name.
func (c *recordingCluster) GetEventRecorder(name string) events.EventRecorder { return c.rec.For(name) }
