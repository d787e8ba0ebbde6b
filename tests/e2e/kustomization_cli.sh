# The Kustomization CLI on the real control plane: `get kustomizations`
# prints Flux's table; `reconcile kustomization` (with and without
# --with-source), `suspend` and `resume` print Flux's lines and wait for the
# controller's answer; `trace` finds the Kustomization and source behind an
# object (by labels, through owners, by short name, cluster-scoped) and
# prints Flux's report. No controller runs here: the test plays its part,
# writing the status a controller would once it sees the reconcile request,
# so these tests pin the CLI whatever the reconciler does.
# Sourced by tests/e2e/run with KUBECONFIG set; the tests run in order.

KC_SLUICE=${SLUICE_BIN:-$root/build/src/cli/sluice}
KC_NS=e2e-ks-cli
KC_APPS=e2e-ks-cli-apps
KC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e-kscli.XXXXXX")
KC_HEX1=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
KC_HEX2=aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233

# kc ARGS...: sluice in $KC_NS; stdout in $KC_TMP/out, stderr in
# $KC_TMP/err, the exit status in KC_RC. Never fails by itself.
kc() {
  KC_RC=0
  TZ=UTC "$KC_SLUICE" "$@" --namespace "${KC_N:-$KC_NS}" --timeout "${KC_TIMEOUT:-60s}" \
    >"$KC_TMP/out" 2>"$KC_TMP/err" </dev/null || KC_RC=$?
}
kc_ok() { kc "$@"; [ "$KC_RC" -eq 0 ] || fail "sluice $* exited $KC_RC: $(cat "$KC_TMP/err")"; }
kc_fails() { kc "$@"; [ "$KC_RC" -eq 1 ] || fail "sluice $* exited $KC_RC, want 1: $(cat "$KC_TMP/err")"; }
# kc_is FILE EXPECTED: out or err is exactly these lines.
kc_is() {
  [ "$(cat "$KC_TMP/$1")" = "$2" ] || fail "$1:
$(cat "$KC_TMP/$1")
--- want:
$2"
}
kc_get() { kubectl get "$1" -n "$KC_NS" "$2" -o jsonpath="$3"; }
kc_status() { # kc_status RESOURCE NAME JSON: merge-patches the status
  kubectl patch "$1" -n "$KC_NS" "$2" --subresource=status --type=merge -p "$3" >/dev/null
}

# kc_answer RESOURCE NAME REVISION TRUE|FALSE MESSAGE: plays the controller
# for one reconcile request: waits until the object asks for one it has not
# handled, then writes what Flux's controller writes when done.
kc_answer() {
  local res=$1 name=$2 rev=$3 ready=$4 msg=$5 at="" handled gen i
  for i in $(seq 1 600); do
    at=$(kc_get "$res" "$name" '{.metadata.annotations.reconcile\.fluxcd\.io/requestedAt}')
    handled=$(kc_get "$res" "$name" '{.status.lastHandledReconcileAt}')
    [ -z "$at" ] || [ "$at" = "$handled" ] || break
    sleep 0.05
  done
  [ -n "$at" ] || { echo "no reconcile request for $res/$name" >&2; return 1; }
  gen=$(kc_get "$res" "$name" '{.metadata.generation}')
  local reason=ReconciliationSucceeded applied=""
  [ "$ready" = True ] || reason=ReconciliationFailed
  case $res in
    kustomization)
      [ "$ready" != True ] || applied=", \"lastAppliedRevision\": \"$rev\""
      kc_status kustomization "$name" "{\"status\": {\"observedGeneration\": $gen,
        \"lastHandledReconcileAt\": \"$at\", \"lastAttemptedRevision\": \"$rev\"$applied,
        \"conditions\": [{\"type\": \"Ready\", \"status\": \"$ready\", \"reason\": \"$reason\",
          \"message\": \"$msg\", \"lastTransitionTime\": \"2026-02-01T10:00:00Z\",
          \"observedGeneration\": $gen}]}}" ;;
    ocirepository)
      kc_status ocirepository "$name" "{\"status\": {\"observedGeneration\": $gen,
        \"lastHandledReconcileAt\": \"$at\",
        \"artifact\": {\"revision\": \"$rev\", \"digest\": \"sha256:$KC_HEX1\",
          \"lastUpdateTime\": \"2026-02-01T10:00:00Z\", \"url\": \"http://x/a.tar.gz\",
          \"path\": \"ocirepository/$KC_NS/$name/a.tar.gz\"},
        \"conditions\": [{\"type\": \"Ready\", \"status\": \"$ready\", \"reason\": \"Succeeded\",
          \"message\": \"$msg\", \"lastTransitionTime\": \"2026-02-01T10:00:00Z\",
          \"observedGeneration\": $gen}]}}" ;;
  esac
}

