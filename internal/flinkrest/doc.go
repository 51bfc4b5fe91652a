// Package flinkrest is the hub's client of Flink JobManager REST APIs.
//
// Client is a small hand-written interface over the client generated into
// package api from Flink's OpenAPI spec. Every call has a timeout and fails
// with an *Error whose Kind (NotFound, NotReady, Timeout, ServerError,
// Rejected, Unauthorized, BadResponse) the controller decides on; the
// message carries Flink's own error text but never a response body of
// unknown form nor a URL with credentials.
//
// JobManagers sit in member clusters' networks. Resolver reaches them
// through the member apiserver's service proxy (default; needs
// services/proxy) or a base URL template, chosen by hub flags only: nothing
// a FlinkDeployment says picks the endpoint. The template is not executed;
// its {{.Cluster}}, {{.Namespace}} and {{.Name}} placeholders are replaced
// by path-escaped values. Requests are traced with otelhttp as child spans
// named "flink <operation>".
//
// JobManager answers are hostile: redirects are not followed (the proxy
// transport adds the member's credentials to every request), bodies beyond
// MaxResponseBytes fail the call, and the call's timeout covers the body.
package flinkrest
