# The install manifests against a real API server: `sluice install --export`
# applies server-side, the OCIRepository CRD is Established, Flux's
# manifests (v1beta2 as older docs write them, v1 as today's) apply
# verbatim and get Flux's defaults, the server refuses what Flux's CRD
# refuses, and kubectl shows Flux's columns, short name and categories.
# Sourced by tests/e2e/run with KUBECONFIG set; the tests run in order.

CRDS_SLUICE=${SLUICE_BIN:-$root/build/src/cli/sluice}
CRDS_NS=e2e-crds
CRDS_SA=system:serviceaccount:flux-system:sluice-controller
CRDS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e-crds.XXXXXX")
CRD=ocirepositories.source.toolkit.fluxcd.io

crds_install_applies_server_side() {
  [ -x "$CRDS_SLUICE" ] || fail "no sluice binary at $CRDS_SLUICE (ninja -C build)"
  "$CRDS_SLUICE" install --export >"$CRDS_TMP/install.yaml"
  kubectl apply --server-side -f "$CRDS_TMP/install.yaml" >"$CRDS_TMP/apply.out" 2>&1 \
    || fail "apply failed: $(cat "$CRDS_TMP/apply.out")"
  # The pod template meets the restricted Pod Security Standard the
  # namespace warns about: the server says nothing.
  ! grep -i warning "$CRDS_TMP/apply.out" || fail "the server warned"
  local n; n=$(grep -c 'serverside-applied' "$CRDS_TMP/apply.out")
  [ "$n" -eq 9 ] || fail "$n objects applied, want 9: $(cat "$CRDS_TMP/apply.out")"
  # Applying again changes nothing and conflicts with nothing.
  kubectl apply --server-side -f "$CRDS_TMP/install.yaml" >/dev/null
}

crds_crd_becomes_established() {
  kubectl wait "crd/$CRD" --for=condition=Established --timeout=30s
  kubectl wait "crd/$CRD" --for=condition=NamesAccepted --timeout=30s
  local stored
  stored=$(kubectl get "crd/$CRD" -o jsonpath='{.status.storedVersions}')
  [ "$stored" = '["v1"]' ] || fail "storedVersions $stored"
  kubectl create namespace "$CRDS_NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  # Discovery can lag Established by a moment.
  wait_for 30 kubectl get ocirepositories -n "$CRDS_NS" || fail "ocirepositories not served"
  wait_for 30 kubectl get ocirepositories.v1beta2.source.toolkit.fluxcd.io -n "$CRDS_NS" \
    || fail "v1beta2 not served"
}

# The seed's manifests, written as Flux's documentation writes them.
crds_seed_v1beta2() {
  cat <<EOF
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo
  namespace: $CRDS_NS
spec:
  interval: 1m
  url: oci://ghcr.io/stefanprodan/manifests/podinfo
  ref:
    tag: latest
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo-stable
  namespace: $CRDS_NS
spec:
  interval: 1m
  url: oci://ghcr.io/stefanprodan/manifests/podinfo
  ref:
    tag: stable
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo-releases
  namespace: $CRDS_NS
spec:
  interval: 1m
  url: oci://ghcr.io/stefanprodan/manifests/podinfo
  ref:
    semver: ">=1.0.0"
EOF
}

crds_v1beta2_manifests_apply_verbatim_with_fluxs_warning() {
  crds_seed_v1beta2 >"$CRDS_TMP/seed.yaml"
  kubectl apply -f "$CRDS_TMP/seed.yaml" >"$CRDS_TMP/seed.out" 2>&1 \
    || fail "apply failed: $(cat "$CRDS_TMP/seed.out")"
  grep -q 'Warning: v1beta2 OCIRepository is deprecated, upgrade to v1' "$CRDS_TMP/seed.out" \
    || fail "no deprecation warning: $(cat "$CRDS_TMP/seed.out")"
  local n; n=$(kubectl get ocirepositories -n "$CRDS_NS" -o name | wc -l)
  [ "$n" -eq 3 ] || fail "$n OCIRepositories, want 3"
  [ "$(kubectl get ocirepository podinfo-releases -n "$CRDS_NS" -o jsonpath='{.spec.ref.semver}')" \
    = '>=1.0.0' ] || fail "semver not stored"
}

