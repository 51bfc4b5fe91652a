package clusters_test

import (
	"context"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/flink-hub/flink-hub/internal/clusters/registration"
)

// TestHubIdentityMayMakeEveryMemberCall registers a member as `cluster
// add` does and asks the member's apiserver, as the hub's identity (its
// token), whether it may make each request of registration.MemberCalls,
// in a tenant namespace the registration never heard of (the cache's
// list and watch across all namespaces).
func TestHubIdentityMayMakeEveryMemberCall(t *testing.T) {
	ctx := context.Background()
	member := fleet.Members[2]
	cfg, err := member.HubIdentity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reviews := kubernetes.NewForConfigOrDie(cfg).AuthorizationV1().SelfSubjectAccessReviews()
	for _, call := range registration.MemberCalls(true) {
		attrs := &authorizationv1.ResourceAttributes{
			Group: call.Group, Resource: call.Resource, Subresource: call.Subresource, Verb: call.Verb, Name: call.Name,
		}
		switch {
		case call.Namespace != "":
			attrs.Namespace = call.Namespace
		case !call.ClusterWide && !call.AllNamespaces:
			attrs.Namespace = "some-tenant"
		}
		review, err := reviews.Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: attrs},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !review.Status.Allowed {
			t.Errorf("the hub's member identity may not %s %s/%s %s %q (%s): %s", call.Verb, call.Group, call.Resource, call.Subresource, call.Name, call.Why, review.Status.Reason)
		}
	}
}
