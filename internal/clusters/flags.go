package clusters

import (
	"errors"
	"flag"
	"strconv"
	"time"
)

// BindFlags registers the flags of the member machinery on fs, with the
// production defaults (DefaultOptions).
func (o *Options) BindFlags(fs *flag.FlagSet) {
	d := DefaultOptions()
	o.MemberQPS = d.MemberQPS
	fs.StringVar(&o.Namespace, "namespace", d.Namespace, "hub namespace holding member kubeconfig Secrets and Leases")
	fs.Var((*float32Value)(&o.MemberQPS), "member-qps", "client-side QPS limit of the requests to each member, all resource types together")
	fs.IntVar(&o.MemberBurst, "member-burst", d.MemberBurst, "client-side burst of the requests to each member")
	fs.DurationVar(&o.MemberRequestTimeout, "member-request-timeout", d.MemberRequestTimeout, "timeout of each request to a member, reading the answer included; a watch must only start within it (0 disables it)")
	fs.DurationVar(&o.MemberSyncTimeout, "member-sync-timeout", d.MemberSyncTimeout, "how long engaging a member may wait for it to list what the hub watches; a member that takes longer is reported on its MemberCluster (Engaged) and tried again")
	fs.DurationVar(&o.ClaimDuration, "member-claim-duration", d.ClaimDuration, "how long a member's claim (the Lease kube-public/flink-hub-claim that makes one registration manage the member) lasts unrenewed; renewed every third of it")
	fs.DurationVar(&o.ProbeInterval, "health-probe-interval", d.ProbeInterval, "time between health probes of one member")
	fs.DurationVar(&o.StatusReportInterval, "health-report-interval", d.StatusReportInterval, "how long a MemberCluster status goes unwritten while probes find nothing new (a probe that changes only status.lastProbeTime is written once that is this old)")
	fs.DurationVar(&o.ProbeTimeout, "health-probe-timeout", d.ProbeTimeout, "timeout of one member health probe")
	fs.DurationVar(&o.Debounce, "health-debounce", d.Debounce, "how long a member's new health must last before its Ready condition changes")
	fs.BoolVar(&o.InstallCRDs, "install-crds", d.InstallCRDs, "install or upgrade the hub's CRDs (FlinkDeployment, FlinkSessionJob, FlinkStateSnapshot) in members (server-side apply)")
	fs.BoolVar(&o.AllowInsecureKubeconfigs, "allow-insecure-member-kubeconfigs", d.AllowInsecureKubeconfigs, "accept member kubeconfigs that skip TLS verification, speak plain HTTP or use a proxy-url (refused by default)")
	fs.StringVar(&o.FleetAddress, "fleet-bind-address", d.FleetAddress, "address of the read-only fleet API (/fleet/v1/...) and web console (/console/), HTTPS, callers authenticated and authorized by the hub apiserver; empty disables both")
	fs.StringVar(&o.FleetAdvertiseAddress, "fleet-advertise-address", d.FleetAdvertiseAddress, "host:port at which the other replicas reach this one's fleet API (with --member-spread they ask each other for the members they serve); default: $POD_IP with the --fleet-bind-address port")
	fs.Float64Var(&o.FleetTokenReviewsPerSecond, "fleet-token-reviews-per-second", d.FleetTokenReviewsPerSecond, "bearer tokens the fleet API has not seen lately (neither allowed nor refused) that it reviews with the hub apiserver a second, twice as many at once; beyond that such a token gets 429 without a review, so a flood of random tokens cannot take the hub's requests to its apiserver")
	fs.StringVar(&o.TraceQueryURL, "trace-query-url", d.TraceQueryURL, "Jaeger query API (http://host:16686) the console reads reconcile traces from; empty leaves traces out of the console")
	fs.IntVar(&o.StatusWorkers, "health-workers", d.StatusWorkers, "members probed at once")
}

// Validate reports every setting out of range, by its flag.
func (o *Options) Validate() error {
	var problems []error
	if o.Namespace == "" {
		problems = append(problems, errors.New("--namespace must not be empty"))
	}
	if o.MemberQPS <= 0 || o.MemberBurst <= 0 {
		problems = append(problems, errors.New("--member-qps and --member-burst must be positive"))
	}
	if o.MemberRequestTimeout < 0 {
		problems = append(problems, errors.New("--member-request-timeout must not be negative"))
	}
	if o.MemberSyncTimeout <= 0 {
		problems = append(problems, errors.New("--member-sync-timeout must be positive"))
	}
	if o.ClaimDuration < 3*time.Second {
		problems = append(problems, errors.New("--member-claim-duration must be at least 3s"))
	}
	if o.ProbeInterval <= 0 || o.ProbeTimeout <= 0 || o.Debounce < 0 || o.StatusReportInterval < 0 {
		problems = append(problems, errors.New("--health-probe-interval and --health-probe-timeout must be positive, --health-debounce and --health-report-interval not negative"))
	}
	if o.FleetTokenReviewsPerSecond <= 0 {
		problems = append(problems, errors.New("--fleet-token-reviews-per-second must be positive"))
	}
	if o.StatusWorkers < 1 {
		problems = append(problems, errors.New("--health-workers must be at least 1"))
	}
	return errors.Join(problems...)
}

// float32Value is a float32 flag.
type float32Value float32

func (v *float32Value) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 32) }

func (v *float32Value) Set(s string) error {
	f, err := strconv.ParseFloat(s, 32)
	if err != nil {
		return err
	}
	*v = float32Value(f)
	return nil
}
