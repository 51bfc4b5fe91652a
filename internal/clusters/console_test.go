package clusters_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/clusters"
)

// consoleGet GETs a console page of hub with token ("" sends none) and
// returns the status and body.
func consoleGet(t *testing.T, hub *clusters.Hub, token, path string) (int, string) {
	t.Helper()
	addr, err := hub.Fleet.Addr(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the hub's own self-signed certificate
	}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestConsoleServedBehindFleetAuth: the hub serves its console beside the
// fleet API, behind the same authentication: no token or a bad one is 401.
// A fleet reader sees the fleet table, and a FlinkDeployment's page reads
// the member with the identity `cluster add` grants: its spec with secrets
// masked, and its events.
func TestConsoleServedBehindFleetAuth(t *testing.T) {
	const ns = "console"
	ctx := t.Context()
	member := fleet.Members[2]
	hub := startHub(t, testOptions(ns))
	if err := fleet.Hub.Client.Create(ctx, memberSecret(ns, member.Name, hubKubeconfig(t, member))); err != nil {
		t.Fatal(err)
	}
	awaitEngaged(t, hub, member.Name)

	for _, token := range []string{"", "not-a-token"} {
		if code, body := consoleGet(t, hub, token, "/console/"); code != http.StatusUnauthorized {
			t.Fatalf("token %q: %d, want 401\n%s", token, code, body)
		}
	}

	fd := &flinkv1beta1.FlinkDeployment{ObjectMeta: metav1.ObjectMeta{Namespace: "console-apps", Name: "shown"},
		Spec: flinkv1beta1.FlinkDeploymentSpec{Image: "flink:2.2", FlinkVersion: "v2_2"}}
	fd.Spec.FlinkConfiguration = &apiextensionsv1.JSON{Raw: []byte(`{"s3.secret-key":"hunter2","state.savepoints.dir":"s3://own/sp"}`)}
	if err := member.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fd.Namespace}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	if err := member.Client.Create(ctx, fd); err != nil {
		t.Fatal(err)
	}
	// The status keeps the spec as JSON too (see plan.EncodeSpec).
	fd.Status.ReconciliationStatus.LastReconciledSpec = `{"spec":{"flinkConfiguration":{"s3.secret-key":"hunter2"}},"resource_metadata":{"firstDeployment":true}}`
	fd.Status.ReconciliationStatus.LastStableSpec = fd.Status.ReconciliationStatus.LastReconciledSpec
	if err := member.Client.Status().Update(ctx, fd); err != nil {
		t.Fatal(err)
	}
	ev := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: fd.Namespace, Name: "shown.1"},
		InvolvedObject: corev1.ObjectReference{Kind: "FlinkDeployment", APIVersion: "flink.apache.org/v1beta1", Namespace: fd.Namespace, Name: fd.Name, UID: fd.UID},
		Type:           corev1.EventTypeWarning, Reason: "ConsoleCheck", Message: "an event the console lists", LastTimestamp: metav1.Now()}
	if err := member.Client.Create(ctx, ev); err != nil {
		t.Fatal(err)
	}
	token, err := fleetReaderToken()
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the FlinkDeployment in the console's fleet table", func() error {
		code, body := consoleGet(t, hub, token, "/console/?cluster="+member.Name)
		if code != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`data-key="%s/%s/%s"`, member.Name, fd.Namespace, fd.Name)) {
			return fmt.Errorf("%d, no row", code)
		}
		return nil
	})
	code, body := consoleGet(t, hub, token, fmt.Sprintf("/console/clusters/%s/namespaces/%s/flinkdeployments/%s", member.Name, fd.Namespace, fd.Name))
	if code != http.StatusOK {
		t.Fatalf("the FlinkDeployment's page: %d\n%s", code, body)
	}
	for _, want := range []string{"s3://own/sp", "s3.secret-key: &#39;******&#39;", "ConsoleCheck", "an event the console lists", "no trace backend is configured"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "hunter2") || strings.Contains(body, "may not list events") {
		t.Errorf("the page shows a secret or could not list events:\n%s", body)
	}
	if code, _ := consoleGet(t, hub, token, "/console/members"); code != http.StatusOK {
		t.Errorf("members page: %d", code)
	}
}
