package registration

import (
	"context"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// deleteRoles deletes, in every member namespace but keep, the RoleBinding
// and Role `cluster add --namespaces` created for o's ServiceAccount (by
// name and label): a registration narrowed to fewer namespaces, or
// widened to all, leaves no rights behind. Bindings go first, so there is
// no moment with a binding and no role. It returns what it deleted.
func deleteRoles(ctx context.Context, member client.Client, o Options, keep []string) ([]string, error) {
	var deleted []string
	selector := client.MatchingLabels{"app.kubernetes.io/managed-by": FieldManager}
	var bindings rbacv1.RoleBindingList
	if err := member.List(ctx, &bindings, selector); err != nil {
		return nil, fmt.Errorf("member: list RoleBindings: %w", err)
	}
	var roles rbacv1.RoleList
	if err := member.List(ctx, &roles, selector); err != nil {
		return nil, fmt.Errorf("member: list Roles: %w", err)
	}
	var stale []client.Object
	for i := range bindings.Items {
		stale = append(stale, &bindings.Items[i])
	}
	for i := range roles.Items {
		stale = append(stale, &roles.Items[i])
	}
	for _, obj := range stale {
		if obj.GetName() != o.clusterRoleName() || slices.Contains(keep, obj.GetNamespace()) {
			continue
		}
		kind := "RoleBinding"
		if _, ok := obj.(*rbacv1.Role); ok {
			kind = "Role"
		}
		if err := client.IgnoreNotFound(member.Delete(ctx, obj)); err != nil {
			return deleted, fmt.Errorf("member: delete %s %s/%s: %w", kind, obj.GetNamespace(), obj.GetName(), err)
		}
		deleted = append(deleted, kind+" "+obj.GetNamespace()+"/"+obj.GetName())
	}
	return deleted, nil
}
