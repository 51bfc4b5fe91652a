package clusters_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"sigs.k8s.io/controller-runtime/pkg/client"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

func TestBadSecrets(t *testing.T) {
	ctx := context.Background()
	const ns = "bad"
	hub := startHub(t, testOptions(ns))
	hc := fleet.Hub.Client
	m1 := fleet.Members[0]
	cases, marker := badSecretCases(t)
	for _, tc := range cases {
		if err := hc.Create(ctx, memberSecret(ns, tc.name, tc.kubeconfig)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkBadSecret(t, ns, tc) })
	}

	t.Run("no token in the logs", func(t *testing.T) {
		if strings.Contains(logs.String(), badSecretToken) {
			t.Fatal("the hub logged the token of a member Secret")
		}
		if !strings.Contains(logs.String(), "kubeconfig") {
			t.Fatal("the log capture saw nothing of the member provider; the check above proves nothing")
		}
	})

	t.Run("an exec plugin is never run", func(t *testing.T) {
		eventually(t, 30*time.Second, "the provider refused the exec kubeconfig", func() error {
			if !strings.Contains(logs.String(), "member Secret refused") {
				return errNotYet
			}
			return nil
		})
		if _, err := hub.Provider.Get(ctx, "exec"); err == nil {
			t.Fatal("a kubeconfig with an exec plugin was engaged")
		}
		if _, err := os.Stat(marker); !os.IsNotExist(err) {
			t.Fatalf("the hub ran the exec plugin of a member Secret (%v)", err)
		}
	})

	t.Run("fixing the Secret recovers the member", func(t *testing.T) {
		if err := hc.Update(ctx, memberSecret(ns, "garbage", hubKubeconfig(t, m1))); err != nil {
			t.Fatal(err)
		}
		waitReady(t, ns, "garbage", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
		waitReady(t, ns, "good", metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	})
}

// badSecretToken is the token of the bad Secrets, which must never reach
// a condition or the logs.
const badSecretToken = "refused-token-0123456789"

// badSecret is a member Secret's kubeconfig and the reason of the Ready
// condition it must get.
type badSecret struct {
	name       string
	kubeconfig []byte
	reason     string
}

// badSecretCases are kubeconfigs that are hanging, garbage, refused,
// without rights, running an exec plugin (which would create the file
// marker) or dead, and a good one.
func badSecretCases(t *testing.T) (cases []badSecret, marker string) {
	t.Helper()
	const token = badSecretToken
	m1 := fleet.Members[0]
	refused, err := registration.Kubeconfig("m1", m1.Config.Host, m1.Config.CAData, token)
	if err != nil {
		t.Fatal(err)
	}
	hanging := hangingServer(t)
	marker = filepath.Join(t.TempDir(), "exec-ran")
	return []badSecret{
		{"hanging", withServer(t, hubKubeconfig(t, fleet.Members[1]), "https://"+hanging), hubv1alpha1.ReasonUnreachable},
		{"garbage", []byte("{{{ this is not yaml " + token), hubv1alpha1.ReasonInvalidKubeconfig},
		{"no-context", []byte("apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: " + token + "\n"), hubv1alpha1.ReasonInvalidKubeconfig},
		{"refused", refused, hubv1alpha1.ReasonForbidden},
		{"no-rights", serviceAccountKubeconfig(t, fleet.Members[2], "no-rights", ""), hubv1alpha1.ReasonForbidden},
		{"exec", withExec(t, hubKubeconfig(t, m1), "/bin/touch", marker), hubv1alpha1.ReasonInvalidKubeconfig},
		{"dead", withServer(t, hubKubeconfig(t, fleet.Members[1]), "https://127.0.0.1:1"), hubv1alpha1.ReasonUnreachable},
		{"good", hubKubeconfig(t, fleet.Members[2]), hubv1alpha1.ReasonReachable},
	}, marker
}

// checkBadSecret waits for tc's MemberCluster in ns to be Ready or not with
// tc's reason, saying 403 when RBAC refused it, and checks that no
// condition quotes the token.
func checkBadSecret(t *testing.T, ns string, tc badSecret) {
	status := metav1.ConditionFalse
	if tc.reason == hubv1alpha1.ReasonReachable {
		status = metav1.ConditionTrue
	}
	mc := waitReady(t, ns, tc.name, status, tc.reason)
	if tc.name == "no-rights" && !strings.Contains(meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionReady).Message, "403") {
		t.Errorf("a refusal by RBAC should say 403: %+v", mc.Status.Conditions)
	}
	for _, c := range mc.Status.Conditions {
		if strings.Contains(c.Message, badSecretToken) {
			t.Errorf("condition %s leaks the token: %q", c.Type, c.Message)
		}
	}
}

// withExec returns kubeconfig with its user replaced by an exec credential
// plugin running command with args.
func withExec(t *testing.T, kubeconfig []byte, command string, args ...string) []byte {
	t.Helper()
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{
		APIVersion: "client.authentication.k8s.io/v1", Command: command, Args: args, InteractiveMode: clientcmdapi.NeverExecInteractiveMode,
	}}
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hangingServer accepts connections and never answers, like an apiserver
// behind a black hole; it returns its address.
func hangingServer(t *testing.T) string {
	t.Helper()
	addr, _ := hangingServerCounting(t)
	return addr
}

// hangingServerCounting is hangingServer with a function that says how
// many connections it accepted.
func hangingServerCounting(t *testing.T) (addr string, accepted func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	closed := false
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if closed { // accepted as the test ended
				c.Close()
			}
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		closed = true
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
}

// waitEvent waits for an event about a MemberCluster with type and reason.
func waitEvent(t *testing.T, ns, member, eventType, reason string) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("%s event %s for %s", eventType, reason, member), func() error {
		var list eventsv1.EventList
		if err := fleet.Hub.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range list.Items {
			if e.Regarding.Kind == "MemberCluster" && e.Regarding.Name == member && e.Type == eventType && e.Reason == reason {
				return nil
			}
		}
		return fmt.Errorf("%d events, none matches", len(list.Items))
	})
}
