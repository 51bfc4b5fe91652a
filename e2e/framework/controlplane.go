package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
)

// serviceCIDR replaces envtest's /24 service range, which fills up after
// about 250 Services (about 125 FlinkDeployments).
const serviceCIDR = "10.96.0.0/12"

// Scheme knows the Kubernetes built-in types, CRDs and the flink-hub APIs.
var Scheme = newScheme()

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme,
		apiextensionsv1.AddToScheme,
		flinkv1beta1.AddToScheme,
		hubv1alpha1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}

// ControlPlane is one running kube-apiserver with its etcd.
type ControlPlane struct {
	// Name identifies the control plane in errors and kubeconfigs.
	Name string
	// Config is an admin (system:masters) client config.
	Config *rest.Config
	// Client is an admin client with Scheme.
	Client client.Client
	// Kubeconfig is an admin kubeconfig for Config, as a kubeconfig Secret
	// holds it.
	Kubeconfig []byte

	env *envtest.Environment
	// auditLog records the requests of ServiceAccounts (see Refusals).
	auditLog string
}

// ControlPlaneOptions configures one control plane.
type ControlPlaneOptions struct {
	// Name identifies the control plane.
	Name string
	// CRDDirs are folders of CRD YAML installed (and waited for) at start.
	CRDDirs []string
	// RecordStatusPatches records the bodies of ServiceAccounts' patches
	// of FlinkDeployment status in the audit log (Requests).
	RecordStatusPatches bool
}

// StartControlPlane starts a kube-apiserver and etcd and installs the CRDs.
// On error nothing is left running.
func StartControlPlane(opts ControlPlaneOptions) (*ControlPlane, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		CRDDirectoryPaths:        opts.CRDDirs,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: 2 * time.Minute,
		ControlPlaneStopTimeout:  2 * time.Minute,
		Scheme:                   Scheme,
	}
	policy, auditLog, err := auditFiles(opts.Name, opts.RecordStatusPatches)
	if err != nil {
		return nil, err
	}
	args := env.ControlPlane.GetAPIServer().Configure()
	args.Set("service-cluster-ip-range", serviceCIDR)
	args.Set("audit-policy-file", policy)
	args.Set("audit-log-path", auditLog)
	args.Set("audit-log-format", "json")
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		_ = os.RemoveAll(filepath.Dir(auditLog))
		return nil, fmt.Errorf("start control plane %q: %w", opts.Name, err)
	}
	cp := &ControlPlane{Name: opts.Name, Config: cfg, env: env, auditLog: auditLog}
	if err := cp.init(); err != nil {
		_ = env.Stop()
		_ = os.RemoveAll(filepath.Dir(auditLog))
		return nil, fmt.Errorf("control plane %q: %w", opts.Name, err)
	}
	return cp, nil
}

func (cp *ControlPlane) init() error {
	// Tests poll often; client-side throttling would only slow them.
	cp.Config.QPS, cp.Config.Burst = 200, 400
	c, err := client.New(cp.Config, client.Options{Scheme: Scheme})
	if err != nil {
		return err
	}
	cp.Client = c
	user, err := cp.env.AddUser(envtest.User{Name: cp.Name + "-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add admin user: %w", err)
	}
	cp.Kubeconfig, err = user.KubeConfig()
	if err != nil {
		return fmt.Errorf("admin kubeconfig: %w", err)
	}
	return nil
}

// CreateNamespace creates a namespace, for tests that want their own.
func (cp *ControlPlane) CreateNamespace(ctx context.Context, name string) error {
	return cp.Client.Create(ctx, &corev1.Namespace{ObjectMeta: objectMeta(name)})
}

// Stop stops the kube-apiserver and etcd and removes their data. Stop every
// manager, informer and watch on this control plane first: the apiserver
// waits for open watches to drain.
func (cp *ControlPlane) Stop() error {
	if cp == nil || cp.env == nil {
		return nil
	}
	if err := cp.env.Stop(); err != nil {
		return fmt.Errorf("stop control plane %q: %w", cp.Name, err)
	}
	cp.env = nil
	return os.RemoveAll(filepath.Dir(cp.auditLog))
}

// RunWithControlPlane is the body of a TestMain that shares one control
// plane: it starts it, hands it to set, runs the tests and stops it; it
// returns the exit code.
func RunWithControlPlane(m interface{ Run() int }, opts ControlPlaneOptions, set func(*ControlPlane)) int {
	return runWith(m, func() (*ControlPlane, error) { return StartControlPlane(opts) }, set, nil)
}

// runWith is the body of a TestMain that shares what start starts: it
// hands it to set, runs the tests, fails the run if check (when not nil)
// returns an error, and stops it; it returns the exit code.
func runWith[T interface{ Stop() error }](m interface{ Run() int }, start func() (T, error), set func(T), check func(T) error) int {
	shared, err := start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	set(shared)
	code := m.Run()
	if check != nil {
		if err := check(shared); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	if err := shared.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}
