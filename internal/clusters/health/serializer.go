package health

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

// rawSerializer lets an unversioned REST client decode Status errors; the
// probe reads bodies as raw bytes.
var rawSerializer = serializer.NewCodecFactory(runtime.NewScheme()).WithoutConversion()
