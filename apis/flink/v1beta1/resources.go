package v1beta1

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ToCore parses the quantities into Kubernetes resource requirements; path
// names the field in errors (e.g. "spec.taskManager.resources").
func (r *ResourceRequirements) ToCore(path string) (corev1.ResourceRequirements, error) {
	var out corev1.ResourceRequirements
	if r == nil {
		return out, nil
	}
	var err error
	if out.Limits, err = parseResourceList(path+".limits", r.Limits); err != nil {
		return out, err
	}
	if out.Requests, err = parseResourceList(path+".requests", r.Requests); err != nil {
		return out, err
	}
	for _, c := range r.Claims {
		out.Claims = append(out.Claims, corev1.ResourceClaim{Name: c.Name, Request: c.Request})
	}
	return out, nil
}

func parseResourceList(path string, in map[corev1.ResourceName]intstr.IntOrString) (corev1.ResourceList, error) {
	if len(in) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(in))
	for name := range in {
		names = append(names, string(name))
	}
	sort.Strings(names)
	out := corev1.ResourceList{}
	for _, name := range names {
		v := in[corev1.ResourceName(name)]
		q, err := resource.ParseQuantity(v.String())
		if err != nil {
			return nil, fmt.Errorf("%s[%s]: %q is not a quantity: %w", path, name, v.String(), err)
		}
		out[corev1.ResourceName(name)] = q
	}
	return out, nil
}