kc_setup() {
  [ -x "$KC_SLUICE" ] || fail "no sluice binary at $KC_SLUICE (ninja -C build)"
  # The CRDs only: no controller runs in this file.
  "$KC_SLUICE" install --export | python3 -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] == "CustomResourceDefinition"]
yaml.safe_dump_all(docs, sys.stdout)' | kubectl apply --server-side -f - >/dev/null
  kubectl wait crd/kustomizations.kustomize.toolkit.fluxcd.io \
    crd/ocirepositories.source.toolkit.fluxcd.io --for=condition=Established --timeout=30s >/dev/null
  kubectl create namespace "$KC_NS" >/dev/null
  kubectl create namespace "$KC_APPS" >/dev/null
  wait_for 30 kubectl get kustomizations -n "$KC_NS" || fail "kustomizations not served"
  kubectl apply -n "$KC_NS" -f - >/dev/null 2>&1 <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: podinfo
spec:
  interval: 10m
  url: oci://ghcr.io/stefanprodan/manifests/podinfo
  ref:
    tag: latest
---
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: podinfo-staging
spec:
  interval: 10m
  targetNamespace: $KC_APPS
  prune: true
  sourceRef:
    kind: OCIRepository
    name: podinfo
  path: ./
  patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: podinfo
      spec:
        replicas: 1
    target:
      kind: Deployment
      name: podinfo
---
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: podinfo-production
  labels:
    tier: production
spec:
  interval: 10m
  retryInterval: 2m
  timeout: 5m
  wait: true
  targetNamespace: production
  prune: true
  sourceRef:
    kind: OCIRepository
    name: podinfo-stable
  path: ./
EOF
}

