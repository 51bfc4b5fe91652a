package registration_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

var (
	planeOnce sync.Once
	plane     *framework.ControlPlane
	planeErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if plane != nil {
		if err := plane.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// controlPlane is one apiserver, started by the first test that asks and
// shared by the rest (the unit tests start none); it plays both hub and
// member.
func controlPlane(t *testing.T) *framework.ControlPlane {
	t.Helper()
	planeOnce.Do(func() {
		plane, planeErr = framework.StartControlPlane(framework.ControlPlaneOptions{Name: "registration"})
	})
	if planeErr != nil {
		t.Fatal(planeErr)
	}
	return plane
}

// TestAddRefusesASecretThatIsNotARegistration: `cluster add` under the
// name of a hub Secret that is not a registration refuses, saying so, and
// changes neither that Secret nor the member; a registration's Secret, or
// none, is written.
func TestAddRefusesASecretThatIsNotARegistration(t *testing.T) {
	ctx := context.Background()
	cp := controlPlane(t)
	if err := cp.CreateNamespace(ctx, "hub"); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		existing map[string]string // labels of a Secret there before; nil: none
		refusal  string
	}{
		{"plain", map[string]string{}, "hub: Secret hub/plain exists and is not a member registration"},
		{"registered", map[string]string{hubv1alpha1.MemberSecretLabel: "true"}, ""},
		{"fresh", nil, ""},
	}
	for _, tc := range cases {
		before := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "hub", Name: tc.name, Labels: tc.existing}, Data: map[string][]byte{"keep": []byte("me")}}
		if tc.existing != nil {
			if err := cp.Client.Create(ctx, before); err != nil {
				t.Fatal(err)
			}
		}
		o := registration.Options{Name: tc.name, HubNamespace: "hub", MemberNamespace: "ns-" + tc.name}
		r := &registration.Registrar{Member: cp.Config, MemberClient: cp.Client, Hub: cp.Client}
		_, err := r.Add(ctx, o)
		if (err == nil) != (tc.refusal == "") || (err != nil && !strings.Contains(err.Error(), tc.refusal)) {
			t.Fatalf("%s: Add() = %v, want refusal %q", tc.name, err, tc.refusal)
		}
		after := &corev1.Secret{}
		if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(before), after); err != nil {
			t.Fatal(err)
		}
		_, registered := after.Data[hubv1alpha1.MemberSecretKey]
		kept := tc.existing == nil || bytes.Equal(after.Data["keep"], before.Data["keep"])
		if registered != (tc.refusal == "") || !kept {
			t.Errorf("%s: Secret after Add: labels %v, keys %v", tc.name, after.Labels, slices.Sorted(maps.Keys(after.Data)))
		}
		err = cp.Client.Get(ctx, client.ObjectKey{Name: o.MemberNamespace}, &corev1.Namespace{})
		if touched := err == nil; touched != (tc.refusal == "") {
			t.Errorf("%s: member namespace %s created=%v (%v)", tc.name, o.MemberNamespace, touched, err)
		}
	}
}

// TestIdentityKeepsWhatVerifiesTheMember: the kubeconfig issued for the
// hub verifies the member as the admin context does (its CA and its
// tls-server-name, which the hub then uses to reach it); an admin context
// that skips verification and has no CA is refused, naming the setting,
// before anything is written in the member.
func TestIdentityKeepsWhatVerifiesTheMember(t *testing.T) {
	ctx := context.Background()
	cp := controlPlane(t)
	cases := []struct {
		name       string
		context    func(*rest.Config)
		serverName string
		refusal    string
	}{
		{"ca", func(*rest.Config) {}, "", ""},
		{"server-name", func(c *rest.Config) { c.ServerName = "localhost" }, "localhost", ""},
		{"insecure", func(c *rest.Config) { c.CAData, c.CAFile, c.Insecure = nil, "", true }, "", "insecure-skip-tls-verify"},
	}
	for _, tc := range cases {
		member := rest.CopyConfig(cp.Config)
		tc.context(member)
		o := registration.Options{Name: "verify", MemberNamespace: "verify-" + tc.name}
		r := &registration.Registrar{Member: member, MemberClient: cp.Client}
		kubeconfig, err := r.Identity(ctx, o)
		if (err == nil) != (tc.refusal == "") || (err != nil && !strings.Contains(err.Error(), tc.refusal)) {
			t.Fatalf("%s: Identity() = %v, want refusal %q", tc.name, err, tc.refusal)
		}
		if err != nil {
			if err := cp.Client.Get(ctx, client.ObjectKey{Name: o.MemberNamespace}, &corev1.Namespace{}); !apierrors.IsNotFound(err) {
				t.Errorf("%s: a refused registration wrote in the member (namespace: %v)", tc.name, err)
			}
			continue
		}
		cfg, err := memberconfig.Parse(kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ServerName != tc.serverName {
			t.Errorf("%s: kubeconfig's tls-server-name %q, want %q", tc.name, cfg.ServerName, tc.serverName)
		}
		if _, err := kubernetes.NewForConfigOrDie(cfg).Discovery().ServerVersion(); err != nil {
			t.Errorf("%s: the hub cannot reach the member with the kubeconfig: %v", tc.name, err)
		}
	}
}
