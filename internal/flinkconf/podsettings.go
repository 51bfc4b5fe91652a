package flinkconf

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Flink's own pod settings, which Flink applies to the pods it builds and
// the hub applies to the pods it builds in Flink's place (the JobManager in
// both modes, the TaskManagers in standalone mode).
const (
	KeyImagePullSecrets = "kubernetes.container.image.pull-secrets"
	KeyJMEnvPrefix      = "containerized.master.env."
	KeyTMEnvPrefix      = "containerized.taskmanager.env."
	KeyJMOwnerReference = "kubernetes.jobmanager.owner.reference"
)

// Role is the JobManager or the TaskManager side of Flink's settings.
type Role string

// The two roles, named as in Flink's keys.
const (
	RoleJobManager  Role = "jobmanager"
	RoleTaskManager Role = "taskmanager"
)

func (r Role) key(suffix string) string { return "kubernetes." + string(r) + "." + suffix }

// AnnotationsKey and the other key functions name a role's settings.
func (r Role) AnnotationsKey() string { return r.key("annotations") }

// LabelsKey is the key of the role's pod labels.
func (r Role) LabelsKey() string { return r.key("labels") }

// NodeSelectorKey is the key of the role's node selector.
func (r Role) NodeSelectorKey() string { return r.key("node-selector") }

// TolerationsKey is the key of the role's tolerations.
func (r Role) TolerationsKey() string { return r.key("tolerations") }

// ServiceAccountKey is the key of the role's service account, which falls
// back to kubernetes.service-account.
func (r Role) ServiceAccountKey() string { return r.key("service-account") }

// CPULimitFactorKey is the key of the factor from CPU request to limit.
func (r Role) CPULimitFactorKey() string { return r.key("cpu.limit-factor") }

// MemoryLimitFactorKey is the key of the factor from memory request to
// limit.
func (r Role) MemoryLimitFactorKey() string { return r.key("memory.limit-factor") }

// EnvPrefix is the prefix of the role's environment variable keys.
func (r Role) EnvPrefix() string {
	if r == RoleJobManager {
		return KeyJMEnvPrefix
	}
	return KeyTMEnvPrefix
}

// PodSettings are a role's pod settings read from the Flink configuration.
type PodSettings struct {
	Annotations, Labels, NodeSelector map[string]string
	Tolerations                       []corev1.Toleration
	ImagePullSecrets                  []corev1.LocalObjectReference
	// Env are the main container's variables, sorted by name.
	Env []corev1.EnvVar
	// ServiceAccount is "" when neither the role's key nor
	// kubernetes.service-account is set.
	ServiceAccount string
	// CPULimitFactor and MemoryLimitFactor are at least 1.
	CPULimitFactor, MemoryLimitFactor float64
	// OwnerReferences are the JobManager's extra owners.
	OwnerReferences []metav1.OwnerReference
}

// maxEnv bounds the environment variables one role's settings may add.
const maxEnv = 1000

// PodSettings reads role's pod settings. Errors name the key at fault.
func (c Config) PodSettings(role Role) (PodSettings, error) {
	s := PodSettings{CPULimitFactor: 1, MemoryLimitFactor: 1}
	var errs []error
	keyErr := func(key string, err error) { errs = append(errs, fmt.Errorf("%s: %w", key, err)) }
	for key, dst := range map[string]*map[string]string{
		role.AnnotationsKey():  &s.Annotations,
		role.LabelsKey():       &s.Labels,
		role.NodeSelectorKey(): &s.NodeSelector,
	} {
		if v, ok := c[key]; ok {
			m, err := ParseMap(v)
			if err != nil {
				keyErr(key, err)
				continue
			}
			*dst = m
		}
	}
	if err := checkLabels(s.Labels); err != nil {
		keyErr(role.LabelsKey(), err)
	}
	if err := checkLabels(s.NodeSelector); err != nil {
		keyErr(role.NodeSelectorKey(), err)
	}
	if err := checkAnnotationKeys(s.Annotations); err != nil {
		keyErr(role.AnnotationsKey(), err)
	}
	if v, ok := c[role.TolerationsKey()]; ok {
		tols, err := parseTolerations(v)
		if err != nil {
			keyErr(role.TolerationsKey(), err)
		}
		s.Tolerations = tols
	}
	if v, ok := c[KeyImagePullSecrets]; ok {
		names, err := ParseList(v)
		if err != nil {
			keyErr(KeyImagePullSecrets, err)
		}
		for _, n := range names {
			s.ImagePullSecrets = append(s.ImagePullSecrets, corev1.LocalObjectReference{Name: n})
		}
	}
	s.ServiceAccount = c[KeyServiceAccount]
	if v := c[role.ServiceAccountKey()]; v != "" {
		s.ServiceAccount = v
	}
	var err error
	if s.CPULimitFactor, err = c.limitFactor(role.CPULimitFactorKey()); err != nil {
		keyErr(role.CPULimitFactorKey(), err)
	}
	if s.MemoryLimitFactor, err = c.limitFactor(role.MemoryLimitFactorKey()); err != nil {
		keyErr(role.MemoryLimitFactorKey(), err)
	}
	if s.Env, err = c.env(role.EnvPrefix()); err != nil {
		errs = append(errs, err)
	}
	if role == RoleJobManager {
		if v, ok := c[KeyJMOwnerReference]; ok {
			if s.OwnerReferences, err = parseOwnerReferences(v); err != nil {
				keyErr(KeyJMOwnerReference, err)
			}
		}
	}
	return s, sortedJoin(errs)
}

