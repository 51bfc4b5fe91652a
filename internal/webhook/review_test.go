package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/controllers/flinkdeployment/plan"
	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/webhook"
)

// validDeployment passes every rule of internal/validation; it names its
// type, as an admission review's object does.
func validDeployment(namespace, name string) *flinkv1beta1.FlinkDeployment {
	fd := framework.ValidFlinkDeployment(namespace, name)
	fd.TypeMeta = metav1.TypeMeta{APIVersion: "flink.apache.org/v1beta1", Kind: "FlinkDeployment"}
	return fd
}

// forbidNamespaceKey sets a key the operator owns.
func forbidNamespaceKey(fd *flinkv1beta1.FlinkDeployment) {
	fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"kubernetes.namespace": "elsewhere"}`)}
}

func raw(t *testing.T, obj any) runtime.RawExtension {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return runtime.RawExtension{Raw: b}
}

// labelled is fd with a new label and finalizer and the same spec.
func labelled(fd *flinkv1beta1.FlinkDeployment) *flinkv1beta1.FlinkDeployment {
	out := fd.DeepCopy()
	out.Labels = map[string]string{"team": "a"}
	out.Finalizers = []string{"flink.apache.org/finalizer"}
	return out
}

// canary is fd labelled flink.apache.org/canary: value.
func canary(fd *flinkv1beta1.FlinkDeployment, value string) *flinkv1beta1.FlinkDeployment {
	fd.Labels = map[string]string{"flink.apache.org/canary": value}
	return fd
}

func TestReview(t *testing.T) {
	invalid := validDeployment("team-a", "wordcount")
	forbidNamespaceKey(invalid)
	deleting := invalid.DeepCopy()
	deleting.DeletionTimestamp = ptr.To(metav1.Now())
	session := validDeployment("team-a", "wordcount")
	session.Spec.Job = nil
	// Reconciled suspended with last-state on Flink 1.20, then resumed
	// (running, not reconciled yet), then moved to Flink 2.2.
	suspendedV120 := lastStateDeployment("team-a", "wordcount").Spec.DeepCopy()
	suspendedV120.FlinkVersion, suspendedV120.Job.State = "v1_20", flinkv1beta1.JobStateSuspended
	running := lastStateDeployment("team-a", "wordcount")
	running.Spec.FlinkVersion = "v1_20"
	upgraded := running.DeepCopy()
	upgraded.Spec.FlinkVersion = "v2_2"
	annotated := validDeployment("team-a", "wordcount")
	annotated.Spec.PodTemplate = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"example.com/a": strings.Repeat("a", 300<<10)}}}
	cases := []struct {
		name      string
		op        admissionv1.Operation
		obj, old  *flinkv1beta1.FlinkDeployment
		allowed   bool
		wantInMsg string
	}{
		{"valid create", admissionv1.Create, validDeployment("team-a", "wordcount"), nil, true, ""},
		{"forbidden key on create", admissionv1.Create, invalid, nil, false, "spec.flinkConfiguration[kubernetes.namespace]: Forbidden: set by the operator"},
		{"forbidden key on update", admissionv1.Update, invalid, validDeployment("team-a", "wordcount"), false, "spec.flinkConfiguration[kubernetes.namespace]: Forbidden"},
		{"update checks changes against the last reconciled spec", admissionv1.Update, reconciledAs(t, validDeployment("team-a", "wordcount"), &session.Spec), session, false, "spec.job: Forbidden: cannot switch from a session cluster"},
		{"a change before the first deployment is free, as upstream", admissionv1.Update, validDeployment("team-a", "wordcount"), session, true, ""},
		{"the version change after a last-state suspend the old object does not show", admissionv1.Update, reconciledAs(t, upgraded, suspendedV120), running, false,
			"spec.flinkVersion: Forbidden: Changing flinkVersion after last-state suspend is not allowed"},
		{"an object being deleted passes (finalizer removal)", admissionv1.Update, deleting, invalid, true, ""},
		{"a metadata-only update of an invalid object passes (finalizers, labels)", admissionv1.Update, labelled(invalid), invalid, true, ""},
		{"delete is never judged", admissionv1.Delete, invalid, nil, true, ""},
		{"create in kube-system", admissionv1.Create, validDeployment("kube-system", "wordcount"), nil, false, "metadata.namespace: Forbidden: flink-hub does not manage FlinkDeployments in kube-system"},
		{"pod annotations over 256 KiB", admissionv1.Create, annotated, nil, false, "spec.podTemplate.metadata.annotations: Too long: the pods' annotations would hold 307213 bytes"},
		{"a canary is not judged (upstream's examples/canary.yaml)", admissionv1.Create, canary(&flinkv1beta1.FlinkDeployment{TypeMeta: invalid.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: "canary"}}, "true"), nil, true, ""},
		{"a canary label in any case", admissionv1.Update, canary(invalid.DeepCopy(), "TRUE"), validDeployment("team-a", "wordcount"), true, ""},
		{"a canary label that is not true", admissionv1.Create, canary(invalid.DeepCopy(), "yes"), nil, false, "spec.flinkConfiguration[kubernetes.namespace]: Forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := &admissionv1.AdmissionRequest{UID: "u-1", Operation: tc.op, Object: raw(t, tc.obj)}
			if tc.old != nil {
				req.OldObject = raw(t, tc.old)
			}
			resp := webhook.Review(req)
			if resp.UID != "u-1" {
				t.Errorf("UID = %q, want the request's", resp.UID)
			}
			if resp.Allowed != tc.allowed {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, tc.allowed, resp.Result)
			}
			if !tc.allowed && !strings.Contains(resp.Result.Message, tc.wantInMsg) {
				t.Errorf("message %q does not contain %q", resp.Result.Message, tc.wantInMsg)
			}
		})
	}
}

// lastStateDeployment is validDeployment with last-state upgrades and
// what they need.
func lastStateDeployment(namespace, name string) *flinkv1beta1.FlinkDeployment {
	fd := validDeployment(namespace, name)
	fd.Spec.Job.UpgradeMode = flinkv1beta1.UpgradeModeLastState
	fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"state.checkpoints.dir": "s3://c", "high-availability.type": "kubernetes", "high-availability.storageDir": "s3://ha"}`)}
	return fd
}

