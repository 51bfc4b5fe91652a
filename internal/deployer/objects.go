package deployer

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
	"github.com/flink-hub/flink-hub/internal/podtemplate"

	"github.com/flink-hub/flink-hub/internal/flinknames"
)

// Flink's fixed ports.
const (
	PortRPC  = 6123
	PortBlob = 6124
)

const (
	configVolume  = "flink-config-volume"
	configDir     = "/opt/flink/conf"
	defaultLog4j  = "rootLogger.level = INFO\nrootLogger.appenderRef.console.ref = ConsoleAppender\nappender.console.name = ConsoleAppender\nappender.console.type = CONSOLE\nappender.console.layout.type = PatternLayout\nappender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n\n"
	log4jFileName = "log4j-console.properties"
)

// Cluster holds what every builder of one FlinkDeployment shares.
type Cluster struct {
	// FD is the FlinkDeployment.
	FD *v1beta1.FlinkDeployment
	// Conf is its effective Flink configuration.
	Conf flinkconf.Config
	// Mode is the deployment mode it is built for.
	Mode v1beta1.KubernetesDeploymentMode
	// Type is the Flink type label value of the mode.
	Type string
}

// NewCluster derives the effective configuration of fd for a mode.
func NewCluster(fd *v1beta1.FlinkDeployment, mode v1beta1.KubernetesDeploymentMode, in Inputs) (*Cluster, error) {
	conf, err := flinkconf.Build(fd, mode, in.Restore)
	if err != nil {
		return nil, err
	}
	t := TypeNative
	if mode == v1beta1.ModeStandalone {
		t = TypeStandalone
	}
	return &Cluster{FD: fd, Conf: conf, Mode: mode, Type: t}, nil
}

// BuildResources returns fd's member objects in mode, in creation order:
// the configuration ConfigMap (with the files build adds), the Services,
// the Deployments build makes and the Ingress, if any. It is the
// Resources of both deployers; build makes what differs between modes.
func BuildResources(fd *v1beta1.FlinkDeployment, mode v1beta1.KubernetesDeploymentMode, in Inputs,
	build func(*Cluster) (files map[string]string, deployments []client.Object, err error)) ([]client.Object, error) {
	c, err := NewCluster(fd, mode, in)
	if err != nil {
		return nil, err
	}
	conf, err := c.ConfigMap()
	if err != nil {
		return nil, err
	}
	files, deployments, err := build(c)
	if err != nil {
		return nil, err
	}
	for name, content := range files {
		conf.Data[name] = content
	}
	objs := []client.Object{conf}
	services, err := c.Services()
	if err != nil {
		return nil, err
	}
	for _, svc := range services {
		objs = append(objs, svc)
	}
	objs = append(objs, deployments...)
	ing, err := c.Ingress()
	if err != nil {
		return nil, err
	}
	if ing != nil {
		objs = append(objs, ing)
	}
	return objs, nil
}

// Labels are the labels of a component's objects and pods.
func (c *Cluster) Labels(component string) map[string]string {
	l := map[string]string{LabelApp: c.FD.Name, LabelType: c.Type, LabelManagedBy: ManagedByHub}
	if component != "" {
		l[LabelComponent] = component
	}
	return l
}

// Selector selects a component's pods.
func (c *Cluster) Selector(component string) map[string]string {
	return map[string]string{LabelApp: c.FD.Name, LabelComponent: component}
}

// Meta is the metadata of an object named name: labels, the owner reference
// to the FlinkDeployment and the generation annotation.
func (c *Cluster) Meta(name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:        name,
		Namespace:   c.FD.Namespace,
		Labels:      c.Labels(component),
		Annotations: map[string]string{AnnotationGeneration: strconv.FormatInt(c.FD.Generation, 10)},
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion:         v1beta1.GroupVersion.String(),
			Kind:               "FlinkDeployment",
			Name:               c.FD.Name,
			UID:                c.FD.UID,
			Controller:         ptr.To(true),
			BlockOwnerDeletion: ptr.To(true),
		}},
	}
}

