package deployer_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/internal/deployer"
	"github.com/flink-hub/flink-hub/internal/deployer/native"
	"github.com/flink-hub/flink-hub/internal/deployer/standalone"
	"github.com/flink-hub/flink-hub/internal/flinkconf"
)

// nativeResources is app(mutate) and the native deployer's objects of it.
func nativeResources(t *testing.T, mutate func(*v1beta1.FlinkDeployment)) (*v1beta1.FlinkDeployment, []client.Object) {
	t.Helper()
	fd := app(mutate)
	objs, err := native.New().Resources(fd, deployer.Inputs{})
	if err != nil {
		t.Fatal(err)
	}
	return fd, objs
}

func app(mutate func(*v1beta1.FlinkDeployment)) *v1beta1.FlinkDeployment {
	fd := &v1beta1.FlinkDeployment{
		ObjectMeta: metav1.ObjectMeta{Name: "wordcount", Namespace: "team-a", UID: "uid-1", Generation: 7},
		Spec: v1beta1.FlinkDeploymentSpec{
			Image: "flink:2.2", FlinkVersion: "v2_2", ServiceAccount: ptr.To("flink"),
			JobManager:  &v1beta1.JobManagerSpec{Resource: &v1beta1.Resource{Memory: "1g", CPU: ptr.To(0.5)}},
			TaskManager: &v1beta1.TaskManagerSpec{Resource: &v1beta1.Resource{Memory: "2g", CPU: ptr.To(1.0)}},
			Job:         &v1beta1.JobSpec{JarURI: "local:///opt/flink/job.jar", Parallelism: 5, UpgradeMode: v1beta1.UpgradeModeStateless},
		},
	}
	if mutate != nil {
		mutate(fd)
	}
	return fd
}

func find[T client.Object](t *testing.T, objs []client.Object, name string) T {
	t.Helper()
	for _, o := range objs {
		if typed, ok := o.(T); ok && o.GetName() == name {
			return typed
		}
	}
	var zero T
	t.Fatalf("no %T named %s among %d objects", zero, name, len(objs))
	return zero
}

func configOf(t *testing.T, objs []client.Object, fd *v1beta1.FlinkDeployment) string {
	t.Helper()
	return find[*corev1.ConfigMap](t, objs, "flink-config-"+fd.Name).Data["config.yaml"]
}

func TestEveryObjectIsOwnedAndLabelled(t *testing.T) {
	for _, d := range deployers() {
		fd := app(nil)
		objs, err := d.Resources(fd, deployer.Inputs{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			refs := o.GetOwnerReferences()
			if len(refs) != 1 || refs[0].UID != fd.UID || refs[0].Kind != "FlinkDeployment" || !ptr.Deref(refs[0].Controller, false) {
				t.Errorf("%s %T %s: owner refs %+v", d.Mode(), o, o.GetName(), refs)
			}
			if o.GetLabels()[deployer.LabelManagedBy] != deployer.ManagedByHub || o.GetLabels()[deployer.LabelApp] != fd.Name {
				t.Errorf("%s %T %s: labels %v", d.Mode(), o, o.GetName(), o.GetLabels())
			}
			if o.GetAnnotations()[deployer.AnnotationGeneration] != "7" {
				t.Errorf("%s %T %s: generation annotation %v", d.Mode(), o, o.GetName(), o.GetAnnotations())
			}
			if o.GetNamespace() != fd.Namespace {
				t.Errorf("%s %T %s: namespace %q", d.Mode(), o, o.GetName(), o.GetNamespace())
			}
		}
	}
}

func TestStandaloneTaskManagers(t *testing.T) {
	cases := []struct {
		name     string
		slots    string
		replicas *int32
		want     int32
	}{
		{"parallelism over slots, rounded up", `{"taskmanager.numberOfTaskSlots": 2}`, nil, 3},
		{"one slot each", `{}`, nil, 5},
		{"replicas win", `{"taskmanager.numberOfTaskSlots": 2}`, ptr.To[int32](4), 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fd := app(func(fd *v1beta1.FlinkDeployment) {
				fd.Spec.Mode = v1beta1.ModeStandalone
				fd.Spec.FlinkConfiguration = rawJSON(tc.slots)
				fd.Spec.TaskManager.Replicas = tc.replicas
			})
			objs, err := standalone.New().Resources(fd, deployer.Inputs{})
			if err != nil {
				t.Fatal(err)
			}
			tm := find[*appsv1.Deployment](t, objs, "wordcount-taskmanager")
			if got := *tm.Spec.Replicas; got != tc.want {
				t.Fatalf("TaskManager replicas %d, want %d", got, tc.want)
			}
			if tm.Spec.Template.Labels[deployer.LabelType] != deployer.TypeStandalone || tm.Spec.Template.Spec.Containers[0].Args[0] != "taskmanager" {
				t.Fatalf("TaskManager pod: %+v", tm.Spec.Template)
			}
		})
	}
}

