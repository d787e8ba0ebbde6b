# The install manifests against a real API server: `sluice install --export`
# applies server-side, the OCIRepository and Kustomization CRDs are
# Established, Flux's manifests (v1beta2 as older docs write them, v1 as
# today's) apply verbatim and get Flux's defaults, the server refuses what
# Flux's CRDs refuse, kubectl shows Flux's columns, short names and
# categories, and the controller's RBAC is what config/rbac.yaml says.
# Sourced by tests/e2e/run with KUBECONFIG set; the tests run in order.

CRDS_SLUICE=${SLUICE_BIN:-$root/build/src/cli/sluice}
CRDS_NS=e2e-crds
CRDS_SA=system:serviceaccount:flux-system:sluice-controller
CRDS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e-crds.XXXXXX")
CRD=ocirepositories.source.toolkit.fluxcd.io
KS_CRD=kustomizations.kustomize.toolkit.fluxcd.io

crds_install_applies_server_side() {
  [ -x "$CRDS_SLUICE" ] || fail "no sluice binary at $CRDS_SLUICE (ninja -C build)"
  "$CRDS_SLUICE" install --export >"$CRDS_TMP/install.yaml"
  kubectl apply --server-side -f "$CRDS_TMP/install.yaml" >"$CRDS_TMP/apply.out" 2>&1 \
    || fail "apply failed: $(cat "$CRDS_TMP/apply.out")"
  # The pod template meets the restricted Pod Security Standard the
  # namespace warns about: the server says nothing.
  ! grep -i warning "$CRDS_TMP/apply.out" || fail "the server warned"
  local n; n=$(grep -c 'serverside-applied' "$CRDS_TMP/apply.out")
  [ "$n" -eq 11 ] || fail "$n objects applied, want 11: $(cat "$CRDS_TMP/apply.out")"
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

crds_kustomization_crd_becomes_established() {
  kubectl wait "crd/$KS_CRD" --for=condition=Established --timeout=30s
  kubectl wait "crd/$KS_CRD" --for=condition=NamesAccepted --timeout=30s
  local stored
  stored=$(kubectl get "crd/$KS_CRD" -o jsonpath='{.status.storedVersions}')
  [ "$stored" = '["v1"]' ] || fail "storedVersions $stored"
  wait_for 30 kubectl get kustomizations -n "$CRDS_NS" || fail "kustomizations not served"
  wait_for 30 kubectl get kustomizations.v1beta2.kustomize.toolkit.fluxcd.io -n "$CRDS_NS" \
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

# The seed's Kustomizations, verbatim: staging with a patch, production with
# wait, timeout and retryInterval.
crds_seed_kustomizations() {
  cat <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: podinfo-staging
  namespace: $CRDS_NS
spec:
  interval: 10m
  targetNamespace: staging
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
  namespace: $CRDS_NS
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

crds_seed_kustomizations_apply_verbatim_and_read_back_as_v1() {
  crds_seed_kustomizations >"$CRDS_TMP/seed-ks.yaml"
  kubectl apply -f "$CRDS_TMP/seed-ks.yaml" >"$CRDS_TMP/seed-ks.out" 2>&1 \
    || fail "apply failed: $(cat "$CRDS_TMP/seed-ks.out")"
  grep -q 'Warning: v1beta2 Kustomization is deprecated, upgrade to v1' "$CRDS_TMP/seed-ks.out" \
    || fail "no deprecation warning: $(cat "$CRDS_TMP/seed-ks.out")"
  kubectl get kustomizations.v1.kustomize.toolkit.fluxcd.io -n "$CRDS_NS" -o json \
    >"$CRDS_TMP/seed-ks.json"
  python3 - "$CRDS_TMP/seed-ks.json" <<'PY'
import json, sys
items = {o["metadata"]["name"]: o for o in json.load(open(sys.argv[1]))["items"]}
assert sorted(items) == ["podinfo-production", "podinfo-staging"], sorted(items)
st, prod = items["podinfo-staging"], items["podinfo-production"]
for o in (st, prod):
    assert o["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1", o["apiVersion"]
    # Flux's defaults, from the v1 schema the object is stored in.
    assert o["spec"]["force"] is False and o["spec"]["deletionPolicy"] == "MirrorPrune", o["spec"]
    assert o["status"] == {"observedGeneration": -1}, o["status"]
    assert o["spec"]["prune"] is True and o["spec"]["path"] == "./"
    assert o["spec"]["interval"] == "10m"
assert st["spec"]["targetNamespace"] == "staging"
assert st["spec"]["sourceRef"] == {"kind": "OCIRepository", "name": "podinfo"}
(patch,) = st["spec"]["patches"]
assert patch["target"] == {"kind": "Deployment", "name": "podinfo"}, patch
assert "replicas: 1" in patch["patch"] and patch["patch"].startswith("apiVersion: apps/v1"), patch
p = prod["spec"]
assert (p["retryInterval"], p["timeout"], p["wait"], p["targetNamespace"]) == \
    ("2m", "5m", True, "production"), p
assert p["sourceRef"]["name"] == "podinfo-stable"
PY
  # Read as v1beta2 too: the same object, relabelled.
  [ "$(kubectl get kustomizations.v1beta2.kustomize.toolkit.fluxcd.io podinfo-production \
      -n "$CRDS_NS" -o jsonpath='{.apiVersion} {.spec.timeout}' 2>/dev/null)" \
    = "kustomize.toolkit.fluxcd.io/v1beta2 5m" ] || fail "v1beta2 read"
}

# v1beta2's legacy patch fields are validated as v1beta2 and, unlike in a
# Flux cluster, survive v1 storage (the v1 schema keeps them; the CRD's
# header says why); validation, which nothing reads, is pruned.
crds_v1beta2_patches_survive_v1_storage() {
  kubectl apply -f - >/dev/null 2>&1 <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata: {name: legacy, namespace: $CRDS_NS}
spec:
  interval: 10m
  prune: true
  sourceRef: {kind: OCIRepository, name: podinfo}
  validation: client
  patchesStrategicMerge:
  - {apiVersion: apps/v1, kind: Deployment, metadata: {name: podinfo}, spec: {replicas: 2}}
  patchesJson6902:
  - target: {kind: Deployment, name: podinfo}
    patch: [{op: replace, path: /spec/replicas, value: 3}]
EOF
  local spec
  spec=$(kubectl get kustomizations.v1.kustomize.toolkit.fluxcd.io legacy -n "$CRDS_NS" -o jsonpath='{.spec}')
  [[ $spec == *'"interval":"10m"'* ]] || fail "not stored: $spec"
  [[ $spec == *'"patchesStrategicMerge":[{"apiVersion":"apps/v1"'* && $spec == *'"patchesJson6902":[{"patch":[{"op":"replace"'* ]] \
    || fail "v1beta2 patches lost in v1 storage: $spec"
  [[ $spec != *validation* ]] || fail "validation kept: $spec"
  expect_refused 'spec.patchesJson6902[0].patch[0].op: Unsupported value: "delete"' <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata: {name: bad-op, namespace: $CRDS_NS}
spec:
  interval: 10m
  prune: true
  sourceRef: {kind: OCIRepository, name: podinfo}
  patchesJson6902:
  - target: {kind: Deployment, name: podinfo}
    patch: [{op: delete, path: /spec/replicas}]
EOF
}

crds_server_refuses_what_fluxs_kustomization_crd_refuses() {
  local v
  for v in v1 v1beta2; do
    expect_refused 'spec.prune: Required value' <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/$v
kind: Kustomization
metadata: {name: no-prune, namespace: $CRDS_NS}
spec: {interval: 10m, sourceRef: {kind: OCIRepository, name: podinfo}}
EOF
    expect_refused 'spec.sourceRef: Required value' <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/$v
kind: Kustomization
metadata: {name: no-source, namespace: $CRDS_NS}
spec: {interval: 10m, prune: true}
EOF
    expect_refused 'spec.interval: Invalid value: "ten minutes"' <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/$v
kind: Kustomization
metadata: {name: bad-interval, namespace: $CRDS_NS}
spec: {interval: ten minutes, prune: true, sourceRef: {kind: OCIRepository, name: podinfo}}
EOF
    expect_refused 'spec.sourceRef.kind: Unsupported value: "HelmRepository"' <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/$v
kind: Kustomization
metadata: {name: bad-kind, namespace: $CRDS_NS}
spec: {interval: 10m, prune: true, sourceRef: {kind: HelmRepository, name: podinfo}}
EOF
    expect_refused 'spec.targetNamespace: Too long' <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/$v
kind: Kustomization
metadata: {name: bad-target, namespace: $CRDS_NS}
spec:
  interval: 10m
  prune: true
  sourceRef: {kind: OCIRepository, name: podinfo}
  targetNamespace: $(printf 'n%.0s' {1..64})
EOF
    expect_refused 'spec.postBuild.substituteFrom[0].kind: Unsupported value: "Namespace"' <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/$v
kind: Kustomization
metadata: {name: bad-subst, namespace: $CRDS_NS}
spec:
  interval: 10m
  prune: true
  sourceRef: {kind: OCIRepository, name: podinfo}
  postBuild: {substituteFrom: [{kind: Namespace, name: vars}]}
EOF
  done
  # ExternalArtifact is a v1 source kind only.
  expect_refused 'spec.sourceRef.kind: Unsupported value: "ExternalArtifact"' <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata: {name: bad-kind-v1beta2, namespace: $CRDS_NS}
spec: {interval: 10m, prune: true, sourceRef: {kind: ExternalArtifact, name: podinfo}}
EOF
  expect_refused 'spec.deletionPolicy: Unsupported value: "Keep"' <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: bad-policy, namespace: $CRDS_NS}
spec: {interval: 10m, prune: true, sourceRef: {kind: OCIRepository, name: podinfo}, deletionPolicy: Keep}
EOF
  expect_refused 'exactly one of configMapRef or secretRef must be specified' <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: bad-kubeconfig, namespace: $CRDS_NS}
spec:
  interval: 10m
  prune: true
  sourceRef: {kind: OCIRepository, name: podinfo}
  kubeConfig: {secretRef: {name: a}, configMapRef: {name: b}}
EOF
  # v1's fields are not v1beta2's: kubectl's strict validation names them.
  expect_refused 'unknown field "spec.namePrefix"' <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata: {name: bad-field, namespace: $CRDS_NS}
spec: {interval: 10m, prune: true, sourceRef: {kind: OCIRepository, name: podinfo}, namePrefix: x-}
EOF
}

crds_kubectl_shows_fluxs_kustomization_columns_short_name_and_categories() {
  kubectl patch kustomization podinfo-staging -n "$CRDS_NS" --subresource=status --type=merge -p '
{"status": {"observedGeneration": 1, "lastAppliedRevision": "latest@sha256:0123",
  "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
    "message": "Applied revision: latest@sha256:0123", "lastTransitionTime": "2026-01-01T00:00:00Z",
    "observedGeneration": 1}]}}' >/dev/null
  local out header row
  out=$(kubectl get ks -n "$CRDS_NS")
  header=${out%%$'\n'*}
  [ "$(tr -s ' ' <<<"$header")" = "NAME AGE READY STATUS" ] || fail "columns: $header"
  row=$(kubectl get ks -n "$CRDS_NS" podinfo-staging --no-headers | tr -s ' ')
  [[ $row =~ ^podinfo-staging\ [0-9]+[smh]\ True\ Applied\ revision:\ latest@sha256:0123$ ]] \
    || fail "row: $row"
  local cat
  for cat in fluxcd fluxcd-appliers all; do
    kubectl get "$cat" -n "$CRDS_NS" -o name \
      | grep -x 'kustomization.kustomize.toolkit.fluxcd.io/podinfo-staging' >/dev/null \
      || fail "category $cat lacks the Kustomization: $(kubectl get "$cat" -n "$CRDS_NS" -o name)"
  done
  ! kubectl get fluxcd-sources -n "$CRDS_NS" -o name | grep -q kustomization \
    || fail "a Kustomization is not a source"
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

# The ServiceAccount is cluster-admin (what Kustomizations apply is
# anybody's guess); the ClusterRole alone, bound to a ServiceAccount of the
# test's own, is exactly what the controller calls.
crds_controller_is_cluster_admin_and_its_role_exactly_its_job() {
  can() { [ "$(kubectl auth can-i --as="$1" "${@:2}" 2>/dev/null)" = yes ]; }
  local sa=$CRDS_SA probe=system:serviceaccount:$CRDS_NS:role-probe
  [ "$(kubectl get clusterrolebinding sluice-cluster-reconciler-flux-system \
      -o jsonpath='{.roleRef.name} {.subjects[0].name} {.subjects[0].namespace}')" \
    = "cluster-admin sluice-controller flux-system" ] || fail "cluster-admin binding"
  can "$sa" create deployments.apps -n "$CRDS_NS" || fail "cannot create Deployments"
  can "$sa" create customresourcedefinitions.apiextensions.k8s.io || fail "cannot create CRDs"
  can "$sa" impersonate serviceaccounts -n "$CRDS_NS" || fail "cannot impersonate"
  kubectl create serviceaccount role-probe -n "$CRDS_NS" >/dev/null
  kubectl create clusterrolebinding e2e-crds-role-probe --clusterrole=sluice-controller-flux-system \
    --serviceaccount="$CRDS_NS:role-probe" >/dev/null
  local res
  for res in ocirepositories.source.toolkit.fluxcd.io kustomizations.kustomize.toolkit.fluxcd.io; do
    can "$probe" watch "$res" -A || fail "cannot watch $res"
    can "$probe" patch "$res" -n "$CRDS_NS" || fail "cannot patch $res"
    can "$probe" patch "$res" --subresource=status -n "$CRDS_NS" || fail "cannot patch $res/status"
    can "$probe" update "$res" --subresource=finalizers -n "$CRDS_NS" || fail "cannot update $res/finalizers"
    ! can "$probe" delete "$res" -n "$CRDS_NS" || fail "may delete $res"
    ! can "$probe" create "$res" -n "$CRDS_NS" || fail "may create $res"
  done
  can "$probe" get secrets -n "$CRDS_NS" || fail "cannot get Secrets"
  can "$probe" list configmaps -A || fail "cannot list ConfigMaps"
  can "$probe" get serviceaccounts -n "$CRDS_NS" || fail "cannot get ServiceAccounts"
  can "$probe" create events -n "$CRDS_NS" || fail "cannot create Events"
  ! can "$probe" create secrets -n "$CRDS_NS" || fail "may create Secrets"
  ! can "$probe" delete configmaps -n "$CRDS_NS" || fail "may delete ConfigMaps"
  ! can "$probe" create deployments.apps -n "$CRDS_NS" || fail "may create Deployments"
  kubectl delete clusterrolebinding e2e-crds-role-probe >/dev/null
  can "$sa" create leases.coordination.k8s.io -n flux-system || fail "cannot create its Lease"
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
  kubectl get clusterrolebinding sluice-cluster-reconciler-e2e-other \
    sluice-cluster-reconciler-flux-system >/dev/null
  [ "$(kubectl get clusterrolebinding sluice-controller-e2e-other -o jsonpath='{.subjects[0].namespace}')" \
    = e2e-other ] || fail "binding subject namespace"
  kubectl -n e2e-other get deployment/sluice-controller service/source-controller >/dev/null
}

crds_uninstall_with_kubectl_leaves_nothing() {
  kubectl delete namespace "$CRDS_NS" --wait --timeout=60s >/dev/null
  "$CRDS_SLUICE" install --export --namespace e2e-other | kubectl delete --wait --timeout=60s -f - >/dev/null
  "$CRDS_SLUICE" install --export | kubectl delete --wait --timeout=60s --ignore-not-found -f - >/dev/null
  ! kubectl get "crd/$CRD" 2>/dev/null || fail "the CRD is still there"
  ! kubectl get "crd/$KS_CRD" 2>/dev/null || fail "the Kustomization CRD is still there"
  ! kubectl get clusterrolebinding sluice-cluster-reconciler-flux-system 2>/dev/null \
    || fail "cluster-admin binding left"
  ! kubectl get clusterrole sluice-controller-flux-system 2>/dev/null || fail "ClusterRole left"
  ! kubectl get namespace flux-system 2>/dev/null || fail "flux-system left"
  rm -rf "$CRDS_TMP"
}

run_test "sluice install --export applies server-side, 11 objects, no warning" crds_install_applies_server_side
run_test "the OCIRepository CRD becomes Established, v1 and v1beta2 served" crds_crd_becomes_established
run_test "the Kustomization CRD becomes Established, v1 and v1beta2 served" crds_kustomization_crd_becomes_established
run_test "Flux's v1beta2 OCIRepositories apply verbatim with the deprecation warning" crds_v1beta2_manifests_apply_verbatim_with_fluxs_warning
run_test "Flux's defaults appear (provider, timeout, verify.provider, status)" crds_defaults_appear
run_test "the same object reads as v1 and as v1beta2" crds_same_object_reads_as_v1_and_v1beta2
run_test "the API server refuses what Flux's CRD refuses" crds_server_refuses_what_flux_refuses
run_test "kubectl shows Flux's columns; ocirepo and the categories work" crds_kubectl_shows_fluxs_columns_short_name_and_categories
run_test "the seed's v1beta2 Kustomizations apply verbatim and read back as v1 with Flux's defaults" crds_seed_kustomizations_apply_verbatim_and_read_back_as_v1
run_test "v1beta2 Kustomization patches are validated and survive v1 storage" crds_v1beta2_patches_survive_v1_storage
run_test "the API server refuses what Flux's Kustomization CRD refuses" crds_server_refuses_what_fluxs_kustomization_crd_refuses
run_test "kubectl shows Flux's Kustomization columns; ks and the categories work" crds_kubectl_shows_fluxs_kustomization_columns_short_name_and_categories
run_test "the status subresource is served separately and validated" crds_status_subresource_is_separate
run_test "the controller is cluster-admin; its ClusterRole is exactly its job" crds_controller_is_cluster_admin_and_its_role_exactly_its_job
run_test "the Deployment rolls out behind the source-controller Service" crds_deployment_rolls_out_behind_the_artifact_service
run_test "a second install in another namespace does not collide" crds_a_second_namespace_installs_beside_the_first
run_test "kubectl delete of the stream removes everything" crds_uninstall_with_kubectl_leaves_nothing
