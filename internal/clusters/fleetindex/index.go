// Package fleetindex is the hub's in-memory index of the fleet: a go-memdb
// database with a table of member clusters and a table of FlinkDeployments,
// fed from the member informers (see Feeder) and the member status
// controller, never by extra API calls.
package fleetindex

import (
	"cmp"
	"fmt"
	"iter"
	"strings"

	memdb "github.com/hashicorp/go-memdb"

	fleetv1 "github.com/flink-hub/flink-hub/apis/fleet/v1"
	"github.com/flink-hub/flink-hub/internal/sharding/shardkey"
)

const (
	tableDeployments = "deployments"
	tableClusters    = "clusters"

	indexID      = "id"
	indexCluster = "cluster"
)

// Deployment is one FlinkDeployment of the fleet: a row of the index and
// of the fleet API.
type Deployment = fleetv1.Deployment

// Key is the identity of a deployment in the fleet.
type Key = shardkey.Key

// KeyOf returns the row's shard key: a session job's is of its own kind.
func KeyOf(d *Deployment) Key {
	k := Key{Cluster: d.Cluster, Namespace: d.Namespace, Name: d.Name}
	if d.Kind == fleetv1.KindFlinkSessionJob {
		k.Kind = shardkey.KindSessionJob
	}
	return k
}

// Cluster is one member cluster of the fleet.
type Cluster = fleetv1.Cluster

// Placement is where sharding puts a deployment.
type Placement struct {
	Shard *int
	Owner string
}

// Placer computes where deployments are placed when they are read from the
// index, so that a shard changing hands shows at once. The sharding
// election implements it (cmd/flink-hub); without one, Shard and Owner stay
// empty.
type Placer interface {
	// Place returns the placement of each key, in order, as of the call.
	Place(keys []Key) []Placement
}

// Filter selects deployments; empty fields match everything, but Kind:
// "" selects FlinkDeployments.
type Filter struct {
	Kind           string
	Cluster        string
	Namespace      string
	Name           string
	LifecycleState string
	// AnyState matches the lifecycle state or the job state, ignoring
	// case.
	AnyState string
	// Text matches, ignoring case, part of the cluster, namespace, name,
	// owner, kind, error or session cluster.
	Text  string
	Owner string
}

// placed reports whether f needs a row's placement to decide (Owner and
// Text look at the owner).
func (f Filter) placed() bool { return f.Owner != "" || f.Text != "" }

// matchesPlaced applies Owner and Text to a placed row.
func (f Filter) matchesPlaced(d *Deployment) bool {
	if f.Owner != "" && d.Owner != f.Owner {
		return false
	}
	if f.Text == "" {
		return true
	}
	text := strings.ToLower(f.Text)
	for _, field := range []string{d.Cluster, d.Namespace, d.Name, d.Owner, d.Kind, d.Error, d.SessionCluster} {
		if strings.Contains(strings.ToLower(field), text) {
			return true
		}
	}
	return false
}

// keyPrefix is the leading part of the key that f fixes (cluster; then
// namespace; then name), where its rows start in key order.
func (f Filter) keyPrefix() Key {
	k := Key{Cluster: f.Cluster}
	if k.Cluster != "" {
		k.Namespace = f.Namespace
		if k.Namespace != "" {
			k.Name = f.Name
		}
	}
	return k
}

// inPrefix reports whether d's key starts with f's keyPrefix: the rows that
// do are one run of the index's key order.
func (f Filter) inPrefix(d *Deployment) bool {
	p := f.keyPrefix()
	return (p.Cluster == "" || d.Cluster == p.Cluster) && (p.Namespace == "" || d.Namespace == p.Namespace) && (p.Name == "" || d.Name == p.Name)
}

// Index is the fleet index. It is safe for concurrent use.
type Index struct {
	db     *memdb.MemDB
	placer Placer
	counts counts
}

// Option configures an Index.
type Option func(*Index)

// WithPlacer sets the Placer consulted on every query.
func WithPlacer(p Placer) Option { return func(ix *Index) { ix.placer = p } }

// New returns an empty Index.
func New(opts ...Option) *Index {
	db, err := memdb.NewMemDB(schema())
	if err != nil {
		panic(fmt.Sprintf("fleet index schema: %v", err)) // the schema is static
	}
	ix := &Index{db: db}
	for _, o := range opts {
		o(ix)
	}
	return ix
}

func schema() *memdb.DBSchema {
	str := func(field string, allowMissing bool) *memdb.IndexSchema {
		return &memdb.IndexSchema{Name: field, AllowMissing: allowMissing, Indexer: &memdb.StringFieldIndex{Field: field}}
	}
	idx := func(name string, s *memdb.IndexSchema) *memdb.IndexSchema { s.Name = name; return s }
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		tableDeployments: {Name: tableDeployments, Indexes: map[string]*memdb.IndexSchema{
			indexID: {Name: indexID, Unique: true, Indexer: &memdb.CompoundIndex{Indexes: []memdb.Indexer{
				&memdb.StringFieldIndex{Field: "Kind"}, &memdb.StringFieldIndex{Field: "Cluster"}, &memdb.StringFieldIndex{Field: "Namespace"}, &memdb.StringFieldIndex{Field: "Name"},
			}}},
			indexCluster: idx(indexCluster, str("Cluster", false)),
		}},
		tableClusters: {Name: tableClusters, Indexes: map[string]*memdb.IndexSchema{
			indexID: idx(indexID, &memdb.IndexSchema{Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Name"}}),
		}},
	}}
}

