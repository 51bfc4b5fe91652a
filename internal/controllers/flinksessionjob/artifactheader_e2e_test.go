package flinksessionjob_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/problem"
)

// TestPrivateArtifactRepository: a session job whose jar lives in a
// private artifact repository fetches it with the headers of
// kubernetes.operator.user.artifacts.http.header and runs; the headers
// are not sent to Flink with the job's configuration. A job naming the
// same jar without the credential, or with another one, is not handed
// the jar the hub fetched for the first: it fetches it itself and reports
// the repository's refusal (401, 403). A header the hub cannot send is
// the job's InvalidSpec, naming the setting and the header key. No
// status.error, condition or event shows a header's value.
func TestPrivateArtifactRepository(t *testing.T) {
	ctx := context.Background()
	const ns, token = "private-jars", "Bearer hunter2-artifact-token"
	fd := sessionCluster(t, ctx, ns)
	artifacts := framework.NewArtifacts(t)
	artifacts.RequireHeader("Authorization", token)
	conf := func(header string) *apiextensionsv1.JSON {
		return &apiextensionsv1.JSON{Raw: []byte(`{"` + flinkconf.KeyArtifactHTTPHeader + `":` + strconv.Quote(header) + `}`)}
	}
	jobs := upstreamJobs(t, ns, artifacts)
	private, none := jobs[0], jobs[1]
	none.Spec.Job.JarURI = private.Spec.Job.JarURI
	other, injected := private.DeepCopy(), private.DeepCopy()
	other.Name, other.Spec.FlinkConfiguration = "other-credential", conf("Authorization:Bearer hunter2-guess")
	injected.Name, injected.Spec.FlinkConfiguration = "injected", conf("Authorization:"+token+"\r\nX-Evil:1")
	private.Spec.FlinkConfiguration = conf("authorization : " + token)

	create(t, ctx, private)
	id := waitJob(t, private, "RUNNING with the jar of the private repository", runningJob).Status.JobStatus.JobID
	if sj := simJob(fd, id); sj == nil {
		t.Fatalf("the session cluster does not run %s", id)
	} else if _, sent := sj.Spec.Configuration[flinkconf.KeyArtifactHTTPHeader]; sent {
		t.Errorf("the jar run sent the artifact headers to Flink: %v", sj.Spec.Configuration)
	}
	for _, job := range []*v1beta1.FlinkSessionJob{none, other, injected} {
		create(t, ctx, job)
	}
	for job, want := range map[*v1beta1.FlinkSessionJob]struct {
		reason problem.Reason
		says   string
	}{
		none:     {problem.JarUnavailable, "the server answered 401 Unauthorized"},
		other:    {problem.JarUnavailable, "the server answered 403 Forbidden"},
		injected: {problem.InvalidSpec, flinkconf.KeyArtifactHTTPHeader + `]: Invalid value: header "Authorization": its value holds a control character`},
	} {
		waitJob(t, job, job.Name+" "+want.says, func(j *v1beta1.FlinkSessionJob) bool {
			p := problem.Decode(j.Status.Error)
			return p.Reason == want.reason && strings.Contains(p.Message, want.says)
		})
	}
	checkNothingShows(t, ns, "hunter2")
}

// TestDefaultArtifactHeaderScope: a member's default jar fetch header is
// the platform team's credential, and a session job's jarURI is tenant
// text. The default goes only to the origins its ConfigMap names: a job
// whose jar lives there runs; a job pointing at another server fetches
// without it (that server never sees the credential), and when that
// fetch is refused, status.error says the default was not sent and
// where it goes, never its value. A session cluster's own header is its
// owner's, and goes to the jar its job names.
func TestDefaultArtifactHeaderScope(t *testing.T) {
	ctx := context.Background()
	const ns, token = "default-jar-header", "Bearer hunter2-fleet-token"
	repo, elsewhere := framework.NewArtifacts(t), framework.NewArtifacts(t)
	repo.RequireHeader("Authorization", token)
	sessionCluster(t, ctx, ns)
	// As the defaults controller reads the ConfigMap: the origin
	// written with a trailing slash and in upper case.
	origins, err := defaults.HeaderOrigins(&corev1.ConfigMap{Data: map[string]string{defaults.HeaderOriginsKey: strings.ToUpper(repo.URL) + "/\n"}})
	if err != nil || len(origins) != 1 {
		t.Fatalf("HeaderOrigins = %v, %v", origins, err)
	}
	memberDefaults.Set("fleet-jars", "", map[string]string{flinkconf.KeyArtifactHTTPHeader: "Authorization:" + token}, origins...)
	t.Cleanup(func() { memberDefaults.Delete("fleet-jars") })

	jobs := upstreamJobs(t, ns, repo)
	inRepo, stolen := jobs[0], jobs[1]
	stolen.Spec.Job.JarURI = elsewhere.Put("/jars/steal.jar", []byte("PK\x03\x04steal"))
	create(t, ctx, inRepo)
	create(t, ctx, stolen)
	waitJob(t, inRepo, "RUNNING with the jar the default header fetched", runningJob)
	waitJob(t, stolen, "RUNNING with a jar of another server", runningJob)
	if got := elsewhere.Seen("Authorization"); len(got) != 0 {
		t.Fatalf("another server than the default's origin received its header: %q", got)
	}

	// Pointed at the repository's jar through another origin (the same
	// server under another host name), the fetch is refused, and the
	// job's error says why no credential went with it.
	sneaky := inRepo.DeepCopy()
	sneaky.ObjectMeta = metav1.ObjectMeta{Name: "other-origin", Namespace: ns}
	sneaky.Spec.Job.JarURI = strings.Replace(inRepo.Spec.Job.JarURI, "127.0.0.1", "localhost", 1)
	create(t, ctx, sneaky)
	waitJob(t, sneaky, "refused without the default header, saying it was withheld", func(j *v1beta1.FlinkSessionJob) bool {
		p := problem.Decode(j.Status.Error)
		return p.Reason == problem.JarUnavailable && strings.Contains(p.Message, "401") &&
			strings.Contains(p.Message, "(ConfigMap fleet-jars) was not sent: it goes only to "+repo.URL)
	})
	checkNothingShows(t, ns, "hunter2")
}

// checkNothingShows fails t when a session job's status.error or
// condition, or an event, in namespace ns shows secret.
func checkNothingShows(t *testing.T, ns, secret string) {
	t.Helper()
	c := fleet.Members[0].Client
	var jobs v1beta1.FlinkSessionJobList
	if err := c.List(context.Background(), &jobs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs.Items {
		if strings.Contains(j.Status.Error, secret) {
			t.Errorf("%s's status.error shows the header's value: %s", j.Name, j.Status.Error)
		}
		for _, cond := range j.Status.Conditions {
			if strings.Contains(cond.Message, secret) {
				t.Errorf("%s's condition %s shows the header's value: %s", j.Name, cond.Type, cond.Message)
			}
		}
	}
	var evs eventsv1.EventList
	if err := c.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		if strings.Contains(e.Note, secret) {
			t.Errorf("event %s of %s shows the header's value: %s", e.Reason, e.Regarding.Name, e.Note)
		}
	}
}
