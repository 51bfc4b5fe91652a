package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/deployer"
)

// tenantNamespace is where the sandbox applies the examples.
const tenantNamespace = "default"

// tenantPoll is how often a tenant re-reads what it waits for: several
// lifecycles run at once on two cores, so not every 50 ms.
const tenantPoll = 250 * time.Millisecond

// tenant acts on one member as an application team does with kubectl: a
// client from the sandbox's kubeconfig (context member-N), touching only
// FlinkDeployments and reading what their clusters left in the member.
type tenant struct {
	// member is the context and member cluster name.
	member string
	c      client.Client
	// hubLogs are the hub replicas' log files, quoted when a wait fails.
	hubLogs []string
}

// newTenant makes the tenant of context member in the sandbox's kubeconfig
// in dir.
func newTenant(dir, member string) (*tenant, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: filepath.Join(dir, "kubeconfig")},
		&clientcmd.ConfigOverrides{CurrentContext: member}).ClientConfig()
	if err != nil {
		return nil, err
	}
	// Several lifecycles poll at once; client-side throttling would only
	// slow them and fill the output with its notices.
	cfg.QPS, cfg.Burst = 100, 200
	c, err := client.New(cfg, client.Options{Scheme: framework.Scheme})
	if err != nil {
		return nil, err
	}
	logs, err := filepath.Glob(filepath.Join(dir, "hub-*.log"))
	if err != nil {
		return nil, err
	}
	return &tenant{member: member, c: c, hubLogs: logs}, nil
}

func (tn *tenant) get(ctx context.Context, name string) (*v1beta1.FlinkDeployment, error) {
	fd := &v1beta1.FlinkDeployment{}
	return fd, tn.c.Get(ctx, types.NamespacedName{Namespace: tenantNamespace, Name: name}, fd)
}

// patch merge-patches a FlinkDeployment, as `kubectl patch --type merge`.
func (tn *tenant) patch(ctx context.Context, name, patch string) error {
	fd := &v1beta1.FlinkDeployment{}
	fd.Namespace, fd.Name = tenantNamespace, name
	if err := tn.c.Patch(ctx, fd, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		return fmt.Errorf("%s: patch %s %s: %w", tn.member, name, patch, err)
	}
	return nil
}

// waitFor waits up to timeout until cond holds for the FlinkDeployment
// name and returns it as cond last saw it. On failure the error says what
// was waited for and carries the FlinkDeployment's status, cond's last
// complaint and the hub replicas' log lines on it.
func (tn *tenant) waitFor(ctx context.Context, name, what string, timeout time.Duration, cond func(context.Context, *v1beta1.FlinkDeployment) error) (*v1beta1.FlinkDeployment, error) {
	var last *v1beta1.FlinkDeployment
	var lastErr error
	err := framework.EventuallyEvery(ctx, timeout, tenantPoll, func(ctx context.Context) (bool, error) {
		rctx, cancel := readContext(ctx)
		defer cancel()
		fd, err := tn.get(rctx, name)
		if err == nil {
			err = cond(rctx, fd)
			last = fd
		}
		lastErr = err
		return err == nil, nil
	})
	if err == nil {
		return last, nil
	}
	return nil, fmt.Errorf("%s/%s: %s: %v; last: %v\n%s%s", tn.member, name, what, err, lastErr, describe(last), tn.hubLogLines(name))
}

// readTimeout bounds one poll's reads.
const readTimeout = 10 * time.Second

// readContext is the context of one poll's reads: bounded by readTimeout,
// not by the wait's deadline, so the last poll reports what it read rather
// than that the deadline came (the wait ends at its deadline all the same).
func readContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), readTimeout)
}

// describe is the part of a FlinkDeployment's status a failure report
// needs.
func describe(fd *v1beta1.FlinkDeployment) string {
	if fd == nil {
		return "status: never read"
	}
	st := fd.Status
	return fmt.Sprintf("status: generation %d observed %d, lifecycleState %s, reconciliation %s, jobManager %s, job %s (%s), upgradeSavepointPath %q, error %q",
		fd.Generation, st.ObservedGeneration, st.LifecycleState, st.ReconciliationStatus.State, st.JobManagerDeploymentStatus,
		st.JobStatus.State, st.JobStatus.JobID, st.JobStatus.UpgradeSavepointPath, st.Error)
}

// hubLogLines is the tail of every hub replica's log lines that name the
// FlinkDeployment, introduced by a newline; "" when none does.
func (tn *tenant) hubLogLines(name string) string {
	named := func(l string) bool { return strings.Contains(l, `"`+name+`"`) || strings.Contains(l, "/"+name) }
	tails := hubLogTails(tn.hubLogs, 15, named)
	if tails == "" {
		return ""
	}
	return "\nhub log lines naming it:\n" + tails
}

