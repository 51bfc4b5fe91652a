package sharding

import (
	"fmt"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
	"time"

	"github.com/go-logr/logr"
)

// Defaults give a crash failover of about LeaseDuration + RetryPeriod, under
// 15 s.
const (
	DefaultLeaseDuration = 10 * time.Second
	DefaultRenewDeadline = 7 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
	// DefaultHandoffWait bounds the successor handshake: with the default
	// drain bounds a graceful stop ends within about 17 s, inside the
	// chart's 30 s termination grace period.
	DefaultHandoffWait = 10 * time.Second
)

// Options configures an Elector. Invariants (checked by New):
// RetryPeriod < LeaseDuration - RenewDeadline, so a replica notices a lapsed
// fence and cancels its reconciles before any other replica may take it;
// RetryPeriod < RenewDeadline, so renewals come before the deadline;
// DrainTimeout < RenewDeadline.
type Options struct {
	// Shards is S, the same on every replica (default DefaultShards).
	Shards int
	// Spread is W, the same on every replica: 0 (the default) spreads
	// every member's keys over all S shards; 1..S gives each member
	// cluster W shards (MemberShards), so a replica serves whole members
	// and connects only to those (see ServesMember).
	Spread int
	// Weight is this replica's relative share (default 1).
	Weight float64
	// LeaseDuration is how long other replicas wait, on their own clocks,
	// after a Lease last changed before treating it as expired.
	LeaseDuration time.Duration
	// RenewDeadline is how long after the start of its last successful
	// renewal a replica still reconciles a shard.
	RenewDeadline time.Duration
	// RetryPeriod is the renewal interval.
	RetryPeriod time.Duration
	// DrainTimeout bounds the wait for in-flight reconciles at handoff
	// (default RenewDeadline/2).
	DrainTimeout time.Duration
	// KeyCount, if set, returns the number of cached keys of a shard; the
	// owner writes it on the fence Lease for `kubectl flinkhub shards`.
	KeyCount func(shard int) int
	// ShardWeights, when set, weighs the shards for the assignment
	// (AssignWeighted): with a member spread, how many members each shard
	// is home to, so that members are balanced; nil or all zero counts
	// shards. Every replica must compute the same weights from the same
	// facts (they may differ while those facts propagate: fences keep any
	// key from two owners meanwhile).
	ShardWeights func() []int
	// ReadyFor, when set with a member spread, turns on the successor
	// handshake (successor.go): it returns which of the given shards
	// (assigned to this replica, not held yet) it could reconcile at once,
	// their members engaged and their caches filled. The replica announces
	// those on its peer Lease, and a holder keeps a shard it is handing off
	// until its successor announced it, for at most HandoffWait.
	ReadyFor func(shards []int) []int
	// HandoffWait bounds how long a holder keeps a shard for a successor
	// that has not announced it ready (default DefaultHandoffWait).
	HandoffWait time.Duration
	// FleetAddress is host:port of this replica's fleet API, advertised
	// on its peer Lease; "" advertises none.
	FleetAddress string
	// Log receives state changes (never Lease contents).
	Log logr.Logger
	// firstsTTL is how long a key not admitted again stays confirmed after
	// its first reconcile since its fence was acquired (firsts; default
	// defaultFirstsTTL).
	firstsTTL time.Duration
}

// defaultFirstsTTL is ten default reconcile intervals of a FlinkDeployment:
// a key reconciled periodically stays confirmed.
const defaultFirstsTTL = 10 * time.Minute

// Option changes Options.
type Option func(*Options)

// WithShards sets S.
func WithShards(s int) Option { return func(o *Options) { o.Shards = s } }

// WithSpread sets the member spread W.
func WithSpread(w int) Option { return func(o *Options) { o.Spread = w } }

// WithWeight sets the replica's weight.
func WithWeight(w float64) Option { return func(o *Options) { o.Weight = w } }