kc_get_kustomizations_prints_fluxs_table() {
  kc_ok get kustomizations
  printf 'NAME\tREVISION\tSUSPENDED\tREADY\tMESSAGE\npodinfo-production\t\tFalse\tFalse\twaiting to be reconciled\npodinfo-staging\t\tFalse\tFalse\twaiting to be reconciled\n' \
    >"$KC_TMP/want"
  # Cells are padded and tab-ended; compare them trimmed.
  sed -e 's/ *\t/\t/g' -e 's/\t*$//' -e 's/ *$//' "$KC_TMP/out" >"$KC_TMP/got"
  diff -u "$KC_TMP/want" "$KC_TMP/got" || fail "table differs"
  kc_status kustomization podinfo-staging "{\"status\": {\"observedGeneration\": 1,
    \"lastAppliedRevision\": \"latest@sha256:$KC_HEX1\",
    \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\", \"reason\": \"ReconciliationSucceeded\",
      \"message\": \"Applied revision: latest@sha256:$KC_HEX1\",
      \"lastTransitionTime\": \"2026-01-01T00:00:00Z\", \"observedGeneration\": 1}]}}"
  kc_ok get ks podinfo-staging
  printf 'NAME\tREVISION\tSUSPENDED\tREADY\tMESSAGE\npodinfo-staging\tlatest@sha256:%s\tFalse\tTrue\tApplied revision: latest@sha256:%s\n' \
    "${KC_HEX1:0:8}" "${KC_HEX1:0:8}" >"$KC_TMP/want"
  sed -e 's/ *\t/\t/g' -e 's/\t*$//' -e 's/ *$//' "$KC_TMP/out" >"$KC_TMP/got"
  diff -u "$KC_TMP/want" "$KC_TMP/got" || fail "row with a revision differs"
  grep -q $'^podinfo-staging\tlatest@' "$KC_TMP/out" || fail "cells not padded: $(cat -A "$KC_TMP/out")"
  kc_ok get kustomization -A --no-header
  [ "$(cut -f1,2 "$KC_TMP/out" | tr -d ' ' | grep "^$KC_NS" | sort)" \
    = "$KC_NS"$'\t'podinfo-production$'\n'"$KC_NS"$'\t'podinfo-staging ] || fail "-A: $(cat "$KC_TMP/out")"
  kc_ok get kustomizations -A
  [ "$(head -1 "$KC_TMP/out" | cut -f1,2 | tr -d ' ')" = NAMESPACE$'\t'NAME ] \
    || fail "-A header: $(head -1 "$KC_TMP/out")"
  kc_status kustomization podinfo-production '{"status": {"conditions": [{"type": "Ready",
    "status": "False", "reason": "ArtifactFailed", "message": "Source artifact not found, retrying in 30s",
    "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}'
  kc_ok get kustomizations --status-selector ready=false --no-header
  [ "$(cut -f1 "$KC_TMP/out" | tr -d ' ')" = podinfo-production ] || fail "ready=false: $(cat "$KC_TMP/out")"
  kc_ok get kustomizations -l tier=production --no-header
  [ "$(cut -f1 "$KC_TMP/out" | tr -d ' ')" = podinfo-production ] || fail "-l: $(cat "$KC_TMP/out")"
  kc_ok get kustomizations podinfo-staging -o json
  python3 - "$KC_TMP/out" <<'PY' || fail "-o json: $(head -c 600 "$KC_TMP/out")"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1" and o["kind"] == "Kustomization", o
assert o["metadata"]["name"] == "podinfo-staging" and "managedFields" not in o["metadata"]
assert o["spec"]["patches"][0]["target"] == {"kind": "Deployment", "name": "podinfo"}
PY
  kc_fails get kustomizations missing
  kc_is err "✗ Kustomization object 'missing' not found in \"$KC_NS\" namespace"
  KC_N=$KC_APPS kc_ok get kustomizations
  kc_is err "✗ no Kustomization objects found in \"$KC_APPS\" namespace"
}

kc_reconcile_applies_and_reports_the_revision() {
  kc_answer kustomization podinfo-staging "latest@sha256:$KC_HEX2" True \
    "Applied revision: latest@sha256:$KC_HEX2" &
  local player=$!
  kc reconcile kustomization podinfo-staging
  wait "$player" || fail "the controller's part failed"
  [ "$KC_RC" -eq 0 ] || fail "exited $KC_RC: $(cat "$KC_TMP/err")"
  kc_is err "► annotating Kustomization podinfo-staging in $KC_NS namespace
✔ Kustomization annotated
◎ waiting for Kustomization reconciliation
✔ applied revision latest@sha256:$KC_HEX2"
  local at; at=$(kc_get kustomization podinfo-staging '{.metadata.annotations.reconcile\.fluxcd\.io/requestedAt}')
  [[ $at =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?(Z|[+-][0-9]{2}:[0-9]{2})$ ]] \
    || fail "requestedAt is not RFC 3339 with nanoseconds: $at"
  # The alias, and nothing on stdout.
  kc_answer kustomization podinfo-staging "latest@sha256:$KC_HEX2" True "Applied" &
  player=$!
  kc reconcile ks podinfo-staging
  wait "$player" || fail "the controller's part failed"
  [ "$KC_RC" -eq 0 ] || fail "ks alias exited $KC_RC: $(cat "$KC_TMP/err")"
  [ ! -s "$KC_TMP/out" ] || fail "printed to stdout: $(cat "$KC_TMP/out")"
}