// reconciledAs is fd whose status records last as its last reconciled
// spec, as the controller writes it.
func reconciledAs(t *testing.T, fd *flinkv1beta1.FlinkDeployment, last *flinkv1beta1.FlinkDeploymentSpec) *flinkv1beta1.FlinkDeployment {
	t.Helper()
	s, err := plan.EncodeSpec(last, false)
	if err != nil {
		t.Fatal(err)
	}
	out := fd.DeepCopy()
	out.Status.ReconciliationStatus.LastReconciledSpec = s
	return out
}

func TestReviewRejectsUndecodableObjects(t *testing.T) {
	resp := webhook.Review(&admissionv1.AdmissionRequest{UID: "u", Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: []byte(`{"spec": 5}`)}})
	if resp.Allowed || !strings.Contains(resp.Result.Message, "decode FlinkDeployment") {
		t.Fatalf("got %+v, want a decode error", resp.Result)
	}
}

// TestReviewRefusesEndlessQuantitiesAtOnce: a podTemplate quantity that
// resource.ParseQuantity never finishes reading is refused, promptly, by
// its name; without the decoder's guard the review would spin for ever.
func TestReviewRefusesEndlessQuantitiesAtOnce(t *testing.T) {
	obj := raw(t, validDeployment("team-a", "endless"))
	obj.Raw = bytes.Replace(obj.Raw, []byte(`"spec":{`),
		[]byte(`"spec":{"podTemplate":{"spec":{"containers":[{"name":"flink-main-container","resources":{"limits":{"memory":"9e3372036854775807"}}}]}},`), 1)
	done := make(chan *admissionv1.AdmissionResponse, 1)
	go func() {
		done <- webhook.Review(&admissionv1.AdmissionRequest{UID: "u", Operation: admissionv1.Create, Object: obj})
	}()
	select {
	case resp := <-done:
		if resp.Allowed || !strings.Contains(resp.Result.Message, "9e3372036854775807") || !strings.Contains(resp.Result.Message, "exponent") {
			t.Fatalf("got %+v, want a refusal naming the quantity", resp.Result)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the review of a FlinkDeployment with an endless quantity did not return")
	}
}

// TestReviewValidatesSessionJobs: a FlinkSessionJob the hub could not run
// (no session cluster named, a jar it does not fetch) is refused with the
// field named; a valid one, and one being deleted, are admitted.
func TestReviewValidatesSessionJobs(t *testing.T) {
	job := func(deploymentName, jarURI string, deleting bool) *flinkv1beta1.FlinkSessionJob {
		j := &flinkv1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Name: "job", Namespace: "apps"},
			Spec: flinkv1beta1.FlinkSessionJobSpec{DeploymentName: deploymentName, Job: &flinkv1beta1.JobSpec{JarURI: jarURI, Parallelism: 1}}}
		if deleting {
			now := metav1.Now()
			j.DeletionTimestamp = &now
		}
		return j
	}
	cases := []struct {
		name string
		job  *flinkv1beta1.FlinkSessionJob
		want string // "" when admitted
	}{
		{"valid", job("session", "https://artifacts.example/job.jar", false), ""},
		{"no session cluster", job("", "https://artifacts.example/job.jar", false), "spec.deploymentName"},
		{"s3 jar", job("session", "s3://bucket/job.jar", false), "spec.job.jarURI"},
		{"being deleted", job("", "s3://bucket/job.jar", true), ""},
		{"on an application cluster", job("app", "https://artifacts.example/job.jar", false), "spec.deploymentName: Invalid value: \"app\": an application cluster"},
		{"on a FlinkDeployment the hub does not know", job("unknown", "https://artifacts.example/job.jar", false), ""},
		{"a canary", func() *flinkv1beta1.FlinkSessionJob {
			j := job("", "s3://bucket/job.jar", false)
			j.Labels = map[string]string{"flink.apache.org/canary": "true"}
			return j
		}(), ""},
	}
	sessions := fakeSessions{"m1/apps/session": {}, "m1/apps/app": {Job: &flinkv1beta1.JobSpec{JarURI: "local:///job.jar"}}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := webhook.Reviewer{Sessions: sessions}.Review(context.Background(), "m1", &admissionv1.AdmissionRequest{UID: "u", Operation: admissionv1.Create,
				Kind: metav1.GroupVersionKind{Group: "flink.apache.org", Version: "v1beta1", Kind: "FlinkSessionJob"}, Object: raw(t, tc.job)})
			switch {
			case tc.want == "" && !resp.Allowed:
				t.Fatalf("refused: %+v", resp.Result)
			case tc.want != "" && (resp.Allowed || !strings.Contains(resp.Result.Message, tc.want)):
				t.Fatalf("response %+v, want a refusal naming %s", resp.Result, tc.want)
			}
		})
	}
}