// UpsertDeployment inserts or replaces a row (a FlinkDeployment when its
// Kind is empty). Its placement and session job count are not stored:
// Deployments computes them when read.
func (ix *Index) UpsertDeployment(d Deployment) {
	d.Shard, d.Owner, d.SessionJobs = nil, "", 0
	d.Kind = kindOf(d.Kind)
	ix.write(func(txn *memdb.Txn) error {
		old, err := txn.First(tableDeployments, indexID, d.Kind, d.Cluster, d.Namespace, d.Name)
		if err != nil {
			return err
		}
		if err := txn.Insert(tableDeployments, &d); err != nil {
			return err
		}
		if old != nil {
			ix.counts.add(old.(*Deployment), -1)
		}
		ix.counts.add(&d, 1)
		return nil
	})
}

// DeleteDeployment removes the row of k (a session job's when k is of
// that kind).
func (ix *Index) DeleteDeployment(k Key) {
	kind := fleetv1.KindFlinkDeployment
	if k.Kind == shardkey.KindSessionJob {
		kind = fleetv1.KindFlinkSessionJob
	}
	ix.write(func(txn *memdb.Txn) error {
		old, err := txn.First(tableDeployments, indexID, kind, k.Cluster, k.Namespace, k.Name)
		if err != nil || old == nil {
			return err
		}
		if err := txn.Delete(tableDeployments, old); err != nil {
			return err
		}
		ix.counts.add(old.(*Deployment), -1)
		return nil
	})
}

// kindOf is a row kind, FlinkDeployment when empty.
func kindOf(kind string) string {
	if kind == "" {
		return fleetv1.KindFlinkDeployment
	}
	return kind
}

// deleteClusterDeployments removes the cluster's deployments for which drop
// returns true.
func (ix *Index) deleteClusterDeployments(cluster string, drop func(*Deployment) bool) {
	ix.write(func(txn *memdb.Txn) error {
		it, err := txn.Get(tableDeployments, indexCluster, cluster)
		if err != nil {
			return err
		}
		var doomed []*Deployment
		for raw := it.Next(); raw != nil; raw = it.Next() {
			if d := raw.(*Deployment); drop(d) {
				doomed = append(doomed, d)
			}
		}
		for _, d := range doomed {
			if err := txn.Delete(tableDeployments, d); err != nil {
				return err
			}
			ix.counts.add(d, -1)
		}
		return nil
	})
}

// UpsertCluster inserts or replaces a member cluster row.
func (ix *Index) UpsertCluster(c Cluster) {
	c.Deployments = 0
	ix.write(func(txn *memdb.Txn) error { return txn.Insert(tableClusters, &c) })
}

// DeleteCluster removes a member cluster and all its deployments.
func (ix *Index) DeleteCluster(name string) {
	ix.write(func(txn *memdb.Txn) error {
		if _, err := txn.DeleteAll(tableClusters, indexID, name); err != nil {
			return err
		}
		_, err := txn.DeleteAll(tableDeployments, indexCluster, name)
		ix.counts.dropCluster(name)
		return err
	})
}

// Deployments returns the deployments matching f, sorted by key.
func (ix *Index) Deployments(f Filter) []Deployment {
	rows, _ := ix.Page(f, nil, 0)
	return rows
}

// Page returns, sorted by key (cluster, namespace, name), at most limit
// of the deployments matching f (all when limit is 0) whose key sorts
// after after (from the first when nil), and whether more follow. It
// reads the index in key order from after and stops at the first row
// past the page: a page costs its own rows, not the fleet's.
func (ix *Index) Page(f Filter, after *Key, limit int) (rows []Deployment, more bool) {
	txn := ix.db.Txn(false)
	defer txn.Abort()
	// Only the key is indexed: every index costs a radix tree entry per
	// deployment in every replica. A filter that fixes the key's leading
	// fields reads their run of rows; filtering by state or owner, or by a
	// namespace or name alone, is a scan of memory.
	kind, from := kindOf(f.Kind), f.keyPrefix()
	if after != nil && CompareKeys(*after, from) >= 0 {
		from = *after
	} else {
		after = nil
	}
	// The batch holds pointers into the index, copied once into a slice
	// of its size: a whole fleet's rows are not copied as a slice grows.
	var batch []*Deployment
	flush := func() {
		copied := make([]Deployment, len(batch))
		for i, d := range batch {
			copied[i] = *d
		}
		if placed := ix.place(copied, f); rows == nil {
			rows = placed
		} else {
			rows = append(rows, placed...)
		}
		batch = batch[:0]
	}
	for d := range f.run(txn, kind, from) {
		if limit > 0 && len(rows) > limit {
			break
		}
		if (after != nil && CompareKeys(KeyOf(d), *after) == 0) || !f.matches(d) {
			continue
		}
		// Rows are placed in batches of what the page still lacks, so
		// that an owner filter places only what the page reads.
		if batch = append(batch, d); limit > 0 && len(rows)+len(batch) > limit {
			flush()
		}
	}
	flush()
	if limit > 0 && len(rows) > limit {
		rows, more = rows[:limit], true
	}
	ix.countSessionJobs(txn, rows)
	return rows, more
}

