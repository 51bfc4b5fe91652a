package defaults

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