func TestStandaloneJobManagerArgs(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*v1beta1.FlinkDeployment)
		restore string
		want    []string
	}{
		{"session", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job = nil }, "", []string{"jobmanager"}},
		{"application", nil, "", []string{"standalone-job"}},
		{"application with class, restore and args", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.EntryClass = "org.example.Main"
			fd.Spec.Job.AllowNonRestoredState = ptr.To(true)
			fd.Spec.Job.Args = []string{"--input", "s3://in"}
		}, "s3://sp/savepoint-1", []string{"standalone-job", "--job-classname", "org.example.Main", "--allowNonRestoredState", "--fromSavepoint", "s3://sp/savepoint-1", "--input", "s3://in"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fd := app(tc.mutate)
			fd.Spec.Mode = v1beta1.ModeStandalone
			objs, err := standalone.New().Resources(fd, deployer.Inputs{Restore: flinkconf.Restore{SavepointPath: tc.restore}})
			if err != nil {
				t.Fatal(err)
			}
			jm := find[*appsv1.Deployment](t, objs, "wordcount")
			if got := jm.Spec.Template.Spec.Containers[0].Args; !slices.Equal(got, tc.want) {
				t.Fatalf("args %q, want %q", got, tc.want)
			}
			conf := configOf(t, objs, fd)
			if tc.restore != "" && !strings.Contains(conf, "execution.savepoint.path: "+tc.restore) {
				t.Errorf("restore path not in the configuration:\n%s", conf)
			}
			if fd.Spec.Job != nil && !strings.Contains(conf, "pipeline.classpaths: file:///opt/flink/job.jar") {
				t.Errorf("standalone jar must be a file:// classpath:\n%s", conf)
			}
		})
	}
}

func TestNativeApplicationAndSession(t *testing.T) {
	cases := []struct {
		name       string
		mutate     func(*v1beta1.FlinkDeployment)
		wantTarget string
		wantJar    bool
	}{
		{"application", nil, "kubernetes-application", true},
		{"application without jarURI", func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Job.JarURI = ""
			fd.Spec.Job.EntryClass = "org.example.Main"
		}, "kubernetes-application", false},
		{"session", func(fd *v1beta1.FlinkDeployment) { fd.Spec.Job = nil }, "kubernetes-session", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fd, objs := nativeResources(t, tc.mutate)
			jm := find[*appsv1.Deployment](t, objs, "wordcount")
			if got := jm.Spec.Template.Spec.Containers[0].Args; !slices.Equal(got, []string{"kubernetes-jobmanager.sh", tc.wantTarget}) {
				t.Fatalf("args %q", got)
			}
			for _, o := range objs {
				if d, ok := o.(*appsv1.Deployment); ok && d.Labels[deployer.LabelComponent] == deployer.ComponentTaskManager {
					t.Fatalf("native mode must not create a TaskManager Deployment: %s", d.Name)
				}
			}
			conf := configOf(t, objs, fd)
			if got := strings.Contains(conf, "pipeline.jars:"); got != tc.wantJar {
				t.Errorf("pipeline.jars present=%t, want %t:\n%s", got, tc.wantJar, conf)
			}
			tpl := find[*corev1.ConfigMap](t, objs, deployer.ConfigMapName(fd)).Data[flinkconf.TaskManagerPodTemplateFile]
			if !strings.Contains(tpl, "memory: 2Gi") || !strings.Contains(tpl, "component: taskmanager") {
				t.Errorf("TaskManager pod template lacks resources or labels:\n%s", tpl)
			}
			if !strings.Contains(conf, "kubernetes.pod-template-file.taskmanager: "+flinkconf.TaskManagerPodTemplatePath) {
				t.Errorf("the configuration must point at the mounted template:\n%s", conf)
			}
			jmRes := jm.Spec.Template.Spec.Containers[0].Resources
			if jmRes.Limits.Memory().String() != "1Gi" || jmRes.Requests.Cpu().String() != "500m" {
				t.Errorf("JobManager resources %+v", jmRes)
			}
		})
	}
	if sel := native.New().TaskManagerSelector(app(nil)); sel != "app=wordcount,component=taskmanager,type=flink-native-kubernetes" {
		t.Errorf("selector %q", sel)
	}
}

