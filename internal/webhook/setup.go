package webhook

import (
	"context"
	"crypto/hmac"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	mcmanager "sigs.k8s.io/multicluster-runtime/pkg/manager"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/defaults"
	"github.com/flink-hub/flink-hub/internal/webhook/certs"
	"github.com/flink-hub/flink-hub/internal/webhook/registrar"
)

// Flags are the webhook's command-line settings.
type Flags struct {
	// URL is the endpoint members call, ending in Path; empty turns the
	// webhook off.
	URL string
	// BindAddress is where this replica serves it.
	BindAddress string
	// CertDir holds tls.crt, tls.key and ca.crt (cert-manager); empty
	// makes the hub generate and rotate its own.
	CertDir string
	// CASecret is the Secret of the hub namespace holding the generated CA.
	CASecret string
	// Hosts are extra names or IPs of generated serving certificates (the
	// URL's host is always included).
	Hosts string
	// FailurePolicy is Ignore or Fail.
	FailurePolicy string
	// Timeout bounds one webhook call in a member.
	Timeout time.Duration
}

// BindFlags registers the --webhook-* flags on fs.
func (f *Flags) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&f.URL, "webhook-url", "", "HTTPS URL of this hub's FlinkDeployment webhook as member apiservers reach it, ending in "+Path+"; registered in every member. Empty turns the webhook off and removes it from members")
	fs.StringVar(&f.BindAddress, "webhook-bind-address", ":9443", "address the webhook is served on")
	fs.StringVar(&f.CertDir, "webhook-cert-dir", "", "folder with tls.crt, tls.key and ca.crt (e.g. from cert-manager); empty: the hub generates and rotates its own certificates")
	fs.StringVar(&f.CASecret, "webhook-ca-secret", "flink-hub-webhook-ca", "Secret in the hub namespace holding the generated webhook CA")
	fs.StringVar(&f.Hosts, "webhook-hosts", "", "comma-separated extra DNS names or IPs of the generated serving certificate")
	fs.StringVar(&f.FailurePolicy, "webhook-failure-policy", string(admissionregistrationv1.Ignore), "what a member does when the webhook cannot be reached: Ignore or Fail")
	fs.DurationVar(&f.Timeout, "webhook-timeout", 5*time.Second, "timeout of one webhook call (1s to 30s)")
}

// Enabled reports whether the webhook is on.
func (f *Flags) Enabled() bool { return f.URL != "" }

// Validate checks the flags.
func (f *Flags) Validate() error {
	if !f.Enabled() {
		return nil
	}
	var problems []error
	problems = append(problems, validateURL(f.URL))
	if f.FailurePolicy != string(admissionregistrationv1.Ignore) && f.FailurePolicy != string(admissionregistrationv1.Fail) {
		problems = append(problems, fmt.Errorf("--webhook-failure-policy %q must be Ignore or Fail", f.FailurePolicy))
	}
	if f.Timeout < time.Second || f.Timeout > 30*time.Second {
		problems = append(problems, errors.New("--webhook-timeout must be between 1s and 30s"))
	}
	if f.CertDir == "" && f.CASecret == "" {
		problems = append(problems, errors.New("--webhook-ca-secret must be set when --webhook-cert-dir is empty"))
	}
	return errors.Join(problems...)
}

// validateURL refuses a webhook URL members could not call: not https, a
// query or fragment (an admission webhook URL may have neither), or a path
// not ending in Path. The server answers only Path and below, and members
// are registered at <url>/<member>/<token>: any other path would make every
// admission call fail with 404, which members ignore under the Ignore
// failure policy, so writes would go unvalidated without a word.
func validateURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("--webhook-url %q must be an https:// URL", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("--webhook-url %q must have no query or fragment", raw)
	case !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), Path):
		return fmt.Errorf("--webhook-url %q must end in %s, the path the hub serves (members call <url>/<member>/<token>)", raw, Path)
	}
	return nil
}

// Setup adds the webhook to the hub manager: the certificate source and the
// HTTPS server when it is on, and the member registrar either way (a
// disabled one removes the configuration from members). hub is a client of
// the hub cluster, namespace the hub namespace, store the default
// configuration the FlinkDeployment controller merges (nil: none).
func Setup(mgr mcmanager.Manager, hub kubernetes.Interface, namespace string, store *defaults.Store, f Flags) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if !f.Enabled() {
		return mgr.Add(registrar.NewDisabled())
	}
	var source interface {
		certs.Source
		manager.Runnable
	}
	if f.CertDir != "" {
		source = certs.NewFiles(f.CertDir, 10*time.Second)
	} else {
		u, _ := url.Parse(f.URL)
		hosts := []string{u.Hostname()}
		for _, h := range strings.Split(f.Hosts, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hosts = append(hosts, h)
			}
		}
		source = certs.NewSelfSigned(hub, namespace, f.CASecret, hosts)
	}
	if err := mgr.GetLocalManager().Add(source); err != nil {
		return err
	}
	if err := mgr.GetLocalManager().AddReadyzCheck("webhook-certificate", source.ReadyzCheck); err != nil {
		return err
	}
	if err := mgr.GetLocalManager().Add(NewServer(f.BindAddress, source, Reviewer{Sessions: memberCaches{mgr}, Defaults: store})); err != nil {
		return err
	}
	return mgr.Add(registrar.New(source, registrar.Options{
		URL:           f.URL,
		FailurePolicy: admissionregistrationv1.FailurePolicyType(f.FailurePolicy),
		Timeout:       f.Timeout,
	}))
}

// memberCaches finds session clusters in the hub's caches of its members.
type memberCaches struct{ mgr mcmanager.Manager }

// Calling implements SessionClusters: token is the path token of the
// credentials this replica holds for member (one it does not serve: no).
func (m memberCaches) Calling(ctx context.Context, member, token string) bool {
	cl, err := m.mgr.GetCluster(ctx, multicluster.ClusterName(member))
	if err != nil {
		return false
	}
	want := registrar.PathToken(member, cl.GetConfig())
	return want != "" && hmac.Equal([]byte(token), []byte(want))
}

// SessionCluster implements SessionClusters: a member this replica does
// not serve, or a FlinkDeployment its cache lacks, is not known.
func (m memberCaches) SessionCluster(ctx context.Context, member, namespace, name string) (*flinkv1beta1.FlinkDeployment, bool) {
	cl, err := m.mgr.GetCluster(ctx, multicluster.ClusterName(member))
	if err != nil {
		return nil, false
	}
	fd := &flinkv1beta1.FlinkDeployment{}
	if err := cl.GetClient().Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, fd); err != nil {
		return nil, false
	}
	return fd, true
}