// ConfigMap holds the Flink configuration file and the log configuration.
func (c *Cluster) ConfigMap() (*corev1.ConfigMap, error) {
	file := flinkconf.FileName(c.FD.Spec.FlinkVersion)
	rendered, err := c.Conf.Render(file)
	if err != nil {
		return nil, err
	}
	data := map[string]string{file: rendered}
	for name, content := range c.FD.Spec.LogConfiguration {
		data[name] = content
	}
	if _, ok := data[log4jFileName]; !ok {
		if _, logback := data["logback-console.xml"]; !logback {
			data[log4jFileName] = defaultLog4j
		}
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: c.Meta(ConfigMapName(c.FD), ""),
		Data:       data,
	}, nil
}

// Services are the JobManager's REST Service, of the type
// kubernetes.rest-service.exposed.type gives (flinkconf.RestServiceType),
// and, where Flink makes one (flinkconf.Config.InternalService), its
// internal headless Service (RPC, blob server).
func (c *Cluster) Services() ([]*corev1.Service, error) {
	port := c.Conf.RestPort()
	typ, clusterIP, err := c.Conf.RestServiceType()
	if err != nil {
		return nil, fmt.Errorf("spec.flinkConfiguration[%s]: %w", flinkconf.KeyRestExposedType, err)
	}
	rest := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: c.Meta(RestServiceName(c.FD), ComponentJobManager),
		Spec: corev1.ServiceSpec{
			Type:      typ,
			ClusterIP: clusterIP,
			Selector:  c.Selector(ComponentJobManager),
			Ports:     []corev1.ServicePort{{Name: flinknames.RestPort, Port: port, TargetPort: intstr.FromInt32(port), Protocol: corev1.ProtocolTCP}},
		},
	}
	if !c.Conf.InternalService(c.Mode) {
		return []*corev1.Service{rest}, nil
	}
	internal := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: c.Meta(c.FD.Name, ComponentJobManager),
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  c.Selector(ComponentJobManager),
			Ports: []corev1.ServicePort{
				{Name: "jobmanager-rpc", Port: PortRPC, TargetPort: intstr.FromInt32(PortRPC), Protocol: corev1.ProtocolTCP},
				{Name: "blobserver", Port: PortBlob, TargetPort: intstr.FromInt32(PortBlob), Protocol: corev1.ProtocolTCP},
			},
		},
	}
	return []*corev1.Service{internal, rest}, nil
}

// Ingress exposes the REST Service per spec.ingress, or nil without one.
func (c *Cluster) Ingress() (*networkingv1.Ingress, error) {
	spec := c.FD.Spec.Ingress
	if spec == nil {
		return nil, nil
	}
	if spec.Template == "" {
		return nil, fmt.Errorf("spec.ingress.template must be set")
	}
	host, path, err := flinknames.IngressRule(spec.Template, c.FD.Name, c.FD.Namespace)
	if err != nil {
		return nil, fmt.Errorf("spec.ingress.template: %w", err)
	}
	if path == "" {
		path = "/"
	}
	pathType := networkingv1.PathTypePrefix
	if path != "/" {
		pathType = networkingv1.PathTypeImplementationSpecific
	}
	meta := c.Meta(c.FD.Name, ComponentJobManager)
	for k, v := range spec.Labels {
		meta.Labels[k] = v
	}
	for k, v := range spec.Annotations {
		meta.Annotations[k] = v
	}
	ing := &networkingv1.Ingress{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "Ingress"},
		ObjectMeta: meta,
		Spec: networkingv1.IngressSpec{
			TLS: spec.TLS,
			Rules: []networkingv1.IngressRule{{
				Host: host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
					Paths: []networkingv1.HTTPIngressPath{{
						Path:     path,
						PathType: &pathType,
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
							Name: RestServiceName(c.FD),
							Port: networkingv1.ServiceBackendPort{Number: c.Conf.RestPort()},
						}},
					}},
				}},
			}},
		},
	}
	if spec.ClassName != "" {
		ing.Spec.IngressClassName = ptr.To(spec.ClassName)
	}
	return ing, nil
}