// TestReviewRefusesMovingASubmittedSessionJob: as upstream's webhook, an
// update naming another session cluster than the one the job was
// submitted to (the last reconciled spec's, in the status the apiserver
// keeps) is refused: the job would stay there unmanaged. Before the
// first submission a wrong name can still be corrected.
func TestReviewRefusesMovingASubmittedSessionJob(t *testing.T) {
	sessions := fakeSessions{"m1/apps/session": {}, "m1/apps/other": {}}
	update := func(submitted bool) *admissionv1.AdmissionResponse {
		old := &flinkv1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Name: "job", Namespace: "apps"},
			Spec: flinkv1beta1.FlinkSessionJobSpec{DeploymentName: "session", Job: &flinkv1beta1.JobSpec{JarURI: "https://artifacts.example/job.jar", Parallelism: 1}}}
		if submitted {
			old.Status.ReconciliationStatus.LastReconciledSpec = `{"spec":{"deploymentName":"session","job":{"jarURI":"https://artifacts.example/job.jar"}}}`
		}
		moved := old.DeepCopy()
		moved.Spec.DeploymentName = "other"
		return webhook.Reviewer{Sessions: sessions}.Review(context.Background(), "m1", &admissionv1.AdmissionRequest{UID: "u", Operation: admissionv1.Update,
			Kind: metav1.GroupVersionKind{Group: "flink.apache.org", Version: "v1beta1", Kind: "FlinkSessionJob"}, Object: raw(t, moved), OldObject: raw(t, old)})
	}
	if resp := update(true); resp.Allowed || !strings.Contains(resp.Result.Message, "The deploymentName can't be changed") {
		t.Errorf("moving a submitted job: %+v, want a refusal", resp.Result)
	}
	if resp := update(false); !resp.Allowed {
		t.Errorf("correcting the session cluster of a job never submitted: refused %+v", resp.Result)
	}
}