// CheckPodSettings reports what cannot be read in both roles' settings.
func (c Config) CheckPodSettings() error {
	_, jm := c.PodSettings(RoleJobManager)
	_, tm := c.PodSettings(RoleTaskManager)
	return errors.Join(jm, tm)
}

// sortedJoin joins errs in a stable order (map iteration is not).
func sortedJoin(errs []error) error {
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// limitFactor reads a limit factor: a number of at least 1, as Flink
// requires; 1 when unset.
func (c Config) limitFactor(key string) (float64, error) {
	v, ok := c[key]
	if !ok {
		return 1, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 1, fmt.Errorf("%q is not a number", v)
	}
	if f < 1 {
		return 1, fmt.Errorf("%s is below 1: a limit under the request is not allowed", v)
	}
	if f > 1000 {
		return 1, fmt.Errorf("%s is above 1000", v)
	}
	return f, nil
}

// env reads the variables of keys prefix+NAME, sorted by name.
func (c Config) env(prefix string) ([]corev1.EnvVar, error) {
	var out []corev1.EnvVar
	var errs []error
	for key, value := range c {
		name, ok := strings.CutPrefix(key, prefix)
		if !ok {
			continue
		}
		if msgs := validation.IsEnvVarName(name); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not an environment variable name: %s", key, name, strings.Join(msgs, "; ")))
			continue
		}
		out = append(out, corev1.EnvVar{Name: name, Value: value})
	}
	if len(out) > maxEnv {
		return nil, fmt.Errorf("%s*: more than %d variables", prefix, maxEnv)
	}
	slices.SortFunc(out, func(a, b corev1.EnvVar) int { return strings.Compare(a.Name, b.Name) })
	return out, sortedJoin(errs)
}

func checkLabels(m map[string]string) error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("%q is not a label key: %s", k, strings.Join(msgs, "; ")))
		}
		if msgs := validation.IsValidLabelValue(m[k]); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("%q is not a label value: %s", m[k], strings.Join(msgs, "; ")))
		}
	}
	return errors.Join(errs...)
}

func checkAnnotationKeys(m map[string]string) error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if msgs := validation.IsQualifiedName(strings.ToLower(k)); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("%q is not an annotation key: %s", k, strings.Join(msgs, "; ")))
		}
	}
	return errors.Join(errs...)
}

// parseItems reads a list of maps into items of T, setting each entry with
// set, which refuses a key T lacks.
func parseItems[T any](v string, set func(item *T, key, value string) error) ([]T, error) {
	items, err := ParseMapList(v)
	if err != nil {
		return nil, err
	}
	var out []T
	for _, m := range items {
		var item T
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if err := set(&item, strings.ToLower(k), m[k]); err != nil {
				return nil, err
			}
		}
		out = append(out, item)
	}
	return out, nil
}

// parseTolerations reads Flink's tolerations: a list of maps with the
// keys key, operator, value, effect and tolerationSeconds (in any case).
func parseTolerations(v string) ([]corev1.Toleration, error) {
	return parseItems(v, func(t *corev1.Toleration, k, val string) error {
		switch k {
		case "key":
			t.Key = val
		case "operator":
			t.Operator = corev1.TolerationOperator(val)
		case "value":
			t.Value = val
		case "effect":
			t.Effect = corev1.TaintEffect(val)
		case "tolerationseconds":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return fmt.Errorf("tolerationSeconds %q is not a whole number", val)
			}
			t.TolerationSeconds = &n
		default:
			return fmt.Errorf("%q is not a toleration field (key, operator, value, effect, tolerationSeconds)", k)
		}
		return nil
	})
}

// parseOwnerReferences reads Flink's owner references: a list of maps
// with apiVersion, kind, name, uid, controller and blockOwnerDeletion.
func parseOwnerReferences(v string) ([]metav1.OwnerReference, error) {
	refs, err := parseItems(v, func(ref *metav1.OwnerReference, k, val string) error {
		switch k {
		case "apiversion":
			ref.APIVersion = val
		case "kind":
			ref.Kind = val
		case "name":
			ref.Name = val
		case "uid":
			ref.UID = types.UID(val)
		case "controller", "blockownerdeletion":
			b, ok := Bool(val)
			if !ok {
				return fmt.Errorf("%s %q is neither true nor false", k, val)
			}
			if k == "controller" {
				ref.Controller = &b
			} else {
				ref.BlockOwnerDeletion = &b
			}
		default:
			return fmt.Errorf("%q is not an owner reference field", k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, ref := range refs {
		if ref.APIVersion == "" || ref.Kind == "" || ref.Name == "" || ref.UID == "" {
			return nil, errors.New("an owner reference needs apiVersion, kind, name and uid")
		}
		if ref.Controller != nil && *ref.Controller {
			return nil, errors.New("an owner reference may not be the controller: the FlinkDeployment is")
		}
	}
	return refs, nil
}
