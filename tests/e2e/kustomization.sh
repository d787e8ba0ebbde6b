# `sluice controller` reconciling Kustomizations from OCIRepositories on the
# real control plane (Deployments roll out on kwok nodes) against the real
# registry: the seed's v1beta2 objects (staging with a patch and
# targetNamespace, production with wait, timeout, retryInterval) become
# Ready with Flux's status; a new artifact revision is applied at once; what
# leaves the artifact is pruned unless it opts out; drift is corrected; a
# rollout that cannot finish fails its health check; dependencies gate;
# fields sluice cannot honour stall instead of being ignored; deletion
# prunes. Sourced by tests/e2e/run with KUBECONFIG set; tests run in order.

KS_SLUICE=${SLUICE_BIN:-$root/build/src/cli/sluice}
KS_NS=flux-system
KS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e-ks.XXXXXX")
mkdir -p "$KS_TMP/storage" "$KS_TMP/app"

# ks_app REPLICAS [with-service]: writes the app's manifests.
ks_app() {
  rm -rf "$KS_TMP/app" && mkdir -p "$KS_TMP/app"
  cat >"$KS_TMP/app/deployment.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
spec:
  replicas: $1
  selector:
    matchLabels: {app: podinfo}
  template:
    metadata:
      labels: {app: podinfo}
    spec:
      containers:
      - name: podinfo
        image: ghcr.io/stefanprodan/podinfo:6.7.0
        ports:
        - containerPort: 9898
EOF
  cat >"$KS_TMP/app/config.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: podinfo-config
data:
  color: blue
EOF
  if [ "${2:-}" = with-service ]; then
    cat >"$KS_TMP/app/service.yaml" <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: podinfo
spec:
  selector: {app: podinfo}
  ports:
  - port: 9898
EOF
  fi
}
ks_push() { # ks_push TAG [REPO]
  "$KS_SLUICE" push artifact "oci://$REGISTRY_HOST/${2:-e2e/podinfo}:$1" -f "$KS_TMP/app" \
    --source=https://github.com/stefanprodan/podinfo --revision="main@sha1:$(printf '%s' "$1$RANDOM" | sha1sum | cut -c1-40)" >/dev/null 2>&1
}
ks_get() { kubectl get kustomization -n "$KS_NS" "$1" -o jsonpath="$2"; }
ks_cond() { ks_get "$1" "{.status.conditions[?(@.type==\"$2\")].$3}"; }
ks_wait_ready() { # ks_wait_ready NAME [SECONDS]
  kubectl wait -n "$KS_NS" "kustomization/$1" --for=condition=Ready --timeout="${2:-90}s" >/dev/null \
    || fail "$1 not Ready: $(ks_get "$1" '{.status.conditions}')"
}
ks_start_controller() {
  setsid "$KS_SLUICE" controller --kubeconfig "$KUBECONFIG" --storage-path "$KS_TMP/storage" \
    --storage-addr "127.0.0.1:$KS_PORT" --metrics-addr "127.0.0.1:$KS_METRICS" \
    --health-addr "127.0.0.1:$KS_HEALTH" --log-encoding console --concurrent 4 \
    --min-retry-delay 200ms --max-retry-delay 2s --requeue-dependency 2s ${KS_EXTRA:-} >>"$KS_TMP/controller.log" 2>&1 &
  echo $! >"$KS_TMP/controller.pid"
  wait_for 30 curl -fsS "http://127.0.0.1:$KS_HEALTH/readyz" || fail "controller not ready: $(tail -5 "$KS_TMP/controller.log")"
}
ks_stop_controller() {
  local pid
  pid=$(cat "$KS_TMP/controller.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait_for 30 sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$KS_TMP/controller.pid"
}
ks_request() { # ks_request KIND NAME TOKEN: reconcile.fluxcd.io/requestedAt
  kubectl annotate -n "$KS_NS" "$1/$2" --overwrite "reconcile.fluxcd.io/requestedAt=$3" >/dev/null
}

eval "$("$root/scripts/registry" start plain "$KS_TMP/registry")"
KS_PORT=$(free_port)
KS_HEALTH=$(free_port)
KS_METRICS=$(free_port)

ks_setup() {
  ks_app 2 with-service && ks_push latest && ks_push stable || fail "pushing"
  "$KS_SLUICE" install --export | python3 -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] in ("CustomResourceDefinition", "Namespace")]