crds_defaults_appear() {
  kubectl get ocirepository podinfo -n "$CRDS_NS" -o yaml >"$CRDS_TMP/podinfo.yaml"
  python3 - "$CRDS_TMP/podinfo.yaml" <<'PY'
import sys, yaml
o = yaml.safe_load(open(sys.argv[1]))
spec, status = o["spec"], o["status"]
assert spec["provider"] == "generic", spec
assert spec["timeout"] == "60s", spec
assert spec["interval"] == "1m" and spec["ref"] == {"tag": "latest"}, spec
assert status == {"observedGeneration": -1}, status
PY
  # Nested defaults too: verify.provider defaults to cosign.
  kubectl apply -f - <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: podinfo-signed
  namespace: $CRDS_NS
spec:
  interval: 5m
  url: oci://ghcr.io/stefanprodan/manifests/podinfo
  verify:
    secretRef:
      name: cosign-pub
EOF
  [ "$(kubectl get ocirepository podinfo-signed -n "$CRDS_NS" -o jsonpath='{.spec.verify.provider}')" \
    = cosign ] || fail "verify.provider not defaulted"
}

crds_same_object_reads_as_v1_and_v1beta2() {
  local v1 v1beta2
  v1=$(kubectl get ocirepositories.v1.source.toolkit.fluxcd.io podinfo-stable -n "$CRDS_NS" \
    -o jsonpath='{.apiVersion} {.spec.ref.tag} {.spec.timeout} {.metadata.uid}')
  v1beta2=$(kubectl get ocirepositories.v1beta2.source.toolkit.fluxcd.io podinfo-stable \
    -n "$CRDS_NS" -o jsonpath='{.apiVersion} {.spec.ref.tag} {.spec.timeout} {.metadata.uid}' 2>/dev/null)
  [ "${v1%% *}" = source.toolkit.fluxcd.io/v1 ] || fail "v1 read: $v1"
  [ "${v1beta2%% *}" = source.toolkit.fluxcd.io/v1beta2 ] || fail "v1beta2 read: $v1beta2"
  [ "${v1#* }" = "${v1beta2#* }" ] || fail "versions disagree: '$v1' vs '$v1beta2'"
  [[ $v1 == *" stable 60s "* ]] || fail "v1 content: $v1"
}

# expect_refused MESSAGE: the manifest on stdin is refused with MESSAGE.
expect_refused() {
  local out
  if out=$(kubectl create -f - 2>&1); then
    fail "accepted: $out"
  fi
  grep -qF -- "$1" <<<"$out" || fail "refused without '$1': $out"
}

crds_server_refuses_what_flux_refuses() {
  local v
  for v in v1 v1beta2; do
    expect_refused 'spec.url: Invalid value: "https://ghcr.io/org/app": spec.url in body should match '"'"'^oci://.*$'"'" <<EOF
apiVersion: source.toolkit.fluxcd.io/$v
kind: OCIRepository
metadata: {name: bad-url, namespace: $CRDS_NS}
spec: {interval: 1m, url: "https://ghcr.io/org/app"}
EOF
    expect_refused 'spec.interval: Invalid value: "1 minute"' <<EOF
apiVersion: source.toolkit.fluxcd.io/$v
kind: OCIRepository
metadata: {name: bad-interval, namespace: $CRDS_NS}
spec: {interval: 1 minute, url: "oci://ghcr.io/org/app"}
EOF
    expect_refused 'spec.provider: Unsupported value: "digitalocean"' <<EOF
apiVersion: source.toolkit.fluxcd.io/$v
kind: OCIRepository
metadata: {name: bad-provider, namespace: $CRDS_NS}
spec: {interval: 1m, url: "oci://ghcr.io/org/app", provider: digitalocean}
EOF
    expect_refused 'spec.timeout: Invalid value: "1h"' <<EOF
apiVersion: source.toolkit.fluxcd.io/$v
kind: OCIRepository
metadata: {name: bad-timeout, namespace: $CRDS_NS}
spec: {interval: 1m, url: "oci://ghcr.io/org/app", timeout: 1h}
EOF
    expect_refused 'spec.interval: Required value' <<EOF
apiVersion: source.toolkit.fluxcd.io/$v
kind: OCIRepository
metadata: {name: no-interval, namespace: $CRDS_NS}
spec: {url: "oci://ghcr.io/org/app"}
EOF
    expect_refused 'spec.layerSelector.operation: Unsupported value: "move"' <<EOF
apiVersion: source.toolkit.fluxcd.io/$v
kind: OCIRepository
metadata: {name: bad-operation, namespace: $CRDS_NS}
spec: {interval: 1m, url: "oci://ghcr.io/org/app", layerSelector: {operation: move}}
EOF
    expect_refused 'spec.verify.matchOIDCIdentity[0].subject: Required value' <<EOF
apiVersion: source.toolkit.fluxcd.io/$v
kind: OCIRepository
metadata: {name: bad-identity, namespace: $CRDS_NS}
spec:
  interval: 1m
  url: oci://ghcr.io/org/app
  verify: {provider: cosign, matchOIDCIdentity: [{issuer: "^https://token.actions.githubusercontent.com$"}]}
EOF
  done
  # kubectl's strict field validation names a field Flux does not have.
  expect_refused 'unknown field "spec.tag"' <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: bad-field, namespace: $CRDS_NS}
