package memberconfig

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ListSecrets lists the member registration Secrets (SecretLabel) of the
// hub namespace through reader (the hub's cache).
func ListSecrets(ctx context.Context, reader client.Reader, namespace string) ([]corev1.Secret, error) {
	var secrets corev1.SecretList
	err := reader.List(ctx, &secrets, client.InNamespace(namespace), client.MatchingLabels{SecretLabel: "true"})
	return secrets.Items, err
}
