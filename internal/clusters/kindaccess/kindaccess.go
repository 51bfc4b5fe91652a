// Package kindaccess keeps a member's cache from starting an informer of
// an optional kind (FlinkSessionJob, FlinkStateSnapshot) that the hub's
// identity may not list in every namespace the cache watches, or that the
// member does not serve. Such an informer never syncs: it is refused on
// every list, and each read of the kind waits on it until its deadline.
// A Gate asks the member first, with a list of one object in each watched
// namespace (across the cluster when the registration is not limited to
// namespaces), and the member's cache (Gate.NewCache) refuses informers
// of a kind found unreadable, and its reads but those of one namespace
// where the hub may list it, with an *Unreadable error at once.
// The member is asked again at most once per recheck interval, so that a
// registration whose rules were updated is read without re-engaging it.
// A kind found readable stays so until the member refuses the list or
// watch of the cache's informer of it (403, or 404: its CRD was deleted),
// which the informer's watch error handler tells the Gate: rules narrowed
// while the member is engaged. The kind is then asked about again, as is
// any other kind of the cache whose informer the member refused (one the
// controllers watch, such as Deployments): CheckAll reports it, but the
// cache refuses the reads of the optional kinds alone.
package kindaccess

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Unreadable is the error of a read of a kind the hub may not read in a
// member: its identity may not list it (Forbidden) in Namespaces (across
// the cluster when empty), or the member does not serve it. It wraps the
// member's answer, so that apierrors.IsForbidden and meta.IsNoMatchError
// see through it.
type Unreadable struct {
	// Member is the member's name in the hub.
	Member string
	// Kind is the kind's name (FlinkSessionJob).
	Kind string
	// Forbidden is true when the identity may not list the kind; false
	// when the member does not serve it.
	Forbidden bool
	// Namespaces are the watched namespaces where the list was refused;
	// empty when it was refused across the cluster.
	Namespaces []string

	answer error
}

// Error says what the hub may not read and how to fix it.
func (e *Unreadable) Error() string {
	if !e.Forbidden {
		return fmt.Sprintf("member %s does not serve %ss (no CRD of the kind): the hub watches them once it does", e.Member, e.Kind)
	}
	where := "across the cluster"
	if len(e.Namespaces) > 0 {
		where = "in namespace " + strings.Join(e.Namespaces, ", ")
	}
	return fmt.Sprintf("%ss are not readable with this member's registration: the hub's identity in member %s may not list them %s; "+
		"run `kubectl flinkhub cluster add` for %s again (with the same --namespaces) to update its rules", e.Kind, e.Member, where, e.Member)
}

// Unwrap is the member's answer.
func (e *Unreadable) Unwrap() error { return e.answer }

// IsUnreadable reports whether err is, or wraps, an *Unreadable.
func IsUnreadable(err error) bool {
	var u *Unreadable
	return errors.As(err, &u)
}

// DefaultRecheck is how often a kind found unreadable is asked about again
// when no recheck interval is given.
const DefaultRecheck = 10 * time.Second

// probeTimeout bounds one check of a kind (every namespace's list).
const probeTimeout = 10 * time.Second

// Gate says whether the hub may read each of a member's optional kinds.
type Gate struct {
	member  string
	objects []client.Object
	recheck time.Duration
	now     func() time.Time

	mu sync.Mutex
	// Set by NewCache, when the member's cache is built.
	reader client.Reader
	kinds  map[schema.GroupVersionKind]*kindState
	// namespacesOf are the namespaces the cache watches a kind in.
	namespacesOf func(schema.GroupVersionKind) []string
}

// kindState is what is known of one kind.
type kindState struct {
	gvk        schema.GroupVersionKind
	namespaces []string // nil: every namespace
	// optional kinds' reads and informers are refused while unreadable;
	// another kind is known once the member refused its informer, and only
	// reported (CheckAll).
	optional bool
	// probing admits one check at a time.
	probing chan struct{}
	checked time.Time
	// readable holds until the member refuses the kind's informer;
	// otherwise verdict is the last one, if any.
	readable bool
	verdict  *Unreadable
}

// New returns the Gate of member's objects' kinds, asking again about an
// unreadable kind at most every recheck (DefaultRecheck when zero). Pass
// NewCache to the member's cluster.
func New(member string, objects []client.Object, recheck time.Duration) *Gate {
	if recheck <= 0 {
		recheck = DefaultRecheck
	}
	return &Gate{member: member, objects: objects, recheck: recheck, now: time.Now, kinds: map[schema.GroupVersionKind]*kindState{}}
}

// gated returns the state of gvk; nil when the kind is not gated.
func (g *Gate) gated(gvk schema.GroupVersionKind) *kindState {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.kinds[gvk]
}

