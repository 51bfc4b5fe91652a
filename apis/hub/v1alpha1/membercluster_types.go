package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Condition types and reasons of a MemberCluster.
const (
	// ConditionReady is True while the hub can reach the member with its
	// credentials. It changes only after the new state has lasted the hub's
	// debounce window, except for a kubeconfig that cannot be used at all.
	ConditionReady = "Ready"
	// ConditionCRDInstalled reports the hub's install of the FlinkDeployment
	// CRD in the member.
	ConditionCRDInstalled = "CRDInstalled"
	// ConditionTokenExpiring is True when the bearer token of the member's
	// kubeconfig expires within the hub's warning window (a week) or has
	// expired; False while it is valid for longer. Absent when the token
	// carries no expiry the hub can read.
	ConditionTokenExpiring = "TokenExpiring"
	// ConditionRulesCurrent is True when `kubectl flinkhub cluster add`
	// granted the hub's identity in the member the rules this hub needs;
	// False when it granted another (older) revision of them: run `cluster
	// add` again, which upgrades them in place. Unknown for a Secret that
	// `cluster add` did not write.
	ConditionRulesCurrent = "RulesCurrent"
	// ConditionClaimed is True while this registration holds the member's
	// claim (a Lease in the member's kube-public namespace) and so manages
	// it; False when another registration of the same member, in this hub
	// or another, holds it: then Ready is False with reason Duplicate and
	// the member's FlinkDeployments are left to the holder.
	ConditionClaimed = "Claimed"
	// ConditionEngaged is True while the hub's controllers watch the
	// member; False when its last engagement failed (its apiserver did not
	// list what the hub watches in time, or refused to): the message says
	// why, and the hub tries again. Absent until the first engagement.
	ConditionEngaged = "Engaged"
	// ConditionKindsReadable is True while the hub may list and watch
	// every optional kind (FlinkSessionJobs, FlinkStateSnapshots) in every
	// namespace it watches in the member; False naming the kinds it may
	// not (reason Forbidden: the registration's rules lack them, run
	// `kubectl flinkhub cluster add` again) or the member does not serve
	// (reason NotServed: no CRD). The hub does not watch such a kind, the
	// console says so at once, and the member's FlinkDeployments are
	// managed meanwhile. Rules narrowed, or a CRD deleted, while the
	// member is engaged turn it False once the member refuses the hub's
	// watch of the kind, for any kind the hub watches there (Deployments
	// too), until the hub may list it again. Absent while the member is
	// not engaged.
	ConditionKindsReadable = "KindsReadable"

	// ReasonKindsReadable: the hub may read every optional kind.
	ReasonKindsReadable = "Readable"
	// ReasonKindsNotServed: the member does not serve an optional kind.
	ReasonKindsNotServed = "NotServed"

	// ReasonEngaged: the hub's controllers watch the member.
	ReasonEngaged = "Engaged"
	// ReasonEngageFailed: the member's last engagement failed.
	ReasonEngageFailed = "EngageFailed"

	// ReasonReachable: the member answered /readyz and authorized the hub.
	ReasonReachable = "Reachable"
	// ReasonUnreachable: the member did not answer, or answered not ready.
	ReasonUnreachable = "Unreachable"
	// ReasonForbidden: the member refused the hub's credentials (401/403);
	// of KindsReadable, the hub's identity may not list a kind.
	ReasonForbidden = "Forbidden"
	// ReasonDuplicate: another registration holds the member's claim.
	ReasonDuplicate = "Duplicate"
	// ReasonInvalidKubeconfig: the Secret's kubeconfig cannot be used.
	ReasonInvalidKubeconfig = "InvalidKubeconfig"
	// ReasonInsecureKubeconfig: the kubeconfig skips TLS verification,
	// speaks plain HTTP or goes through a proxy, and the hub was not started
	// with --allow-insecure-member-kubeconfigs; the member is not engaged.
	ReasonInsecureKubeconfig = "InsecureKubeconfig"

	// ReasonRulesCurrent: the member's rules are this hub's revision.
	ReasonRulesCurrent = "Current"
	// ReasonRulesOutdated: the member's rules are another revision.
	ReasonRulesOutdated = "Outdated"
	// ReasonNotRegisteredByClusterAdd: the Secret was written by hand.
	ReasonNotRegisteredByClusterAdd = "NotRegisteredByClusterAdd"

	// ReasonTokenValid: the token is valid beyond the warning window.
	ReasonTokenValid = "TokenValid"
	// ReasonTokenExpiresSoon: the token expires within the warning window.
	ReasonTokenExpiresSoon = "TokenExpiresSoon"
	// ReasonTokenExpired: the token has expired.
	ReasonTokenExpired = "TokenExpired"

	// ReasonInstalled: the hub's CRD is applied in the member.
	ReasonInstalled = "Installed"
	// ReasonNewerCRDPresent: the member has a CRD installed by a newer hub;
	// the hub left it alone.
	ReasonNewerCRDPresent = "NewerCRDPresent"
	// ReasonForeignCRD: the member's FlinkDeployment CRD was installed by
	// someone else (say the Apache operator's Helm chart); the hub left it
	// alone.
	ReasonForeignCRD = "ForeignCRD"
	// ReasonInstallFailed: applying the CRD failed.
	ReasonInstallFailed = "InstallFailed"
	// ReasonInstallDisabled: CRD installs are turned off (--install-crds=false).
	ReasonInstallDisabled = "InstallDisabled"
)

