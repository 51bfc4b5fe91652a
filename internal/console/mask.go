package console

import (
	"encoding/json"
	"io"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// configFields are the fields whose keys are Flink configuration keys.
var configFields = map[string]bool{"flinkConfiguration": true, "logConfiguration": true}

// specFields are the status fields that hold a whole spec as a JSON string
// (status.reconciliationStatus.lastReconciledSpec and lastStableSpec).
var specFields = map[string]bool{"lastReconciledSpec": true, "lastStableSpec": true}

// Unreadable replaces an embedded spec that is not valid JSON: it cannot be
// masked, so it is not shown.
const Unreadable = "(not shown: not valid JSON, so its secrets cannot be masked)"

// MaskedYAML renders v (a spec or status) as YAML with the secrets Flink
// would mask replaced by flinkconf.Mask: the values of sensitive keys under
// flinkConfiguration (flat or nested) and logConfiguration, and the value
// of every environment variable ({name, value}) with a sensitive name, also
// inside the specs the status embeds as JSON (specFields).
func MaskedYAML(v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return "", err
	}
	out, err := yaml.Marshal(mask(tree, "", false))
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// mask masks tree in place; path is the dotted configuration key so far
// when inConfig.
func mask(tree any, path string, inConfig bool) any {
	switch t := tree.(type) {
	case map[string]any:
		if name, ok := t["name"].(string); ok && flinkconf.Sensitive(name) {
			if _, has := t["value"]; has {
				t["value"] = flinkconf.Mask
			}
		}
		for k, v := range t {
			switch {
			case inConfig:
				key := k
				if path != "" {
					key = path + "." + k
				}
				if flinkconf.Sensitive(key) {
					if _, scalar := v.(map[string]any); !scalar {
						t[k] = flinkconf.Mask
						continue
					}
				}
				t[k] = mask(v, key, true)
			case configFields[k]:
				t[k] = mask(v, "", true)
			case specFields[k]:
				t[k] = maskEmbedded(v)
			default:
				t[k] = mask(v, "", false)
			}
		}
		return t
	case []any:
		for i, v := range t {
			t[i] = mask(v, path, inConfig)
		}
		return t
	case string:
		if inConfig && flinkconf.Sensitive(path) {
			return flinkconf.Mask
		}
		return strings.Clone(t)
	}
	return tree
}

// maskEmbedded masks a spec embedded as a JSON string with the same rules
// and encodes it again; one that does not decode is replaced by Unreadable.
func maskEmbedded(v any) any {
	s, ok := v.(string)
	if !ok {
		return mask(v, "", false)
	}
	if s == "" {
		return s
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return Unreadable
	}
	if _, err := dec.Token(); err != io.EOF {
		return Unreadable
	}
	raw, err := json.Marshal(mask(tree, "", false))
	if err != nil {
		return Unreadable
	}
	return string(raw)
}
