# The OCIRepository CLI on the real control plane, against the real
# registry, with `sluice controller` running out of the cluster: `sluice
# install` applies the manifests and waits for the controller's Deployment;
# `create secret oci` creates the Secret it would export; `create source
# oci` applies the object and reports Flux's lines and the fetched
# revision; `get sources oci` prints Flux's table; `reconcile source oci`
# reports a new push; suspend/resume; a failing source exits 1 with its
# Ready message; `delete source oci` refuses to ask without a terminal and
# waits until the object is gone; `uninstall` removes everything, stripping
# the finalizers (of OCIRepositories and Kustomizations) no controller
# would remove any more.
# Sourced by tests/e2e/run with KUBECONFIG set; the tests run in order.
# It deletes the OCIRepository CRD at its end: keep it last in the run.

CLI_SLUICE=${SLUICE_BIN:-$root/build/src/cli/sluice}
CLI_NS=e2e-cli-system
CLI_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e-cli.XXXXXX")
mkdir -p "$CLI_TMP/storage" "$CLI_TMP/src"

# cli ARGS...: sluice in $CLI_NS; stdout in $CLI_TMP/out, stderr in
# $CLI_TMP/err, the exit status in CLI_RC. Never fails by itself.
cli() {
  CLI_RC=0
  "$CLI_SLUICE" "$@" --namespace "$CLI_NS" --timeout 90s \
    >"$CLI_TMP/out" 2>"$CLI_TMP/err" </dev/null || CLI_RC=$?
}
cli_ok() { cli "$@"; [ "$CLI_RC" -eq 0 ] || fail "sluice $* exited $CLI_RC: $(cat "$CLI_TMP/err")"; }
# cli_err_is EXPECTED: stderr is exactly these lines.
cli_err_is() {
  [ "$(cat "$CLI_TMP/err")" = "$1" ] || fail "stderr:
$(cat "$CLI_TMP/err")
--- want:
$1"
}
cli_push() { # cli_push TAG CONTENT
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  v: "%s"\n' "$2" \
    >"$CLI_TMP/src/cm.yaml"
  "$CLI_SLUICE" push artifact "oci://$REGISTRY_HOST/e2e/cli:$1" -f "$CLI_TMP/src" \
    --source=https://github.com/example/cli.git --revision="main@sha1:$2" >/dev/null 2>&1 \
    || fail "pushing $1"
}
cli_digest() {
  curl -fsS -o /dev/null -D - -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REGISTRY_HOST/v2/e2e/cli/manifests/$1" | tr -d '\r' |
    awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}'
}
cli_get() { kubectl get ocirepository -n "$CLI_NS" "$1" -o jsonpath="$2"; }
cli_start_controller() {
  setsid "$CLI_SLUICE" controller --kubeconfig "$KUBECONFIG" --storage-path "$CLI_TMP/storage" \
    --storage-addr "127.0.0.1:$(free_port)" --metrics-addr "127.0.0.1:$(free_port)" \
    --health-addr "127.0.0.1:$CLI_HEALTH" --log-encoding console \
    --min-retry-delay 200ms --max-retry-delay 2s >>"$CLI_TMP/controller.log" 2>&1 &
  echo $! >"$CLI_TMP/controller.pid"
  wait_for 30 curl -fsS "http://127.0.0.1:$CLI_HEALTH/readyz" \
    || echo "# controller not ready: $(tail -5 "$CLI_TMP/controller.log")" >&2
}
cli_stop_controller() {
  local pid
  pid=$(cat "$CLI_TMP/controller.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait_for 30 sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$CLI_TMP/controller.pid"
}

eval "$("$root/scripts/registry" start plain "$CLI_TMP/registry")"
CLI_HEALTH=$(free_port)

cli_install_applies_the_manifests_and_waits_for_the_controller() {
  [ -x "$CLI_SLUICE" ] || fail "no sluice binary at $CLI_SLUICE (ninja -C build)"
  cli_ok install
  [ ! -s "$CLI_TMP/out" ] || fail "printed to stdout: $(cat "$CLI_TMP/out")"
  local want
  for want in "✚ generating manifests" "✔ manifests build completed" \
              "► installing components in $CLI_NS namespace" \
              "Namespace/$CLI_NS created" \
              "ServiceAccount/$CLI_NS/sluice-controller created" \
              "ClusterRole/sluice-controller-$CLI_NS created" \
              "Deployment/$CLI_NS/sluice-controller created" \
              "◎ verifying installation" "✔ sluice-controller: deployment ready" \
              "✔ install finished"; do
    grep -qxF -- "$want" "$CLI_TMP/err" || fail "no line '$want' in: $(cat "$CLI_TMP/err")"
  done
  # The CRD may be there from an earlier suite; it is applied first anyway.
  grep -qE '^CustomResourceDefinition/ocirepositories.source.toolkit.fluxcd.io (created|configured|unchanged)$' \
    "$CLI_TMP/err" || fail "CRD line missing: $(cat "$CLI_TMP/err")"
  grep -qE '^CustomResourceDefinition/kustomizations.kustomize.toolkit.fluxcd.io (created|configured|unchanged)$' \
    "$CLI_TMP/err" || fail "Kustomization CRD line missing: $(cat "$CLI_TMP/err")"
  grep -qxF "ClusterRoleBinding/sluice-cluster-reconciler-$CLI_NS created" "$CLI_TMP/err" \
    || fail "cluster-admin binding line missing: $(cat "$CLI_TMP/err")"
  [ "$(grep -n 'CustomResourceDefinition/' "$CLI_TMP/err" | tail -1 | cut -d: -f1)" -lt \
    "$(grep -n 'ServiceAccount/' "$CLI_TMP/err" | cut -d: -f1)" ] || fail "CRDs not applied first"
  kubectl wait crd/ocirepositories.source.toolkit.fluxcd.io crd/kustomizations.kustomize.toolkit.fluxcd.io \
    --for=condition=Established --timeout=5s >/dev/null
  [ "$(kubectl get deploy -n "$CLI_NS" sluice-controller -o jsonpath='{.status.availableReplicas}')" = 1 ] \
    || fail "deployment not available"
  # Server-side applied as sluice, so `kubectl apply --server-side` of the
  # export shares the fields instead of fighting over them.
  kubectl get ns "$CLI_NS" -o jsonpath='{.metadata.managedFields[*].manager}' | grep -w sluice >/dev/null \
    || fail "field manager: $(kubectl get ns "$CLI_NS" -o jsonpath='{.metadata.managedFields}')"
  # Again: nothing to create, nothing fails.
  cli_ok install
  ! grep -q ' created$' "$CLI_TMP/err" || fail "second install created objects: $(cat "$CLI_TMP/err")"
  grep -qxF "Namespace/$CLI_NS unchanged" "$CLI_TMP/err" || fail "$(cat "$CLI_TMP/err")"
}

cli_create_secret_oci_creates_what_it_exports() {
  cli_ok create secret oci cli-auth --url="$REGISTRY_HOST" --username=flux --password='s3cr"et'
  [ ! -s "$CLI_TMP/out" ] || fail "printed the secret: $(cat "$CLI_TMP/out")"
  cli_err_is "► oci secret 'cli-auth' created in '$CLI_NS' namespace"
  [ "$(kubectl get secret -n "$CLI_NS" cli-auth -o jsonpath='{.type}')" = kubernetes.io/dockerconfigjson ] \
    || fail "type"
  kubectl get secret -n "$CLI_NS" cli-auth -o jsonpath='{.data.\.dockerconfigjson}' | base64 -d \
    >"$CLI_TMP/stored.json"
  cli_ok create secret oci cli-auth --url="$REGISTRY_HOST" --username=flux --password='s3cr"et' --export
  python3 - "$CLI_TMP/out" "$CLI_TMP/stored.json" <<'PY' || fail "stored Secret differs from the export"
import json, sys, yaml
exported = yaml.safe_load(open(sys.argv[1]))["stringData"][".dockerconfigjson"]
stored = open(sys.argv[2]).read()
assert exported == stored, (exported, stored)
assert json.loads(stored)["auths"]
PY
  # Applying it again changes nothing and fails nothing.
  cli_ok create secret oci cli-auth --url="$REGISTRY_HOST" --username=flux --password='s3cr"et'
}

cli_create_source_oci_applies_and_reports_the_revision() {
  cli_push stable 1
  cli_ok create source oci app --url="oci://$REGISTRY_HOST/e2e/cli" --tag=stable --interval=10m \
    --label=team=cli
  cli_err_is "► applying OCIRepository
✔ OCIRepository created
◎ waiting for OCIRepository reconciliation
✔ OCIRepository reconciliation completed
✔ fetched revision: stable@$(cli_digest stable)"
  [ "$(cli_get app '{.spec.interval} {.spec.provider} {.spec.ref.tag} {.metadata.labels.team}')" = \
    "10m0s generic stable cli" ] || fail "spec: $(cli_get app '{.spec}')"
  # The same command again updates it, and is Ready at once.
  cli_ok create source oci app --url="oci://$REGISTRY_HOST/e2e/cli" --tag=stable --interval=10m \
    --label=team=cli
  grep -qxF "✔ OCIRepository updated" "$CLI_TMP/err" || fail "$(cat "$CLI_TMP/err")"
}

cli_get_sources_oci_prints_fluxs_table() {
  local d short
  d=$(cli_digest stable); short=${d:7:8}
  cli_ok get sources oci
  printf 'NAME\tREVISION\tSUSPENDED\tREADY\tMESSAGE\napp\tstable@sha256:%s\tFalse\tTrue\tstored artifact for digest '"'"'stable@sha256:%s'"'"'\n' \
    "$short" "$short" >"$CLI_TMP/want"
  # Cells are padded and tab-ended; compare them trimmed.
  sed -e 's/ *\t/\t/g' -e 's/\t*$//' -e 's/ *$//' "$CLI_TMP/out" >"$CLI_TMP/got"
  diff -u "$CLI_TMP/want" "$CLI_TMP/got" || fail "table differs"
  grep -q $'^app \tstable@' "$CLI_TMP/out" || fail "cells not padded: $(cat -A "$CLI_TMP/out")"
  # Other suites may have left objects in other namespaces.
  cli_ok get sources oci -A --no-header
  [ "$(cut -f1,2 "$CLI_TMP/out" | tr -d ' ' | grep "^$CLI_NS")" = "$CLI_NS"$'\t'app ] \
    || fail "-A: $(cat "$CLI_TMP/out")"
  cli_ok get sources oci -A
  [ "$(head -1 "$CLI_TMP/out" | cut -f1,2 | tr -d ' ')" = NAMESPACE$'\t'NAME ] \
    || fail "-A header: $(head -1 "$CLI_TMP/out")"
  cli_ok get sources oci --status-selector ready=false
  [ "$(wc -l <"$CLI_TMP/out")" -eq 1 ] || fail "ready=false listed: $(cat "$CLI_TMP/out")"
  cli_ok get sources oci -l team=cli --no-header
  grep -q '^app' "$CLI_TMP/out" || fail "-l team=cli: $(cat "$CLI_TMP/out")"
  cli_ok get sources oci -l team=other
  grep -qF "no OCIRepository objects found in \"$CLI_NS\" namespace" "$CLI_TMP/err" || fail "$(cat "$CLI_TMP/err")"
  cli_ok get sources oci app -o json
  python3 - "$CLI_TMP/out" "$d" <<'PY' || fail "-o json: $(head -c 600 "$CLI_TMP/out")"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["kind"] == "OCIRepository" and o["metadata"]["name"] == "app", o
assert "managedFields" not in o["metadata"]
assert o["status"]["artifact"]["revision"] == "stable@" + sys.argv[2]
PY
  cli_ok get sources oci -o yaml
  python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert d["kind"] == "List" and d["items"][0]["metadata"]["name"] == "app"' \
    "$CLI_TMP/out" || fail "-o yaml: $(head -20 "$CLI_TMP/out")"
  cli get sources oci missing
  [ "$CLI_RC" -eq 1 ] || fail "a missing name exited $CLI_RC"
  cli_err_is "✗ OCIRepository object 'missing' not found in \"$CLI_NS\" namespace"
}

cli_reconcile_reports_a_new_push() {
  local before; before=$(cli_digest stable)
  cli_push stable 2
  local after; after=$(cli_digest stable)
  [ "$before" != "$after" ] || fail "the push did not change the digest"
  cli_ok reconcile source oci app
  cli_err_is "► annotating OCIRepository app in $CLI_NS namespace
✔ OCIRepository annotated
◎ waiting for OCIRepository reconciliation
✔ OCIRepository reconciliation completed
✔ fetched revision stable@$after"
  local at; at=$(cli_get app '{.metadata.annotations.reconcile\.fluxcd\.io/requestedAt}')
  [[ $at =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?(Z|[+-][0-9]{2}:[0-9]{2})$ ]] \
    || fail "requestedAt is not RFC 3339 with nanoseconds: $at"
  [ "$(cli_get app '{.status.lastHandledReconcileAt}')" = "$at" ] || fail "lastHandledReconcileAt"
}

cli_suspend_and_resume() {
  cli_ok suspend source oci app
  cli_err_is "► suspending source oci app in $CLI_NS namespace
✔ source oci suspended"
  [ "$(cli_get app '{.spec.suspend}')" = true ] || fail "not suspended"
  cli_ok get sources oci app --no-header
  [ "$(cut -f3 "$CLI_TMP/out" | tr -d ' ')" = True ] || fail "SUSPENDED column: $(cat "$CLI_TMP/out")"
  cli reconcile source oci app
  [ "$CLI_RC" -eq 1 ] || fail "reconcile of a suspended object exited $CLI_RC"
  cli_err_is "✗ resource is suspended"
  cli_push stable 3
  cli_ok resume source oci app
  cli_err_is "► resuming source oci app in $CLI_NS namespace
✔ source oci resumed
◎ waiting for OCIRepository reconciliation
✔ OCIRepository reconciliation completed
✔ fetched revision stable@$(cli_digest stable)"
  [ "$(cli_get app '{.spec.suspend}')" = false ] || fail "still suspended"
}

cli_a_failing_source_exits_1_with_its_ready_message() {
  cli create source oci broken --url="oci://$REGISTRY_HOST/e2e/cli" --tag=no-such-tag
  [ "$CLI_RC" -eq 1 ] || fail "exited $CLI_RC: $(cat "$CLI_TMP/err")"
  local msg; msg=$(cli_get broken '{.status.conditions[?(@.type=="Ready")].message}')
  [ -n "$msg" ] || fail "no Ready message"
  [ "$(tail -1 "$CLI_TMP/err")" = "✗ $msg" ] || fail "last line: $(tail -1 "$CLI_TMP/err"), Ready: $msg"
  cli reconcile source oci broken
  [ "$CLI_RC" -eq 1 ] || fail "reconcile exited $CLI_RC"
  [ "$(tail -1 "$CLI_TMP/err")" = "✗ $(cli_get broken '{.status.conditions[?(@.type=="Ready")].message}')" ] \
    || fail "reconcile: $(cat "$CLI_TMP/err")"
  cli_ok get sources oci --status-selector ready=false --no-header
  [ "$(cut -f1 "$CLI_TMP/out" | tr -d ' ')" = broken ] || fail "ready=false: $(cat "$CLI_TMP/out")"
}

cli_delete_asks_then_waits_until_gone() {
  cli delete source oci broken
  [ "$CLI_RC" -eq 1 ] || fail "deleted without confirmation"
  grep -qF -- "--silent" "$CLI_TMP/err" || fail "message: $(cat "$CLI_TMP/err")"
  cli_get broken '{.metadata.name}' >/dev/null || fail "deleted anyway"
  cli_ok delete source oci broken --silent
  cli_err_is "► deleting source oci broken in $CLI_NS namespace
✔ source oci deleted"
  ! kubectl get ocirepository -n "$CLI_NS" broken >/dev/null 2>&1 || fail "still there"
  cli delete source oci broken --silent
  [ "$CLI_RC" -eq 1 ] || fail "deleting a missing object exited $CLI_RC"
  cli_err_is "✗ ocirepositories.source.toolkit.fluxcd.io \"broken\" not found"
}

cli_uninstall_removes_everything() {
  cli uninstall
  [ "$CLI_RC" -eq 1 ] || fail "uninstalled without confirmation"
  kubectl get ns "$CLI_NS" >/dev/null || fail "namespace deleted anyway"
  # A dry run says what would go, and nothing goes.
  cli_ok uninstall --dry-run
  grep -qxF "✔ Deployment/$CLI_NS/sluice-controller deleted (dry run)" "$CLI_TMP/err" \
    || fail "dry run: $(cat "$CLI_TMP/err")"
  sleep 1
  kubectl get deploy -n "$CLI_NS" sluice-controller >/dev/null || fail "dry run deleted the Deployment"
  kubectl get crd ocirepositories.source.toolkit.fluxcd.io -o jsonpath='{.metadata.deletionTimestamp}' \
    | grep . >/dev/null && fail "dry run deleted the CRD"
  [ "$(kubectl get ns "$CLI_NS" -o jsonpath='{.status.phase}')" = Active ] || fail "dry run deleted the namespace"
  # With no controller left, only uninstall can take the finalizer off.
  [ "$(cli_get app '{.metadata.finalizers[0]}')" = finalizers.fluxcd.io ] || fail "no finalizer to remove"
  cli_stop_controller
  # A Kustomization a stopped controller left its finalizer on.
  kubectl apply -n "$CLI_NS" -f - >/dev/null <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, finalizers: [finalizers.fluxcd.io]}
spec: {interval: 10m, prune: true, sourceRef: {kind: OCIRepository, name: app}}
EOF
  cli_ok uninstall --silent
  local want
  for want in "► deleting components in $CLI_NS namespace" \
              "✔ Deployment/$CLI_NS/sluice-controller deleted" \
              "✔ ClusterRole/sluice-controller-$CLI_NS deleted" \
              "► deleting toolkit.fluxcd.io finalizers in all namespaces" \
              "✔ OCIRepository/$CLI_NS/app finalizers deleted" \
              "✔ Kustomization/$CLI_NS/apps finalizers deleted" \
              "► deleting toolkit.fluxcd.io custom resource definitions" \
              "✔ CustomResourceDefinition/ocirepositories.source.toolkit.fluxcd.io deleted" \
              "✔ CustomResourceDefinition/kustomizations.kustomize.toolkit.fluxcd.io deleted" \
              "✔ ClusterRoleBinding/sluice-cluster-reconciler-$CLI_NS deleted" \
              "✔ Namespace/$CLI_NS deleted" "✔ uninstall finished"; do
    grep -qxF -- "$want" "$CLI_TMP/err" || fail "no line '$want' in: $(cat "$CLI_TMP/err")"
  done
  wait_for 60 sh -c "! kubectl get crd ocirepositories.source.toolkit.fluxcd.io" || fail "CRD left"
  wait_for 60 sh -c "! kubectl get crd kustomizations.kustomize.toolkit.fluxcd.io" \
    || fail "Kustomization CRD left: $(kubectl get kustomizations -A -o name 2>&1)"
  wait_for 60 sh -c "! kubectl get ns $CLI_NS" || fail "namespace left: $(kubectl get ns "$CLI_NS" -o jsonpath='{.status}')"
  ! kubectl get clusterrole "sluice-controller-$CLI_NS" >/dev/null 2>&1 || fail "ClusterRole left"
  ! kubectl get clusterrolebinding "sluice-controller-$CLI_NS" >/dev/null 2>&1 || fail "ClusterRoleBinding left"
  ! kubectl get clusterrolebinding "sluice-cluster-reconciler-$CLI_NS" >/dev/null 2>&1 \
    || fail "cluster-admin ClusterRoleBinding left"
  # Nothing left to remove: still a success.
  cli_ok uninstall --silent
}

