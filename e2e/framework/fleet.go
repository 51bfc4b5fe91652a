package framework

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
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
	// RecordStatusPatches is ControlPlaneOptions.RecordStatusPatches of
	// every member.
	RecordStatusPatches bool
}

// StartFleet starts the hub and the members concurrently. On error it stops
// whatever it started and returns the first failure.
func StartFleet(opts FleetOptions) (*Fleet, error) {
	specs := []ControlPlaneOptions{{Name: "hub", CRDDirs: opts.HubCRDDirs}}
	for i := 1; i <= opts.Members; i++ {
		specs = append(specs, ControlPlaneOptions{Name: fmt.Sprintf("member-%d", i), CRDDirs: []string{CRDDir()}, RecordStatusPatches: opts.RecordStatusPatches})
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
	err := InParallel(specs, func(i int, spec ControlPlaneOptions) (err error) {
		planes[i], err = StartControlPlane(spec)
		return err
	})
	if err != nil {
		return nil, errors.Join(err, stopAll(planes))
	}
	return planes, nil
}

func stopAll(planes []*ControlPlane) error {
	return InParallel(planes, func(_ int, cp *ControlPlane) error { return cp.Stop() })
}

// InParallel runs do for every item (with its index) at once, waits for
// all and joins their errors in the items' order.
func InParallel[T any](items []T, do func(i int, item T) error) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, item := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = do(i, item)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func objectMeta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

// RegisterMembers registers every member with the hub exactly as
// `kubectl flinkhub cluster add` does (registration.Registrar: the hub's
// ServiceAccount and RBAC in the member, a token, the labelled kubeconfig
// Secret in namespace, created if missing). A hub started on the fleet thus
// talks to members with the identity production gives it, never as admin.
func (f *Fleet) RegisterMembers(ctx context.Context, namespace string) error {
	if err := f.Hub.CreateNamespace(ctx, namespace); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	for _, m := range f.Members {
		if _, err := m.registrar(f.Hub.Client).Add(ctx, RegistrationOptions(m.Name, namespace)); err != nil {
			return fmt.Errorf("register %s: %w", m.Name, err)
		}
	}
	return nil
}

// RegistrationOptions are the options `kubectl flinkhub cluster add`
// registers a member with by default, for member name into the hub
// namespace.
func RegistrationOptions(name, hubNamespace string) registration.Options {
	return registration.Options{Name: name, HubNamespace: hubNamespace, InstallCRDs: true}.WithDefaults()
}

// HubUser is the user name of the hub's identity in members, as `cluster
// add` creates it by default.
var HubUser = serviceaccount.MakeUsername(RegistrationOptions("", "").MemberNamespace, RegistrationOptions("", "").ServiceAccount)

// HubKubeconfig gives the hub's identity in the member as `cluster add`
// creates it (ServiceAccount, RBAC, a fresh token) and returns the
// kubeconfig `cluster add` would store in the hub, for tests that write
// member Secrets themselves.
func (cp *ControlPlane) HubKubeconfig(ctx context.Context) ([]byte, error) {
	kc, err := cp.registrar(nil).Identity(ctx, RegistrationOptions(cp.Name, ""))
	if err != nil {
		return nil, fmt.Errorf("hub identity in %s: %w", cp.Name, err)
	}
	return kc, nil
}

// HubIdentity is HubKubeconfig as a client config, for tests that run the
// hub's controllers in-process.
func (cp *ControlPlane) HubIdentity(ctx context.Context) (*rest.Config, error) {
	kc, err := cp.HubKubeconfig(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := memberconfig.Parse(kc)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = cp.Config.QPS, cp.Config.Burst
	return cfg, nil
}

func (cp *ControlPlane) registrar(hub client.Client) *registration.Registrar {
	return &registration.Registrar{Member: cp.Config, MemberClient: cp.Client, Hub: hub}
}

// CheckNoRefusals returns an error listing every request of the hub's
// member identity (HubUser) that a member refused with 403 Forbidden: the
// RBAC `cluster add` grants must cover everything the hub does. Call it
// before stopping the fleet.
func (f *Fleet) CheckNoRefusals() error {
	return CheckNoRefusals(HubUser, f.Members...)
}

// CheckNoRefusals returns an error listing every request of user that one
// of the control planes refused with 403 Forbidden.
func CheckNoRefusals(user string, planes ...*ControlPlane) error {
	var errs []error
	for _, cp := range planes {
		refused, err := cp.Refusals(user)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, r := range refused {
			errs = append(errs, fmt.Errorf("%s refused %s", cp.Name, r))
		}
	}
	return errors.Join(errs...)
}

// RunWithFleet is the body of a TestMain that shares one fleet: it starts
// the fleet, hands it to set, runs the tests, fails the run if
// checkRefusals and a member refused the hub's member identity (see
// CheckNoRefusals), and stops the fleet; it returns the exit code.
func RunWithFleet(m interface{ Run() int }, opts FleetOptions, set func(*Fleet), checkRefusals bool) int {
	var check func(*Fleet) error
	if checkRefusals {
		check = func(f *Fleet) error {
			if err := f.CheckNoRefusals(); err != nil {
				return fmt.Errorf("the hub's member identity was refused: %w", err)
			}
			return nil
		}
	}
	return runWith(m, func() (*Fleet, error) { return StartFleet(opts) }, set, check)
}
