//go:build benchaudit

package main

import "flag"

// bindAuditFlag registers --reconcile-audit-file, which only the
// benchmark's build of the hub has (go build -tags benchaudit): the
// overlap audit is a measuring instrument, not a production setting.
func bindAuditFlag(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.hub.AuditFile, "reconcile-audit-file", "", "append the start and end of every admitted reconcile to this file (benchmark builds only; empty disables)")
}
