package clusters

import (
	"context"
	"fmt"
	"maps"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// configs serves the fleet API's effective configurations: a
// FlinkDeployment's own flinkConfiguration, read from its member's cache,
// over the defaults.
type configs struct {
	provider *Provider
	defaults *defaults.Store
}

// Configuration is the effective configuration of cluster/namespace/name.
func (c configs) Configuration(ctx context.Context, cluster, namespace, name string) (fleetv1.Configuration, bool, error) {
	out := fleetv1.Configuration{Cluster: cluster, Namespace: namespace, Name: name, Items: []fleetv1.Setting{}}
	cl, err := c.provider.Get(ctx, multicluster.ClusterName(cluster))
	if err != nil {
		return out, false, nil
	}
	fd := &flinkv1beta1.FlinkDeployment{}
	if err := cl.GetClient().Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, fd); err != nil {
		if apierrors.IsNotFound(err) {
			return out, false, nil
		}
		return out, false, err
	}
	own, err := fd.Spec.FlatConfiguration()
	if err != nil {
		return out, false, err
	}
	if err := c.defaults.WaitAWhile(ctx); err != nil {
		return out, false, fmt.Errorf("%w: %w", fleetapi.ErrNotReady, err)
	}
	conf, source := c.defaults.Effective(cluster, own)
	for _, key := range slices.Sorted(maps.Keys(conf)) {
		value := conf[key]
		if flinkconf.Sensitive(key) {
			value = flinkconf.Mask
		}
		out.Items = append(out.Items, fleetv1.Setting{Key: key, Value: value, Source: source[key]})
	}
	return out, true, nil
}
