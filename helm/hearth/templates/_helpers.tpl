{{/* The chart name, or nameOverride. */}}
{{- define "hearth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "<release>-hearth", or just the release name when it already contains the chart name. */}}
{{- define "hearth.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "hearth.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "hearth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: hearth
{{- end }}

{{/* Selector labels of one component; call with (dict "ctx" $ "component" "operator"). */}}
{{- define "hearth.selectorLabels" -}}
app.kubernetes.io/name: {{ include "hearth.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of one component's resources. */}}
{{- define "hearth.componentLabels" -}}
{{ include "hearth.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* "<fullname>-<component>": the name of a component's workload, account and roles. */}}
{{- define "hearth.componentName" -}}
{{- printf "%s-%s" (include "hearth.fullname" .ctx) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The component's service account: the configured name, or its component name. */}}
{{- define "hearth.serviceAccountName" -}}
{{- $sa := (index .ctx.Values .component).serviceAccount }}
{{- if $sa.create }}
{{- default (include "hearth.componentName" .) $sa.name }}
{{- else }}
{{- default "default" $sa.name }}
{{- end }}
{{- end }}

{{/* The component's image reference; the tag defaults to the chart's appVersion. */}}
{{- define "hearth.image" -}}
{{- $image := (index .ctx.Values .component).image }}
{{- printf "%s:%s" $image.repository (default .ctx.Chart.AppVersion $image.tag) }}
{{- end }}

{{/*
The downward-API environment both components read. Every HEARTH_* variable the chart sets is the
other spelling of a program option (--lease-namespace here); ChartProgramContractTest fails on any
variable a program does not read.
*/}}
{{- define "hearth.podEnv" -}}
# Agents keep their node Leases in the release namespace, where the operator reads them.
- name: HEARTH_LEASE_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- end }}

{{/* The operator's leader-election Lease, named by the operator (HearthApi.OPERATOR_LEADER_LEASE). */}}
{{- define "hearth.leaderLease" -}}
hearth-operator-leader
{{- end }}