func TestIngressTemplates(t *testing.T) {
	cases := []struct {
		template, host, path string
		pathType             networkingv1.PathType
	}{
		{"{{name}}.{{namespace}}.flink.example.com", "wordcount.team-a.flink.example.com", "/", networkingv1.PathTypePrefix},
		{"flink.example.com/{{namespace}}/{{name}}(/|$)(.*)", "flink.example.com", "/team-a/wordcount(/|$)(.*)", networkingv1.PathTypeImplementationSpecific},
		{"https://flink.example.com/{{name}}", "flink.example.com", "/wordcount", networkingv1.PathTypeImplementationSpecific},
		{"flink.example.com:8443/{{namespace}}/{{name}}", "flink.example.com", "/team-a/wordcount", networkingv1.PathTypeImplementationSpecific},
		{"HTTP://{{NAME}}.{{Namespace}}.example.com:80", "wordcount.team-a.example.com", "/", networkingv1.PathTypePrefix},
		{"flink.example.com/{{name}}?x=1", "flink.example.com", "/wordcount", networkingv1.PathTypeImplementationSpecific},
		{"/{{namespace}}/{{name}}(/|$)(.*)", "", "/team-a/wordcount(/|$)(.*)", networkingv1.PathTypeImplementationSpecific},
	}
	for _, tc := range cases {
		_, objs := nativeResources(t, func(fd *v1beta1.FlinkDeployment) {
			fd.Spec.Ingress = &v1beta1.IngressSpec{Template: tc.template, ClassName: "nginx", Annotations: map[string]string{"a": "b"}}
		})
		ing := find[*networkingv1.Ingress](t, objs, "wordcount")
		rule := ing.Spec.Rules[0]
		p := rule.HTTP.Paths[0]
		if rule.Host != tc.host || p.Path != tc.path || *p.PathType != tc.pathType || p.Backend.Service.Name != "wordcount-rest" {
			t.Errorf("template %q: host %q path %q type %s backend %s", tc.template, rule.Host, p.Path, *p.PathType, p.Backend.Service.Name)
		}
		if *ing.Spec.IngressClassName != "nginx" || ing.Annotations["a"] != "b" {
			t.Errorf("class or annotations lost: %+v", ing.ObjectMeta)
		}
	}
}

// TestBadIngressTemplateNamesTheField: a template that makes no URL (a
// port that is not a number) fails the build naming spec.ingress.template.
func TestBadIngressTemplateNamesTheField(t *testing.T) {
	fd := app(func(fd *v1beta1.FlinkDeployment) {
		fd.Spec.Ingress = &v1beta1.IngressSpec{Template: "{{name}}.example.com:abc/x"}
	})
	for _, d := range deployers() {
		_, err := d.Resources(fd, deployer.Inputs{})
		if err == nil || !strings.Contains(err.Error(), "spec.ingress.template") {
			t.Errorf("%s: want an error naming spec.ingress.template, got %v", d.Mode(), err)
		}
	}
}

func TestBadResourcesNameTheField(t *testing.T) {
	fd := app(func(fd *v1beta1.FlinkDeployment) { fd.Spec.JobManager.Resource.Memory = "a lot" })
	for _, d := range deployers() {
		_, err := d.Resources(fd, deployer.Inputs{})
		if err == nil || !strings.Contains(err.Error(), "spec.jobManager.resource.memory") {
			t.Errorf("%s: want an error naming spec.jobManager.resource.memory, got %v", d.Mode(), err)
		}
	}
}