// Check returns nil when the hub may list gvk in every namespace the
// member's cache watches (or the kind is not gated: not optional), an
// *Unreadable when it may not or the member does not serve the kind, and
// another error when the member did not tell (it is asked again on the
// next call).
func (g *Gate) Check(ctx context.Context, gvk schema.GroupVersionKind) error {
	k := g.gated(gvk)
	if k == nil || !k.optional {
		return nil
	}
	return g.check(ctx, k)
}

// check returns k's verdict, asking the member when it is not known.
func (g *Gate) check(ctx context.Context, k *kindState) error {
	if known, err := g.known(k); known {
		return err
	}
	select {
	case k.probing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-k.probing }()
	if known, err := g.known(k); known { // another call just asked
		return err
	}
	g.mu.Lock()
	reader := g.reader
	g.mu.Unlock()
	if reader == nil {
		return fmt.Errorf("the member's cache of %ss is not built yet", k.gvk.Kind)
	}
	verdict, err := g.probe(ctx, reader, k)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	k.checked, k.readable, k.verdict = g.now(), verdict == nil, verdict
	if verdict == nil {
		return nil
	}
	return verdict
}

// known returns k's verdict (nil when readable) while it holds: readable
// until the member refuses k's informer, unreadable for the recheck
// interval.
func (g *Gate) known(k *kindState) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case k.readable:
		return true, nil
	case k.verdict != nil && g.now().Sub(k.checked) < g.recheck:
		return true, k.verdict
	}
	return false, nil
}

// probe lists one object of k's kind in each namespace k watches. A
// refusal in some namespaces is the verdict naming them all.
func (g *Gate) probe(ctx context.Context, reader client.Reader, k *kindState) (*Unreadable, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	namespaces := k.namespaces
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	verdict := &Unreadable{Member: g.member, Kind: k.gvk.Kind, Forbidden: true}
	for _, ns := range namespaces {
		list := &metav1.PartialObjectMetadataList{}
		list.SetGroupVersionKind(k.gvk.GroupVersion().WithKind(k.gvk.Kind + "List"))
		err := reader.List(ctx, list, client.InNamespace(ns), client.Limit(1))
		switch {
		case err == nil:
		case meta.IsNoMatchError(err) || apierrors.IsNotFound(err):
			return &Unreadable{Member: g.member, Kind: k.gvk.Kind, answer: err}, nil
		case apierrors.IsForbidden(err):
			verdict.answer = err
			if ns != metav1.NamespaceAll {
				verdict.Namespaces = append(verdict.Namespaces, ns)
			}
		default:
			return nil, fmt.Errorf("cannot tell whether the hub may list %ss: %w", k.gvk.Kind, err)
		}
	}
	if verdict.answer == nil {
		return nil, nil
	}
	return verdict, nil
}

// Status is what a Gate knows of one kind.
type Status struct {
	// Kind is the kind's name.
	Kind string
	// Unreadable is why the hub may not read the kind; nil when it may.
	Unreadable *Unreadable
}

// CheckAll checks the optional kinds and every other kind whose informer
// the member refused (asking the member only where Check would) and
// returns their statuses in kind name order; err is the first check the
// member did not answer.
func (g *Gate) CheckAll(ctx context.Context) ([]Status, error) {
	g.mu.Lock()
	kinds := slices.SortedFunc(maps.Values(g.kinds), func(a, b *kindState) int { return strings.Compare(a.gvk.Kind, b.gvk.Kind) })
	g.mu.Unlock()
	out := make([]Status, 0, len(kinds))
	for _, k := range kinds {
		err := g.check(ctx, k)
		var u *Unreadable
		if err != nil && !errors.As(err, &u) {
			return nil, err
		}
		out = append(out, Status{Kind: k.gvk.Kind, Unreadable: u})
	}
	return out, nil
}

// Refused tells the Gate that the member refused a list or watch of the
// cache's informer of gvk with err (the informer's watch error handler,
// NewCache). A refusal (403) or a kind no longer served (404) makes a
// kind found readable unknown, so that its next check asks the member;
// a kind not known before is known from then on. Other errors (a cut
// connection, an expired resource version) say nothing of the rules.
func (g *Gate) Refused(gvk schema.GroupVersionKind, err error) {
	if !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	k := g.kinds[gvk]
	switch {
	case k == nil && g.namespacesOf != nil:
		g.kinds[gvk] = &kindState{gvk: gvk, namespaces: g.namespacesOf(gvk), probing: make(chan struct{}, 1)}
	case k != nil && k.readable:
		k.readable, k.verdict = false, nil
	}
}
