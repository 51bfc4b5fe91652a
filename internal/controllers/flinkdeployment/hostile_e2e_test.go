package flinkdeployment_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/conformance/examples"
	"github.com/flink-hub/flink-hub/e2e/flinksim"
	"github.com/flink-hub/flink-hub/e2e/flinksim/jobmanager"
)

const hostileNS = "hostile"

// example is the upstream example exName as namespace/name.
func example(t *testing.T, exName, namespace, name string) *v1beta1.FlinkDeployment {
	t.Helper()
	fd, err := examples.Named(exName)
	if err != nil {
		t.Fatal(err)
	}
	fd.Namespace, fd.Name = namespace, name
	return fd
}

func basicExample(t *testing.T, name string) *v1beta1.FlinkDeployment {
	t.Helper()
	return example(t, "basic/basic-example", hostileNS, name)
}

// TestHostileTenantsAndJobManagers: FlinkDeployments carrying the removed
// REST annotations (a looping template, a URL of another host) and
// JobManagers answering every request in a hostile way each get a clear
// status.error, the hub calls nothing but the configured endpoint, reads
// little of the huge answers, and a well-behaved FlinkDeployment is
// reconciled to RUNNING and STABLE meanwhile.
func TestHostileTenantsAndJobManagers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rec := &jobmanager.Elsewhere{}
	other := httptest.NewServer(rec)
	t.Cleanup(other.Close)

	cases := append(removedAnnotationCases(t, other.URL), hostileJobManagerCases(t, other.URL)...)
	for _, c := range cases {
		create(t, ctx, c.fd)
	}
	cases = append(cases, createEndlessQuantity(t, ctx))
	check := func(t *testing.T) {
		for _, c := range cases {
			got := waitFor(t, ctx, c.fd, 2*time.Minute, "status.error", func(fd *v1beta1.FlinkDeployment) bool { return fd.Status.Error != "" })
			if !strings.Contains(failure(got).Message, c.want) {
				t.Errorf("%s: status.error %q, want it to contain %q", c.fd.Name, failure(got).Message, c.want)
			}
		}
	}
	check(t)

	// Meanwhile, with the hostile JobManagers still being observed, a
	// well-behaved FlinkDeployment is deployed and runs.
	good := basicExample(t, "well-behaved")
	create(t, ctx, good)
	waitFor(t, ctx, good, 2*time.Minute, "READY, RUNNING and STABLE", running)
	check(t)

	if got := rec.Requests(); len(got) != 0 {
		t.Errorf("the hub called another host: %q", got)
	}
	checkHugeBodiesCut(t, cases)
	checkBogusJobsNotRecorded(t, ctx, cases)
}

// checkBogusJobsNotRecorded: the job a JobManager answered in a state
// Flink does not have, with a name longer than a member stores, is not in
// the status.
func checkBogusJobsNotRecorded(t *testing.T, ctx context.Context, cases []hostileFD) {
	t.Helper()
	for _, c := range cases {
		if c.hostile != jobmanager.HostileBogusJobs {
			continue
		}
		got, err := get(ctx, c.fd)
		if err != nil {
			t.Fatal(err)
		}
		if js := got.Status.JobStatus; js.State == jobmanager.BogusJobState || len(js.JobName) > 1<<10 {
			t.Errorf("%s: recorded job state %q, a name of %d bytes", c.fd.Name, js.State, len(js.JobName))
		}
	}
}

// hostileFD is a FlinkDeployment, the hostile behaviour of its JobManager
// (if any) and what its status.error must say.
type hostileFD struct {
	fd      *v1beta1.FlinkDeployment
	hostile jobmanager.Hostile
	want    string
}

