package framework

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/internal/clusters/fleetapi"
)

// FleetReaderRules are the rules of the chart's fleet reader Role: what
// `kubectl flinkhub get deployments` needs in the hub namespace.
var FleetReaderRules = []rbacv1.PolicyRule{
	{APIGroups: []string{fleetapi.AccessGroup}, Resources: []string{fleetapi.AccessResource}, Verbs: []string{fleetapi.AccessVerb}},
	{APIGroups: []string{""}, Resources: []string{"services/proxy"}, ResourceNames: []string{"https:flink-hub:fleet"}, Verbs: []string{"get"}},
}

// ServiceAccountToken creates the ServiceAccount namespace/name (and, with
// rules, a Role and RoleBinding of the same name granting them) and returns
// a token of it.
func (c *ControlPlane) ServiceAccountToken(ctx context.Context, namespace, name string, rules []rbacv1.PolicyRule) (string, error) {
	objs := []client.Object{&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}}
	if rules != nil {
		objs = append(objs,
			&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Rules: rules},
			&rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}},
			})
	}
	for _, o := range objs {
		if err := c.Client.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", fmt.Errorf("%s: create %T %s: %w", c.Name, o, name, err)
		}
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return "", err
	}
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("%s: token of %s/%s: %w", c.Name, namespace, name, err)
	}
	return tr.Status.Token, nil
}

// FleetGet GETs path from the fleet API at addr (host:port, HTTPS with the
// hub's self-signed certificate) with a bearer token ("" sends none) and
// decodes a 200 answer into into; another status is a *FleetError.
func FleetGet(ctx context.Context, addr, token, path string, into any) error {
	if token == "" {
		return FleetDo(ctx, http.MethodGet, addr, "", "", path, into)
	}
	return FleetDo(ctx, http.MethodGet, addr, "Authorization", "Bearer "+token, path, into)
}

// FleetGetWithHeader is FleetGet with the credentials in any header.
func FleetGetWithHeader(ctx context.Context, addr, header, value, path string, into any) error {
	return FleetDo(ctx, http.MethodGet, addr, header, value, path, into)
}

// fleetClient is the one client of FleetDo: its connections are reused.
// A client (and transport) per call left each call's keep-alive
// connection open until the fleet API's idle timeout (90 s), so a test
// polling a few times a second while the sandbox refreshed filled the
// fleet API's 512 connections, and every later request got EOF.
var fleetClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the fleet API's certificate is self-signed
}}

// FleetDo sends method to the fleet API at addr with header: value (none
// when header is ""), and decodes a 200 answer into into (when not nil).
func FleetDo(ctx context.Context, method, addr, header, value, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, "https://"+addr+path, nil)
	if err != nil {
		return err
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	resp, err := fleetClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &FleetError{Status: resp.StatusCode, Message: fmt.Sprintf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(body)))}
	}
	if into == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

// FleetError is a fleet API answer other than 200.
type FleetError struct {
	// Status is the HTTP status code.
	Status int
	// Message names the path, the status and the body.
	Message string
}

func (e *FleetError) Error() string { return e.Message }
