package framework

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flink-hub/flink-hub/clusters/memberconfig"
)

// Fleet is a hub control plane and its member control planes.
type Fleet struct {
	// Hub is the hub cluster's control plane.
	Hub *ControlPlane
	// Members are the member clusters' control planes, named member-1..N,
	// each with flink-hub's CRDs installed.
	Members []*ControlPlane
}

// FleetOptions configures StartFleet.
type FleetOptions struct {
	// Members is the number of member control planes.
	Members int
	// HubCRDDirs are CRD folders installed into the hub (none by default).
	HubCRDDirs []string
}

// StartFleet starts the hub and the members concurrently. On error it stops
// whatever it started and returns the first failure.
func StartFleet(opts FleetOptions) (*Fleet, error) {
	specs := []ControlPlaneOptions{{Name: "hub", CRDDirs: opts.HubCRDDirs}}
	for i := 1; i <= opts.Members; i++ {
		specs = append(specs, ControlPlaneOptions{Name: fmt.Sprintf("member-%d", i), CRDDirs: []string{CRDDir()}})
	}
	planes, err := startAll(specs)
	if err != nil {
		return nil, err
	}
	return &Fleet{Hub: planes[0], Members: planes[1:]}, nil
}

// StartFleetT starts a fleet for one test and stops it when the test ends,
// failing the test if either goes wrong.
func StartFleetT(t testing.TB, opts FleetOptions) *Fleet {
	t.Helper()
	f, err := StartFleet(opts)
	if err != nil {
		t.Fatalf("start fleet: %v", err)
	}
	t.Cleanup(func() {
		if err := f.Stop(); err != nil {
			t.Errorf("stop fleet: %v", err)
		}
	})
	return f
}

// Stop stops every control plane of the fleet, members first.
func (f *Fleet) Stop() error {
	if f == nil {
		return nil
	}
	return stopAll(append(append([]*ControlPlane{}, f.Members...), f.Hub))
}

// StartControlPlanes starts several control planes concurrently; on error
// none is left running.
func StartControlPlanes(specs ...ControlPlaneOptions) ([]*ControlPlane, error) {
	return startAll(specs)
}

// StopControlPlanes stops the control planes concurrently and joins the errors.
func StopControlPlanes(planes ...*ControlPlane) error { return stopAll(planes) }

func startAll(specs []ControlPlaneOptions) ([]*ControlPlane, error) {
	planes := make([]*ControlPlane, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			planes[i], errs[i] = StartControlPlane(spec)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, errors.Join(err, stopAll(planes))
	}
	return planes, nil
}

func stopAll(planes []*ControlPlane) error {
	errs := make([]error, len(planes))
	var wg sync.WaitGroup
	for i, cp := range planes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = cp.Stop()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func objectMeta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

// RegisterMembers writes one member registration Secret per member into
// the hub namespace (created if missing): named after the member, labelled
// flink-hub.io/member-cluster=true, holding the member's admin kubeconfig.
func (f *Fleet) RegisterMembers(ctx context.Context, namespace string) error {
	if err := f.Hub.CreateNamespace(ctx, namespace); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	for _, m := range f.Members {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: m.Name, Namespace: namespace, Labels: map[string]string{memberconfig.SecretLabel: "true"}},
			Data:       map[string][]byte{memberconfig.SecretKey: m.Kubeconfig},
		}
		if err := f.Hub.Client.Create(ctx, s); err != nil {
			return fmt.Errorf("register %s: %w", m.Name, err)
		}
	}
	return nil
}
