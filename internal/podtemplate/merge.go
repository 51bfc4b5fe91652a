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
// is changed. Maps merge key by key; lists whose items are all objects with a
// "name" (containers, volumes, env, ports) merge item by item by name, new
// names appended in overlay order; other lists and scalars are replaced.
func Merge(base, overlay *corev1.Pod) (*corev1.Pod, error) {
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
	merged := mergeValues(b, o)
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

func mergeValues(base, overlay any) any {
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
				out[k] = mergeValues(bv, v)
			} else {
				out[k] = v
			}
		}
		return out
	case []any:
		b, ok := base.([]any)
		if !ok || !allNamed(b) || !allNamed(o) {
			return o
		}
		return mergeByName(b, o)
	default:
		return overlay
	}
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

func mergeByName(base, overlay []any) []any {
	out := make([]any, len(base))
	copy(out, base)
	index := map[string]int{}
	for i, it := range out {
		index[it.(map[string]any)["name"].(string)] = i
	}
	for _, it := range overlay {
		name := it.(map[string]any)["name"].(string)
		if i, ok := index[name]; ok {
			out[i] = mergeValues(out[i], it)
			continue
		}
		index[name] = len(out)
		out = append(out, it)
	}
	return out
}
