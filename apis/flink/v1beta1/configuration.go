package v1beta1

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// FlatConfiguration returns spec.flinkConfiguration as Flink's flat key/value
// configuration: nested maps are joined with dots ("a: {b: 1}" is "a.b: 1"),
// lists become Flink list values ("x;y"), and scalars their YAML text.
func (s *FlinkDeploymentSpec) FlatConfiguration() (map[string]string, error) {
	return flatConfiguration(s.FlinkConfiguration)
}

// FlatConfiguration returns spec.flinkConfiguration as Flink's flat key/value
// configuration, as FlinkDeploymentSpec.FlatConfiguration does.
func (s *FlinkSessionJobSpec) FlatConfiguration() (map[string]string, error) {
	return flatConfiguration(s.FlinkConfiguration)
}

// ConfigurationOf is the flinkConfiguration holding conf's keys and values;
// nil for an empty conf.
func ConfigurationOf(conf map[string]string) *apiextensionsv1.JSON {
	if len(conf) == 0 {
		return nil
	}
	raw, err := json.Marshal(conf)
	if err != nil {
		panic(err) // a map of strings always encodes
	}
	return &apiextensionsv1.JSON{Raw: raw}
}

// flatConfiguration flattens a flinkConfiguration; nil or empty is an
// empty configuration.
func flatConfiguration(conf *apiextensionsv1.JSON) (map[string]string, error) {
	out := map[string]string{}
	if conf == nil || len(conf.Raw) == 0 {
		return out, nil
	}
	if flat, ok := cachedFlat(conf.Raw); ok {
		return flat, nil
	}
	var tree any
	dec := json.NewDecoder(strings.NewReader(string(conf.Raw)))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("spec.flinkConfiguration: %w", err)
	}
	if tree == nil {
		return out, nil
	}
	root, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("spec.flinkConfiguration: must be a map of keys to values, got %s", jsonKind(tree))
	}
	if err := flatten("", root, out); err != nil {
		return nil, err
	}
	cacheFlat(conf.Raw, out)
	return out, nil
}

func flatten(prefix string, m map[string]any, out map[string]string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := m[k].(type) {
		case map[string]any:
			if err := flatten(key, v, out); err != nil {
				return err
			}
		default:
			s, err := scalarText(v)
			if err != nil {
				return fmt.Errorf("spec.flinkConfiguration[%s]: %w", key, err)
			}
			out[key] = s
		}
	}
	return nil
}

func scalarText(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		return v.String(), nil
	case []any:
		parts := make([]string, 0, len(v))
		for _, item := range v {
			if _, nested := item.(map[string]any); nested {
				return "", fmt.Errorf("a list may hold only scalars")
			}
			s, err := scalarText(item)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ";"), nil
	default:
		return "", fmt.Errorf("unsupported value of kind %s", jsonKind(v))
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "map"
	case []any:
		return "list"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	default:
		return fmt.Sprintf("%T", v)
	}
}
