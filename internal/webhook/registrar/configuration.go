package registrar

import (
	neturl "net/url"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	admissionregistrationac "k8s.io/client-go/applyconfigurations/admissionregistration/v1"
)

// Configuration is the ValidatingWebhookConfiguration applied in members.
// It covers CREATE and UPDATE of FlinkDeployments only: DELETE is never
// intercepted, so a hub that is down cannot block deleting a
// FlinkDeployment, and the status subresource is not covered, so the
// hub's own status writes never call back into it. Match conditions,
// evaluated by the member's apiserver without calling the hub, skip updates
// that leave the spec alone and objects being deleted: even with
// failurePolicy Fail, a dead hub never blocks finalizer or label changes.
//
// Its URL names the member and carries the member's token (the path's two
// last segments after the hub's URL, see PathToken), so the hub can look
// up what a session job names in that member, and in no other.
func (r *Registrar) Configuration(member, token string, bundle []byte) *admissionregistrationac.ValidatingWebhookConfigurationApplyConfiguration {
	timeout := int32(r.opts.Timeout.Seconds())
	if timeout < 1 {
		timeout = 5
	}
	policy := r.opts.FailurePolicy
	if policy == "" {
		policy = admissionregistrationv1.Ignore
	}
	url := r.opts.URL
	if u, err := neturl.Parse(url); err == nil {
		// A webhook URL may not have a query: the member and its token
		// are the last path segments.
		u.Path = strings.TrimSuffix(u.Path, "/") + "/" + neturl.PathEscape(member)
		if token != "" {
			u.Path += "/" + token
		}
		url = u.String()
	}
	return admissionregistrationac.ValidatingWebhookConfiguration(Name).
		WithLabels(map[string]string{"app.kubernetes.io/managed-by": "flink-hub"}).
		WithWebhooks(admissionregistrationac.ValidatingWebhook().
			WithName(WebhookName).
			WithClientConfig(admissionregistrationac.WebhookClientConfig().WithURL(url).WithCABundle(bundle...)).
			WithRules(admissionregistrationac.RuleWithOperations().
				WithOperations(admissionregistrationv1.Create, admissionregistrationv1.Update).
				WithAPIGroups("flink.apache.org").
				WithAPIVersions("v1beta1").
				WithResources("flinkdeployments", "flinksessionjobs").
				WithScope(admissionregistrationv1.NamespacedScope)).
			WithFailurePolicy(policy).
			WithSideEffects(admissionregistrationv1.SideEffectClassNone).
			WithAdmissionReviewVersions("v1").
			WithMatchPolicy(admissionregistrationv1.Equivalent).
			WithMatchConditions(
				admissionregistrationac.MatchCondition().WithName("spec-written").
					WithExpression("request.operation == 'CREATE' || object.spec != oldObject.spec"),
				admissionregistrationac.MatchCondition().WithName("not-deleting").
					WithExpression("!has(object.metadata.deletionTimestamp)")).
			WithTimeoutSeconds(timeout))
}
