package clusters_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/multicluster-runtime/pkg/multicluster"

	flinkv1beta1 "github.com/flink-hub/flink-hub/apis/flink/v1beta1"
	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/e2e/framework"
	"github.com/flink-hub/flink-hub/internal/clusters"
	"github.com/flink-hub/flink-hub/internal/clusters/kindaccess"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

// TestUnreadableKindRefusedAtOnce registers members through `cluster
// add`'s code (registration.Registrar), as a ServiceAccount of its own,
// with rules older than FlinkStateSnapshots: in the ClusterRole of a
// cluster-wide registration, or in the Role of one namespace of a
// registration limited to namespaces; and one limited to namespaces with
// current rules, which may list the kind in its namespaces only. The hub
// must not start an informer of a kind it may not list in every namespace
// it watches (one would never sync), the console must answer at once
// saying so (or read the kind in a namespace where the hub may list it),
// the MemberCluster's KindsReadable condition must name the
// kind and the refusing namespaces, FlinkDeployments and FlinkSessionJobs
// must be served meanwhile, and re-running `cluster add` must make the
// kind readable without restarting the hub.
func TestUnreadableKindRefusedAtOnce(t *testing.T) {
	cases := []struct {
		name       string
		member     int
		namespaces []string
		// older is where the rules lack FlinkStateSnapshots: "" nowhere,
		// "*" the ClusterRole, else that namespace's Role.
		older string
		// where is how the condition names the refusing namespaces.
		where string
		// pagesRead: the console reads the snapshots of the namespace of
		// the resources (the first), where the hub may list them.
		pagesRead bool
	}{
		{name: "cluster-wide rules older than the kind", member: 0, older: "*", where: "across the cluster"},
		{name: "namespaces with current rules", member: 1, namespaces: []string{"optkind-a", "optkind-b"}, pagesRead: true},
		{name: "one namespace's Role older than the kind", member: 2, namespaces: []string{"optkind-c", "optkind-d"}, older: "optkind-d", where: "in namespace optkind-d", pagesRead: true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			ns := fmt.Sprintf("optkind-%d", i)
			r := registerMember(t, fleet.Members[tc.member], ns, "optkind-apps", tc.namespaces)
			member, apps, fd, job, registrar, reg := r.member, r.apps, r.fd, r.job, r.registrar, r.reg
			if tc.older != "" {
				refuseSnapshots(t, member, "flink-hub:flink-hub:"+ns, tc.older)
			}
			hub := startHubAs(t, fleet.Hub.Config, testOptions(ns))
			awaitEngaged(t, hub, member.Name)

			readable := tc.older == ""
			checkConsoleAnswersAtOnce(t, hub, member.Name, apps, fd, job, tc.pagesRead)
			checkSnapshotInformer(t, hub, member.Name, readable)
			status, reason := metav1.ConditionTrue, hubv1alpha1.ReasonKindsReadable
			if !readable {
				status, reason = metav1.ConditionFalse, hubv1alpha1.ReasonForbidden
			}
			_, c := waitCondition(t, ns, member.Name, hubv1alpha1.ConditionKindsReadable, status, reason)
			for _, want := range []string{"FlinkStateSnapshots", tc.where} {
				if !strings.Contains(c.Message, want) {
					t.Errorf("KindsReadable message %q lacks %q", c.Message, want)
				}
			}
			if !readable {
				if strings.Contains(c.Message, "FlinkSessionJobs are not") || (len(tc.namespaces) > 0 && strings.Contains(c.Message, tc.namespaces[0])) {
					t.Errorf("KindsReadable message %q names what the hub may read", c.Message)
				}
				waitEvent(t, ns, member.Name, corev1.EventTypeWarning, hubv1alpha1.ReasonForbidden)
				// `cluster add` again grants the current rules.
				if _, err := registrar.Add(ctx, reg); err != nil {
					t.Fatal(err)
				}
				waitCondition(t, ns, member.Name, hubv1alpha1.ConditionKindsReadable, metav1.ConditionTrue, hubv1alpha1.ReasonKindsReadable)
				checkSnapshotInformer(t, hub, member.Name, true)
			}
		})
	}
}

// registered is a member registered in hub namespace ns through `cluster
// add`'s code, with a FlinkDeployment fd and a FlinkSessionJob job of it
// in namespace apps.
type registered struct {
	member        *framework.ControlPlane
	apps, fd, job string
	reg           registration.Options
	registrar     *registration.Registrar
	secret        *corev1.Secret
}

// registerMember creates the hub namespace ns, registers member there as
// a ServiceAccount of its own (limited to namespaces when any), and
// creates fd-<ns> and job-<ns> in the first of namespaces, or in apps
// when there is none.
func registerMember(t *testing.T, member *framework.ControlPlane, ns, apps string, namespaces []string) registered {
	t.Helper()
	ctx := t.Context()
	if len(namespaces) > 0 {
		apps = namespaces[0]
	}
	for _, n := range append([]string{apps}, namespaces...) {
		if err := member.CreateNamespace(ctx, n); client.IgnoreAlreadyExists(err) != nil {
			t.Fatal(err)
		}
	}
	r := registered{member: member, apps: apps, fd: "fd-" + ns, job: "job-" + ns,
		reg:       registration.Options{Name: member.Name, HubNamespace: ns, ServiceAccount: ns, InstallCRDs: true, Namespaces: namespaces},
		registrar: &registration.Registrar{Member: member.Config, MemberClient: member.Client, Hub: fleet.Hub.Client}}
	createFlinkDeployment(t, member, apps, r.fd)
	if err := member.Client.Create(ctx, &flinkv1beta1.FlinkSessionJob{ObjectMeta: metav1.ObjectMeta{Namespace: apps, Name: r.job},
		Spec: flinkv1beta1.FlinkSessionJobSpec{DeploymentName: r.fd}}); err != nil {
		t.Fatal(err)
	}
	if err := fleet.Hub.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	var err error
	if r.secret, err = r.registrar.Add(ctx, r.reg); err != nil {
		t.Fatal(err)
	}
	return r
}