// TestFlinkPodSettings: Flink's pod settings reach the pods the hub builds
// (JobManagers in both modes, standalone TaskManagers) and are left to
// Flink in the TaskManager template of native mode, which Flink decorates
// itself (applying them there too would double tolerations and variables).
func TestFlinkPodSettings(t *testing.T) {
	conf := map[string]string{
		"kubernetes.jobmanager.tolerations":       "key:dedicated,operator:Exists",
		"kubernetes.taskmanager.tolerations":      "key:dedicated,operator:Exists",
		"kubernetes.jobmanager.cpu.limit-factor":  "2",
		"kubernetes.taskmanager.labels":           "tier:worker",
		"containerized.taskmanager.env.REGION":    "eu",
		"kubernetes.container.image.pull-secrets": "registry",
	}
	fd := app(func(fd *v1beta1.FlinkDeployment) { fd.Spec.FlinkConfiguration = v1beta1.ConfigurationOf(conf) })
	check := func(what string, pod corev1.PodTemplateSpec, wantSettings bool) {
		t.Helper()
		main := pod.Spec.Containers[0]
		has := len(pod.Spec.Tolerations) == 1 && slices.Contains(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: "registry"})
		if has != wantSettings {
			t.Errorf("%s: tolerations %v, pull secrets %v; want the settings applied: %v", what, pod.Spec.Tolerations, pod.Spec.ImagePullSecrets, wantSettings)
		}
		if pod.Labels[deployer.LabelComponent] == deployer.ComponentTaskManager {
			env := slices.ContainsFunc(main.Env, func(e corev1.EnvVar) bool { return e.Name == "REGION" && e.Value == "eu" })
			if env != wantSettings || (pod.Labels["tier"] == "worker") != wantSettings {
				t.Errorf("%s: env %v labels %v; want the settings applied: %v", what, main.Env, pod.Labels, wantSettings)
			}
		}
	}
	for _, d := range deployers() {
		objs, err := d.Resources(fd, deployer.Inputs{})
		if err != nil {
			t.Fatal(err)
		}
		jm := find[*appsv1.Deployment](t, objs, deployer.JobManagerDeploymentName(fd))
		check(string(d.Mode())+" JobManager", jm.Spec.Template, true)
		if cpu := jm.Spec.Template.Spec.Containers[0].Resources.Limits.Cpu().String(); cpu != "1" {
			t.Errorf("%s JobManager CPU limit %s: want 0.5 x 2 = 1", d.Mode(), cpu)
		}
		if d.Mode() == v1beta1.ModeStandalone {
			check("standalone TaskManager", find[*appsv1.Deployment](t, objs, fd.Name+"-taskmanager").Spec.Template, true)
			continue
		}
		var tpl corev1.Pod
		raw := find[*corev1.ConfigMap](t, objs, deployer.ConfigMapName(fd)).Data[flinkconf.TaskManagerPodTemplateFile]
		if err := yaml.Unmarshal([]byte(raw), &tpl); err != nil {
			t.Fatal(err)
		}
		check("native TaskManager template", corev1.PodTemplateSpec{ObjectMeta: tpl.ObjectMeta, Spec: tpl.Spec}, false)
	}
}

