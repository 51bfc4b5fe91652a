package listconfirm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/flink-hub/flink-hub/e2e/framework"
)

var listKind = schema.GroupVersionKind{Group: "flink.apache.org", Version: "v1beta1", Kind: "FlinkDeploymentList"}

// fakeMember is a member apiserver's objects as a metadata-only reader serves
// them, in pages; lists block while gate is set and not closed.
type fakeMember struct {
	mu       sync.Mutex
	versions map[types.NamespacedName]string
	lists    int
	pages    int
	gate     chan struct{}
	err      error
}

func (m *fakeMember) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errors.New("the confirmer must not get objects")
}

func (m *fakeMember) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	page, ok := list.(*metav1.PartialObjectMetadataList)
	if !ok || page.GroupVersionKind() != listKind {
		return fmt.Errorf("want a metadata list of %v, got %T %v", listKind, list, list.GetObjectKind().GroupVersionKind())
	}
	o := &client.ListOptions{}
	o.ApplyOptions(opts)
	if o.Raw != nil && o.Raw.ResourceVersion != "" {
		return errors.New("a confirming list must be consistent: no resourceVersion")
	}
	if o.Namespace == "" {
		return errors.New("a confirming list must stay in one namespace")
	}
	m.mu.Lock()
	gate, err := m.gate, m.err
	if o.Continue == "" {
		m.lists++
	}
	m.pages++
	m.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	// The namespace's items in name order, o.Limit at a time; Continue is
	// the next index.
	var names []types.NamespacedName
	for nn := range m.versions {
		if nn.Namespace == o.Namespace {
			names = append(names, nn)
		}
	}
	slices.SortFunc(names, func(a, b types.NamespacedName) int { return strings.Compare(a.Name, b.Name) })
	from := 0
	if o.Continue != "" {
		from, _ = strconv.Atoi(o.Continue)
	}
	to := min(len(names), from+int(o.Limit))
	for _, nn := range names[from:to] {
		page.Items = append(page.Items, metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: nn.Namespace, Name: nn.Name, ResourceVersion: m.versions[nn]}})
	}
	if to < len(names) {
		page.Continue = strconv.Itoa(to)
	}
	return nil
}

func newMember(n int) *fakeMember {
	m := &fakeMember{versions: map[types.NamespacedName]string{}}
	for i := 0; i < n; i++ {
		m.versions[key(i)] = "rv-" + strconv.Itoa(i)
	}
	return m
}

func key(i int) types.NamespacedName {
	return types.NamespacedName{Namespace: "ns", Name: "fd-" + strconv.Itoa(i)}
}

func (m *fakeMember) counts() (lists, pages int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lists, m.pages
}

func TestCurrentComparesTheListedVersion(t *testing.T) {
	m := newMember(3)
	c := New(listKind)
	acquired := time.Now()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		nn   types.NamespacedName
		rv   string
		want bool
	}{
		{"the listed version", key(1), "rv-1", true},
		{"an older cached version", key(1), "rv-0", false},
		{"an object the list did not see", types.NamespacedName{Namespace: "ns", Name: "gone"}, "rv-9", false},
		{"an empty cached version", key(2), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Current(ctx, "member-1", m, tc.nn, tc.rv, acquired); got != tc.want {
				t.Errorf("Current(%v, %q) = %v, want %v", tc.nn, tc.rv, got, tc.want)
			}
		})
	}
	if lists, _ := m.counts(); lists != 1 {
		t.Errorf("%d lists for keys of one acquisition, want 1", lists)
	}
}

// TestPrefetchListsBeforeTheFirstReconcile starts the list at the
// acquisition: the first reconcile finds it and no second list is sent,
// while an acquisition after the prefetch still needs a list of its own.
func TestPrefetchListsBeforeTheFirstReconcile(t *testing.T) {
	m := newMember(3)
	m.gate = make(chan struct{})
	c := New(listKind)
	ctx := context.Background()
	acquired := time.Now()
	c.Prefetch("member-1", m, "ns")
	c.Prefetch("member-1", m, "ns") // another shard of the same round
	framework.AwaitWithin(t, 10*time.Second, "the prefetched list sent", func() error {
		if lists, _ := m.counts(); lists != 1 {
			return fmt.Errorf("%d lists, want 1", lists)
		}
		return nil
	})
	close(m.gate)
	if !c.Current(ctx, "member-1", m, key(1), "rv-1", acquired) {
		t.Fatal("the prefetched list did not confirm a version it listed")
	}
	if lists, _ := m.counts(); lists != 1 {
		t.Fatalf("%d lists, want the prefetched one only", lists)
	}
	if !c.Current(ctx, "member-1", m, key(2), "rv-2", time.Now()) {
		t.Fatal("an acquisition after the prefetched list was not confirmed by a list of its own")
	}
	if lists, _ := m.counts(); lists != 2 {
		t.Fatalf("%d lists, want 2: the prefetched list started before the second acquisition", lists)
	}
}