// hubLogTails is the last n lines of each log that match keep, under the
// log's name; logs with none are left out.
func hubLogTails(logs []string, n int, keep func(string) bool) string {
	var b strings.Builder
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", filepath.Base(path), err)
			continue
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			if keep(l) {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			continue
		}
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "--- %s:\n%s\n", filepath.Base(path), strings.Join(lines, "\n"))
	}
	return b.String()
}

// lastReconciled decodes status.reconciliationStatus.lastReconciledSpec,
// the spec the hub last acted on.
func lastReconciled(fd *v1beta1.FlinkDeployment) (*v1beta1.FlinkDeploymentSpec, error) {
	var w struct {
		Spec v1beta1.FlinkDeploymentSpec `json:"spec"`
	}
	raw := fd.Status.ReconciliationStatus.LastReconciledSpec
	if raw == "" {
		return nil, errors.New("no lastReconciledSpec")
	}
	if err := json.Unmarshal([]byte(raw), &w); err != nil {
		return nil, err
	}
	return &w.Spec, nil
}

// observed fails unless the hub has reconciled the FlinkDeployment's
// current generation.
func observed(fd *v1beta1.FlinkDeployment) error {
	if fd.Status.ObservedGeneration != fd.Generation {
		return fmt.Errorf("generation %d not observed (observed %d)", fd.Generation, fd.Status.ObservedGeneration)
	}
	return nil
}

// stableAndRunning fails unless the last reconciled spec runs stably with
// its job RUNNING.
func stableAndRunning(fd *v1beta1.FlinkDeployment) error {
	st := fd.Status
	if st.ReconciliationStatus.State != v1beta1.ReconciliationDeployed || st.LifecycleState != v1beta1.LifecycleStable {
		return fmt.Errorf("reconciliation %s, lifecycle %s", st.ReconciliationStatus.State, st.LifecycleState)
	}
	if fd.Spec.Job != nil && st.JobStatus.State != v1beta1.JobRunning {
		return fmt.Errorf("job %s", st.JobStatus.State)
	}
	return nil
}

// jobManager is the FlinkDeployment's JobManager Deployment in the member,
// nil when there is none.
func (tn *tenant) jobManager(ctx context.Context, fd *v1beta1.FlinkDeployment) (*appsv1.Deployment, error) {
	dep := &appsv1.Deployment{}
	err := tn.c.Get(ctx, types.NamespacedName{Namespace: fd.Namespace, Name: deployer.JobManagerDeploymentName(fd)}, dep)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return dep, err
}

// flinkConfig is the Flink configuration file the cluster runs with, from
// its ConfigMap.
func (tn *tenant) flinkConfig(ctx context.Context, fd *v1beta1.FlinkDeployment) (string, error) {
	cm := &corev1.ConfigMap{}
	if err := tn.c.Get(ctx, types.NamespacedName{Namespace: fd.Namespace, Name: deployer.ConfigMapName(fd)}, cm); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, v := range cm.Data {
		b.WriteString(v)
	}
	return b.String(), nil
}

// haCheckpoints is the ConfigMap in which Flink's Kubernetes HA services
// keep the job's checkpoint pointers (<cluster-id>-<job-id>-config-map),
// nil when there is none yet.
func (tn *tenant) haCheckpoints(ctx context.Context, fd *v1beta1.FlinkDeployment) (*corev1.ConfigMap, error) {
	if fd.Status.JobStatus.JobID == "" {
		return nil, nil
	}
	cm := &corev1.ConfigMap{}
	err := tn.c.Get(ctx, types.NamespacedName{Namespace: fd.Namespace, Name: fd.Name + "-" + fd.Status.JobStatus.JobID + "-config-map"}, cm)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return cm, err
}

// leftovers names the member objects of a Flink cluster (everything
// labelled app=<name>: Deployments, pods, Services, ConfigMaps, HA
// ConfigMaps included, Ingresses) still in the member.
func (tn *tenant) leftovers(ctx context.Context, name string) ([]string, error) {
	sel := []client.ListOption{client.InNamespace(tenantNamespace), client.MatchingLabels{deployer.LabelApp: name}}
	var left []string
	lists := map[string]client.ObjectList{
		"Deployment": &appsv1.DeploymentList{}, "Pod": &corev1.PodList{}, "Service": &corev1.ServiceList{},
		"ConfigMap": &corev1.ConfigMapList{}, "Ingress": &networkingv1.IngressList{},
	}
	for kind, list := range lists {
		if err := tn.c.List(ctx, list, sel...); err != nil {
			return nil, err
		}
		items, err := metaItems(list)
		if err != nil {
			return nil, err
		}
		for _, n := range items {
			left = append(left, kind+" "+n)
		}
	}
	return left, nil
}

// metaItems are the names of the objects in a list.
func metaItems(list client.ObjectList) ([]string, error) {
	objs, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, o := range objs {
		m, err := meta.Accessor(o)
		if err != nil {
			return nil, err
		}
		names = append(names, m.GetName())
	}
	return names, nil
}
