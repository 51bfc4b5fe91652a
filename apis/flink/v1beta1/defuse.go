package v1beta1

import (
	"regexp"
	"strings"

	kjson "sigs.k8s.io/json"
)

// AnnotationRefusedQuantities is set, in memory only, on a FlinkDeployment
// decoded with quantities whose exponent has three digits or more: the
// decoder replaced each by "0", and validation refuses the object naming
// them. It is never written to a member.
const AnnotationRefusedQuantities = "flink-hub.io/refused-quantities"

// hostileQuantity is a JSON string that reads as a quantity with a decimal
// exponent of three digits or more. resource.ParseQuantity, which decoding
// a podTemplate's resources calls, spins for as long as such an exponent
// says: "9e3372036854775807" never returns. podTemplates keep unknown
// fields, so the member's apiserver stores any such string.
var hostileQuantity = regexp.MustCompile(`"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]{3,}"`)

// maxRefusedShown bounds the quantities the annotation names.
const maxRefusedShown = 3

// UnmarshalJSON decodes a FlinkDeployment as the API machinery does, after
// replacing hostile quantities (hostileQuantity) by "0" and naming them in
// AnnotationRefusedQuantities, so that decoding a tenant's object always
// returns.
func (in *FlinkDeployment) UnmarshalJSON(data []byte) error {
	type plain FlinkDeployment
	var refused []string
	if hostileQuantity.Match(data) {
		data = hostileQuantity.ReplaceAllFunc(data, func(q []byte) []byte {
			if len(refused) < maxRefusedShown {
				refused = append(refused, string(q))
			}
			return []byte(`"0"`)
		})
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, (*plain)(in)); err != nil {
		return err
	}
	if len(refused) > 0 {
		if in.Annotations == nil {
			in.Annotations = map[string]string{}
		}
		in.Annotations[AnnotationRefusedQuantities] = strings.Join(refused, ", ")
	}
	return nil
}