// TestInternalServiceAsFlinkMakesIt: the internal JobManager Service
// exists where Flink makes it (standalone always, native without high
// availability), and the configuration then points the TaskManagers at
// it; a native cluster with HA has the REST Service alone.
func TestInternalServiceAsFlinkMakesIt(t *testing.T) {
	cases := []struct {
		mode         v1beta1.KubernetesDeploymentMode
		ha           bool
		wantInternal bool
	}{
		{v1beta1.ModeNative, false, true},
		{v1beta1.ModeNative, true, false},
		{v1beta1.ModeStandalone, false, true},
		{v1beta1.ModeStandalone, true, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/ha=%t", tc.mode, tc.ha), func(t *testing.T) {
			fd := app(func(fd *v1beta1.FlinkDeployment) {
				fd.Spec.Mode = tc.mode
				if tc.ha {
					fd.Spec.FlinkConfiguration = v1beta1.ConfigurationOf(map[string]string{"high-availability.type": "kubernetes", "high-availability.storageDir": "file:///flink-data/ha"})
				}
			})
			d := map[v1beta1.KubernetesDeploymentMode]deployer.Deployer{v1beta1.ModeNative: native.New(), v1beta1.ModeStandalone: standalone.New()}[tc.mode]
			objs, err := d.Resources(fd, deployer.Inputs{})
			if err != nil {
				t.Fatal(err)
			}
			var services []string
			for _, o := range objs {
				if _, ok := o.(*corev1.Service); ok {
					services = append(services, o.GetName())
				}
			}
			want := []string{deployer.RestServiceName(fd)}
			if tc.wantInternal {
				want = []string{fd.Name, deployer.RestServiceName(fd)}
			}
			if !slices.Equal(services, want) {
				t.Errorf("Services %v, want %v", services, want)
			}
			address := strings.Contains(configOf(t, objs, fd), "jobmanager.rpc.address: wordcount.team-a")
			if address != tc.wantInternal {
				t.Errorf("jobmanager.rpc.address set to the internal Service: %t, want %t", address, tc.wantInternal)
			}
		})
	}
}

// TestNativeTaskManagerTemplateLeavesFlinkItsDecorations: Flink builds the
// native TaskManager pods from the template and adds the rpc port and the
// configuration volume and its mount itself (InitTaskManagerDecorator,
// FlinkConfMountDecorator) without looking for duplicates, which the
// apiserver refuses; so the template has none of them, and keeps the
// user's own ports and volumes. The pods the hub builds keep them.
func TestNativeTaskManagerTemplateLeavesFlinkItsDecorations(t *testing.T) {
	userPod := &corev1.Pod{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: deployer.MainContainer,
			Ports:        []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9249}},
			VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
		Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
	}}
	cases := []struct {
		name     string
		mutate   func(*v1beta1.FlinkDeployment)
		wantUser bool
	}{
		{"no pod template", nil, false},
		{"common pod template", func(fd *v1beta1.FlinkDeployment) { fd.Spec.PodTemplate = userPod.DeepCopy() }, true},
		{"TaskManager pod template", func(fd *v1beta1.FlinkDeployment) { fd.Spec.TaskManager.PodTemplate = userPod.DeepCopy() }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fd, objs := nativeResources(t, tc.mutate)
			var tpl corev1.Pod
			raw := find[*corev1.ConfigMap](t, objs, deployer.ConfigMapName(fd)).Data[flinkconf.TaskManagerPodTemplateFile]
			if err := yaml.Unmarshal([]byte(raw), &tpl); err != nil {
				t.Fatal(err)
			}
			if names := decorations(tpl.Spec); names["volume flink-config-volume"] || names["mount /opt/flink/conf"] || names["port rpc"] {
				t.Errorf("the TaskManager template carries what Flink adds: %v\n%s", names, raw)
			}
			if names := decorations(tpl.Spec); names["port metrics"] != tc.wantUser || names["volume data"] != tc.wantUser || names["mount /data"] != tc.wantUser {
				t.Errorf("the user's port, volume and mount: %v, want %t", names, tc.wantUser)
			}
			jm := find[*appsv1.Deployment](t, objs, deployer.JobManagerDeploymentName(fd))
			if names := decorations(jm.Spec.Template.Spec); !names["volume flink-config-volume"] || !names["mount /opt/flink/conf"] {
				t.Errorf("the JobManager the hub builds lacks the configuration: %v", names)
			}
		})
	}
}

// decorations names the volumes, the main container's mount paths and its
// ports of spec.
func decorations(spec corev1.PodSpec) map[string]bool {
	names := map[string]bool{}
	for _, v := range spec.Volumes {
		names["volume "+v.Name] = true
	}
	for _, c := range spec.Containers {
		if c.Name != deployer.MainContainer {
			continue
		}
		for _, m := range c.VolumeMounts {
			names["mount "+m.MountPath] = true
		}
		for _, p := range c.Ports {
			names["port "+p.Name] = true
		}
	}
	return names
}