yaml.safe_dump_all(docs, sys.stdout)' | kubectl apply --server-side -f - >/dev/null
  kubectl wait crd/kustomizations.kustomize.toolkit.fluxcd.io crd/ocirepositories.source.toolkit.fluxcd.io \
    --for=condition=Established --timeout=30s >/dev/null || fail "CRDs"
  for ns in "$KS_NS" staging production; do
    kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  done
  wait_for 30 kubectl get kustomizations -n "$KS_NS" || fail "kustomizations not served"
  ks_start_controller
}

ks_seed_objects_become_ready() {
  # The seed's sources and Kustomizations, verbatim but for the URL.
  kubectl apply -n "$KS_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  interval: 1m
  url: oci://$REGISTRY_HOST/e2e/podinfo
  ref:
    tag: latest
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo-stable
  namespace: flux-system
spec:
  interval: 1m
  url: oci://$REGISTRY_HOST/e2e/podinfo
  ref:
    tag: stable
---
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: podinfo-staging
  namespace: flux-system
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
  namespace: flux-system
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
  ks_wait_ready podinfo-staging
  ks_wait_ready podinfo-production 120
  local rev; rev=$(kubectl get ocirepository -n "$KS_NS" podinfo -o jsonpath='{.status.artifact.revision}')
  [ "$(ks_cond podinfo-staging Ready message)" = "Applied revision: $rev" ] || fail "$(ks_get podinfo-staging '{.status.conditions}')"
  [ "$(ks_cond podinfo-staging Ready reason)" = ReconciliationSucceeded ] || fail "reason"
  [ "$(ks_get podinfo-staging '{.status.lastAppliedRevision}')" = "$rev" ] || fail "lastAppliedRevision"
  [ "$(ks_get podinfo-staging '{.status.lastAttemptedRevision}')" = "$rev" ] || fail "lastAttemptedRevision"
  ks_get podinfo-staging '{.status.lastAppliedOriginRevision}' | grep -q '^main@sha1:' || fail "origin revision"
  # The patch and targetNamespace, the owner labels, the field manager.
  [ "$(kubectl get deploy -n staging podinfo -o jsonpath='{.spec.replicas}')" = 1 ] || fail "patch not applied"
  [ "$(kubectl get deploy -n production podinfo -o jsonpath='{.spec.replicas}')" = 2 ] || fail "production replicas"
  [ "$(kubectl get cm -n staging podinfo-config -o jsonpath='{.metadata.labels.kustomize\.toolkit\.fluxcd\.io/name}')" = podinfo-staging ] || fail "owner label"
  [ "$(kubectl get cm -n staging podinfo-config -o jsonpath='{.metadata.labels.kustomize\.toolkit\.fluxcd\.io/namespace}')" = flux-system ] || fail "owner namespace label"
  kubectl get deploy -n staging podinfo -o jsonpath='{.metadata.managedFields[*].manager}' | grep -qw kustomize-controller || fail "field manager"
  # Flux's inventory ids, in apply order.
  [ "$(ks_get podinfo-staging '{.status.inventory.entries[*].id}')" = "staging_podinfo-config__ConfigMap staging_podinfo__Service staging_podinfo_apps_Deployment" ] \
    || fail "inventory: $(ks_get podinfo-staging '{.status.inventory.entries}')"
  [ "$(ks_get podinfo-staging '{.status.inventory.entries[2].v}')" = v1 ] || fail "inventory version"
  # wait: true means Healthy, and the Deployment really rolled out.
  [ "$(ks_cond podinfo-production Healthy status)" = True ] || fail "Healthy: $(ks_get podinfo-production '{.status.conditions}')"
  [ "$(kubectl get deploy -n production podinfo -o jsonpath='{.status.availableReplicas}')" = 2 ] || fail "not rolled out"
  [ "$(ks_get podinfo-production '{.status.observedGeneration}')" = "$(ks_get podinfo-production '{.metadata.generation}')" ] || fail "observedGeneration"
  # The apply event lists the change set.
  wait_for 20 sh -c "kubectl events -n $KS_NS --for Kustomization/podinfo-staging | grep -F 'Deployment/staging/podinfo created'" \
    || fail "no change-set event: $(kubectl events -n "$KS_NS" --for Kustomization/podinfo-staging)"
}

