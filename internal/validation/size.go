package validation

import (
	"encoding/json"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// The apiserver's limits the member objects built from a spec must stay
// under.
const (
	// MaxConfigMapData is the most a ConfigMap's keys and values may hold.
	MaxConfigMapData = 1 << 20
	// MaxObjectBytes is etcd's default request limit, about the largest
	// object the apiserver can store.
	MaxObjectBytes = 1536 << 10
	// MaxAnnotations is the most an object's annotation keys and values may
	// hold.
	MaxAnnotations = 256 << 10
	// Headroom is kept under each limit for what the hub adds itself (its
	// configuration keys, labels, containers, object metadata).
	Headroom = 16 << 10
	// SpecCopies is how often a FlinkDeployment holds its spec: the spec,
	// and status.reconciliationStatus.lastReconciledSpec and lastStableSpec.
	SpecCopies = 3
)

// validateSizes refuses a spec whose member objects, or the FlinkDeployment
// with its status, would be over the apiserver's limits: the write would
// fail on every reconcile with an error far from the field at fault.
func validateSizes(spec *v1beta1.FlinkDeploymentSpec, conf map[string]string, sp *field.Path) field.ErrorList {
	var errs field.ErrorList
	if raw, err := json.Marshal(spec); err == nil {
		// The status copies are JSON strings: escaping makes them larger.
		copied, _ := json.Marshal(string(raw))
		if n := len(raw) + (SpecCopies-1)*len(copied); n > MaxObjectBytes-Headroom {
			errs = append(errs, sizeError(sp, fmt.Sprintf("the spec is %d bytes as JSON and the FlinkDeployment keeps it %d times (spec, lastReconciledSpec, lastStableSpec): %d bytes, over the %d bytes an object may have in etcd",
				len(raw), SpecCopies, n, MaxObjectBytes-Headroom)))
		}
	}
	errs = append(errs, configMapSize(spec, conf, sp)...)
	errs = append(errs, podTemplateSizes(spec, sp)...)
	if spec.Ingress != nil {
		if n := annotationBytes(spec.Ingress.Annotations); n > MaxAnnotations-Headroom {
			errs = append(errs, sizeError(sp.Child("ingress", "annotations"), fmt.Sprintf("the Ingress's annotations would hold %d bytes, over the %d bytes an object's annotations may have",
				n, MaxAnnotations-Headroom)))
		}
	}
	return errs
}

// native reports whether spec deploys in native mode.
func native(spec *v1beta1.FlinkDeploymentSpec) bool {
	return spec.Mode == "" || spec.Mode == v1beta1.ModeNative
}

// configMapSize checks the configuration ConfigMap: the Flink
// configuration file, the log configuration files and, in native mode, the
// TaskManager pod template. The error names the largest part's field.
func configMapSize(spec *v1beta1.FlinkDeploymentSpec, conf map[string]string, sp *field.Path) field.ErrorList {
	var errs field.ErrorList
	rendered, err := flinkconf.Config(conf).Render(flinkconf.FileName(spec.FlinkVersion))
	if err != nil {
		errs = append(errs, field.Invalid(sp.Child("flinkConfiguration"), "", err.Error()))
	}
	confBytes := len(flinkconf.FileName(spec.FlinkVersion)) + len(rendered)
	logBytes := 0
	for name, content := range spec.LogConfiguration {
		logBytes += len(name) + len(content)
	}
	tmPath, tmBytes := sp.Child("taskManager", "podTemplate"), 0
	if native(spec) {
		common, _ := podBytes(spec.PodTemplate)
		own := 0
		if spec.TaskManager != nil {
			own, _ = podBytes(spec.TaskManager.PodTemplate)
		}
		tmBytes = common + own
		if common > own {
			tmPath = sp.Child("podTemplate")
		}
	}
	if total := confBytes + logBytes + tmBytes; total > MaxConfigMapData-Headroom {
		p := sp.Child("flinkConfiguration")
		switch {
		case tmBytes > confBytes && tmBytes > logBytes:
			p = tmPath
		case logBytes > confBytes:
			p = sp.Child("logConfiguration")
		}
		errs = append(errs, sizeError(p, fmt.Sprintf("the configuration ConfigMap would hold %d bytes (flinkConfiguration %d, logConfiguration %d, TaskManager pod template %d), over the %d bytes a ConfigMap may hold",
			total, confBytes, logBytes, tmBytes, MaxConfigMapData-Headroom)))
	}
	return errs
}

// podTemplateSizes checks the pod templates of the Deployments and the
// pods' annotations.
func podTemplateSizes(spec *v1beta1.FlinkDeploymentSpec, sp *field.Path) field.ErrorList {
	var errs field.ErrorList
	roles := []struct {
		path *field.Path
		tpl  *corev1.Pod
		// into is the object the template goes into; "" when its size
		// is checked with the configuration ConfigMap's.
		into string
	}{
		{sp.Child("jobManager", "podTemplate"), nil, "the JobManager Deployment"},
		{sp.Child("taskManager", "podTemplate"), nil, "the TaskManager Deployment"},
	}
	if spec.JobManager != nil {
		roles[0].tpl = spec.JobManager.PodTemplate
	}
	if spec.TaskManager != nil {
		roles[1].tpl = spec.TaskManager.PodTemplate
	}
	if native(spec) {
		roles[1].into = ""
	}
	common, commonAnn := podBytes(spec.PodTemplate)
	for _, r := range roles {
		own, ownAnn := podBytes(r.tpl)
		p := r.path
		if common > own {
			p = sp.Child("podTemplate")
		}
		if n := common + own; r.into != "" && n > MaxObjectBytes-Headroom {
			errs = append(errs, sizeError(p, fmt.Sprintf("%s would hold %d bytes of pod template (podTemplate %d, %s %d), over the %d bytes it may have",
				r.into, n, common, r.path, own, MaxObjectBytes-Headroom)))
		}
		ann := mergedAnnotations(spec.PodTemplate, r.tpl)
		if n := annotationBytes(ann); n > MaxAnnotations-Headroom {
			if commonAnn <= ownAnn {
				p = r.path
			}
			errs = append(errs, sizeError(p.Child("metadata", "annotations"), fmt.Sprintf("the pods' annotations would hold %d bytes, over the %d bytes an object's annotations may have",
				n, MaxAnnotations-Headroom)))
		}
	}
	return errs
}

// sizeError is a field error whose detail says the sizes.
func sizeError(p *field.Path, detail string) *field.Error {
	return &field.Error{Type: field.ErrorTypeTooLong, Field: p.String(), BadValue: field.OmitValueType{}, Detail: detail}
}

// podBytes is the JSON size of a pod template and of its annotations.
func podBytes(tpl *corev1.Pod) (int, int) {
	if tpl == nil {
		return 0, 0
	}
	raw, err := json.Marshal(tpl)
	if err != nil {
		return 0, 0
	}
	return len(raw), annotationBytes(tpl.Annotations)
}

func mergedAnnotations(pods ...*corev1.Pod) map[string]string {
	out := map[string]string{}
	for _, p := range pods {
		if p != nil {
			maps.Copy(out, p.Annotations)
		}
	}
	return out
}

// annotationBytes counts annotations as the apiserver does: keys and values.
func annotationBytes(ann map[string]string) int {
	n := 0
	for k, v := range ann {
		n += len(k) + len(v)
	}
	return n
}