// Role is the JobManager or TaskManager side of the cluster.
type Role struct {
	// Component is ComponentJobManager or ComponentTaskManager.
	Component string
	// Template is the role's own pod template.
	Template *corev1.Pod
	// Resources are the role's Kubernetes resource requirements.
	Resources *v1beta1.ResourceRequirements
	// Resource is the role's Flink resource.
	Resource *v1beta1.Resource
	// MemoryKey and CPUKey are the Flink keys of the role's memory and CPU.
	MemoryKey, CPUKey string
	// Settings is the role in Flink's pod settings (annotations, labels,
	// node selector, tolerations, image pull secrets, environment, service
	// account, limit factors).
	Settings flinkconf.Role
	// FlinkDecorates is set for the pods Flink builds itself from the
	// template (native TaskManagers): Flink applies Settings then, and adds
	// the rpc port and the configuration volume and mount, so the template
	// must not carry them twice.
	FlinkDecorates bool
}

// JobManagerRole is the JobManager side of fd.
func JobManagerRole(fd *v1beta1.FlinkDeployment) Role {
	r := Role{Component: ComponentJobManager, MemoryKey: flinkconf.KeyJMMemory, CPUKey: flinkconf.KeyJMCPU, Settings: flinkconf.RoleJobManager}
	if jm := fd.Spec.JobManager; jm != nil {
		r.Template, r.Resources, r.Resource = jm.PodTemplate, jm.Resources, jm.Resource
	}
	return r
}

// TaskManagerRole is the TaskManager side of fd.
func TaskManagerRole(fd *v1beta1.FlinkDeployment) Role {
	r := Role{Component: ComponentTaskManager, MemoryKey: flinkconf.KeyTMMemory, CPUKey: flinkconf.KeyTMCPU, Settings: flinkconf.RoleTaskManager}
	if tm := fd.Spec.TaskManager; tm != nil {
		r.Template, r.Resources, r.Resource = tm.PodTemplate, tm.Resources, tm.Resource
	}
	return r
}

// PodTemplate merges the common and the role's pod template, applies
// Flink's pod settings of the role as Flink would, and decorates the main
// container with image and resources, and (unless role.FlinkDecorates)
// ports and the configuration mount; command and args are the caller's.
func (c *Cluster) PodTemplate(role Role, command, args []string) (corev1.PodTemplateSpec, error) {
	byName, _ := flinkconf.Bool(c.Conf[flinkconf.KeyMergeArraysByName])
	merged, err := podtemplate.Merge(c.FD.Spec.PodTemplate, role.Template, byName)
	if err != nil {
		return corev1.PodTemplateSpec{}, err
	}
	settings, err := c.Conf.PodSettings(role.Settings)
	if err != nil {
		return corev1.PodTemplateSpec{}, err
	}
	spec := merged.Spec
	meta := metav1.ObjectMeta{Labels: map[string]string{}, Annotations: merged.Annotations}
	for k, v := range merged.Labels {
		meta.Labels[k] = v
	}
	if !role.FlinkDecorates {
		applySettings(&meta, &spec, settings)
	}
	// The role's service account (or kubernetes.service-account, which
	// spec.serviceAccount sets) wins over the template's, as in Flink.
	if settings.ServiceAccount != "" {
		spec.ServiceAccountName = settings.ServiceAccount
	}
	for k, v := range c.Labels(role.Component) {
		meta.Labels[k] = v
	}
	main := -1
	for i := range spec.Containers {
		if spec.Containers[i].Name == MainContainer {
			main = i
		}
	}
	if main < 0 {
		spec.Containers = append([]corev1.Container{{Name: MainContainer}}, spec.Containers...)
		main = 0
	}
	ctr := &spec.Containers[main]
	ctr.Image = c.FD.Spec.Image
	ctr.ImagePullPolicy = corev1.PullPolicy(c.FD.Spec.ImagePullPolicy)
	ctr.Command, ctr.Args = command, args
	ctr.Resources, err = c.containerResources(role, settings, ctr.Resources)
	if err != nil {
		return corev1.PodTemplateSpec{}, err
	}
	if !role.FlinkDecorates {
		c.decorate(&spec, ctr, role.Component, settings.Env)
	}
	return corev1.PodTemplateSpec{ObjectMeta: meta, Spec: spec}, nil
}

