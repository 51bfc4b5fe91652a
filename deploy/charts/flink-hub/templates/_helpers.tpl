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
