package flinkdeployment

import (
	"maps"
	"testing"

	"github.com/flink-hub/flink-hub/internal/flinkrest"
)

// TestRescaled: as upstream's NativeFlinkService.scale, an override is the
// vertex's upper bound and lowers its lower bound only when above;
// vertices without one keep their bounds; requirements already as asked
// are no change; a removed override cannot be made in place; overrides of
// vertices the job lacks are left out of the update.
func TestRescaled(t *testing.T) {
	const a, b = "bc764cd8ddf7a0cff126f51c16239658", "0a448493b4782967b150582570326227"
	p := func(lower, upper int32) flinkrest.VertexParallelism {
		return flinkrest.VertexParallelism{LowerBound: lower, UpperBound: upper}
	}
	cases := []struct {
		name                string
		current             map[string]flinkrest.VertexParallelism
		overrides, previous map[string]int32
		want                map[string]flinkrest.VertexParallelism
		changed             bool
		why                 string
	}{
		{"scale up", map[string]flinkrest.VertexParallelism{a: p(1, 2), b: p(1, 2)}, map[string]int32{a: 4}, nil,
			map[string]flinkrest.VertexParallelism{a: p(1, 4), b: p(1, 2)}, true, ""},
		{"scale down below the lower bound", map[string]flinkrest.VertexParallelism{a: p(3, 4), b: p(1, 2)}, map[string]int32{a: 2}, map[string]int32{a: 4},
			map[string]flinkrest.VertexParallelism{a: p(2, 2), b: p(1, 2)}, true, ""},
		{"lower bound kept when below", map[string]flinkrest.VertexParallelism{a: p(2, 4)}, map[string]int32{a: 8}, map[string]int32{a: 4},
			map[string]flinkrest.VertexParallelism{a: p(2, 8)}, true, ""},
		{"already as asked", map[string]flinkrest.VertexParallelism{a: p(1, 4)}, map[string]int32{a: 4}, map[string]int32{a: 2},
			map[string]flinkrest.VertexParallelism{a: p(1, 4)}, false, ""},
		{"vertex id in upper case", map[string]flinkrest.VertexParallelism{"BC764CD8DDF7A0CFF126F51C16239658": p(1, 2)}, map[string]int32{a: 3}, nil,
			map[string]flinkrest.VertexParallelism{"BC764CD8DDF7A0CFF126F51C16239658": p(1, 3)}, true, ""},
		{"unknown vertex left out", map[string]flinkrest.VertexParallelism{a: p(1, 2)}, map[string]int32{b: 3}, nil,
			map[string]flinkrest.VertexParallelism{a: p(1, 2)}, false, ""},
		{"override removed", map[string]flinkrest.VertexParallelism{a: p(1, 4), b: p(1, 2)}, map[string]int32{b: 3}, map[string]int32{a: 4},
			nil, false, "the parallelism override of job vertex " + a + " was removed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, why := rescaled(tc.current, tc.overrides, tc.previous)
			if !maps.Equal(got, tc.want) || changed != tc.changed || why != tc.why {
				t.Errorf("rescaled = %v, %v, %q; want %v, %v, %q", got, changed, why, tc.want, tc.changed, tc.why)
			}
		})
	}
	if got := unknownVertices(map[string]int32{b: 3, a: 2}, map[string]flinkrest.VertexParallelism{a: p(1, 2)}); len(got) != 1 || got[0] != b {
		t.Errorf("unknown vertices %v", got)
	}
	if got := listed([]string{"a", "b", "c"}, 2); got != "a, b and 1 more" {
		t.Errorf("listed %q", got)
	}
}
