package v1beta1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	kjson "sigs.k8s.io/json"
)

// AnnotationRefusedQuantities is set, in memory only, on a FlinkDeployment
// decoded with quantities whose exponent has three digits or more: the
// decoder replaced each by "0", and validation refuses the object naming
// them. It is never written to a member.
const AnnotationRefusedQuantities = "flink-hub.io/refused-quantities"

// hostileQuantity is a quantity with a decimal exponent of three digits or
// more. resource.ParseQuantity, which decoding a podTemplate's resources
// calls on the strings.TrimSpace of the JSON value, spins for as long as
// such an exponent says: "9e3372036854775807" never returns. podTemplates
// keep unknown fields, so the member's apiserver stores any such value.
var hostileQuantity = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]{3,}$`)

// mayHoldHostile is the cheap test on raw JSON that every document holding
// a hostile quantity passes; most pass it not. Proof: a JSON value v whose
// strings.TrimSpace matches hostileQuantity holds a mantissa character
// (digit or '.'), e or E, maybe a sign, and three digits or more, followed
// only by Unicode white space. A number literal has no escapes, and it is
// followed by ',', '}', ']', white space or the end. In a string literal
// without a \u escape, the only escapes (\" \\ \/ \b \f \n \r \t) stand for
// none of those characters, so they are written as themselves; what
// follows the last digit is the closing quote, a white space written as
// itself (ASCII, or any non-ASCII rune: Go's regexp reads invalid UTF-8 as
// U+FFFD, non-ASCII too) or an escape's backslash. Every other document
// holds a \u escape.
var mayHoldHostile = regexp.MustCompile(`[0-9.][eE][+-]?[0-9]{3,}(?:[\t\n\v\f\r ",}\]\\]|[^\x00-\x7f]|$)`)

// maxRefusedShown bounds the quantities the annotation names, and
// maxRefusedLength the text shown of each.
const (
	maxRefusedShown  = 3
	maxRefusedLength = 40
)

// DefuseQuantities returns data, a JSON document, with every string or
// number whose strings.TrimSpace is a hostile quantity (hostileQuantity)
// replaced by "0" (0 for a number), and names the first maxRefusedShown it
// replaced, quoted, in document order of sorted keys. data is returned as
// is when it holds none; an error only for data that is not JSON.
func DefuseQuantities(data []byte) ([]byte, []string, error) {
	if !mayHoldHostile.Match(data) && !bytes.Contains(data, []byte(`\u`)) {
		return data, nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, err
	}
	var refused []string
	doc = defuse(doc, &refused)
	if refused == nil {
		return data, nil, nil
	}
	out, err := json.Marshal(doc)
	return out, refused, err
}

// defuse replaces the hostile quantities in a document decoded with
// json.Number, appending their names to refused.
func defuse(v any, refused *[]string) any {
	var s string
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			x[k] = defuse(x[k], refused)
		}
		return x
	case []any:
		for i := range x {
			x[i] = defuse(x[i], refused)
		}
		return x
	case string:
		s = x
	case json.Number:
		s = string(x)
	default:
		return v
	}
	if !hostileQuantity.MatchString(strings.TrimSpace(s)) {
		return v
	}
	if len(*refused) < maxRefusedShown {
		if len(s) > maxRefusedLength {
			s = s[:maxRefusedLength] + "..."
		}
		*refused = append(*refused, fmt.Sprintf("%q", s))
	} else if len(*refused) == maxRefusedShown {
		*refused = append(*refused, "...")
	}
	if _, number := v.(json.Number); number {
		return json.Number("0")
	}
	return "0"
}

// UnmarshalJSON decodes a FlinkDeployment as the API machinery does, after
// DefuseQuantities, naming what it replaced in AnnotationRefusedQuantities,
// so that decoding a tenant's object always returns.
func (in *FlinkDeployment) UnmarshalJSON(data []byte) error {
	type plain FlinkDeployment
	data, refused, err := DefuseQuantities(data)
	if err != nil {
		return err
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