ks_v1beta2_legacy_patches_apply() {
  kubectl create namespace legacy --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl apply -n "$KS_NS" -f - >/dev/null <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1beta2
kind: Kustomization
metadata:
  name: legacy-patches
  namespace: flux-system
spec:
  interval: 10m
  targetNamespace: legacy
  prune: true
  sourceRef:
    kind: OCIRepository
    name: podinfo
  patchesStrategicMerge:
  - apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: podinfo
    spec:
      replicas: 4
  patchesJson6902:
  - target:
      version: v1
      kind: ConfigMap
      name: podinfo-config
    patch:
    - op: replace
      path: /data/color
      value: purple
EOF
  ks_wait_ready legacy-patches
  [ "$(kubectl get deploy -n legacy podinfo -o jsonpath='{.spec.replicas}')" = 4 ] || fail "patchesStrategicMerge not applied"
  [ "$(kubectl get cm -n legacy podinfo-config -o jsonpath='{.data.color}')" = purple ] || fail "patchesJson6902 not applied"
  kubectl delete -n "$KS_NS" kustomization/legacy-patches --wait --timeout=60s >/dev/null || fail "deletion"
}

ks_new_revision_is_applied_at_once() {
  ks_app 3 with-service && ks_push latest || fail "push"
  local before; before=$(ks_get podinfo-staging '{.status.lastAppliedRevision}')
  # Only the source is asked; its new revision triggers the Kustomization.
  ks_request ocirepository podinfo rev-1
  wait_for 60 sh -c "[ \"\$(kubectl get ks -n $KS_NS podinfo-staging -o jsonpath='{.status.lastAppliedRevision}')\" != '$before' ]" \
    || fail "not applied: $(ks_get podinfo-staging '{.status.conditions}')"
  # The patch still wins over the artifact's 3 replicas.
  [ "$(kubectl get deploy -n staging podinfo -o jsonpath='{.spec.replicas}')" = 1 ] || fail "patch lost"
}

ks_drift_is_corrected() {
  # A reconcile with nothing to change writes nothing.
  local rv; rv=$(kubectl get deploy -n staging podinfo -o jsonpath='{.metadata.resourceVersion}')
  ks_request kustomization podinfo-staging same-1
  wait_for 30 sh -c "[ \"\$(kubectl get ks -n $KS_NS podinfo-staging -o jsonpath='{.status.lastHandledReconcileAt}')\" = same-1 ]" \
    || fail "not reconciled"
  [ "$(kubectl get deploy -n staging podinfo -o jsonpath='{.metadata.resourceVersion}')" = "$rv" ] || fail "an unchanged object was written"
  kubectl patch cm -n staging podinfo-config --type merge -p '{"data":{"color":"red"}}' >/dev/null
  ks_request kustomization podinfo-staging drift-1
  wait_for 30 sh -c "[ \"\$(kubectl get cm -n staging podinfo-config -o jsonpath='{.data.color}')\" = blue ]" \
    || fail "drift not corrected"
  wait_for 20 sh -c "kubectl events -n $KS_NS --for Kustomization/podinfo-staging | grep -F 'ConfigMap/staging/podinfo-config configured'" \
    || fail "no configured event"
}

