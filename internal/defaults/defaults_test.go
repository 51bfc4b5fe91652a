package defaults

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
)

func TestEffective(t *testing.T) {
	var s Store
	if s.Has("m1") {
		t.Fatal("an empty store has defaults")
	}
	s.Set("fleet", "", map[string]string{"state.checkpoints.dir": "s3://fleet/cp", "kubernetes.operator.savepoint.history.max.count": "5", "a": "fleet"})
	s.Set("m1", "m1", map[string]string{"state.checkpoints.dir": "s3://m1/cp", "a": "member"})
	conf, source := s.Effective("m1", map[string]string{"a": "own"})
	want := map[string]string{"state.checkpoints.dir": "s3://m1/cp", "kubernetes.operator.savepoint.history.max.count": "5", "a": "own"}
	wantSource := map[string]string{"state.checkpoints.dir": SourceMember, "kubernetes.operator.savepoint.history.max.count": SourceFleet, "a": SourceResource}
	if !maps.Equal(conf, want) || !maps.Equal(source, wantSource) {
		t.Errorf("m1: %v from %v; want %v from %v", conf, source, want, wantSource)
	}
	if conf, _ := s.Effective("m2", nil); conf["state.checkpoints.dir"] != "s3://fleet/cp" {
		t.Errorf("m2 got %v: another member's default reached it", conf)
	}
	if changed := s.Set("m1", "m1", map[string]string{"state.checkpoints.dir": "s3://m1/cp", "a": "member"}); changed != nil {
		t.Errorf("an unchanged ConfigMap changed %v", changed)
	}
	if changed := s.Delete("m1"); len(changed) != 1 || changed[0] != "m1" {
		t.Errorf("deleting m1's defaults changed %v", changed)
	}
}

func TestParse(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{MemberAnnotation: "m1"}},
		Data: map[string]string{Key: "state:\n  checkpoints.dir: s3://m1/cp\ntaskmanager.numberOfTaskSlots: 2\n"}}
	member, conf, err := Parse(cm)
	if err != nil || member != "m1" || conf["state.checkpoints.dir"] != "s3://m1/cp" || conf["taskmanager.numberOfTaskSlots"] != "2" {
		t.Errorf("Parse = %q, %v, %v", member, conf, err)
	}
	cm.Data[Key] = "- not\n- a map\n"
	if _, _, err := Parse(cm); err == nil {
		t.Error("a list was read as a configuration")
	}
}

