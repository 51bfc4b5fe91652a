// Package podtemplate merges the pod templates of a FlinkDeployment: the
// common spec.podTemplate, then the JobManager's or TaskManager's own, then
// the operator's containers.
package podtemplate

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Merge deep-merges overlay onto base and returns a new pod; neither input
// is changed. Maps merge key by key. Lists merge item by item by position,
// as upstream does by default: overlay's i-th item merges into base's i-th
// (objects deep, anything else replaced) and overlay's extra items are
// appended. With byName (upstream's
// kubernetes.operator.pod-template.merge-arrays-by-name), lists whose items
// all are objects with a "name" (containers, volumes, env, ports) merge
// item by item by name instead, new names appended in overlay order.
// Scalars are replaced.
func Merge(base, overlay *corev1.Pod, byName bool) (*corev1.Pod, error) {
	switch {
	case base == nil && overlay == nil:
		return &corev1.Pod{}, nil
	case base == nil:
		return overlay.DeepCopy(), nil
	case overlay == nil:
		return base.DeepCopy(), nil
	}
	b, err := toMap(base)
	if err != nil {
		return nil, err
	}
	o, err := toMap(overlay)
	if err != nil {
		return nil, err
	}
	merged := merger{byName: byName}.values(b, o)
	raw, err := json.Marshal(merged)
	if err != nil {
		return nil, err
	}
	out := &corev1.Pod{}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("merged pod template: %w", err)
	}
	return out, nil
}

func toMap(p *corev1.Pod) (map[string]any, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(raw, &m)
}

// merger merges decoded JSON values.
type merger struct{ byName bool }

func (m merger) values(base, overlay any) any {
	switch o := overlay.(type) {
	case map[string]any:
		b, ok := base.(map[string]any)
		if !ok {
			return o
		}
		out := make(map[string]any, len(b)+len(o))
		for k, v := range b {
			out[k] = v
		}
		for k, v := range o {
			if bv, ok := out[k]; ok {
				out[k] = m.values(bv, v)
			} else {
				out[k] = v
			}
		}
		return out
	case []any:
		b, ok := base.([]any)
		switch {
		case !ok:
			return o
		case m.byName && allNamed(b) && allNamed(o):
			return m.byNames(b, o)
		default:
			return m.byPosition(b, o)
		}
	default:
		return overlay
	}
}

// byPosition merges overlay's i-th item into base's i-th: objects deep,
// other items replaced; overlay's extra items are appended.
func (m merger) byPosition(base, overlay []any) []any {
	out := make([]any, max(len(base), len(overlay)))
	copy(out, base)
	for i, it := range overlay {
		if i < len(base) {
			if _, isObject := base[i].(map[string]any); isObject {
				out[i] = m.values(base[i], it)
				continue
			}
		}
		out[i] = it
	}
	return out
}

func allNamed(items []any) bool {
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["name"].(string); !ok {
			return false
		}
	}
	return true
}

func (m merger) byNames(base, overlay []any) []any {
	out := make([]any, len(base))
	copy(out, base)
	index := map[string]int{}
	for i, it := range out {
		index[it.(map[string]any)["name"].(string)] = i
	}
	for _, it := range overlay {
		name := it.(map[string]any)["name"].(string)
		if i, ok := index[name]; ok {
			out[i] = m.values(out[i], it)
			continue
		}
		index[name] = len(out)
		out = append(out, it)
	}
	return out
}
