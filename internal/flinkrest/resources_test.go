package flinkrest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
	"github.com/flink-hub/flink-hub/internal/flinkrest"
	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// TestResourceRequirements: with the adaptive scheduler, the job's
// vertices' parallelism bounds are read and set (the job rescales, keeping
// its id); an update Flink finds invalid is Rejected with Flink's reasons;
// the default scheduler answers neither, as Flink's.
func TestResourceRequirements(t *testing.T) {
	const jobID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
	ctx := context.Background()
	cfg := jobmanager.Config{ClusterID: "adaptive", FlinkVersion: "1.20.1", Application: true, SlotsPerTaskManager: 2, Adaptive: true,
		Job: jobmanager.JobSpec{JobID: jobID, EntryClass: "org.example.Main", Parallelism: 2}}
	jm, c := serve(t, cfg)
	jm.SetTaskManagers([]string{"tm-1", "tm-2"})
	waitState(t, c, jobID, api.JobStatusRUNNING)
	reqs, err := c.ResourceRequirements(ctx, jobID)
	if err != nil || len(reqs) != 2 {
		t.Fatalf("requirements %v, %v", reqs, err)
	}
	next := map[string]flinkrest.VertexParallelism{}
	var first string
	for id, p := range reqs {
		if p != (flinkrest.VertexParallelism{LowerBound: 1, UpperBound: 2}) {
			t.Errorf("vertex %s: %+v, want 1..2", id, p)
		}
		if first == "" || id < first {
			first = id
		}
		next[id] = p
	}
	next[first] = flinkrest.VertexParallelism{LowerBound: 1, UpperBound: 3}
	if err := c.UpdateResourceRequirements(ctx, jobID, next); err != nil {
		t.Fatalf("update: %v", err)
	}
	eventually(t, "the vertex rescaled", func() bool {
		d, err := c.JobDetails(ctx, jobID)
		if err != nil || d.State != api.JobStatusRUNNING {
			return false
		}
		for _, v := range d.Vertices {
			if v.Id == first {
				return v.Parallelism == 3
			}
		}
		return false
	})
	if got, _ := c.ResourceRequirements(ctx, jobID); got[first].UpperBound != 3 || len(jm.Jobs()) != 1 {
		t.Errorf("after the update: %+v, %d jobs", got, len(jm.Jobs()))
	}
	delete(next, first)
	if err := c.UpdateResourceRequirements(ctx, jobID, next); flinkrest.KindOf(err) != flinkrest.KindRejected || !strings.Contains(err.Error(), "missing job vertex ["+first+"]") {
		t.Errorf("an update without a vertex: %v", err)
	}

	cfg.ClusterID, cfg.Adaptive = "default", false
	_, c = serve(t, cfg)
	if _, err := c.ResourceRequirements(ctx, jobID); !strings.Contains(fmt.Sprint(err), "does not support changing the parallelism without a job restart") {
		t.Errorf("default scheduler: %v", err)
	}
}

// TestHostileResourceRequirements: an answer naming a vertex id that is
// not Flink's, or too many vertices, is refused: the hub would send them
// back.
func TestHostileResourceRequirements(t *testing.T) {
	many := map[string]any{}
	for i := range flinkrest.MaxJobVertices + 1 {
		many[fmt.Sprintf("%032x", i)] = map[string]any{"parallelism": map[string]int{"lowerBound": 1, "upperBound": 1}}
	}
	cases := []struct {
		name   string
		answer any
		want   string
	}{
		{"vertex id not Flink's", map[string]any{"../../jobs": map[string]any{"parallelism": map[string]int{"lowerBound": 1, "upperBound": 1}}},
			`JobManager answered a job vertex id that is not Flink's: "../../jobs"`},
		{"too many vertices", many, fmt.Sprintf("JobManager answered %d job vertices, over %d", flinkrest.MaxJobVertices+1, flinkrest.MaxJobVertices)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(tc.answer)
			}))
			t.Cleanup(srv.Close)
			r, err := flinkrest.NewResolver(flinkrest.Options{Transport: flinkrest.TransportURL, URLTemplate: srv.URL + "/{{.Name}}", Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			c, err := r.Client(flinkrest.Target{Cluster: "m1", Namespace: "flink", Name: "hostile"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ResourceRequirements(context.Background(), "a1b2c3d4e5f60718293a4b5c6d7e8f90")
			if flinkrest.KindOf(err) != flinkrest.KindBadResponse || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a bad response saying %q", err, tc.want)
			}
		})
	}
}
