package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/sharding/shardlease"
)

// Join is a replica added to a running fleet: the shards the others hand
// it, and how long the longest of them had no owner.
type Join struct {
	Replica string `json:"replica"`
	// Shards are the shards it holds once the fleet settled.
	Shards int `json:"shards"`
	// FlinkDeployments are the keys of those shards.
	FlinkDeployments int `json:"flinkDeployments"`
	// LongestUnownedSec is the longest time one of those shards had no
	// owner before the new replica took it, as the new replica measured
	// it (flinkhub_sharding_shard_last_unowned_seconds).
	LongestUnownedSec float64 `json:"longestUnownedSeconds"`
	// SettledSec is from the start of its process until every key of its
	// shards finished a reconcile by it (process start and cache fill
	// included).
	SettledSec float64 `json:"settledSeconds"`
}

// unownedMetric is the per-shard gauge the bench reads from a joiner.
const unownedMetric = "flinkhub_sharding_shard_last_unowned_seconds"

// join starts replica id in the running fleet and measures it until the
// fleet settled (settle).
func join(ctx context.Context, e *env, tr *tracker, id string) (*Join, error) {
	at := time.Now()
	rep, err := e.startReplica(id)
	if err != nil {
		return nil, err
	}
	if err := e.waitShardsHeld(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	if err := e.settle(ctx, tr, 2*time.Minute); err != nil {
		return nil, err
	}
	res := &Join{Replica: id, SettledSec: seconds(time.Since(at))}
	held, err := e.holders(ctx)
	if err != nil {
		return nil, err
	}
	mine := map[int]bool{}
	for s, h := range held {
		if h == id {
			mine[s] = true
		}
	}
	res.Shards = len(mine)
	for k := range tr.keys() {
		if mine[e.shardOf(k)] {
			res.FlinkDeployments++
		}
	}
	body, err := get(ctx, rep.metrics)
	if err != nil {
		return nil, err
	}
	gaps, err := perShard(string(body), unownedMetric)
	if err != nil {
		return nil, err
	}
	for s, v := range gaps {
		if mine[s] {
			res.LongestUnownedSec = max(res.LongestUnownedSec, v)
		}
	}
	return res, nil
}

// perShard reads the samples of a gauge labelled only by shard from a
// Prometheus text exposition.
func perShard(exposition, name string) (map[int]float64, error) {
	out := map[int]float64{}
	for _, line := range strings.Split(exposition, "\n") {
		rest, ok := strings.CutPrefix(line, name+`{shard="`)
		if !ok {
			continue
		}
		shard, value, ok := strings.Cut(rest, `"} `)
		if !ok {
			return nil, fmt.Errorf("unexpected sample %q", line)
		}
		k, err := strconv.Atoi(shard)
		if err != nil {
			return nil, fmt.Errorf("sample %q: %w", line, err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("sample %q: %w", line, err)
		}
		out[k] = v
	}
	return out, nil
}

// settle waits until every tracked key finished a reconcile by the
// replica that holds its shard now, begun after that replica acquired the
// shard: the last move's new owners have looked at every key they took.
func (e *env) settle(ctx context.Context, tr *tracker, timeout time.Duration) error {
	return framework.EventuallyEvery(ctx, timeout, auditPoll, func(ctx context.Context) (bool, error) {
		leases, err := framework.ShardLeases(ctx, e.fleet.Hub.Client, hubNamespace)
		if err != nil {
			return false, err
		}
		type holding struct {
			holder string
			since  time.Time
		}
		held := map[int]holding{}
		for k, l := range leases {
			h := holding{holder: shardlease.Holder(&l)}
			if h.holder == "" || l.Spec.AcquireTime == nil {
				return false, nil
			}
			h.since = l.Spec.AcquireTime.Time
			held[k] = h
		}
		ivs, err := e.intervals()
		if err != nil {
			return false, err
		}
		done := map[string]bool{}
		for _, iv := range ivs {
			h := held[e.shardOf(iv.Key)]
			if !iv.Open && iv.Replica == h.holder && iv.Start.After(h.since) {
				done[iv.Key] = true
			}
		}
		for k := range tr.keys() {
			if !done[k] {
				return false, nil
			}
		}
		return true, nil
	})
}