ks_diff_shows_what_would_change() {
  local out rc
  ks_app 3 with-service
  out=$("$KS_SLUICE" diff kustomization podinfo-staging -n "$KS_NS" --path "$KS_TMP/app" 2>&1) \
    || fail "changes reported for the applied content: $out"
  grep -F "no changes detected" <<<"$out" >/dev/null || fail "$out"
  sed -i 's/color: blue/color: green/' "$KS_TMP/app/config.yaml"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n' >"$KS_TMP/app/extra.yaml"
  rm "$KS_TMP/app/service.yaml"
  rc=0; out=$("$KS_SLUICE" diff kustomization podinfo-staging -n "$KS_NS" --path "$KS_TMP/app" 2>&1) || rc=$?
  [ "$rc" = 1 ] || fail "exit $rc: $out"
  for line in "► ConfigMap/staging/podinfo-config drifted" "-  color: blue" "+  color: green" \
      "► ConfigMap/staging/extra created" "► Service/staging/podinfo deleted" \
      "✗ identified at least one change, exiting with non-zero exit code"; do
    grep -F -- "$line" <<<"$out" >/dev/null || fail "no '$line' in: $out"
  done
  ! grep -F "Deployment/staging/podinfo" <<<"$out" >/dev/null || fail "the patched Deployment reported: $out"
  # A dry run: the cluster is as it was.
  [ "$(kubectl get cm -n staging podinfo-config -o jsonpath='{.data.color}')" = blue ] || fail "changed the cluster"
  ! kubectl get cm -n staging extra >/dev/null 2>&1 || fail "created in the cluster"
  kubectl get svc -n staging podinfo >/dev/null || fail "deleted in the cluster"
  ks_app 3 with-service
}

ks_removed_objects_are_pruned() {
  # An object of the inventory that opts out of pruning stays.
  kubectl annotate -n staging cm/podinfo-config kustomize.toolkit.fluxcd.io/prune=disabled --overwrite >/dev/null
  ks_app 3 && rm "$KS_TMP/app/config.yaml" && ks_push latest || fail "push"
  ks_request ocirepository podinfo rev-2
  wait_for 60 sh -c "! kubectl get svc -n staging podinfo >/dev/null 2>&1" || fail "Service not pruned"
  kubectl get cm -n staging podinfo-config >/dev/null 2>&1 || fail "prune: disabled was deleted"
  wait_for 30 sh -c "[ \"\$(kubectl get ks -n $KS_NS podinfo-staging -o jsonpath='{.status.inventory.entries[*].id}')\" = staging_podinfo_apps_Deployment ]" \
    || fail "inventory: $(ks_get podinfo-staging '{.status.inventory.entries}')"
  kubectl get deploy -n staging podinfo >/dev/null || fail "the Deployment went too"
}

ks_failed_rollout_fails_the_health_check() {
  cat >"$KS_TMP/stuck.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: stuck
spec:
  replicas: 1
  selector:
    matchLabels: {app: stuck}
  template:
    metadata:
      labels: {app: stuck}
    spec:
      nodeSelector: {no-such-node: "true"}
      containers:
      - name: app
        image: example.invalid/app:1
EOF
  rm -rf "$KS_TMP/stuck" && mkdir -p "$KS_TMP/stuck" && mv "$KS_TMP/stuck.yaml" "$KS_TMP/stuck/"
  "$KS_SLUICE" push artifact "oci://$REGISTRY_HOST/e2e/stuck:v1" -f "$KS_TMP/stuck" --source=s --revision=r >/dev/null 2>&1 || fail "push"
  kubectl apply -n "$KS_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: stuck
spec:
  interval: 10m
  url: oci://$REGISTRY_HOST/e2e/stuck
  ref:
    tag: v1
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: stuck
spec:
  interval: 10m
  retryInterval: 1m
  timeout: 6s
  wait: true
  prune: true
  targetNamespace: staging
  sourceRef:
    kind: OCIRepository
    name: stuck
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: after-stuck
spec:
  interval: 10m
  prune: true
  dependsOn:
  - name: stuck
  targetNamespace: production
  sourceRef:
    kind: OCIRepository
    name: stuck
EOF
  # (Ready may be False first for another reason: the source not ready yet.)
  wait_for 60 sh -c "[ \"\$(kubectl get ks -n $KS_NS stuck -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].reason}')\" = HealthCheckFailed ]" \
    || fail "reason: $(ks_get stuck '{.status.conditions}')"
  ks_cond stuck Ready message | grep -E "^health check failed after [0-9.]+s: timeout waiting for: \[Deployment/staging/stuck status: 'InProgress'\]$" >/dev/null \
    || fail "message: $(ks_cond stuck Ready message)"
  [ "$(ks_cond stuck Healthy status)" = False ] || fail "Healthy"
  # Its dependant waits for it.
  wait_for 30 sh -c "[ \"\$(kubectl get ks -n $KS_NS after-stuck -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].reason}')\" = DependencyNotReady ]" \
    || fail "dependsOn: $(ks_get after-stuck '{.status.conditions}')"
  [ "$(ks_cond after-stuck Ready message)" = "dependency 'flux-system/stuck' is not ready" ] || fail "$(ks_cond after-stuck Ready message)"
  ! kubectl get deploy -n production stuck >/dev/null 2>&1 || fail "dependant applied"
  kubectl delete -n "$KS_NS" kustomization/after-stuck --wait --timeout=30s >/dev/null
}