kc_reconcile_with_source_reconciles_the_oci_repository_first() {
  kc_answer ocirepository podinfo "latest@sha256:$KC_HEX1" True \
    "stored artifact for digest 'latest@sha256:$KC_HEX1'" &
  local source_player=$!
  kc_answer kustomization podinfo-staging "latest@sha256:$KC_HEX1" True \
    "Applied revision: latest@sha256:$KC_HEX1" &
  local ks_player=$!
  kc reconcile kustomization podinfo-staging --with-source
  wait "$source_player" && wait "$ks_player" || fail "the controller's part failed"
  [ "$KC_RC" -eq 0 ] || fail "exited $KC_RC: $(cat "$KC_TMP/err")"
  kc_is err "► annotating OCIRepository podinfo in $KC_NS namespace
✔ OCIRepository annotated
◎ waiting for OCIRepository reconciliation
✔ OCIRepository reconciliation completed
✔ fetched revision latest@sha256:$KC_HEX1
► annotating Kustomization podinfo-staging in $KC_NS namespace
✔ Kustomization annotated
◎ waiting for Kustomization reconciliation
✔ applied revision latest@sha256:$KC_HEX1"
  # The source's request came first.
  local src ks
  src=$(kc_get ocirepository podinfo '{.metadata.annotations.reconcile\.fluxcd\.io/requestedAt}')
  ks=$(kc_get kustomization podinfo-staging '{.metadata.annotations.reconcile\.fluxcd\.io/requestedAt}')
  [[ "$src" < "$ks" ]] || fail "source requested at $src, Kustomization at $ks"
}

kc_a_failed_reconcile_exits_1_with_the_ready_message() {
  kc_answer kustomization podinfo-production "stable@sha256:$KC_HEX1" False \
    "health check failed after 5m0s: timeout waiting for: [Deployment/production/podinfo status: 'InProgress']" &
  local player=$!
  kc reconcile kustomization podinfo-production
  wait "$player" || fail "the controller's part failed"
  [ "$KC_RC" -eq 1 ] || fail "exited $KC_RC"
  [ "$(tail -1 "$KC_TMP/err")" = "✗ Kustomization reconciliation failed: health check failed after 5m0s: timeout waiting for: [Deployment/production/podinfo status: 'InProgress']" ] \
    || fail "last line: $(cat "$KC_TMP/err")"
  # No answer at all: the wait ends at --timeout, saying what it waited for.
  KC_TIMEOUT=2s kc reconcile kustomization podinfo-production
  [ "$KC_RC" -eq 1 ] || fail "exited $KC_RC"
  [ "$(tail -1 "$KC_TMP/err")" = "✗ timed out after 2s waiting for Kustomization $KC_NS/podinfo-production to be reconciled (the reconcile request is not handled yet): is the controller running?" ] \
    || fail "timeout: $(cat "$KC_TMP/err")"
  kc_fails reconcile kustomization missing
  kc_is err "✗ kustomizations.kustomize.toolkit.fluxcd.io \"missing\" not found"
  kc_fails reconcile kustomization
  kc_is err "✗ Kustomization name is required"
  # --with-source needs a source sluice serves.
  kubectl apply -n "$KC_NS" -f - >/dev/null <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: from-git}
spec: {interval: 10m, prune: true, sourceRef: {kind: GitRepository, name: fleet}}
EOF
  kc_fails reconcile kustomization from-git --with-source
  kc_is err "✗ --with-source: the source is a GitRepository; sluice reconciles OCIRepository sources only"
  kubectl delete kustomization -n "$KC_NS" from-git >/dev/null
}

kc_suspend_and_resume() {
  kc_ok suspend kustomization podinfo-staging podinfo-production
  kc_is err "► suspending kustomization podinfo-staging in $KC_NS namespace
✔ kustomization suspended
► suspending kustomization podinfo-production in $KC_NS namespace
✔ kustomization suspended"
  [ "$(kc_get kustomization podinfo-staging '{.spec.suspend}')" = true ] || fail "not suspended"
  kc_ok get kustomizations podinfo-staging --no-header
  [ "$(cut -f3 "$KC_TMP/out" | tr -d ' ')" = True ] || fail "SUSPENDED column: $(cat "$KC_TMP/out")"
  kc_fails reconcile kustomization podinfo-staging
  kc_is err "✗ resource is suspended"
  kc_answer kustomization podinfo-staging "latest@sha256:$KC_HEX2" True \
    "Applied revision: latest@sha256:$KC_HEX2" &
  local player=$!
  kc resume ks podinfo-staging
  wait "$player" || fail "the controller's part failed"
  [ "$KC_RC" -eq 0 ] || fail "exited $KC_RC: $(cat "$KC_TMP/err")"
  kc_is err "► resuming kustomization podinfo-staging in $KC_NS namespace
✔ kustomization resumed
◎ waiting for Kustomization reconciliation
✔ Kustomization reconciliation completed
✔ applied revision latest@sha256:$KC_HEX2"
  [ "$(kc_get kustomization podinfo-staging '{.spec.suspend}')" = false ] || fail "still suspended"
  kubectl patch kustomization -n "$KC_NS" podinfo-production --type=merge -p '{"spec":{"suspend":false}}' >/dev/null
}