// MemberCluster is the hub's report on one member cluster, registered by a
// labelled kubeconfig Secret of the same name. The hub creates, updates and
// deletes it; users only read it.
//
// It is namespaced and lives in the hub namespace, next to its Secret: the
// Secret owns it (garbage collection removes it with the Secret), the hub
// needs no cluster-wide RBAC for it, and two hubs in one cluster (one per
// namespace) never see each other's members.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mc;mcs,categories=flinkhub
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=`.status.kubernetesVersion`
// +kubebuilder:printcolumn:name="Deployments",type=integer,JSONPath=`.status.flinkDeployments`
// +kubebuilder:printcolumn:name="Token-Expires",type=date,JSONPath=`.status.credentialsExpireAt`,priority=1
// +kubebuilder:printcolumn:name="Last-Probe",type=date,JSONPath=`.status.lastProbeTime`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type MemberCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Status is written by the hub only.
	// +optional
	Status MemberClusterStatus `json:"status,omitempty"`
}

// MemberClusterStatus is what the hub last observed of a member.
type MemberClusterStatus struct {
	// Conditions are Ready, CRDInstalled, TokenExpiring, RulesCurrent,
	// Claimed, Engaged and KindsReadable.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// KubernetesVersion is the member apiserver's gitVersion.
	// +optional
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// Server is the member apiserver's URL (from the kubeconfig).
	// +optional
	Server string `json:"server,omitempty"`
	// FlinkDeployments is the number of FlinkDeployments the hub's fleet
	// index holds for the member.
	// +optional
	FlinkDeployments int32 `json:"flinkDeployments"`
	// CredentialsExpireAt is when the bearer token of the member's
	// kubeconfig expires (its JWT exp claim), if it says.
	// +optional
	CredentialsExpireAt *metav1.Time `json:"credentialsExpireAt,omitempty"`
	// LastProbeTime is the time of the probe this status reports. Probes
	// that find nothing new are not written until this is the hub's
	// --health-report-interval (a minute by default) old, so it may be
	// that much older than the last probe; older than that plus a probe
	// interval, nobody probes the member.
	// +optional
	LastProbeTime *metav1.Time `json:"lastProbeTime,omitempty"`
}

// MemberClusterList is a list of MemberClusters.
//
// +kubebuilder:object:root=true
type MemberClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MemberCluster `json:"items"`
}