// run yields the rows of kind from the key from on, in key order, while
// they are in f's run of keys (those that start with its keyPrefix).
func (f Filter) run(txn *memdb.Txn, kind string, from Key) iter.Seq[*Deployment] {
	return func(yield func(*Deployment) bool) {
		it, err := txn.LowerBound(tableDeployments, indexID, kind, from.Cluster, from.Namespace, from.Name)
		if err != nil {
			panic(fmt.Sprintf("fleet index query: %v", err)) // indexes are static
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			d := raw.(*Deployment)
			if d.Kind != kind || !f.inPrefix(d) || !yield(d) {
				return // past the kind, or the filter's run of keys
			}
		}
	}
}

// CompareKeys orders keys as the index and the fleet API list them: by
// cluster, namespace, name.
func CompareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

// Match reports whether a placed row (as the fleet API lists it) passes
// every field of f, its kind included.
func (f Filter) Match(d *Deployment) bool { return f.matches(d) && f.matchesPlaced(d) }

// matches applies every field but Owner and Text, which need the
// placement.
func (f Filter) matches(d *Deployment) bool {
	return d.Kind == kindOf(f.Kind) && f.matchesFields(d)
}

// matchesFields is matches of a row of either kind.
func (f Filter) matchesFields(d *Deployment) bool {
	return (f.Cluster == "" || d.Cluster == f.Cluster) &&
		(f.Namespace == "" || d.Namespace == f.Namespace) && (f.Name == "" || d.Name == f.Name) &&
		(f.LifecycleState == "" || d.LifecycleState == f.LifecycleState) &&
		(f.AnyState == "" || strings.EqualFold(d.LifecycleState, f.AnyState) || strings.EqualFold(d.JobState, f.AnyState))
}

// place fills in the placement of ds and keeps those that pass f's Owner
// and Text.
func (ix *Index) place(ds []Deployment, f Filter) []Deployment {
	if ix.placer != nil {
		keys := make([]Key, len(ds))
		for i := range ds {
			keys[i] = KeyOf(&ds[i])
		}
		for i, p := range ix.placer.Place(keys) {
			if i < len(ds) {
				ds[i].Shard, ds[i].Owner = p.Shard, p.Owner
			}
		}
	}
	if !f.placed() {
		return ds
	}
	out := ds[:0]
	for _, d := range ds {
		if f.matchesPlaced(&d) {
			out = append(out, d)
		}
	}
	return out
}

// CountDeployments returns the number of FlinkDeployments of a cluster.
func (ix *Index) CountDeployments(cluster string) int {
	return ix.counts.deploymentsOf(cluster)
}

// countSessionJobs fills in the session job count of every FlinkDeployment
// row of ds from the session job rows of its cluster (each cluster read
// once).
func (ix *Index) countSessionJobs(txn *memdb.Txn, ds []Deployment) {
	counts, scanned := map[Key]int{}, map[string]bool{}
	for i := range ds {
		if ds[i].Kind != fleetv1.KindFlinkDeployment {
			continue
		}
		if cluster := ds[i].Cluster; !scanned[cluster] {
			scanned[cluster] = true
			it, err := txn.Get(tableDeployments, indexCluster, cluster)
			if err != nil {
				panic(fmt.Sprintf("fleet index query: %v", err))
			}
			for raw := it.Next(); raw != nil; raw = it.Next() {
				if j := raw.(*Deployment); j.Kind == fleetv1.KindFlinkSessionJob {
					counts[Key{Cluster: cluster, Namespace: j.Namespace, Name: j.SessionCluster}]++
				}
			}
		}
		ds[i].SessionJobs = counts[Key{Cluster: ds[i].Cluster, Namespace: ds[i].Namespace, Name: ds[i].Name}]
	}
}

// Clusters returns the member clusters sorted by name, with their
// deployment counts.
func (ix *Index) Clusters() []Cluster {
	txn := ix.db.Txn(false)
	defer txn.Abort()
	it, err := txn.Get(tableClusters, indexID)
	if err != nil {
		panic(fmt.Sprintf("fleet index query: %v", err))
	}
	var out []Cluster
	for raw := it.Next(); raw != nil; raw = it.Next() {
		out = append(out, *raw.(*Cluster))
	}
	for i := range out {
		out[i].Deployments = ix.CountDeployments(out[i].Name)
	}
	return out
}

func (ix *Index) write(fn func(*memdb.Txn) error) {
	txn := ix.db.Txn(true)
	if err := fn(txn); err != nil {
		txn.Abort()
		panic(fmt.Sprintf("fleet index write: %v", err)) // only schema errors fail
	}
	txn.Commit()
}