// TestApply: the defaults merge under a FlinkDeployment's own
// configuration, but for the jar fetch headers of the defaults, the hub's
// credentials for session jobs' jars (read from the store, not from the
// FlinkDeployment): the effective spec goes into the FlinkDeployment's
// status.reconciliationStatus.lastReconciledSpec, which whoever may read
// the FlinkDeployment reads.
func TestApply(t *testing.T) {
	const header = "kubernetes.operator.user.artifacts.http.header"
	fleetAndM1 := func() *Store {
		s := &Store{}
		s.Set("fleet", "", map[string]string{"state.checkpoints.dir": "s3://fleet/cp", "a": "fleet"})
		s.Set("m1", "m1", map[string]string{"state.checkpoints.dir": "s3://m1/cp"})
		return s
	}
	onlyM1 := &Store{}
	onlyM1.Set("m1", "m1", map[string]string{"a": "member"})
	withHeaders := &Store{}
	withHeaders.Set("fleet", "", map[string]string{"a": "fleet", header: "Authorization:Bearer s3cr3t-fleet"})
	withHeaders.Set("m1", "m1", map[string]string{header: "Authorization:Bearer s3cr3t-m1"})
	cases := []struct {
		name    string
		store   *Store
		member  string
		own     string
		want    string // the flinkConfiguration after Apply
		wantErr error
	}{
		{"member over fleet, own over both", fleetAndM1(), "m1", `{"a":"own"}`, `{"a":"own","state.checkpoints.dir":"s3://m1/cp"}`, nil},
		{"fleet alone for no member", fleetAndM1(), "", `{"b":"own"}`, `{"a":"fleet","b":"own","state.checkpoints.dir":"s3://fleet/cp"}`, nil},
		{"no default for the member: untouched", onlyM1, "m2", `{"b": "own"}`, `{"b": "own"}`, nil},
		{"unreadable configuration: untouched, for the validation", fleetAndM1(), "m1", `[1]`, `[1]`, nil},
		{"not loaded: untouched", NewStore(), "m1", `{"b": "own"}`, `{"b": "own"}`, ErrNotLoaded},
		{"the jar fetch headers of the defaults: left out", withHeaders, "m1", `{"b":"own"}`, `{"a":"fleet","b":"own"}`, nil},
		{"the jar fetch headers of the resource's own: kept", withHeaders, "m1", `{"` + header + `":"X-Team:own"}`, `{"a":"fleet","` + header + `":"X-Team:own"}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fd := &v1beta1.FlinkDeployment{Spec: v1beta1.FlinkDeploymentSpec{FlinkConfiguration: &apiextensionsv1.JSON{Raw: []byte(tc.own)}}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			err := tc.store.Apply(ctx, tc.member, fd)
			if !errors.Is(err, tc.wantErr) || string(fd.Spec.FlinkConfiguration.Raw) != tc.want {
				t.Errorf("Apply = %v, %s; want %v, %s", err, fd.Spec.FlinkConfiguration.Raw, tc.wantErr, tc.want)
			}
		})
	}
}

// TestLoadReadsEveryDefaultFirst: Load reads every labelled ConfigMap of
// the hub namespace, and only then is the store loaded.
func TestLoadReadsEveryDefaultFirst(t *testing.T) {
	cm := func(ns, name, member string, labelled bool) *corev1.ConfigMap {
		c := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: map[string]string{}},
			Data: map[string]string{Key: "k: " + name + "\n"}}
		if labelled {
			c.Labels = map[string]string{Label: "true"}
		}
		if member != "" {
			c.Annotations[MemberAnnotation] = member
		}
		return c
	}
	cl := fake.NewClientBuilder().WithObjects(cm("hub", "fleet", "", true), cm("hub", "m1", "m1", true),
		cm("hub", "unlabelled", "", false), cm("elsewhere", "other", "", true)).Build()
	store := NewStore()
	if err := store.ReadyzCheck(nil); err == nil {
		t.Fatal("a store not loaded is ready")
	}
	var changed []string
	r := &Reconciler{Client: cl, Namespace: "hub", Store: store, OnChange: func(m []string) { changed = append(changed, m...) }}
	if err := r.Load(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := store.ReadyzCheck(nil); err != nil {
		t.Fatalf("loaded store not ready: %v", err)
	}
	conf, _ := store.Effective("m1", nil)
	if want := map[string]string{"k": "m1"}; !maps.Equal(conf, want) {
		t.Errorf("m1's defaults %v, want %v", conf, want)
	}
	if conf, _ := store.Effective("m2", nil); conf["k"] != "fleet" {
		t.Errorf("m2's defaults %v, want the fleet's", conf)
	}
	if len(changed) != 2 {
		t.Errorf("Load told of changes to %q, want the fleet's and m1's", changed)
	}
}

// TestWaitAWhile: a reader that can try again waits a bounded time for a
// store not loaded yet (ErrNotLoaded), and not at all once it is loaded.
func TestWaitAWhile(t *testing.T) {
	store := NewStore()
	if err := store.WaitAWhile(context.Background()); !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("not loaded: %v, want ErrNotLoaded", err)
	}
	store.Loaded()
	if err := store.WaitAWhile(context.Background()); err != nil {
		t.Fatalf("loaded: %v", err)
	}
	if err := (&Store{}).WaitAWhile(context.Background()); err != nil {
		t.Fatalf("a store built without loading (tests, no Loader): %v", err)
	}
}