ks_service_account_is_impersonated() {
  kubectl create namespace tenant --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl create serviceaccount -n "$KS_NS" tenant --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  # The tenant may manage ConfigMaps in its namespace, nothing else.
  kubectl apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: tenant, namespace: tenant}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenant, namespace: tenant}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tenant}
subjects:
- {kind: ServiceAccount, name: tenant, namespace: flux-system}
EOF
  kubectl apply -n "$KS_NS" -f - >/dev/null <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: tenant
spec:
  interval: 10m
  retryInterval: 2s
  prune: true
  serviceAccountName: tenant
  targetNamespace: tenant
  sourceRef:
    kind: OCIRepository
    name: podinfo-stable
EOF
  wait_for 60 sh -c "kubectl get ks -n $KS_NS tenant -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].message}' | grep -F 'system:serviceaccount:flux-system:tenant'" \
    || fail "not refused as the tenant: $(ks_get tenant '{.status.conditions}')"
  [ "$(ks_cond tenant Ready reason)" = ReconciliationFailed ] || fail "reason: $(ks_cond tenant Ready reason)"
  ! kubectl get deploy -n tenant podinfo >/dev/null 2>&1 || fail "applied beyond the tenant's rights"
  # Granted more, it converges (retryInterval 2s).
  kubectl patch role -n tenant tenant --type json -p '[{"op":"add","path":"/rules/-","value":{"apiGroups":["","apps"],"resources":["services","deployments"],"verbs":["*"]}}]' >/dev/null
  ks_wait_ready tenant
  kubectl get deploy -n tenant podinfo >/dev/null || fail "not applied"
  # A name that would smuggle headers never reaches the controller.
  ! kubectl patch ks -n "$KS_NS" tenant --type merge -p '{"spec":{"serviceAccountName":"x\r\nImpersonate-Group: system:masters"}}' >/dev/null 2>&1 \
    || fail "the API server accepted a serviceAccountName with CR LF"
  # Deleting it prunes as the tenant, too.
  kubectl delete -n "$KS_NS" kustomization/tenant --wait --timeout=60s >/dev/null || fail "deletion"
  ! kubectl get deploy -n tenant podinfo >/dev/null 2>&1 || fail "not pruned"
}

ks_artifact_cannot_read_the_controllers_files() {
  mkdir -p "$KS_TMP/escape"
  printf 'configMapGenerator:\n- name: stolen\n  files:\n  - token=/etc/hostname\n' >"$KS_TMP/escape/kustomization.yaml"
  "$KS_SLUICE" push artifact "oci://$REGISTRY_HOST/e2e/escape:v1" -f "$KS_TMP/escape" --source=s --revision=r >/dev/null 2>&1 || fail "push"
  kubectl apply -n "$KS_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: escape
spec:
  interval: 10m
  url: oci://$REGISTRY_HOST/e2e/escape
  ref:
    tag: v1
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: escape
spec:
  interval: 10m
  prune: true
  targetNamespace: staging
  sourceRef:
    kind: OCIRepository
    name: escape
EOF
  wait_for 60 sh -c "[ \"\$(kubectl get ks -n $KS_NS escape -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].reason}')\" = BuildFailed ]" \
    || fail "not refused: $(ks_get escape '{.status.conditions}')"
  ks_cond escape Ready message | grep -F "security; file '/etc/hostname' is not in or below" >/dev/null || fail "$(ks_cond escape Ready message)"
  ! kubectl get cm -n staging -o name | grep stolen >/dev/null || fail "the file reached the cluster"
  kubectl delete -n "$KS_NS" kustomization/escape ocirepository/escape --wait --timeout=30s >/dev/null
}

