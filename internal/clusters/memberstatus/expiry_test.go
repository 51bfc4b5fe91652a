package memberstatus

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	hubv1alpha1 "github.com/flink-hub/flink-hub/apis/hub/v1alpha1"
)

func TestWriteTokenExpiry(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	token := func(exp time.Time) string {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"RS256"}`)) + "." + enc(fmt.Appendf(nil, `{"exp":%d}`, exp.Unix())) + ".c2ln"
	}
	cases := []struct {
		name   string
		cfg    *rest.Config
		window time.Duration
		status metav1.ConditionStatus // "": no condition, no expiry
		reason string
	}{
		{"valid beyond the default week", &rest.Config{BearerToken: token(now.Add(8 * 24 * time.Hour))}, 0, metav1.ConditionFalse, hubv1alpha1.ReasonTokenValid},
		{"inside the default week", &rest.Config{BearerToken: token(now.Add(6 * 24 * time.Hour))}, 0, metav1.ConditionTrue, hubv1alpha1.ReasonTokenExpiresSoon},
		{"inside a configured window", &rest.Config{BearerToken: token(now.Add(50 * time.Minute))}, time.Hour, metav1.ConditionTrue, hubv1alpha1.ReasonTokenExpiresSoon},
		{"beyond a configured window", &rest.Config{BearerToken: token(now.Add(2 * time.Hour))}, time.Hour, metav1.ConditionFalse, hubv1alpha1.ReasonTokenValid},
		{"expired", &rest.Config{BearerToken: token(now.Add(-time.Second))}, 0, metav1.ConditionTrue, hubv1alpha1.ReasonTokenExpired},
		{"opaque token", &rest.Config{BearerToken: "not-a-jwt"}, 0, "", ""},
		{"refused kubeconfig", nil, 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mc := &hubv1alpha1.MemberCluster{ObjectMeta: metav1.ObjectMeta{Name: "m"}}
			// A previous token's report is replaced or removed.
			mc.Status.CredentialsExpireAt = &metav1.Time{Time: now}
			meta.SetStatusCondition(&mc.Status.Conditions, metav1.Condition{Type: hubv1alpha1.ConditionTokenExpiring, Status: metav1.ConditionTrue, Reason: "Old"})
			r := &Reconciler{TokenWarning: tc.window}
			r.writeTokenExpiry(mc, tc.cfg, now)
			c := meta.FindStatusCondition(mc.Status.Conditions, hubv1alpha1.ConditionTokenExpiring)
			if tc.status == "" {
				if c != nil || mc.Status.CredentialsExpireAt != nil {
					t.Fatalf("condition %+v, expiry %v; want neither", c, mc.Status.CredentialsExpireAt)
				}
				return
			}
			if c == nil || c.Status != tc.status || c.Reason != tc.reason {
				t.Fatalf("TokenExpiring = %+v, want %s/%s", c, tc.status, tc.reason)
			}
			if tc.status == metav1.ConditionTrue && !strings.Contains(c.Message, "cluster add") {
				t.Errorf("the warning should say how to rotate: %q", c.Message)
			}
			if mc.Status.CredentialsExpireAt == nil || mc.Status.CredentialsExpireAt.Equal(&metav1.Time{Time: now}) {
				t.Errorf("credentialsExpireAt = %v, want the token's", mc.Status.CredentialsExpireAt)
			}
		})
	}
}