func TestCurrentNeedsAListStartedAfterTheAcquisition(t *testing.T) {
	m := newMember(2)
	c := New(listKind)
	ctx := context.Background()
	if c.Current(ctx, "member-1", m, key(0), "rv-0", time.Time{}) {
		t.Error("an unknown acquisition time was confirmed; the caller must read live")
	}
	if lists, _ := m.counts(); lists != 0 {
		t.Errorf("%d lists for an unknown acquisition time, want none", lists)
	}
	if !c.Current(ctx, "member-1", m, key(0), "rv-0", time.Now()) {
		t.Fatal("the listed version was not confirmed")
	}
	// The previous owner writes, then this replica acquires the shard
	// again: the list before says nothing about the write.
	m.mu.Lock()
	m.versions[key(0)] = "rv-after"
	m.mu.Unlock()
	later := time.Now()
	if c.Current(ctx, "member-1", m, key(0), "rv-0", later) {
		t.Error("a version listed before the acquisition was confirmed after the object changed")
	}
	if !c.Current(ctx, "member-1", m, key(0), "rv-after", later) {
		t.Error("the version listed after the acquisition was not confirmed")
	}
	if lists, _ := m.counts(); lists != 2 {
		t.Errorf("%d lists for two acquisitions, want 2", lists)
	}
	// Members, and namespaces of a member, are listed apart.
	other := newMember(1)
	if !c.Current(ctx, "member-2", other, key(0), "rv-0", later) {
		t.Error("member-2's version was not confirmed")
	}
	if lists, _ := other.counts(); lists != 1 {
		t.Errorf("member-2 was listed %d times, want 1", lists)
	}
	elsewhere := types.NamespacedName{Namespace: "team-b", Name: key(0).Name}
	m.mu.Lock()
	m.versions[elsewhere] = "rv-b"
	m.mu.Unlock()
	if !c.Current(ctx, "member-1", m, elsewhere, "rv-b", later) || c.Current(ctx, "member-1", m, elsewhere, "rv-after", later) {
		t.Error("a namespace's list confirmed another namespace's version, or not its own")
	}
	if lists, _ := m.counts(); lists != 3 {
		t.Errorf("%d lists of member-1, want 3 (a second namespace is a list of its own)", lists)
	}
}

func TestConcurrentCallersShareOneListOfAllPages(t *testing.T) {
	n := 2*pageSize + 7
	m := newMember(n)
	m.gate = make(chan struct{})
	c := New(listKind)
	acquired := time.Now()
	var wg sync.WaitGroup
	results := make([]bool, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i * (n / len(results))
			results[i] = c.Current(context.Background(), "member-1", m, key(k), "rv-"+strconv.Itoa(k), acquired)
		}()
	}
	// Callers come while the list runs, or after it answered: either
	// way they share it.
	waitLists(t, m, 1)
	close(m.gate)
	wg.Wait()
	for i, ok := range results {
		if !ok {
			t.Errorf("caller %d: the listed version was not confirmed", i)
		}
	}
	if lists, pages := m.counts(); lists != 1 || pages != 3 {
		t.Errorf("%d lists of %d pages, want 1 list of 3 pages", lists, pages)
	}
}

func TestAFailedOrUnfinishedListConfirmsNothing(t *testing.T) {
	m := newMember(1)
	m.err = errors.New("forbidden")
	c := New(listKind)
	if c.Current(context.Background(), "member-1", m, key(0), "rv-0", time.Now()) {
		t.Error("a failed list confirmed a version")
	}
	// A failed list is not kept: the next caller lists again.
	m.mu.Lock()
	m.err = nil
	m.gate = make(chan struct{})
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if c.Current(ctx, "member-1", m, key(0), "rv-0", time.Now().Add(-time.Second)) {
		t.Error("a list that had not answered by the caller's deadline confirmed a version")
	}
	close(m.gate)
	waitLists(t, m, 2)
}

// TestFailedListsLeaveNoScopeBehind: a namespace whose list failed, with
// no earlier list to keep, is not remembered (members and namespaces come
// and go; lists of a member that refuses them would pile up).
func TestFailedListsLeaveNoScopeBehind(t *testing.T) {
	m := newMember(1)
	m.err = errors.New("forbidden")
	c := New(listKind)
	for i := range 20 {
		nn := types.NamespacedName{Namespace: fmt.Sprintf("ns-%d", i), Name: "fd"}
		if c.Current(context.Background(), "member-1", m, nn, "rv-0", time.Now()) {
			t.Fatal("a failed list confirmed a version")
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.scopes); n != 0 {
		t.Errorf("%d scopes kept after their only lists failed, want none", n)
	}
}

// waitLists waits until m was listed want times.
func waitLists(t *testing.T, m *fakeMember, want int) {
	t.Helper()
	framework.AwaitWithin(t, 10*time.Second, fmt.Sprintf("%d lists", want), func() error {
		if lists, _ := m.counts(); lists != want {
			return fmt.Errorf("%d lists", lists)
		}
		return nil
	})
}

func TestAListGathersTheAcquisitionsBeforeItIsSent(t *testing.T) {
	m := newMember(1)
	c := New(listKind)
	c.gather = time.Hour // never sent during the test
	sc := scope{member: "member-1", namespace: "ns"}
	first := c.listingFor(sc, m, time.Now())
	// A shard acquired after the list was asked for, before it is sent.
	if later := c.listingFor(sc, m, time.Now()); later != first {
		t.Error("a later acquisition got a list of its own while the first still gathered callers")
	}
	if lists, _ := m.counts(); lists != 0 {
		t.Errorf("%d lists sent while gathering, want none", lists)
	}
}
