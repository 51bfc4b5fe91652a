package kindaccess

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// listFunc is a client.Reader whose lists answer per namespace.
type listFunc func(namespace string) error

func (f listFunc) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errors.New("not used")
}

func (f listFunc) List(_ context.Context, _ client.ObjectList, opts ...client.ListOption) error {
	o := (&client.ListOptions{}).ApplyOptions(opts)
	return f(o.Namespace)
}

var snapshots = schema.GroupVersionKind{Group: "flink.apache.org", Version: "v1beta1", Kind: "FlinkStateSnapshot"}

// gate is a Gate of snapshots watched in namespaces, answered by answer,
// on a clock the test moves.
func gate(namespaces []string, answer listFunc, now *time.Time) *Gate {
	g := New("m1", nil, time.Minute)
	g.now = func() time.Time { return *now }
	g.reader = answer
	g.kinds[snapshots] = &kindState{gvk: snapshots, namespaces: namespaces, optional: true, probing: make(chan struct{}, 1)}
	g.namespacesOf = func(schema.GroupVersionKind) []string { return namespaces }
	return g
}

func forbidden(string) error {
	return apierrors.NewForbidden(schema.GroupResource{Group: "flink.apache.org", Resource: "flinkstatesnapshots"}, "", errors.New("no rule"))
}

// TestCheck: the verdict of each answer, what the message names, and
// whether the error still tells what the member said.
func TestCheck(t *testing.T) {
	cases := []struct {
		name       string
		namespaces []string
		answer     listFunc
		want       []string // in the message; nil: readable
		forbidden  bool
		noMatch    bool
	}{
		{"readable everywhere", nil, func(string) error { return nil }, nil, false, false},
		{"readable in its namespaces, refused across the cluster", []string{"a", "b"},
			func(ns string) error {
				if ns == "" {
					return forbidden(ns)
				}
				return nil
			}, nil, false, false},
		{"refused across the cluster", nil, forbidden,
			[]string{"FlinkStateSnapshots are not readable with this member's registration", "member m1", "across the cluster", "kubectl flinkhub cluster add"}, true, false},
		{"refused in one namespace", []string{"a", "b", "c"},
			func(ns string) error {
				if ns == "b" {
					return forbidden(ns)
				}
				return nil
			}, []string{"in namespace b;"}, true, false},
		{"no CRD", []string{"a"}, func(string) error { return &meta.NoKindMatchError{GroupKind: snapshots.GroupKind()} },
			[]string{"does not serve FlinkStateSnapshots"}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now()
			err := gate(tc.namespaces, tc.answer, &now).Check(t.Context(), snapshots)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Check: %v, want readable", err)
				}
				return
			}
			if !IsUnreadable(err) {
				t.Fatalf("Check: %v, want an Unreadable", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if apierrors.IsForbidden(err) != tc.forbidden || meta.IsNoMatchError(err) != tc.noMatch {
				t.Errorf("%v: forbidden %v, no match %v", err, apierrors.IsForbidden(err), meta.IsNoMatchError(err))
			}
		})
	}
}

// TestCheckAsksAgain: an unreadable kind is asked about again only after
// the recheck interval, a member that does not answer every time, and a
// readable kind never again; another kind is not gated.
func TestCheckAsksAgain(t *testing.T) {
	now := time.Now()
	asked := 0
	answer := forbidden("")
	g := gate(nil, func(string) error { asked++; return answer }, &now)
	ctx := t.Context()
	steps := []struct {
		advance   time.Duration
		answer    error
		wantAsked int
		readable  bool
	}{
		{0, forbidden(""), 1, false},
		{30 * time.Second, nil, 1, false}, // the verdict holds
		{31 * time.Second, apierrors.NewServiceUnavailable("down"), 2, false},
		{0, apierrors.NewServiceUnavailable("down"), 3, false}, // no verdict: asked again
		{0, nil, 4, true},
		{time.Hour, forbidden(""), 4, true}, // readable for good
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		answer = s.answer
		err := g.Check(ctx, snapshots)
		if asked != s.wantAsked || (err == nil) != s.readable {
			t.Errorf("step %d: asked %d times (want %d), error %v (readable %v)", i, asked, s.wantAsked, err, s.readable)
		}
	}
	if err := g.Check(ctx, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}); err != nil {
		t.Errorf("a kind not gated: %v", err)
	}
}

var deployments = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}

// TestRefused: a refusal of a readable kind's informer (403 or 404) makes
// the next check ask the member, which may say the kind is no longer
// readable (rules narrowed while the member is engaged) and, after the
// recheck interval, readable again; other informer errors ask nothing. A
// kind that is not optional is reported from its informer's refusal on,
// but its reads are never refused.
func TestRefused(t *testing.T) {
	now := time.Now()
	asked := 0
	var answer error
	g := gate(nil, func(string) error { asked++; return answer }, &now)
	ctx := t.Context()
	steps := []struct {
		name      string
		advance   time.Duration
		refused   error // of the snapshots' informer; nil: none
		answer    error
		wantAsked int
		readable  bool
	}{
		{"readable", 0, nil, nil, 1, true},
		{"a cut connection", 0, io.ErrUnexpectedEOF, forbidden(""), 1, true},
		{"an expired resource version", 0, apierrors.NewResourceExpired("too old"), forbidden(""), 1, true},
		{"refused by narrowed rules", 0, forbidden(""), forbidden(""), 2, false},
		{"refused again within the recheck interval", time.Second, forbidden(""), nil, 2, false},
		{"rules restored", time.Minute, nil, nil, 3, true},
		{"CRD deleted", 0, apierrors.NewNotFound(schema.GroupResource{}, ""), apierrors.NewNotFound(schema.GroupResource{}, ""), 4, false},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		answer = s.answer
		if s.refused != nil {
			g.Refused(snapshots, s.refused)
		}
		err := g.Check(ctx, snapshots)
		if asked != s.wantAsked || (err == nil) != s.readable {
			t.Errorf("%s: asked %d times (want %d), error %v (readable %v)", s.name, asked, s.wantAsked, err, s.readable)
		}
	}

	now = now.Add(time.Minute)
	answer = forbidden("")
	g.Refused(deployments, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "", errors.New("no rule")))
	if err := g.Check(ctx, deployments); err != nil {
		t.Errorf("a kind that is not optional refused: %v", err)
	}
	kinds, err := g.CheckAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(kinds) != 2 || kinds[0].Kind != "Deployment" || kinds[0].Unreadable == nil || !kinds[0].Unreadable.Forbidden ||
		kinds[1].Kind != "FlinkStateSnapshot" || kinds[1].Unreadable == nil {
		t.Errorf("CheckAll: %+v, want Deployment and FlinkStateSnapshot refused", kinds)
	}
}