spec: {interval: 1m, url: "oci://ghcr.io/org/app", tag: latest}
EOF
}

crds_kubectl_shows_fluxs_columns_short_name_and_categories() {
  local header
  # All of kubectl's output first: `| head -1` would SIGPIPE it under pipefail.
  header=$(kubectl get ocirepositories -n "$CRDS_NS")
  header=${header%%$'\n'*}
  [ "$(tr -s ' ' <<<"$header")" = "NAME URL READY STATUS AGE" ] || fail "columns: $header"
  kubectl get ocirepo -n "$CRDS_NS" podinfo >/dev/null || fail "short name ocirepo"
  local cat
  for cat in fluxcd fluxcd-sources all; do
    kubectl get "$cat" -n "$CRDS_NS" -o name | grep -x 'ocirepository.source.toolkit.fluxcd.io/podinfo' >/dev/null \
      || fail "category $cat lacks the OCIRepository: $(kubectl get "$cat" -n "$CRDS_NS" -o name)"
  done
}

crds_status_subresource_is_separate() {
  local msg="stored artifact for digest 'latest@sha256:3b6c0e5e5b3b6e0e2f1f0e0d4c8c9e0f1a2b3c4d5e6f708192a3b4c5d6e7f809'"
  kubectl patch ocirepository podinfo -n "$CRDS_NS" --subresource=status --type=merge -p "$(cat <<EOF
{"status": {"observedGeneration": 1,
  "url": "http://source-controller.flux-system.svc.cluster.local./ocirepository/$CRDS_NS/podinfo/latest.tar.gz",
  "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded",
    "message": "$msg", "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1}]}}
EOF
)"
  local row
  row=$(kubectl get ocirepositories -n "$CRDS_NS" podinfo --no-headers | tr -s ' ')
  [[ $row == "podinfo oci://ghcr.io/stefanprodan/manifests/podinfo True $msg "* ]] \
    || fail "row after the status patch: $row"
  # Status written through the main resource is dropped; spec written
  # through /status is dropped too.
  kubectl patch ocirepository podinfo -n "$CRDS_NS" --type=merge -p '{"status":{"url":"x"}}' >/dev/null
  kubectl patch ocirepository podinfo -n "$CRDS_NS" --subresource=status --type=merge \
    -p '{"spec":{"suspend":true}}' >/dev/null
  local got
  got=$(kubectl get ocirepository podinfo -n "$CRDS_NS" -o jsonpath='{.status.url} {.spec.suspend}')
  [[ $got == http://source-controller.* ]] || fail "status.url overwritten through the main resource: $got"
  [[ $got != *true ]] || fail "spec changed through /status: $got"
  # The status schema is enforced too.
  if kubectl patch ocirepository podinfo -n "$CRDS_NS" --subresource=status --type=merge \
      -p '{"status":{"conditions":[{"type":"Ready","status":"Maybe","reason":"X","message":"","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}' 2>/dev/null; then
    fail "status accepted a condition with status Maybe"
  fi
}

crds_controller_may_do_exactly_its_job() {
  can() { [ "$(kubectl auth can-i --as="$CRDS_SA" "$@" 2>/dev/null)" = yes ]; }
  local res=ocirepositories.source.toolkit.fluxcd.io
  can watch "$res" -A || fail "cannot watch OCIRepositories"
  can patch "$res" -n "$CRDS_NS" || fail "cannot patch OCIRepositories"
  can patch "$res" --subresource=status -n "$CRDS_NS" || fail "cannot patch /status"
  can update "$res" --subresource=finalizers -n "$CRDS_NS" || fail "cannot update /finalizers"
  can get secrets -n "$CRDS_NS" || fail "cannot get Secrets"
  can list configmaps -A || fail "cannot list ConfigMaps"
  can get serviceaccounts -n "$CRDS_NS" || fail "cannot get ServiceAccounts"
  can create events -n "$CRDS_NS" || fail "cannot create Events"
  can create leases.coordination.k8s.io -n flux-system || fail "cannot create its Lease"
  ! can create leases.coordination.k8s.io -n "$CRDS_NS" || fail "may create Leases anywhere"
  ! can delete "$res" -n "$CRDS_NS" || fail "may delete OCIRepositories"
  ! can create "$res" -n "$CRDS_NS" || fail "may create OCIRepositories"
  ! can create secrets -n "$CRDS_NS" || fail "may create Secrets"
  ! can delete configmaps -n "$CRDS_NS" || fail "may delete ConfigMaps"
  ! can create deployments.apps -n "$CRDS_NS" || fail "may create Deployments"
}

crds_deployment_rolls_out_behind_the_artifact_service() {
  # kwok plays the kubelet: this checks scheduling and the pod spec, not
  # the image.
  kubectl -n flux-system rollout status deployment/sluice-controller --timeout=60s
  local sa port
  sa=$(kubectl -n flux-system get pods -l app=sluice-controller -o jsonpath='{.items[0].spec.serviceAccountName}')
  [ "$sa" = sluice-controller ] || fail "pod runs as '$sa'"
  port=$(kubectl -n flux-system get service source-controller -o jsonpath='{.spec.ports[0].port}->{.spec.ports[0].targetPort}')
  [ "$port" = "80->http" ] || fail "service ports: $port"
  wait_for 30 crds_service_has_an_endpoint || fail "service source-controller has no ready endpoint"
}

crds_service_has_an_endpoint() {
  kubectl -n flux-system get endpointslices -l kubernetes.io/service-name=source-controller \
    -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]} {end}{.items[*].ports[0].port}' \
    | grep '^[0-9.]* 9090$' >/dev/null
}

crds_a_second_namespace_installs_beside_the_first() {
  "$CRDS_SLUICE" install --export --namespace e2e-other | kubectl apply --server-side -f - >/dev/null
  kubectl get clusterrole sluice-controller-e2e-other sluice-controller-flux-system >/dev/null
  [ "$(kubectl get clusterrolebinding sluice-controller-e2e-other -o jsonpath='{.subjects[0].namespace}')" \
    = e2e-other ] || fail "binding subject namespace"
  kubectl -n e2e-other get deployment/sluice-controller service/source-controller >/dev/null
}

crds_uninstall_with_kubectl_leaves_nothing() {
  kubectl delete namespace "$CRDS_NS" --wait --timeout=60s >/dev/null
  "$CRDS_SLUICE" install --export --namespace e2e-other | kubectl delete --wait --timeout=60s -f - >/dev/null
  "$CRDS_SLUICE" install --export | kubectl delete --wait --timeout=60s --ignore-not-found -f - >/dev/null
  ! kubectl get "crd/$CRD" 2>/dev/null || fail "the CRD is still there"
  ! kubectl get clusterrole sluice-controller-flux-system 2>/dev/null || fail "ClusterRole left"
  ! kubectl get namespace flux-system 2>/dev/null || fail "flux-system left"
  rm -rf "$CRDS_TMP"
}

run_test "sluice install --export applies server-side, 9 objects, no warning" crds_install_applies_server_side
run_test "the OCIRepository CRD becomes Established, v1 and v1beta2 served" crds_crd_becomes_established
run_test "Flux's v1beta2 OCIRepositories apply verbatim with the deprecation warning" crds_v1beta2_manifests_apply_verbatim_with_fluxs_warning
run_test "Flux's defaults appear (provider, timeout, verify.provider, status)" crds_defaults_appear
run_test "the same object reads as v1 and as v1beta2" crds_same_object_reads_as_v1_and_v1beta2
run_test "the API server refuses what Flux's CRD refuses" crds_server_refuses_what_flux_refuses
run_test "kubectl shows Flux's columns; ocirepo and the categories work" crds_kubectl_shows_fluxs_columns_short_name_and_categories
run_test "the status subresource is served separately and validated" crds_status_subresource_is_separate
run_test "the controller's ServiceAccount may do exactly its job" crds_controller_may_do_exactly_its_job
run_test "the Deployment rolls out behind the source-controller Service" crds_deployment_rolls_out_behind_the_artifact_service
run_test "a second install in another namespace does not collide" crds_a_second_namespace_installs_beside_the_first
run_test "kubectl delete of the stream removes everything" crds_uninstall_with_kubectl_leaves_nothing