ks_unsupported_fields_stall() {
  kubectl apply -n "$KS_NS" -f - >/dev/null <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: remote
spec:
  interval: 10m
  prune: true
  kubeConfig:
    secretRef:
      name: remote-cluster
  targetNamespace: production
  sourceRef:
    kind: OCIRepository
    name: podinfo
EOF
  kubectl wait -n "$KS_NS" kustomization/remote --for=condition=Stalled --timeout=30s >/dev/null \
    || fail "not stalled: $(ks_get remote '{.status.conditions}')"
  ks_cond remote Ready message | grep -F "spec.kubeConfig is not supported by sluice yet" >/dev/null || fail "message"
  [ -z "$(kubectl get deploy -n production -l kustomize.toolkit.fluxcd.io/name=remote -o name)" ] || fail "applied anyway"
  kubectl delete -n "$KS_NS" kustomization/remote --wait --timeout=30s >/dev/null
}

ks_suspended_is_left_alone() {
  kubectl patch ks -n "$KS_NS" podinfo-production --type merge -p '{"spec":{"suspend":true}}' >/dev/null
  kubectl patch cm -n production podinfo-config --type merge -p '{"data":{"color":"green"}}' >/dev/null
  ks_request kustomization podinfo-production susp-1
  ks_request kustomization podinfo-staging susp-1
  wait_for 30 sh -c "[ \"\$(kubectl get ks -n $KS_NS podinfo-staging -o jsonpath='{.status.lastHandledReconcileAt}')\" = susp-1 ]" \
    || fail "staging not reconciled"
  [ "$(kubectl get cm -n production podinfo-config -o jsonpath='{.data.color}')" = green ] || fail "suspended object reconciled"
  kubectl patch ks -n "$KS_NS" podinfo-production --type merge -p '{"spec":{"suspend":false}}' >/dev/null
  wait_for 60 sh -c "[ \"\$(kubectl get cm -n production podinfo-config -o jsonpath='{.data.color}')\" = blue ]" || fail "resume did not correct drift"
}

# ks_push_dir DIR REPO TAG: pushes DIR as an artifact.
ks_push_dir() {
  "$KS_SLUICE" push artifact "oci://$REGISTRY_HOST/$2:$3" -f "$1" --source=s --revision="$3" >/dev/null 2>&1
}

