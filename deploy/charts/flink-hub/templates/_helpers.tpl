{{/* Name of the release's objects: the release name if it contains the chart name. */}}
{{- define "flink-hub.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "flink-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "flink-hub.labels" -}}
{{ include "flink-hub.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The webhook is registered only with create=true and a URL. */}}
{{- define "flink-hub.webhookOn" -}}
{{- if and .Values.webhook.create .Values.webhook.url -}}true{{- end -}}
{{- end -}}

{{- define "flink-hub.webhookCASecret" -}}
{{- default (printf "%s-webhook-ca" (include "flink-hub.fullname" .)) .Values.webhook.caSecretName -}}
{{- end -}}

{{/* Names and IPs of the webhook's serving certificate. */}}
{{- define "flink-hub.webhookHosts" -}}
{{- $svc := printf "%s-webhook" (include "flink-hub.fullname" .) -}}
{{- $hosts := list (urlParse .Values.webhook.url).hostname $svc (printf "%s.%s.svc" $svc .Release.Namespace) -}}
{{- concat $hosts .Values.webhook.hosts | uniq | toJson -}}
{{- end -}}

{{/* Refuses values the schema cannot relate to each other, with a message
naming them, so that `helm install` fails instead of the hub crash-looping. */}}
{{- define "flink-hub.checkValues" -}}
{{- $s := .Values.sharding -}}
{{- if gt (int $s.memberSpread) (int $s.shards) -}}
{{- fail (printf "sharding.memberSpread (%d) must not exceed sharding.shards (%d): a member spreads over at most every shard" (int $s.memberSpread) (int $s.shards)) -}}
{{- end -}}
{{- end -}}

{{/* Refuses a cert-manager issuerRef the webhook cannot work with, where the
chart can tell: the hub registers the ca.crt of the serving certificate's
Secret as the webhook's caBundle in every member, and the certificate names
the webhook Service's in-cluster names. An ACME issuer (Let's Encrypt and
the like) cannot issue those names and puts no ca.crt in the Secret, so
the Certificate would never be Ready and the pod never start. The issuer is
looked up at install and upgrade only (helm template and client dry-runs
cannot), when the cluster serves cert-manager.io/v1 and checkIssuer is on
(it needs get on the Issuer or ClusterIssuer); an issuer that does not
exist yet passes. */}}
{{- define "flink-hub.checkIssuer" -}}
{{- $cm := .Values.webhook.certManager -}}
{{- $ref := $cm.issuerRef -}}
{{- $kind := $ref.kind | default "Issuer" -}}
{{- if and $ref $cm.checkIssuer (eq ($ref.group | default "cert-manager.io") "cert-manager.io") (.Capabilities.APIVersions.Has (printf "cert-manager.io/v1/%s" $kind)) -}}
{{- $ns := ternary "" .Release.Namespace (eq $kind "ClusterIssuer") -}}
{{- $issuer := lookup "cert-manager.io/v1" $kind $ns $ref.name -}}
{{- if hasKey ($issuer.spec | default dict) "acme" -}}
{{- fail (printf "webhook.certManager.issuerRef: %s %q is an ACME issuer, which cannot issue the webhook Service's in-cluster names (%s-webhook.%s.svc) and gives no ca.crt, which the hub registers in every member as the webhook's caBundle. Name a CA issuer (an Issuer or ClusterIssuer with spec.ca, e.g. one whose CA certificate a selfSigned issuer made) whose Secret carries ca.crt, or leave issuerRef empty for the chart's own CA" $kind $ref.name (include "flink-hub.fullname" .) .Release.Namespace) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* GOMEMLIMIT: 90% of resources.limits.memory in bytes, empty without a
memory limit. The Go runtime then collects harder as the heap nears the
limit instead of being OOM-killed at it; the 10% is headroom for what the
runtime does not count exactly (fragmentation, memory not yet returned).
resourceFieldRef would give the whole limit only, with no room at all. */}}
{{- define "flink-hub.goMemLimit" -}}
{{- $limit := (.Values.resources.limits | default dict).memory -}}
{{- if kindIs "float64" $limit -}}
{{- mulf $limit 0.9 | floor | int64 -}}
{{- else if kindIs "int64" $limit -}}
{{- mulf (float64 $limit) 0.9 | floor | int64 -}}
{{- else if $limit -}}
{{- $q := toString $limit -}}
{{- if not (regexMatch "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$" $q) -}}
{{- fail (printf "resources.limits.memory %q: the chart sets GOMEMLIMIT to 90%% of it and reads only a number with an optional suffix Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P or E (e.g. 1Gi)" $q) -}}
{{- end -}}
{{- $units := dict "" 1.0 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 -}}
{{- $number := regexReplaceAll "[A-Za-z]+$" $q "" -}}
{{- $suffix := regexReplaceAll "^[0-9.]+" $q "" -}}
{{- mulf (float64 $number) (get $units $suffix) 0.9 | floor | int64 -}}
{{- end -}}
{{- end -}}
