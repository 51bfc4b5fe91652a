// Package listconfirm confirms that a replica's cached copy of an object is
// current without reading the object itself: the first reconciles of the
// keys a replica just took over share one consistent list of the object
// metadata of their member and namespace, instead of one live read each.
// Lists are per namespace: a member registered for some namespaces grants
// nothing across the cluster, and a list costs only the objects of the
// namespaces whose keys moved.
//
// Invariant: Current returns true only when a list that started after
// since (the acquisition of the key's shard) saw the object at exactly the
// cached resource version. Such a copy is what a live read started at that
// list would have returned: every write the previous owner made before it
// let the shard go is in it. Anything else (another version, the object
// absent, the list failing or outlasting the caller's context) returns
// false, and the caller reads live as before.
package listconfirm

import (
	"context"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// pageSize bounds the items of one list answer; the pages of one list are
// one consistent snapshot.
const pageSize = 500

// keep is how long a finished list answers keys of shards acquired before
// it started; a later acquisition needs a later list anyway.
const keep = 30 * time.Second

// gatherDelay is how long a list waits after it is first asked for before it
// is sent: the shards of one election round are acquired by Lease writes
// sent at once, which return within tens of milliseconds of each other,
// and the first reconciles of all of them share the list sent after the
// last.
const gatherDelay = 50 * time.Millisecond

// Confirmer lists the metadata of one kind per member and namespace, at
// most one list in flight per namespace for callers that a running list
// serves. Its zero value is not usable: call New.
type Confirmer struct {
	list   schema.GroupVersionKind
	gather time.Duration

	mu     sync.Mutex
	scopes map[scope]*lists
}

// scope is one namespace of one member.
type scope struct{ member, namespace string }

// New returns a Confirmer of the objects listed as listKind (e.g.
// flink.apache.org/v1beta1, Kind=FlinkDeploymentList).
func New(listKind schema.GroupVersionKind) *Confirmer {
	return &Confirmer{list: listKind, gather: gatherDelay, scopes: map[scope]*lists{}}
}

// lists holds a scope's latest finished list and the one running.
type lists struct {
	latest, running *listing
}

// listing is one consistent list of a scope: resource versions by name.
// started is zero while it gathers callers (it starts after all of them).
type listing struct {
	started  time.Time
	done     chan struct{}
	versions map[string]string
	err      error
}

// Current reports whether rv, the cached resource version of nn in member,
// is the version a list of nn's namespace in member (through reader, a
// live reader of the member's apiserver) that started after since saw. It
// waits for a running list that started after since, or starts one;
// callers of one namespace share it.
func (c *Confirmer) Current(ctx context.Context, member string, reader client.Reader, nn types.NamespacedName, rv string, since time.Time) bool {
	if since.IsZero() || rv == "" {
		return false
	}
	l := c.listingFor(scope{member: member, namespace: nn.Namespace}, reader, since)
	select {
	case <-l.done:
	case <-ctx.Done():
		return false
	}
	return l.err == nil && l.versions[nn.Name] == rv
}

// Prefetch starts the list of namespace in member (through reader, a live
// reader of the member's apiserver) that the first reconciles of a shard
// acquired before now will wait for, or joins one still gathering, and
// returns at once. Called at the acquisition, with the namespaces that
// hold the shard's keys, it lets the lists of every member run while the
// first reconciles are still queued, instead of one member's list after
// another as the workers reach them. It confirms nothing by itself:
// Current still needs the list to have started after the acquisition.
func (c *Confirmer) Prefetch(member string, reader client.Reader, namespace string) {
	c.listingFor(scope{member: member, namespace: namespace}, reader, time.Now())
}

// listingFor returns a list of sc that started after since: the latest
// finished one, the running one, or a new one.
func (c *Confirmer) listingFor(sc scope, reader client.Reader, since time.Time) *listing {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.scopes[sc]
	if m == nil {
		m = &lists{}
		c.scopes[sc] = m
	}
	for _, l := range []*listing{m.running, m.latest} {
		if l != nil && (l.started.IsZero() || l.started.After(since)) {
			return l
		}
	}
	l := &listing{done: make(chan struct{})}
	m.running = l
	go c.run(sc, m, l, reader)
	return l
}

// run waits c.gather, then lists sc into l and makes l the scope's latest
// until keep passes or a later list replaces it. A scope left with no
// list (this one failed) is dropped.
func (c *Confirmer) run(sc scope, m *lists, l *listing, reader client.Reader) {
	time.Sleep(c.gather)
	c.mu.Lock()
	l.started = time.Now()
	c.mu.Unlock()
	l.versions, l.err = c.versions(reader, sc.namespace)
	c.mu.Lock()
	if m.running == l {
		m.running = nil
	}
	if l.err == nil && (m.latest == nil || m.latest.started.Before(l.started)) {
		m.latest = l
		time.AfterFunc(keep, func() { c.forget(sc, m, l) })
	}
	if m.latest == nil && m.running == nil && c.scopes[sc] == m {
		delete(c.scopes, sc) // a failed list with nothing to keep
	}
	c.mu.Unlock()
	close(l.done)
}

// forget drops l when it is still the scope's latest list.
func (c *Confirmer) forget(sc scope, m *lists, l *listing) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.latest == l {
		m.latest = nil
	}
	if m.latest == nil && m.running == nil && c.scopes[sc] == m {
		delete(c.scopes, sc)
	}
}

// versions lists the resource version of every object in namespace, page
// by page, without a resourceVersion: a consistent read.
func (c *Confirmer) versions(reader client.Reader, namespace string) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	out := map[string]string{}
	opts := []client.ListOption{client.InNamespace(namespace), client.Limit(pageSize)}
	for {
		page := &metav1.PartialObjectMetadataList{}
		page.SetGroupVersionKind(c.list)
		if err := reader.List(ctx, page, opts...); err != nil {
			return nil, err
		}
		for _, item := range page.Items {
			out[item.Name] = item.ResourceVersion
		}
		if page.Continue == "" {
			return out, nil
		}
		opts = []client.ListOption{client.InNamespace(namespace), client.Limit(pageSize), client.Continue(page.Continue)}
	}
}

// listTimeout bounds one list, all its pages: callers stop waiting at
// their own deadline and read live.
const listTimeout = 30 * time.Second