// decorate adds to a pod the hub builds itself what Flink's decorators add
// to the pods Flink builds (so never to a FlinkDecorates template, where
// they would be added twice and the apiserver would refuse the duplicate
// port name, volume name and mount path): the role's ports, its
// environment, _POD_IP_ADDRESS, and the configuration volume mounted at
// configDir.
func (c *Cluster) decorate(spec *corev1.PodSpec, ctr *corev1.Container, component string, env []corev1.EnvVar) {
	ctr.Ports = mergePorts(ctr.Ports, c.ports(component))
	ctr.Env = append(ctr.Env, env...)
	ctr.Env = append(ctr.Env, corev1.EnvVar{
		Name:      "_POD_IP_ADDRESS",
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}},
	})
	ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: configVolume, MountPath: configDir})
	spec.Volumes = append(spec.Volumes, corev1.Volume{
		Name: configVolume,
		VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: ConfigMapName(c.FD)},
		}},
	})
}

// applySettings merges Flink's pod settings into a pod as Flink does:
// annotations, labels and node selector key by key (the settings win),
// tolerations and image pull secrets appended (a secret only once).
func applySettings(meta *metav1.ObjectMeta, spec *corev1.PodSpec, s flinkconf.PodSettings) {
	if len(s.Annotations) > 0 && meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	for k, v := range s.Annotations {
		meta.Annotations[k] = v
	}
	for k, v := range s.Labels {
		meta.Labels[k] = v
	}
	if len(s.NodeSelector) > 0 && spec.NodeSelector == nil {
		spec.NodeSelector = map[string]string{}
	}
	for k, v := range s.NodeSelector {
		spec.NodeSelector[k] = v
	}
	spec.Tolerations = append(spec.Tolerations, s.Tolerations...)
	for _, secret := range s.ImagePullSecrets {
		if !slices.Contains(spec.ImagePullSecrets, secret) {
			spec.ImagePullSecrets = append(spec.ImagePullSecrets, secret)
		}
	}
}

func (c *Cluster) ports(component string) []corev1.ContainerPort {
	if component == ComponentTaskManager {
		return []corev1.ContainerPort{{Name: "rpc", ContainerPort: 6122, Protocol: corev1.ProtocolTCP}}
	}
	return []corev1.ContainerPort{
		{Name: flinknames.RestPort, ContainerPort: c.Conf.RestPort(), Protocol: corev1.ProtocolTCP},
		{Name: "jobmanager-rpc", ContainerPort: PortRPC, Protocol: corev1.ProtocolTCP},
		{Name: "blobserver", ContainerPort: PortBlob, Protocol: corev1.ProtocolTCP},
	}
}

func mergePorts(existing, ours []corev1.ContainerPort) []corev1.ContainerPort {
	out := append([]corev1.ContainerPort{}, ours...)
	for _, p := range existing {
		clash := false
		for _, o := range ours {
			if p.Name == o.Name || p.ContainerPort == o.ContainerPort {
				clash = true
			}
		}
		if !clash {
			out = append(out, p)
		}
	}
	return out
}