// TestHandlerLooksUpOnlyTheMemberWhoseTokenCalls posts a session job
// naming an application cluster of m1 to the handler over HTTP: refused
// when the path has m1's token, admitted (no lookup, so nothing learnt)
// when it names m1 without its token or with another member's.
func TestHandlerLooksUpOnlyTheMemberWhoseTokenCalls(t *testing.T) {
	sessions := fakeSessions{"m1/apps/app": {Job: &flinkv1beta1.JobSpec{JarURI: "local:///job.jar"}}}
	srv := httptest.NewServer(webhook.Handler(webhook.Reviewer{Sessions: sessions}))
	defer srv.Close()
	job := &flinkv1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Name: "job", Namespace: "apps"},
		Spec: flinkv1beta1.FlinkSessionJobSpec{DeploymentName: "app", Job: &flinkv1beta1.JobSpec{JarURI: "https://artifacts.example/job.jar", Parallelism: 1}}}
	for path, refused := range map[string]bool{
		"/m1/token-of-m1":   true,
		"/m1":               false,
		"/m1/":              false,
		"/m1/guess":         false,
		"/m1/token-of-m2":   false,
		"/m2/token-of-m2":   false,
		"/m1/token-of-m1/x": false,
	} {
		answer := postSessionJobReview(t, http.DefaultClient, srv.URL+webhook.Path+path, job)
		if answer.Allowed == refused {
			t.Errorf("%s: allowed = %v, want %v (%+v)", path, answer.Allowed, !refused, answer.Result)
		}
	}
}

// postSessionJobReview posts an AdmissionReview creating job to url with
// hc and returns the response.
func postSessionJobReview(t *testing.T, hc *http.Client, url string, job *flinkv1beta1.FlinkSessionJob) *admissionv1.AdmissionResponse {
	t.Helper()
	status, answer := postReviewWith(t, hc, url, "FlinkSessionJob", job.Namespace, job)
	if status != http.StatusOK {
		t.Fatalf("%s: status %d, no admission response", url, status)
	}
	return answer
}

// fakeSessions are the FlinkDeployment specs the hub knows, by
// member/namespace/name; each member's path token is "token-of-<member>".
type fakeSessions map[string]flinkv1beta1.FlinkDeploymentSpec

func (f fakeSessions) Calling(_ context.Context, member, token string) bool {
	return token == "token-of-"+member
}

func (f fakeSessions) SessionCluster(_ context.Context, member, namespace, name string) (*flinkv1beta1.FlinkDeployment, bool) {
	spec, ok := f[member+"/"+namespace+"/"+name]
	if !ok {
		return nil, false
	}
	return &flinkv1beta1.FlinkDeployment{Spec: spec}, true
}

// TestHandlerRefusesOversizedBodies: a body beyond the AdmissionReview
// bound is refused as too large, not read on nor cut and parsed.
func TestHandlerRefusesOversizedBodies(t *testing.T) {
	srv := httptest.NewServer(webhook.Handler(webhook.Reviewer{}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		size int
		want int
	}{
		{"over the bound", 4<<20 + 1, http.StatusRequestEntityTooLarge},
		{"within the bound, not a review", 1 << 20, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+webhook.Path, "application/json", bytes.NewReader(bytes.Repeat([]byte(" "), tc.size)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			msg, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d (%s), want %d", resp.StatusCode, msg, tc.want)
			}
		})
	}
}

const (
	// needsDirs is the refusal of a savepoint-mode job without the
	// checkpoint directory its member's defaults give.
	needsDirs = "savepoint upgrades need a checkpoint directory"
	// needsRecovery is the refusal of a spec that turns JobManager
	// recovery off where the fleet's defaults turn the health check on.
	needsRecovery = "needs JobManager deployment recovery"
	// needsHAStorage is the refusal of high availability without a
	// storage directory in the effective configuration.
	needsHAStorage = "needs a storage directory"
)