# kc_trace ARGS...: sluice trace in UTC, without the -n kc passes.
kc_trace() {
  KC_RC=0
  TZ=UTC "$KC_SLUICE" trace "$@" >"$KC_TMP/out" 2>"$KC_TMP/err" </dev/null || KC_RC=$?
}

# The report for ConfigMap NAME in $KC_APPS managed by podinfo-staging.
kc_want_report() {
  cat <<EOF

Object:          ${2:-ConfigMap}/$1
Namespace:       $KC_APPS
Status:          Managed by Flux
---
Kustomization:   podinfo-staging
Namespace:       $KC_NS
Target:          $KC_APPS
Path:            ./
Revision:        latest@sha256:$KC_HEX2
Status:          Last reconciled at 2026-01-01 00:00:00 +0000 UTC
Message:         Applied revision: latest@sha256:$KC_HEX2
---
OCIRepository:   podinfo
Namespace:       $KC_NS
URL:             oci://ghcr.io/stefanprodan/manifests/podinfo
Tag:             latest
Revision:        latest@sha256:$KC_HEX2
Origin Revision: 6.7.0@sha1:0123abc
Origin Source:   https://github.com/stefanprodan/podinfo
Status:          Last reconciliation failed at 2026-01-02 03:04:05 +0000 UTC
Message:         failed to pull artifact
EOF
}

kc_trace_setup() {
  kc_status kustomization podinfo-staging "{\"status\": {
    \"lastAppliedRevision\": \"latest@sha256:$KC_HEX2\",
    \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\", \"reason\": \"ReconciliationSucceeded\",
      \"message\": \"Applied revision: latest@sha256:$KC_HEX2\",
      \"lastTransitionTime\": \"2026-01-01T00:00:00Z\"}]}}"
  kc_status ocirepository podinfo "{\"status\": {
    \"artifact\": {\"revision\": \"latest@sha256:$KC_HEX2\", \"digest\": \"sha256:$KC_HEX1\",
      \"lastUpdateTime\": \"2026-02-01T10:00:00Z\", \"url\": \"http://x/a.tar.gz\", \"path\": \"a.tar.gz\",
      \"metadata\": {\"org.opencontainers.image.source\": \"https://github.com/stefanprodan/podinfo\",
        \"org.opencontainers.image.revision\": \"6.7.0@sha1:0123abc\"}},
    \"conditions\": [{\"type\": \"Ready\", \"status\": \"False\", \"reason\": \"OCIArtifactPullFailed\",
      \"message\": \"failed to pull artifact\", \"lastTransitionTime\": \"2026-01-02T03:04:05Z\"}]}}"
  local labels="kustomize.toolkit.fluxcd.io/name=podinfo-staging kustomize.toolkit.fluxcd.io/namespace=$KC_NS"
  kubectl create configmap -n "$KC_APPS" podinfo-config --from-literal=a=b >/dev/null
  # shellcheck disable=SC2086
  kubectl label configmap -n "$KC_APPS" podinfo-config $labels >/dev/null
  kubectl create configmap -n "$KC_APPS" unmanaged >/dev/null
  # shellcheck disable=SC2086
  kubectl label namespace "$KC_APPS" $labels >/dev/null
}