// removedAnnotationCases are FlinkDeployments with the removed REST
// annotations: a looping template and a URL of another host (otherURL).
func removedAnnotationCases(t *testing.T, otherURL string) []hostileFD {
	t.Helper()
	var cases []hostileFD
	for name, annotations := range map[string]map[string]string{
		"looping-template": {
			"flink-hub.io/rest-transport":    "url",
			"flink-hub.io/rest-url-template": "{{range 1000000000}}{{end}}" + otherURL + "/{{.Name}}/",
		},
		"other-host": {"flink-hub.io/rest-transport": "url", "flink-hub.io/rest-url-template": otherURL + "/{{.Name}}/"},
	} {
		fd := basicExample(t, name)
		fd.Annotations = annotations
		cases = append(cases, hostileFD{fd: fd, want: "metadata.annotations[flink-hub.io/rest-url-template]: Forbidden: no longer supported"})
	}
	return cases
}

// hostileJobManagerCases are FlinkDeployments whose simulated JobManagers
// answer every request in a hostile way (redirecting to otherURL), until
// the test ends.
func hostileJobManagerCases(t *testing.T, otherURL string) []hostileFD {
	t.Helper()
	var cases []hostileFD
	const restPrefix = "JobManager REST API: flink rest getDashboardConfiguration: "
	for _, tc := range []struct {
		hostile jobmanager.Hostile
		want    string
	}{
		{jobmanager.HostileRedirect, restPrefix + "BadResponse: JobManager answered a redirect to " + otherURL + "; redirects are not followed"},
		{jobmanager.HostileHugeBody, restPrefix + "BadResponse: JobManager answer larger than 4 MiB; not read further"},
		{jobmanager.HostileEndlessBody, restPrefix + "BadResponse: JobManager answer larger than 4 MiB; not read further"},
		{jobmanager.HostileInvalidJSON, restPrefix + "BadResponse: malformed JSON"},
		{jobmanager.HostileStall, restPrefix + "Timeout"},
		{jobmanager.HostileBogusJobs, `flink rest getJobsOverview: BadResponse: JobManager answered job `},
	} {
		fd := basicExample(t, "jm-"+string(tc.hostile))
		faults := flinksim.ClusterFaults{JobManager: jobmanager.Faults{Hostile: tc.hostile, RedirectTo: otherURL + "/steal"}}
		if err := sim.SetFaults(memberName, fd.Namespace, fd.Name, faults); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sim.SetFaults(memberName, fd.Namespace, fd.Name, flinksim.ClusterFaults{}) })
		cases = append(cases, hostileFD{fd: fd, hostile: tc.hostile, want: tc.want})
	}
	return cases
}

// createEndlessQuantity creates a FlinkDeployment with a podTemplate
// quantity that resource.ParseQuantity never finishes reading: created as
// raw JSON (a typed client could not hold it). The member stores it
// (podTemplates keep unknown fields); the hub decodes it at once and
// refuses it, and the member's cache keeps working.
func createEndlessQuantity(t *testing.T, ctx context.Context) hostileFD {
	t.Helper()
	endless := basicExample(t, "endless-quantity")
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(endless)
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{Object: u}
	obj.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("FlinkDeployment"))
	if err := unstructured.SetNestedSlice(obj.Object, []any{map[string]any{"name": "flink-main-container",
		"resources": map[string]any{"limits": map[string]any{"memory": "9e3372036854775807"}}}}, "spec", "podTemplate", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
	if err := fleet.Members[0].Client.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	return hostileFD{fd: endless, want: "quantities with an exponent of three digits or more are refused"}
}

// checkHugeBodiesCut checks that the hub stopped reading the huge and
// endless answers of the cases' JobManagers at its limit: they wrote
// little more than that plus the sockets' buffers per answer.
func checkHugeBodiesCut(t *testing.T, cases []hostileFD) {
	t.Helper()
	for _, c := range cases {
		if c.hostile != jobmanager.HostileHugeBody && c.hostile != jobmanager.HostileEndlessBody {
			continue
		}
		jm := sim.JobManager(memberName, c.fd.Namespace, c.fd.Name)
		if jm == nil {
			t.Fatalf("%s: no JobManager", c.fd.Name)
		}
		if n := jm.LargestHostileBody(); n == 0 || n > jobmanager.HugeBodyBytes/4 {
			t.Errorf("%s: an answer wrote %d bytes before the hub stopped reading", c.fd.Name, n)
		}
	}
}
