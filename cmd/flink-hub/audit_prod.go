//go:build !benchaudit

package main

import "flag"

// bindAuditFlag registers nothing in production builds: the reconcile
// audit is wired only by the benchmark's build (tag benchaudit).
func bindAuditFlag(*flag.FlagSet, *config) {}