kc_trace_prints_fluxs_report() {
  kc_trace_setup
  kc_want_report podinfo-config >"$KC_TMP/want"
  kc_trace configmap podinfo-config -n "$KC_APPS"
  [ "$KC_RC" -eq 0 ] || fail "exited $KC_RC: $(cat "$KC_TMP/err")"
  diff -u "$KC_TMP/want" "$KC_TMP/out" || fail "report differs"
  [ ! -s "$KC_TMP/err" ] || fail "stderr: $(cat "$KC_TMP/err")"
  # <resource>/<name>, a short name, a plural: the same object.
  kc_trace cm/podinfo-config -n "$KC_APPS"
  diff -u "$KC_TMP/want" "$KC_TMP/out" || fail "cm/podinfo-config differs"
  kc_trace configmaps podinfo-config --namespace "$KC_APPS"
  diff -u "$KC_TMP/want" "$KC_TMP/out" || fail "configmaps podinfo-config differs"
  # --kind and --api-version: the Object line keeps the kind as given.
  kc_trace podinfo-config --kind=configmap --api-version=v1 -n "$KC_APPS"
  kc_want_report podinfo-config configmap >"$KC_TMP/want-static"
  diff -u "$KC_TMP/want-static" "$KC_TMP/out" || fail "--kind configmap differs"
}

kc_trace_follows_owner_references() {
  # owner_ref NAME: an ownerReferences entry naming ConfigMap NAME.
  owner_ref() {
    printf '[{"apiVersion": "v1", "kind": "ConfigMap", "name": "%s", "uid": "%s"}]' \
      "$1" "$(kubectl get configmap -n "$KC_APPS" "$1" -o jsonpath='{.metadata.uid}')"
  }
  kubectl create configmap -n "$KC_APPS" child >/dev/null
  kubectl patch configmap -n "$KC_APPS" child --type=merge \
    -p "{\"metadata\": {\"ownerReferences\": $(owner_ref podinfo-config)}}" >/dev/null
  kubectl create configmap -n "$KC_APPS" grandchild >/dev/null
  kubectl patch configmap -n "$KC_APPS" grandchild --type=merge \
    -p "{\"metadata\": {\"ownerReferences\": $(owner_ref child)}}" >/dev/null
  kc_trace cm grandchild -n "$KC_APPS"
  [ "$KC_RC" -eq 0 ] || fail "exited $KC_RC: $(cat "$KC_TMP/err")"
  kc_want_report grandchild >"$KC_TMP/want"
  diff -u "$KC_TMP/want" "$KC_TMP/out" || fail "report through owners differs"
}

