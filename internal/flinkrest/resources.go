package flinkrest

import (
	"context"
	"fmt"

	"github.com/flink-hub/flink-hub/internal/flinkrest/api"
)

// MaxJobVertices bounds the job vertices a resource requirements answer
// may name: the hub sends them back in its update, so a JobManager that
// answers more is refused. Flink jobs have tens.
const MaxJobVertices = 4096

// VertexParallelism is a job vertex's parallelism bounds, as the adaptive
// scheduler keeps them (Flink's JobVertexResourceRequirements): the job
// runs each vertex with at least LowerBound and at most UpperBound
// subtasks; -1 is Flink's default (1, the vertex's maximum parallelism).
type VertexParallelism struct {
	// LowerBound is the least parallelism the vertex runs with.
	LowerBound int32
	// UpperBound is the most parallelism the vertex runs with.
	UpperBound int32
}

// ResourceRequirements returns the parallelism bounds of every vertex of
// the job, by vertex id (GET /jobs/{id}/resource-requirements). Flink
// answers only with the adaptive scheduler. An answer naming a vertex id
// that is not Flink's (32 hex digits), or more than MaxJobVertices, is
// refused.
func (c *client) ResourceRequirements(ctx context.Context, jobID string) (map[string]VertexParallelism, error) {
	const op = "getJobResourceRequirements"
	r, err := call(c, ctx, op, func(ctx context.Context, e ...api.RequestEditorFn) (*api.GetJobResourceRequirementsResponse, error) {
		return c.api.GetJobResourceRequirementsWithResponse(ctx, jobID, e...)
	})
	if err != nil {
		return nil, err
	}
	v, err := need(op, r, r.JSON200)
	if err != nil {
		return nil, err
	}
	if len(*v) > MaxJobVertices {
		return nil, &Error{Kind: KindBadResponse, Op: op, Message: fmt.Sprintf("JobManager answered %d job vertices, over %d", len(*v), MaxJobVertices)}
	}
	out := make(map[string]VertexParallelism, len(*v))
	for id, req := range *v {
		if !flinkIDPattern.MatchString(id) {
			return nil, &Error{Kind: KindBadResponse, Op: op, Message: "JobManager answered a job vertex id that is not Flink's: " + quoted(id)}
		}
		out[id] = VertexParallelism{LowerBound: req.Parallelism.LowerBound, UpperBound: req.Parallelism.UpperBound}
	}
	return out, nil
}

// UpdateResourceRequirements sets the parallelism bounds of the job's
// vertices (PUT /jobs/{id}/resource-requirements): the adaptive scheduler
// then restarts the job's tasks with them, the job keeping its id. Flink
// wants every vertex of the job named.
func (c *client) UpdateResourceRequirements(ctx context.Context, jobID string, reqs map[string]VertexParallelism) error {
	body := make(api.JobResourceRequirementsBody, len(reqs))
	for id, p := range reqs {
		body[id] = api.JobVertexResourceRequirements{Parallelism: api.Parallelism{LowerBound: p.LowerBound, UpperBound: p.UpperBound}}
	}
	_, err := call(c, ctx, "updateJobResourceRequirements", func(ctx context.Context, e ...api.RequestEditorFn) (*api.UpdateJobResourceRequirementsResponse, error) {
		return c.api.UpdateJobResourceRequirementsWithResponse(ctx, jobID, body, e...)
	})
	return err
}
