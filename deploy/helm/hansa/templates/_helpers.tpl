{{- define "hansa.fullname" -}}
{{ .Release.Name }}-hansa
{{- end -}}

{{- define "hansa.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "hansa.labels" -}}
app.kubernetes.io/name: hansa
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: hansa-{{ .Chart.Version }}
{{- end -}}

{{- define "hansa.central.secret" -}}
{{- if .Values.central.existingSecret -}}
{{ .Values.central.existingSecret }}
{{- else -}}
{{ include "hansa.fullname" . }}-central
{{- end -}}
{{- end -}}

{{- define "hansa.central.claim" -}}
{{- if .Values.central.persistence.existingClaim -}}
{{ .Values.central.persistence.existingClaim }}
{{- else -}}
{{ include "hansa.fullname" . }}-central
{{- end -}}
{{- end -}}

{{- define "hansa.node.secret" -}}
{{- if .Values.node.existingSecret -}}
{{ .Values.node.existingSecret }}
{{- else -}}
{{ include "hansa.fullname" . }}-node
{{- end -}}
{{- end -}}

{{- define "hansa.node.claim" -}}
{{- if .Values.node.persistence.existingClaim -}}
{{ .Values.node.persistence.existingClaim }}
{{- else -}}
{{ include "hansa.fullname" . }}-node
{{- end -}}
{{- end -}}
