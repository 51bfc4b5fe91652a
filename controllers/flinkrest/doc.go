// Package flinkrest is the hub's client of Flink JobManager REST APIs.
//
// Client is a small hand-written interface over the client generated into
// package api from Flink's OpenAPI spec. Every call has a timeout and fails
// with an *Error whose Kind (NotFound, NotReady, Timeout, ServerError,
// Rejected, Unauthorized, BadResponse) the controller decides on; the
// message carries Flink's own error text but never a response body of
// unknown form nor a URL with credentials.
//
// JobManagers sit in member clusters' networks. Resolver picks the
// transport per FlinkDeployment: through the member apiserver's service
// proxy (default; needs services/proxy) or a base URL template, chosen by
// hub flags and overridden by the flink-hub.io/rest-transport and
// flink-hub.io/rest-url-template annotations. Requests are traced with
// otelhttp as child spans named "flink <operation>".
package flinkrest