run_test "source oci cli: install applies the manifests and waits for the controller" cli_install_applies_the_manifests_and_waits_for_the_controller
# The controller starts once the CRD exists (an informer that found no CRD
# backs off for up to 30 s).
cli_start_controller
run_test "source oci cli: create secret oci creates the Secret it exports" cli_create_secret_oci_creates_what_it_exports
run_test "source oci cli: create source oci applies and reports the revision" cli_create_source_oci_applies_and_reports_the_revision
run_test "source oci cli: get sources oci prints Flux's table" cli_get_sources_oci_prints_fluxs_table
run_test "source oci cli: reconcile source oci reports a new push" cli_reconcile_reports_a_new_push
run_test "source oci cli: suspend and resume source oci" cli_suspend_and_resume
run_test "source oci cli: a failing source exits 1 with its Ready message" cli_a_failing_source_exits_1_with_its_ready_message
run_test "source oci cli: delete source oci asks, then waits until gone" cli_delete_asks_then_waits_until_gone
run_test "source oci cli: uninstall removes everything, finalizers included" cli_uninstall_removes_everything
cli_stop_controller
"$root/scripts/registry" stop --clean "$CLI_TMP/registry" >/dev/null 2>&1 || true
[ -n "${SLUICE_E2E_KEEP:-}" ] || rm -rf "$CLI_TMP"