// refuseSnapshots takes FlinkStateSnapshots out of the rules of the
// ClusterRole name (where "*") or of the Role name in namespace where, in
// member.
func refuseSnapshots(t *testing.T, member *framework.ControlPlane, name, where string) {
	t.Helper()
	refuseResource(t, member, name, where, "flinkstatesnapshots")
}

// refuseResource takes resource (and its subresources) out of the rules of
// the ClusterRole name (where "*") or of the Role name in namespace where,
// in member, and returns a function that puts the rules back.
func refuseResource(t *testing.T, member *framework.ControlPlane, name, where, resource string) (restore func()) {
	t.Helper()
	clusterRole, namespaced := &rbacv1.ClusterRole{}, &rbacv1.Role{}
	var role client.Object = clusterRole
	rules := &clusterRole.Rules
	key := client.ObjectKey{Name: name}
	if where != "*" {
		role, rules, key.Namespace = namespaced, &namespaced.Rules, where
	}
	if err := member.Client.Get(t.Context(), key, role); err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(*rules)
	for i, rule := range *rules {
		(*rules)[i].Resources = slices.DeleteFunc(slices.Clone(rule.Resources), func(r string) bool { return r == resource || strings.HasPrefix(r, resource+"/") })
	}
	*rules = slices.DeleteFunc(*rules, func(r rbacv1.PolicyRule) bool { return len(r.Resources) == 0 })
	if err := member.Client.Update(t.Context(), role); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := member.Client.Get(t.Context(), key, role); err != nil {
			t.Fatal(err)
		}
		*rules = before
		if err := member.Client.Update(t.Context(), role); err != nil {
			t.Fatal(err)
		}
	}
}

// consoleDeadline is how long a console page of a member the hub reads
// may take here: far less than the console's 10 s read timeout, which a
// read of a kind the hub may not list used to wait out.
const consoleDeadline = 4 * time.Second

// checkConsoleAnswersAtOnce opens the console pages of the FlinkDeployment
// and the FlinkSessionJob once the fleet index has them: each must answer
// within consoleDeadline, its snapshots section listing them or, when not
// readable, saying why and how to fix it.
func checkConsoleAnswersAtOnce(t *testing.T, hub *clusters.Hub, member, namespace, fd, job string, readable bool) {
	t.Helper()
	token, err := fleetReaderToken()
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"flinkdeployments/" + fd, "flinksessionjobs/" + job} {
		path := fmt.Sprintf("/console/clusters/%s/namespaces/%s/%s", member, namespace, page)
		eventually(t, 30*time.Second, page+" in the fleet index", func() error {
			if code, _ := consoleGet(t, hub, token, path); code != http.StatusOK {
				return fmt.Errorf("%d", code)
			}
			return nil
		})
		start := time.Now()
		code, body := consoleGet(t, hub, token, path)
		if took := time.Since(start); took > consoleDeadline {
			t.Errorf("%s: the console answered after %v", page, took.Round(time.Millisecond))
		}
		want := []string{"No FlinkStateSnapshots"}
		if !readable {
			want = []string{"FlinkStateSnapshots are not readable with this member", "kubectl flinkhub cluster add"}
		}
		if strings.HasPrefix(page, "flinksessionjobs/") {
			want = append(want, "deploymentName: "+fd) // its spec
		}
		for _, w := range want {
			if code != http.StatusOK || !strings.Contains(body, w) {
				t.Errorf("%s: %d, the page lacks %q", page, code, w)
			}
		}
	}
}

// checkSnapshotInformer checks that the member's cache gives an informer
// of FlinkStateSnapshots that syncs when the hub may list them, and
// refuses one, saying why, when it may not.
func checkSnapshotInformer(t *testing.T, hub *clusters.Hub, member string, readable bool) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("an informer of FlinkStateSnapshots that syncs=%v", readable), func() error {
		cl, err := hub.Provider.Get(t.Context(), multicluster.ClusterName(member))
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		inf, err := cl.GetCache().GetInformer(ctx, &flinkv1beta1.FlinkStateSnapshot{}, cache.BlockUntilSynced(false))
		switch {
		case readable && err != nil:
			return err
		case readable && !inf.HasSynced():
			return fmt.Errorf("not synced yet")
		case !readable && err == nil:
			return fmt.Errorf("the cache started an informer of a kind the hub may not list (synced: %v)", inf.HasSynced())
		case !readable && !kindaccess.IsUnreadable(err):
			return fmt.Errorf("refused, but not as unreadable: %v", err)
		}
		return nil
	})
}