ks_stages_substitution_force_and_ownership() {
  local d=$KS_TMP/platform
  rm -rf "$d" && mkdir -p "$d"
  # A CRD and a custom resource of it in one artifact: the CRD is applied
  # and Established before the resource (Flux's stages).
  cat >"$d/crd.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
EOF
  cat >"$d/widget.yaml" <<'EOF'
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gear
  namespace: platform
spec:
  color: ${color}
  size: ${size:=small}
  token: ${token}
EOF
  printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: platform\n' >"$d/ns.yaml"
  # Immutable, and forced: a changed value recreates it.
  cat >"$d/frozen.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: frozen
  namespace: platform
  annotations:
    kustomize.toolkit.fluxcd.io/force: enabled
immutable: true
data:
  v: "1"
EOF
  # Created once, then left to whoever edits it.
  cat >"$d/seed.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: seeded
  namespace: platform
  annotations:
    kustomize.toolkit.fluxcd.io/ssa: IfNotPresent
data:
  v: "1"
EOF
  cat >"$d/adopted.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: adopted
  namespace: platform
data:
  v: "1"
EOF
  ks_push_dir "$d" e2e/platform v1 || fail "push"
  kubectl create configmap -n "$KS_NS" platform-vars --from-literal=color=teal >/dev/null
  kubectl create secret generic -n "$KS_NS" platform-secrets --from-literal=token=t0k3n >/dev/null
  kubectl apply -n "$KS_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: platform
spec:
  interval: 10m
  url: oci://$REGISTRY_HOST/e2e/platform
  ref:
    tag: v1
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: platform
spec:
  interval: 10m
  retryInterval: 2s
  prune: true
  sourceRef:
    kind: OCIRepository
    name: platform
  postBuild:
    substituteFrom:
    - kind: ConfigMap
      name: platform-vars
    - kind: Secret
      name: platform-secrets
    - kind: ConfigMap
      name: not-there
      optional: true
EOF
  ks_wait_ready platform 90
  [ "$(kubectl get widget -n platform gear -o jsonpath='{.spec.color}/{.spec.size}/{.spec.token}')" = teal/small/t0k3n ] \
    || fail "substitution: $(kubectl get widget -n platform gear -o jsonpath='{.spec}')"
  ks_get platform '{.status.inventory.entries[*].id}' | grep -F "_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition" >/dev/null \
    || fail "inventory: $(ks_get platform '{.status.inventory.entries}')"
  local uid; uid=$(kubectl get cm -n platform frozen -o jsonpath='{.metadata.uid}')
  # Someone edits the seeded ConfigMap; someone else takes adopted over.
  kubectl patch cm -n platform seeded --type merge -p '{"data":{"v":"mine"}}' >/dev/null
  kubectl label cm -n platform adopted kustomize.toolkit.fluxcd.io/name=other --overwrite >/dev/null
  # v2: the immutable value changes, adopted leaves the artifact.
  sed -i 's/v: "1"/v: "2"/' "$d/frozen.yaml"
  rm "$d/adopted.yaml"
  ks_push_dir "$d" e2e/platform v1 || fail "push v2"
  ks_request ocirepository platform plat-2
  wait_for 60 sh -c "[ \"\$(kubectl get cm -n platform frozen -o jsonpath='{.data.v}' 2>/dev/null)\" = 2 ]" \
    || fail "not recreated: $(ks_get platform '{.status.conditions}')"
  [ "$(kubectl get cm -n platform frozen -o jsonpath='{.metadata.uid}')" != "$uid" ] || fail "same object: not recreated"
  ks_wait_ready platform
  [ "$(kubectl get cm -n platform seeded -o jsonpath='{.data.v}')" = mine ] || fail "IfNotPresent object overwritten"
  kubectl get cm -n platform adopted >/dev/null 2>&1 || fail "pruned an object another Kustomization owns"
  kubectl delete -n "$KS_NS" kustomization/platform --wait --timeout=60s >/dev/null || fail "deletion"
  ! kubectl get crd widgets.example.com >/dev/null 2>&1 || fail "CRD not pruned"
}

ks_job_gone_after_its_ttl_is_healthy() {
  local d=$KS_TMP/job
  rm -rf "$d" && mkdir -p "$d"
  cat >"$d/job.yaml" <<'EOF'
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  ttlSecondsAfterFinished: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: example.invalid/migrate:1
EOF
  ks_push_dir "$d" e2e/job v1 || fail "push"
  kubectl apply -n "$KS_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: job
spec:
  interval: 10m
  url: oci://$REGISTRY_HOST/e2e/job
  ref:
    tag: v1
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: job
spec:
  interval: 10m
  timeout: 40s
  wait: true
  prune: false
  targetNamespace: staging
  sourceRef:
    kind: OCIRepository
    name: job
EOF
  # The Job completes on a kwok node and is deleted at once (TTL 0): gone
  # after finishing counts as healthy, as in Flux 1.8.
  ks_wait_ready job 60
  [ "$(ks_cond job Healthy status)" = True ] || fail "$(ks_get job '{.status.conditions}')"
  kubectl delete -n "$KS_NS" kustomization/job ocirepository/job --wait --timeout=30s >/dev/null
}

