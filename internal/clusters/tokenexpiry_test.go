package clusters_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
	"github.com/flink-hub/flink-hub/internal/clusters/memberconfig"
	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

// TestTokenExpiryIsReported registers a member as `cluster add` does, with
// a token of the shortest life the member's apiserver grants (10 minutes)
// and a hub warning window of an hour: the MemberCluster warns with the
// token's expiry and how to rotate it; `cluster add` again with a token
// outliving the window clears the warning.
func TestTokenExpiryIsReported(t *testing.T) {
	ctx := context.Background()
	const ns, name = "token-expiry", "expiring"
	opts := testOptions(ns)
	opts.TokenWarning = time.Hour
	startHub(t, opts)
	member := fleet.Members[2]
	reg := &registration.Registrar{Member: member.Config, MemberClient: member.Client, Hub: fleet.Hub.Client}
	add := func(ttl time.Duration) (token string, expiry time.Time) {
		t.Helper()
		before := time.Now()
		secret, err := reg.Add(ctx, registration.Options{Name: name, HubNamespace: ns, MemberNamespace: "token-expiry",
			ServiceAccount: "expiring-hub", InstallCRDs: true, TokenTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := memberconfig.FromSecret(secret)
		if err != nil {
			t.Fatal(err)
		}
		return cfg.BearerToken, before.Add(ttl)
	}
	// await waits for TokenExpiring with status and reason, and checks
	// status.credentialsExpireAt against the requested life.
	await := func(status metav1.ConditionStatus, reason string, expiry time.Time) *metav1.Condition {
		t.Helper()
		var cond *metav1.Condition
		eventually(t, 30*time.Second, fmt.Sprintf("TokenExpiring=%s/%s", status, reason), func() error {
			_, mc, err := readyCondition(ctx, ns, name)
			if err != nil {
				return err
			}
			cond = meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionTokenExpiring)
			if cond == nil || cond.Status != status || cond.Reason != reason {
				return fmt.Errorf("TokenExpiring = %+v", cond)
			}
			if at := mc.Status.CredentialsExpireAt; at == nil || at.Sub(expiry).Abs() > time.Minute {
				return fmt.Errorf("credentialsExpireAt = %v, want about %v", at, expiry)
			}
			return nil
		})
		return cond
	}

	shortToken, shortExpiry := add(10 * time.Minute)
	waitReady(t, ns, name, metav1.ConditionTrue, hubv1alpha1.ReasonReachable)
	warning := await(metav1.ConditionTrue, hubv1alpha1.ReasonTokenExpiresSoon, shortExpiry)
	if !strings.Contains(warning.Message, "kubectl flinkhub cluster add") || !strings.Contains(warning.Message, shortExpiry.UTC().Format("2006-01-02T15:")) {
		t.Errorf("the warning should give the expiry and how to rotate: %q", warning.Message)
	}
	waitEvent(t, ns, name, corev1.EventTypeWarning, hubv1alpha1.ReasonTokenExpiresSoon)

	longToken, longExpiry := add(3 * time.Hour)
	await(metav1.ConditionFalse, hubv1alpha1.ReasonTokenValid, longExpiry)
	waitReady(t, ns, name, metav1.ConditionTrue, hubv1alpha1.ReasonReachable)

	t.Run("no token in conditions, events or logs", func(t *testing.T) {
		_, mc, err := readyCondition(ctx, ns, name)
		if err != nil {
			t.Fatal(err)
		}
		var events eventsv1.EventList
		if err := fleet.Hub.Client.List(ctx, &events, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		seen := fmt.Sprintf("%+v %+v %s", mc.Status, events.Items, logs.String())
		for _, tok := range []string{shortToken, longToken} {
			// No part of a token (header, claims, signature) may appear.
			for _, part := range strings.Split(tok, ".") {
				if len(part) > 16 && strings.Contains(seen, part) {
					t.Fatal("a part of the member token appears in the status, events or logs")
				}
			}
		}
	})
}
