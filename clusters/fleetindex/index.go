// Package fleetindex is the hub's in-memory index of the fleet: a go-memdb
// database with a table of member clusters and a table of FlinkDeployments,
// fed from the member informers (see Feeder) and the member status
// controller, never by extra API calls.
package fleetindex

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/flink-hub/flink-hub/sharding/shardkey"
)

const (
	tableDeployments = "deployments"
	tableClusters    = "clusters"

	indexID      = "id"
	indexCluster = "cluster"
)

// Deployment is one FlinkDeployment of the fleet.
type Deployment struct {
	Cluster   string `json:"cluster"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Shard is the deployment's virtual shard; nil until a Placer (the
	// sharding package) provides it.
	Shard *int `json:"shard,omitempty"`
	// Owner is the hub replica reconciling the deployment; empty until a
	// Placer provides it.
	Owner string `json:"owner,omitempty"`
	// LifecycleState is status.lifecycleState (CREATED, STABLE, ...).
	LifecycleState string `json:"lifecycleState,omitempty"`
	// JobState is status.jobStatus.state (RUNNING, FAILED, ...).
	JobState     string `json:"jobState,omitempty"`
	FlinkVersion string `json:"flinkVersion,omitempty"`
	// Mode is native or standalone (native when unset, as upstream).
	Mode string `json:"mode,omitempty"`
	// LastReconcile is status.reconciliationStatus.reconciliationTimestamp.
	LastReconcile *time.Time `json:"lastReconcile,omitempty"`
	// Error is status.error, empty while nothing is wrong.
	Error string `json:"error,omitempty"`

	// engagement is the Feeder engagement that wrote the row.
	engagement uint64
}

// Key is the identity of a deployment in the fleet.
type Key = shardkey.Key

// Key returns the deployment's key.
func (d *Deployment) Key() Key { return Key{Cluster: d.Cluster, Namespace: d.Namespace, Name: d.Name} }

// errorLineWidth bounds ErrorLine.
const errorLineWidth = 60

// ErrorLine is the first line of the deployment's error, at most 60
// characters, for tables; "..." marks what it leaves out.
func (d *Deployment) ErrorLine() string {
	line, _, more := strings.Cut(d.Error, "\n")
	if r := []rune(line); len(r) > errorLineWidth {
		line, more = string(r[:errorLineWidth-3]), true
	}
	if more {
		line += "..."
	}
	return line
}

// Cluster is one member cluster of the fleet.
type Cluster struct {
	Name              string     `json:"name"`
	Ready             bool       `json:"ready"`
	Reason            string     `json:"reason,omitempty"`
	Message           string     `json:"message,omitempty"`
	KubernetesVersion string     `json:"kubernetesVersion,omitempty"`
	LastProbe         *time.Time `json:"lastProbe,omitempty"`
	// Deployments is filled in by queries from the deployments table.
	Deployments int `json:"deployments"`
}

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

// Filter selects deployments; empty fields match everything.
type Filter struct {
	Cluster        string
	Namespace      string
	LifecycleState string
	Owner          string
}

// Index is the fleet index. It is safe for concurrent use.
type Index struct {
	db     *memdb.MemDB
	placer Placer
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
				&memdb.StringFieldIndex{Field: "Cluster"}, &memdb.StringFieldIndex{Field: "Namespace"}, &memdb.StringFieldIndex{Field: "Name"},
			}}},
			indexCluster: idx(indexCluster, str("Cluster", false)),
		}},
		tableClusters: {Name: tableClusters, Indexes: map[string]*memdb.IndexSchema{
			indexID: idx(indexID, &memdb.IndexSchema{Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Name"}}),
		}},
	}}
}

// UpsertDeployment inserts or replaces a deployment. Its placement is not
// stored: Deployments computes it when read.
func (ix *Index) UpsertDeployment(d Deployment) {
	d.Shard, d.Owner = nil, ""
	ix.write(func(txn *memdb.Txn) error { return txn.Insert(tableDeployments, &d) })
}

// DeleteDeployment removes a deployment.
func (ix *Index) DeleteDeployment(k Key) {
	ix.write(func(txn *memdb.Txn) error {
		_, err := txn.DeleteAll(tableDeployments, indexID, k.Cluster, k.Namespace, k.Name)
		return err
	})
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
		return err
	})
}

// Deployments returns the deployments matching f, sorted by key.
func (ix *Index) Deployments(f Filter) []Deployment {
	txn := ix.db.Txn(false)
	defer txn.Abort()
	index, args := indexID, []any(nil)
	// Only the cluster is indexed: every index costs a radix tree entry
	// per deployment in every replica, and filtering a member's or the
	// fleet's rows by state or owner is a scan of memory.
	if f.Cluster != "" {
		index, args = indexCluster, []any{f.Cluster}
	}
	it, err := txn.Get(tableDeployments, index, args...)
	if err != nil {
		panic(fmt.Sprintf("fleet index query: %v", err)) // indexes are static
	}
	var out []Deployment
	for raw := it.Next(); raw != nil; raw = it.Next() {
		d := raw.(*Deployment)
		if f.matches(d) {
			out = append(out, *d)
		}
	}
	out = ix.place(out, f.Owner)
	slices.SortFunc(out, func(a, b Deployment) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// matches applies every field but Owner, which is known only once placed.
func (f Filter) matches(d *Deployment) bool {
	return (f.Cluster == "" || d.Cluster == f.Cluster) &&
		(f.Namespace == "" || d.Namespace == f.Namespace) &&
		(f.LifecycleState == "" || d.LifecycleState == f.LifecycleState)
}

// place fills in the placement of ds and keeps those owned by owner (all
// when owner is empty).
func (ix *Index) place(ds []Deployment, owner string) []Deployment {
	if ix.placer == nil {
		if owner != "" {
			return nil
		}
		return ds
	}
	keys := make([]Key, len(ds))
	for i := range ds {
		keys[i] = ds[i].Key()
	}
	placements := ix.placer.Place(keys)
	out := ds[:0]
	for i, d := range ds {
		if i < len(placements) {
			d.Shard, d.Owner = placements[i].Shard, placements[i].Owner
		}
		if owner == "" || d.Owner == owner {
			out = append(out, d)
		}
	}
	return out
}

// CountDeployments returns the number of deployments of a cluster.
func (ix *Index) CountDeployments(cluster string) int {
	txn := ix.db.Txn(false)
	defer txn.Abort()
	it, err := txn.Get(tableDeployments, indexCluster, cluster)
	if err != nil {
		panic(fmt.Sprintf("fleet index query: %v", err))
	}
	n := 0
	for raw := it.Next(); raw != nil; raw = it.Next() {
		n++
	}
	return n
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