kc_trace_cluster_scoped_and_custom_resources() {
  kc_trace namespace "$KC_APPS"
  [ "$KC_RC" -eq 0 ] || fail "exited $KC_RC: $(cat "$KC_TMP/err")"
  head -4 "$KC_TMP/out" >"$KC_TMP/got"
  printf '\nObject:          Namespace/%s\nStatus:          Managed by Flux\n---\n' "$KC_APPS" >"$KC_TMP/want"
  diff -u "$KC_TMP/want" "$KC_TMP/got" || fail "a cluster-scoped object has no Namespace line"
  # A CRD's short name, found through discovery.
  kubectl label ocirepository -n "$KC_NS" podinfo kustomize.toolkit.fluxcd.io/name=podinfo-staging \
    "kustomize.toolkit.fluxcd.io/namespace=$KC_NS" >/dev/null
  kc_trace ocirepo podinfo -n "$KC_NS"
  [ "$KC_RC" -eq 0 ] || fail "ocirepo exited $KC_RC: $(cat "$KC_TMP/err")"
  [ "$(sed -n 2,3p "$KC_TMP/out")" = "Object:          OCIRepository/podinfo
Namespace:       $KC_NS" ] || fail "ocirepo: $(cat "$KC_TMP/out")"
  kc_trace ks/podinfo-staging -n "$KC_NS"
  [ "$KC_RC" -eq 1 ] || fail "an unlabelled Kustomization traced: $(cat "$KC_TMP/out")"
  kc_is err "✗ failed to trace Kustomization/podinfo-staging in namespace $KC_NS: object not managed by Flux"
}

kc_trace_namespace_defaults_to_the_kubeconfig_context() {
  kubectl create configmap -n default kc-default-ns >/dev/null
  kubectl label configmap -n default kc-default-ns kustomize.toolkit.fluxcd.io/name=podinfo-staging \
    "kustomize.toolkit.fluxcd.io/namespace=$KC_NS" >/dev/null
  kc_trace cm kc-default-ns
  [ "$KC_RC" -eq 0 ] || fail "exited $KC_RC: $(cat "$KC_TMP/err")"
  [ "$(sed -n 3p "$KC_TMP/out")" = "Namespace:       default" ] || fail "$(cat "$KC_TMP/out")"
  kubectl delete configmap -n default kc-default-ns >/dev/null
}

kc_trace_errors() {
  # One object that cannot be traced: Flux's line, and exit 1.
  kc_trace cm/unmanaged -n "$KC_APPS"
  [ "$KC_RC" -eq 1 ] || fail "exited $KC_RC"
  [ ! -s "$KC_TMP/out" ] || fail "stdout: $(cat "$KC_TMP/out")"
  kc_is err "✗ failed to trace ConfigMap/unmanaged in namespace $KC_APPS: object not managed by Flux"
  # Several: each traced, separated by ---, the failures named, exit 1.
  kc_trace cm/podinfo-config cm/unmanaged cm/child -n "$KC_APPS"
  [ "$KC_RC" -eq 1 ] || fail "exited $KC_RC"
  { kc_want_report podinfo-config; echo ---; echo ---; kc_want_report child; } >"$KC_TMP/want"
  diff -u "$KC_TMP/want" "$KC_TMP/out" || fail "several objects"
  kc_is err "✗ failed to trace ConfigMap/unmanaged in namespace $KC_APPS: object not managed by Flux
✗ failed to trace 1 of 3 objects"
  # A manager that is gone.
  kubectl create configmap -n "$KC_APPS" orphan >/dev/null
  kubectl label configmap -n "$KC_APPS" orphan kustomize.toolkit.fluxcd.io/name=gone \
    "kustomize.toolkit.fluxcd.io/namespace=$KC_NS" >/dev/null
  kc_trace cm orphan -n "$KC_APPS"
  [ "$KC_RC" -eq 1 ] || fail "exited $KC_RC"
  kc_is err "✗ failed to trace ConfigMap/orphan in namespace $KC_APPS: failed to find kustomization: kustomizations.kustomize.toolkit.fluxcd.io \"gone\" not found"
  # What kubectl would refuse.
  kc_trace nosuchkind x -n "$KC_APPS"
  kc_is err "✗ the server doesn't have a resource type \"nosuchkind\""
  kc_trace configmap -n "$KC_APPS"
  kc_is err "✗ either \`<resource>/<name>\` or \`<resource> <name>\` is required as an argument"
  kc_trace cm/missing -n "$KC_APPS"
  kc_is err "✗ configmaps \"missing\" not found"
  kc_trace deploy/missing -n "$KC_APPS"
  kc_is err "✗ deployments.apps \"missing\" not found"
  kc_trace missing --kind=ConfigMap -n "$KC_APPS"
  kc_is err "✗ object apiVersion is required (--api-version)"
  [ "$KC_RC" -eq 1 ] || fail "exited $KC_RC"
}

kc_cleanup() {
  kubectl delete namespace "$KC_NS" "$KC_APPS" --wait --timeout=60s >/dev/null
  rm -rf "$KC_TMP"
}

run_test "kustomization cli: setup (CRDs, the seed's objects)" kc_setup
run_test "kustomization cli: get kustomizations prints Flux's table" kc_get_kustomizations_prints_fluxs_table
run_test "kustomization cli: reconcile kustomization reports the applied revision" kc_reconcile_applies_and_reports_the_revision
run_test "kustomization cli: --with-source reconciles the OCIRepository first" kc_reconcile_with_source_reconciles_the_oci_repository_first
run_test "kustomization cli: a failed or unanswered reconcile exits 1 saying why" kc_a_failed_reconcile_exits_1_with_the_ready_message
run_test "kustomization cli: suspend and resume kustomization" kc_suspend_and_resume
run_test "kustomization cli: trace prints Flux's report" kc_trace_prints_fluxs_report
run_test "kustomization cli: trace follows ownerReferences" kc_trace_follows_owner_references
run_test "kustomization cli: trace of cluster-scoped objects and custom resources" kc_trace_cluster_scoped_and_custom_resources
run_test "kustomization cli: trace's namespace defaults to the kubeconfig context's" kc_trace_namespace_defaults_to_the_kubeconfig_context
run_test "kustomization cli: trace errors, and exit 1 when anything failed" kc_trace_errors
run_test "kustomization cli: cleanup" kc_cleanup
