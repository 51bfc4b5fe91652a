// Package api holds the Flink REST types and the low-level client generated
// by oapi-codegen from rest_v1_dispatcher.yml (a copy of Apache Flink's
// published spec), corrected by overlay.yaml where Flink's real responses
// differ from it. Only the operations listed in oapi-codegen.yaml are
// generated. Regenerate with 'make generate'; do not edit zz_generated files.
package api
