package v1beta1

import (
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LabelCanary marks a canary resource: with the value "true" (in any
// case), an object the Apache operator creates and watches only to probe
// its own health. Its webhook lets canaries through unvalidated and its
// controllers do nothing else with them; flink-hub does the same.
const LabelCanary = "flink.apache.org/canary"

// IsCanary reports an object labelled as a canary resource.
func IsCanary(obj metav1.Object) bool {
	return strings.EqualFold(obj.GetLabels()[LabelCanary], "true")
}