ks_artifact_of_another_controller_comes_over_http() {
  # Two shards: A (every object but shard=b) stores the source; B (shard=b)
  # reconciles a Kustomization whose source it neither watches nor stores.
  ks_stop_controller
  KS_EXTRA="--watch-label-selector shard!=b" ks_start_controller
  local b_port b_health b_metrics
  b_port=$(free_port); b_health=$(free_port); b_metrics=$(free_port)
  mkdir -p "$KS_TMP/storage-b"
  setsid "$KS_SLUICE" controller --kubeconfig "$KUBECONFIG" --storage-path "$KS_TMP/storage-b" \
    --storage-addr "127.0.0.1:$b_port" --metrics-addr "127.0.0.1:$b_metrics" \
    --health-addr "127.0.0.1:$b_health" --log-encoding console --watch-label-selector shard=b \
    --min-retry-delay 200ms --max-retry-delay 2s >>"$KS_TMP/controller-b.log" 2>&1 &
  echo $! >"$KS_TMP/controller-b.pid"
  wait_for 30 curl -fsS "http://127.0.0.1:$b_health/readyz" || fail "controller B not ready"
  kubectl create namespace shard-b --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl apply -n "$KS_NS" -f - >/dev/null <<EOF
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: sharded
  labels:
    shard: b
spec:
  interval: 10m
  prune: true
  targetNamespace: shard-b
  sourceRef:
    kind: OCIRepository
    name: podinfo-stable
EOF
  ks_wait_ready sharded
  kubectl get deploy -n shard-b podinfo >/dev/null || fail "not applied"
  # B fetched it from A's storage over HTTP, and stored nothing itself.
  [ -z "$(find "$KS_TMP/storage-b" -type f)" ] || fail "B stored something"
  kubectl delete -n "$KS_NS" kustomization/sharded --wait --timeout=60s >/dev/null || fail "deletion"
  local pid; pid=$(cat "$KS_TMP/controller-b.pid")
  kill -TERM "$pid" 2>/dev/null
  wait_for 30 sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
  ks_stop_controller
  ks_start_controller
}

ks_deletion_prunes_its_objects() {
  kubectl delete -n "$KS_NS" kustomization/podinfo-production --wait --timeout=60s >/dev/null || fail "deletion hangs"
  wait_for 30 sh -c "! kubectl get deploy -n production podinfo >/dev/null 2>&1" || fail "Deployment left behind"
  ! kubectl get cm -n production podinfo-config >/dev/null 2>&1 || fail "ConfigMap left behind"
}

run_test "kustomization: setup (registry, CRDs, controller)" ks_setup
run_test "kustomization: the seed's v1beta2 Kustomizations become Ready with Flux's status" ks_seed_objects_become_ready
run_test "kustomization: v1beta2 patchesStrategicMerge and patchesJson6902 survive storage and apply" ks_v1beta2_legacy_patches_apply
run_test "kustomization: a new source revision is applied at once" ks_new_revision_is_applied_at_once
run_test "kustomization: drift is corrected" ks_drift_is_corrected
run_test "kustomization: diff kustomization shows what would change, changing nothing" ks_diff_shows_what_would_change
run_test "kustomization: objects that left the artifact are pruned, opt-outs kept" ks_removed_objects_are_pruned
run_test "kustomization: a rollout that cannot finish fails the health check; dependants wait" ks_failed_rollout_fails_the_health_check
run_test "kustomization: serviceAccountName is impersonated for apply and prune" ks_service_account_is_impersonated
run_test "kustomization: an artifact cannot read files outside itself" ks_artifact_cannot_read_the_controllers_files
run_test "kustomization: fields sluice cannot honour stall it" ks_unsupported_fields_stall
run_test "kustomization: suspended objects are left alone" ks_suspended_is_left_alone
run_test "kustomization: CRDs first, substituteFrom, force recreation, IfNotPresent, adopted objects kept" ks_stages_substitution_force_and_ownership
run_test "kustomization: a Job deleted after its TTL is healthy" ks_job_gone_after_its_ttl_is_healthy
run_test "kustomization: an artifact another controller stores is fetched over HTTP" ks_artifact_of_another_controller_comes_over_http
run_test "kustomization: deletion prunes its objects" ks_deletion_prunes_its_objects
# Leave nothing for the files after this one: their controllers watch all
# namespaces, and objects pointing at the registry stopped below would fail
# (and take their share of the workers) for as long as those run. Deleted
# while this controller runs, so that its finalizers go.
kubectl delete kustomizations,ocirepositories -n "$KS_NS" --all --wait --timeout=120s >/dev/null 2>&1 || true
ks_stop_controller
"$root/scripts/registry" stop --clean "$KS_TMP/registry" >/dev/null 2>&1 || true
[ -n "${SLUICE_E2E_KEEP:-}" ] || rm -rf "$KS_TMP"