// TestRestServiceType: kubernetes.rest-service.exposed.type becomes the
// REST Service's type as Flink reads it (any case; Headless_ClusterIP is a
// ClusterIP Service without a cluster IP), and a value Flink does not
// know is an error naming the key rather than a Service the apiserver
// refuses.
func TestRestServiceType(t *testing.T) {
	cases := []struct {
		value         string
		wantType      corev1.ServiceType
		wantClusterIP string
		wantErr       bool
	}{
		{"", corev1.ServiceTypeClusterIP, "", false},
		{"ClusterIP", corev1.ServiceTypeClusterIP, "", false},
		{"Headless_ClusterIP", corev1.ServiceTypeClusterIP, corev1.ClusterIPNone, false},
		{"headless_clusterip", corev1.ServiceTypeClusterIP, corev1.ClusterIPNone, false},
		{"nodeport", corev1.ServiceTypeNodePort, "", false},
		{"LoadBalancer", corev1.ServiceTypeLoadBalancer, "", false},
		{"ExternalName", "", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.value, func(t *testing.T) {
			fd := app(func(fd *v1beta1.FlinkDeployment) {
				if tc.value != "" {
					fd.Spec.FlinkConfiguration = v1beta1.ConfigurationOf(map[string]string{"kubernetes.rest-service.exposed.type": tc.value})
				}
			})
			for _, d := range deployers() {
				objs, err := d.Resources(fd, deployer.Inputs{})
				if tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), "kubernetes.rest-service.exposed.type") {
						t.Errorf("%s: want an error naming the key, got %v", d.Mode(), err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				svc := find[*corev1.Service](t, objs, deployer.RestServiceName(fd))
				if svc.Spec.Type != tc.wantType || svc.Spec.ClusterIP != tc.wantClusterIP {
					t.Errorf("%s: type %q clusterIP %q, want %q %q", d.Mode(), svc.Spec.Type, svc.Spec.ClusterIP, tc.wantType, tc.wantClusterIP)
				}
			}
		})
	}
}

// TestServiceInPlace: an apply changes a Service in place unless the
// change is between headless and an allocated cluster IP, either way; the
// type among ClusterIP, NodePort and LoadBalancer changes in place.
func TestServiceInPlace(t *testing.T) {
	svc := func(typ corev1.ServiceType, clusterIP string) *corev1.Service {
		return &corev1.Service{Spec: corev1.ServiceSpec{Type: typ, ClusterIP: clusterIP}}
	}
	cases := []struct {
		name       string
		live, want *corev1.Service
		inPlace    bool
	}{
		{"ClusterIP stays", svc(corev1.ServiceTypeClusterIP, "10.96.0.10"), svc(corev1.ServiceTypeClusterIP, ""), true},
		{"ClusterIP to NodePort", svc(corev1.ServiceTypeClusterIP, "10.96.0.10"), svc(corev1.ServiceTypeNodePort, ""), true},
		{"LoadBalancer to ClusterIP", svc(corev1.ServiceTypeLoadBalancer, "10.96.0.10"), svc(corev1.ServiceTypeClusterIP, ""), true},
		{"headless stays", svc(corev1.ServiceTypeClusterIP, corev1.ClusterIPNone), svc(corev1.ServiceTypeClusterIP, corev1.ClusterIPNone), true},
		{"ClusterIP to headless", svc(corev1.ServiceTypeClusterIP, "10.96.0.10"), svc(corev1.ServiceTypeClusterIP, corev1.ClusterIPNone), false},
		{"NodePort to headless", svc(corev1.ServiceTypeNodePort, "10.96.0.10"), svc(corev1.ServiceTypeClusterIP, corev1.ClusterIPNone), false},
		{"headless to ClusterIP", svc(corev1.ServiceTypeClusterIP, corev1.ClusterIPNone), svc(corev1.ServiceTypeClusterIP, ""), false},
		{"headless to LoadBalancer", svc(corev1.ServiceTypeClusterIP, corev1.ClusterIPNone), svc(corev1.ServiceTypeLoadBalancer, ""), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := deployer.ServiceInPlace(tc.live, tc.want); got != tc.inPlace {
				t.Errorf("ServiceInPlace = %v, want %v", got, tc.inPlace)
			}
		})
	}
}