// containerResources sets memory and CPU from the Flink configuration as
// Flink does: requests from the configuration, limits from the requests
// times the role's limit factors, except where the role's resources give a
// limit, which is kept. Every other resource of the role's resources and
// the template's main container is kept.
func (c *Cluster) containerResources(role Role, settings flinkconf.PodSettings, fromTemplate corev1.ResourceRequirements) (corev1.ResourceRequirements, error) {
	out := *fromTemplate.DeepCopy()
	var userLimits corev1.ResourceList
	if role.Resources != nil {
		core, err := role.Resources.ToCore("spec." + role.Component + ".resources")
		if err != nil {
			return out, err
		}
		out.Requests = mergeList(out.Requests, core.Requests)
		out.Limits = mergeList(out.Limits, core.Limits)
		out.Claims = append(out.Claims, core.Claims...)
		userLimits = core.Limits
	}
	if role.Resource != nil && role.Resource.EphemeralStorage != "" {
		q, err := flinkconf.ParseQuantity(role.Resource.EphemeralStorage)
		if err != nil {
			return out, fmt.Errorf("spec.%s.resource.ephemeralStorage: %q is not a quantity", role.Component, role.Resource.EphemeralStorage)
		}
		setRequestAndLimit(&out, corev1.ResourceEphemeralStorage, q, q)
	}
	if mem, ok := c.Conf[role.MemoryKey]; ok {
		b, err := flinkconf.MemoryBytes(mem)
		if err != nil {
			return out, fmt.Errorf("%s: %w", role.MemoryKey, err)
		}
		q := *resource.NewQuantity(b, resource.BinarySI)
		setRequestAndLimit(&out, corev1.ResourceMemory, q, userLimitOr(userLimits, corev1.ResourceMemory, memoryLimit(b, settings.MemoryLimitFactor)))
	}
	if cpu, ok := c.Conf[role.CPUKey]; ok {
		q, err := flinkconf.ParseQuantity(cpu)
		if err != nil {
			return out, fmt.Errorf("%s: %q is not a CPU amount", role.CPUKey, cpu)
		}
		setRequestAndLimit(&out, corev1.ResourceCPU, q, userLimitOr(userLimits, corev1.ResourceCPU, cpuLimit(q, settings.CPULimitFactor)))
	}
	return out, nil
}

// memoryLimit is bytes times factor, in whole MiB as Flink rounds it when
// the factor is not 1.
func memoryLimit(bytes int64, factor float64) resource.Quantity {
	if factor == 1 {
		return *resource.NewQuantity(bytes, resource.BinarySI)
	}
	const mib = 1 << 20
	return *resource.NewQuantity(int64(float64(bytes/mib)*factor)*mib, resource.BinarySI)
}

// cpuLimit is q times factor, in millicores.
func cpuLimit(q resource.Quantity, factor float64) resource.Quantity {
	if factor == 1 {
		return q
	}
	return *resource.NewMilliQuantity(int64(math.Round(float64(q.MilliValue())*factor)), resource.DecimalSI)
}

// userLimitOr is the user's limit of name, else derived.
func userLimitOr(user corev1.ResourceList, name corev1.ResourceName, derived resource.Quantity) resource.Quantity {
	if q, ok := user[name]; ok {
		return q
	}
	return derived
}

// setRequestAndLimit sets resource name's request and limit in out.
func setRequestAndLimit(out *corev1.ResourceRequirements, name corev1.ResourceName, request, limit resource.Quantity) {
	out.Requests = mergeList(out.Requests, corev1.ResourceList{name: request})
	out.Limits = mergeList(out.Limits, corev1.ResourceList{name: limit})
}

func mergeList(base, overlay corev1.ResourceList) corev1.ResourceList {
	if len(overlay) == 0 {
		return base
	}
	out := corev1.ResourceList{}
	for k, v := range base {
		out[k] = v
	}
	names := make([]string, 0, len(overlay))
	for k := range overlay {
		names = append(names, string(k))
	}
	sort.Strings(names)
	for _, k := range names {
		out[corev1.ResourceName(k)] = overlay[corev1.ResourceName(k)]
	}
	return out
}

// Deployment wraps a pod template in a Deployment named name.
// The JobManager's gets the extra owners of
// kubernetes.jobmanager.owner.reference, as Flink gives them.
func (c *Cluster) Deployment(name, component string, replicas int32, pod corev1.PodTemplateSpec) *appsv1.Deployment {
	meta := c.Meta(name, component)
	if component == ComponentJobManager {
		if s, err := c.Conf.PodSettings(flinkconf.RoleJobManager); err == nil {
			meta.OwnerReferences = append(meta.OwnerReferences, s.OwnerReferences...)
		}
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: c.Selector(component)},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: pod,
		},
	}
}

// JobManagerReplicas is kubernetes.jobmanager.replicas (which
// spec.jobManager.replicas sets), 1 when unset.
func (c *Cluster) JobManagerReplicas() int32 {
	if n, err := strconv.ParseInt(strings.TrimSpace(c.Conf[flinkconf.KeyJMReplicas]), 10, 32); err == nil && n > 0 {
		return int32(n)
	}
	return 1
}