// WithTimings sets lease duration, renew deadline and retry period.
func WithTimings(lease, renew, retry time.Duration) Option {
	return func(o *Options) { o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = lease, renew, retry }
}

// WithDrainTimeout bounds the wait for in-flight reconciles at handoff.
func WithDrainTimeout(d time.Duration) Option { return func(o *Options) { o.DrainTimeout = d } }

// WithKeyCount sets the per-shard key counter written on fence Leases.
func WithKeyCount(f func(shard int) int) Option { return func(o *Options) { o.KeyCount = f } }

// WithFleetAddress advertises this replica's fleet API on its peer Lease.
func WithFleetAddress(addr string) Option { return func(o *Options) { o.FleetAddress = addr } }

// WithShardWeights weighs the shards for the assignment.
func WithShardWeights(f func() []int) Option { return func(o *Options) { o.ShardWeights = f } }

// WithReadyFor turns on the successor handshake (Options.ReadyFor).
func WithReadyFor(f func(shards []int) []int) Option { return func(o *Options) { o.ReadyFor = f } }

// WithHandoffWait bounds the wait for a successor (Options.HandoffWait).
func WithHandoffWait(d time.Duration) Option { return func(o *Options) { o.HandoffWait = d } }

// WithLogger sets the logger.
func WithLogger(l logr.Logger) Option { return func(o *Options) { o.Log = l } }

func (o *Options) defaultAndValidate() error {
	if o.Shards == 0 {
		o.Shards = DefaultShards
	}
	if o.Weight == 0 {
		o.Weight = 1
	}
	if o.LeaseDuration == 0 {
		o.LeaseDuration = DefaultLeaseDuration
	}
	if o.RenewDeadline == 0 {
		o.RenewDeadline = DefaultRenewDeadline
	}
	if o.RetryPeriod == 0 {
		o.RetryPeriod = DefaultRetryPeriod
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = o.RenewDeadline / 2
	}
	if o.HandoffWait == 0 {
		o.HandoffWait = DefaultHandoffWait
	}
	if o.firstsTTL == 0 {
		o.firstsTTL = defaultFirstsTTL
	}
	switch {
	case o.Shards < 1 || o.Shards > shardlease.MaxShards:
		return fmt.Errorf("shards must be in 1..%d, got %d", shardlease.MaxShards, o.Shards)
	case o.Spread < 0 || o.Spread > o.Shards:
		return fmt.Errorf("member spread must be in 0..%d (the shards), got %d", o.Shards, o.Spread)
	case o.Weight <= 0 || o.Weight > shardlease.MaxWeight:
		return fmt.Errorf("weight must be in (0, %d], got %v", shardlease.MaxWeight, o.Weight)
	case o.LeaseDuration%time.Second != 0 || o.LeaseDuration < time.Second:
		return fmt.Errorf("lease duration must be whole seconds, at least 1s, got %v", o.LeaseDuration)
	case o.RetryPeriod <= 0 || o.RenewDeadline <= 0:
		return fmt.Errorf("renew deadline and retry period must be positive")
	case o.RetryPeriod >= o.RenewDeadline:
		return fmt.Errorf("retry period (%v) must be shorter than the renew deadline (%v): renewals are one retry period apart", o.RetryPeriod, o.RenewDeadline)
	case o.RetryPeriod >= o.LeaseDuration-o.RenewDeadline:
		return fmt.Errorf("retry period (%v) must be shorter than lease duration (%v) minus renew deadline (%v)", o.RetryPeriod, o.LeaseDuration, o.RenewDeadline)
	case o.HandoffWait < 0:
		return fmt.Errorf("handoff wait must not be negative, got %v", o.HandoffWait)
	case o.DrainTimeout <= 0 || o.DrainTimeout >= o.RenewDeadline:
		return fmt.Errorf("drain timeout (%v) must be positive and shorter than the renew deadline (%v)", o.DrainTimeout, o.RenewDeadline)
	}
	return nil
}
