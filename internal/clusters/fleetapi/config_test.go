package fleetapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
	"github.com/flink-hub/flink-hub/internal/clusters/fleetindex"
)

// fakeConfigs knows m1/apps/known, fails for m1/apps/broken.
type fakeConfigs struct{}

func (fakeConfigs) Configuration(_ context.Context, cluster, namespace, name string) (fleetv1.Configuration, bool, error) {
	switch cluster + "/" + namespace + "/" + name {
	case "m1/apps/known":
		return fleetv1.Configuration{Cluster: cluster, Namespace: namespace, Name: name,
			Items: []fleetv1.Setting{{Key: "state.checkpoints.dir", Value: "s3://m1/cp", Source: "member default"}}}, true, nil
	case "m1/apps/broken":
		return fleetv1.Configuration{}, false, errors.New("member unreachable: secret detail")
	case "m1/apps/starting":
		return fleetv1.Configuration{}, false, fmt.Errorf("%w: defaults not read", fleetapi.ErrNotReady)
	}
	return fleetv1.Configuration{}, false, nil
}

func TestConfigEndpoint(t *testing.T) {
	srv := httptest.NewServer(fleetapi.Handler(&fleetapi.Fleet{Index: fleetindex.New()}, fakeConfigs{}))
	defer srv.Close()
	for _, tc := range []struct {
		path string
		code int
	}{
		{fleetv1.ConfigPath + "m1/apps/known", http.StatusOK},
		{fleetv1.ConfigPath + "m1/apps/unknown", http.StatusNotFound},
		{fleetv1.ConfigPath + "m1/apps/broken", http.StatusBadGateway},
		{fleetv1.ConfigPath + "m1/apps/starting", http.StatusServiceUnavailable},
		{fleetv1.ConfigPath + "m1/apps", http.StatusNotFound},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var got fleetv1.Configuration
		decodeErr := json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%s: %d, want %d", tc.path, resp.StatusCode, tc.code)
		}
		if tc.code == http.StatusOK && (decodeErr != nil || len(got.Items) != 1 || got.Items[0].Source != "member default") {
			t.Errorf("%s: %+v, %v", tc.path, got, decodeErr)
		}
	}
}