// testDefaults are a fleet default that turns the cluster health check on
// and member m1's checkpoint and savepoint storage.
func testDefaults() *defaults.Store {
	s := &defaults.Store{}
	s.Set("fleet", "", map[string]string{"kubernetes.operator.cluster.health-check.enabled": "true"})
	s.Set("m1", "m1", map[string]string{"state.checkpoints.dir": "s3://m1/checkpoints", "state.savepoints.dir": "s3://m1/savepoints", "high-availability.storageDir": "s3://m1/ha"})
	return s
}

// withConfiguration is validDeployment with the configuration conf (JSON).
func withConfiguration(namespace, name, conf string) *flinkv1beta1.FlinkDeployment {
	fd := validDeployment(namespace, name)
	fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(conf)}
	return fd
}

// reliesOnDefaults is a savepoint-mode job whose checkpoint and savepoint
// directories only its member's defaults give.
func reliesOnDefaults(namespace, name string) *flinkv1beta1.FlinkDeployment {
	fd := validDeployment(namespace, name)
	fd.Spec.Job.UpgradeMode = flinkv1beta1.UpgradeModeSavepoint
	return fd
}

// madeInvalidByDefaults turns JobManager recovery off, which the fleet's
// default health check needs.
func madeInvalidByDefaults(namespace, name string) *flinkv1beta1.FlinkDeployment {
	return withConfiguration(namespace, name, `{"kubernetes.operator.jm-deployment-recovery.enabled": "false"}`)
}

// TestReviewValidatesWithTheDefaults: the webhook judges the configuration
// the controller judges, the resource's own over the fleet's and the
// calling member's defaults (defaults.Store.Apply for both).
func TestReviewValidatesWithTheDefaults(t *testing.T) {
	relies := reliesOnDefaults("team-a", "wordcount")
	// Reconciled with m1's defaults merged (the controller records the
	// effective spec), then its parallelism changed.
	effective := relies.DeepCopy()
	if err := testDefaults().Apply(context.Background(), "m1", effective); err != nil {
		t.Fatal(err)
	}
	rescaled := reconciledAs(t, relies, &effective.Spec)
	rescaled.Spec.Job.Parallelism = 4
	haWithoutStorage := withConfiguration("team-a", "wordcount", `{"high-availability.type": "kubernetes"}`)
	ownWins := withConfiguration("team-a", "wordcount", `{"kubernetes.operator.jm-deployment-recovery.enabled": "false", "kubernetes.operator.cluster.health-check.enabled": "false"}`)
	cases := []struct {
		name      string
		store     *defaults.Store
		member    string
		op        admissionv1.Operation
		obj, old  *flinkv1beta1.FlinkDeployment
		wantInMsg string // "": admitted
	}{
		{"a spec relying on its member's defaults", testDefaults(), "m1", admissionv1.Create, relies, nil, ""},
		{"an update of it, against the last reconciled spec", testDefaults(), "m1", admissionv1.Update, rescaled, relies, ""},
		{"another member's defaults do not reach it", testDefaults(), "m2", admissionv1.Create, relies, nil, needsDirs},
		{"a caller without the member's token gets the fleet's defaults alone", testDefaults(), "", admissionv1.Create, relies, nil, needsDirs},
		{"without defaults", &defaults.Store{}, "m1", admissionv1.Create, relies, nil, needsDirs},
		{"a fleet default that makes the spec invalid", testDefaults(), "m1", admissionv1.Create, madeInvalidByDefaults("team-a", "wordcount"), nil, needsRecovery},
		{"the fleet's default for a caller without a token", testDefaults(), "", admissionv1.Create, madeInvalidByDefaults("team-a", "wordcount"), nil, needsRecovery},
		{"the resource's own setting wins over a default", testDefaults(), "m1", admissionv1.Create, ownWins, nil, ""},
		{"HA whose storage directory its member's defaults give", testDefaults(), "m1", admissionv1.Create, haWithoutStorage, nil, ""},
		{"HA without a storage directory in its member's configuration", testDefaults(), "m2", admissionv1.Create, haWithoutStorage, nil, needsHAStorage},
		{"HA for a caller without a token is left to the controller", testDefaults(), "", admissionv1.Create, haWithoutStorage, nil, ""},
		{"defaults not read yet", defaults.NewStore(), "m1", admissionv1.Create, relies, nil, defaults.ErrNotLoaded.Error()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := &admissionv1.AdmissionRequest{UID: "u-1", Operation: tc.op, Object: raw(t, tc.obj)}
			if tc.old != nil {
				req.OldObject = raw(t, tc.old)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp := webhook.Reviewer{Defaults: tc.store}.Review(ctx, tc.member, req)
			if want := tc.wantInMsg == ""; resp.Allowed != want {
				t.Fatalf("allowed = %v, want %v (%+v)", resp.Allowed, want, resp.Result)
			}
			if !resp.Allowed && !strings.Contains(resp.Result.Message, tc.wantInMsg) {
				t.Errorf("message %q does not contain %q", resp.Result.Message, tc.wantInMsg)
			}
		})
	}
}

