package sharding

import (
	"errors"
	"flag"
	"fmt"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	"os"
	"time"
)

// Flags are the election's command-line settings.
type Flags struct {
	// Identity is the replica identity (default: the host name, i.e. the
	// pod name).
	Identity string
	// Shards is S.
	Shards int
	// Spread is W.
	Spread int
	// Weight is the replica's relative share.
	Weight float64
	// LeaseDuration, RenewDeadline and RetryPeriod are the Lease timings.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// HandoffWait bounds the successor handshake (Options.HandoffWait).
	HandoffWait time.Duration
}

// BindFlags registers the flags on fs: --replica-id, --shards,
// --shard-weight, --lease-duration, --renew-deadline, --retry-period,
// --handoff-wait.
func (f *Flags) BindFlags(fs *flag.FlagSet) {
	host, _ := os.Hostname()
	fs.StringVar(&f.Identity, "replica-id", host, "identity of this hub replica, unique among replicas")
	fs.IntVar(&f.Shards, "shards", DefaultShards, "number of virtual shards; must be the same on every replica")
	fs.IntVar(&f.Spread, "member-spread", 0, "shards per member cluster (1..--shards), the same on every replica: each replica then connects to and caches only the members of its shards; 0 spreads every member over all shards and replicas")
	fs.Float64Var(&f.Weight, "shard-weight", 1, "relative share of shards this replica takes")
	fs.DurationVar(&f.LeaseDuration, "lease-duration", DefaultLeaseDuration, "how long other replicas wait after a Lease last changed before taking it over (whole seconds)")
	fs.DurationVar(&f.RenewDeadline, "renew-deadline", DefaultRenewDeadline, "how long after its last successful renewal a replica keeps reconciling a shard; below --lease-duration")
	fs.DurationVar(&f.RetryPeriod, "retry-period", DefaultRetryPeriod, "interval of Lease renewals; below --renew-deadline and below --lease-duration minus --renew-deadline")
	fs.DurationVar(&f.HandoffWait, "handoff-wait", DefaultHandoffWait, "with --member-spread, how long a replica keeps working a shard it hands off (or, stopping, all its shards) until the next owner has engaged the shard's members; keep it, plus twice half the renew deadline, within the pod's termination grace period")
}

// Validate reports an empty identity or timings New would refuse.
func (f *Flags) Validate() error {
	if f.Identity == "" {
		return errors.New("--replica-id must not be empty")
	}
	if err := shardlease.ValidateIdentity(f.Identity); err != nil {
		return fmt.Errorf("--replica-id: %w", err)
	}
	o := Options{}
	for _, opt := range f.Options() {
		opt(&o)
	}
	return o.defaultAndValidate()
}

// Options turns the flags into options for New.
func (f *Flags) Options() []Option {
	return []Option{WithShards(f.Shards), WithSpread(f.Spread), WithWeight(f.Weight), WithTimings(f.LeaseDuration, f.RenewDeadline, f.RetryPeriod), WithHandoffWait(f.HandoffWait)}
}