// TestHandlerMergesTheCallingMembersDefaults: over HTTP, the member's
// defaults apply when the path carries its token, the fleet's alone
// otherwise.
func TestHandlerMergesTheCallingMembersDefaults(t *testing.T) {
	srv := httptest.NewServer(webhook.Handler(webhook.Reviewer{Sessions: fakeSessions{}, Defaults: testDefaults()}))
	defer srv.Close()
	fd := reliesOnDefaults("apps", "job")
	for path, admitted := range map[string]bool{
		"/m1/token-of-m1": true,
		"/m1/guess":       false,
		"/m1/token-of-m2": false,
		"/m2/token-of-m2": false,
		"":                false,
	} {
		status, answer := postReview(t, srv.URL+webhook.Path+path, "FlinkDeployment", fd.Namespace, fd)
		if status != http.StatusOK || answer.Allowed != admitted {
			t.Errorf("%q: %d, allowed = %v, want %v (%+v)", path, status, answer.Allowed, admitted, answer.Result)
		}
	}
}

// TestHandlerWaitsBoundedForTheDefaults: a replica that has not read the
// defaults yet answers 503 within its bound (the member's failure policy
// decides, as for a replica it cannot reach) rather than judge without
// them, and judges with them once read.
func TestHandlerWaitsBoundedForTheDefaults(t *testing.T) {
	store := defaults.NewStore()
	srv := httptest.NewServer(webhook.Handler(webhook.Reviewer{Sessions: fakeSessions{}, Defaults: store}))
	defer srv.Close()
	fd := reliesOnDefaults("apps", "job")
	url := srv.URL + webhook.Path + "/m1/token-of-m1"
	start := time.Now()
	if status, _ := postReview(t, url, "FlinkDeployment", fd.Namespace, fd); status != http.StatusServiceUnavailable {
		t.Fatalf("before the defaults are read: %d, want 503", status)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("the call waited %v for the defaults", waited)
	}
	store.Set("m1", "m1", map[string]string{"state.checkpoints.dir": "s3://m1/cp", "state.savepoints.dir": "s3://m1/sp"})
	store.Loaded()
	if status, answer := postReview(t, url, "FlinkDeployment", fd.Namespace, fd); status != http.StatusOK || !answer.Allowed {
		t.Fatalf("once read: %d, %+v", status, answer)
	}
}

// postReview posts an AdmissionReview creating obj, of kind, to url and
// returns the HTTP status and the response (empty unless 200).
func postReview(t *testing.T, url, kind, namespace string, obj any) (int, *admissionv1.AdmissionResponse) {
	t.Helper()
	return postReviewWith(t, http.DefaultClient, url, kind, namespace, obj)
}

// postReviewWith is postReview with hc.
func postReviewWith(t *testing.T, hc *http.Client, url, kind, namespace string, obj any) (int, *admissionv1.AdmissionResponse) {
	t.Helper()
	review, err := json.Marshal(admissionv1.AdmissionReview{TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: "review", Operation: admissionv1.Create, Namespace: namespace,
			Kind: metav1.GroupVersionKind{Group: "flink.apache.org", Version: "v1beta1", Kind: kind}, Object: raw(t, obj)}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Post(url, "application/json", bytes.NewReader(review))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, &admissionv1.AdmissionResponse{}
	}
	var answer admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || answer.Response == nil {
		t.Fatalf("%s: no admission response: %v", url, err)
	}
	return resp.StatusCode, answer.Response
}
