# `sluice controller` reconciling OCIRepositories on the real control plane
# against the real registry: the seed's v1beta2 objects (tag latest, tag
# stable, semver) reach Ready with Flux's revision and metadata; consumers
# get the bytes status.artifact.digest names; a new push is picked up on
# `reconcile.fluxcd.io/requestedAt`; digest pins ignore pushes; a malformed
# URL stalls; a stopped registry makes Ready=False and the object recovers;
# suspended objects are left alone; a restarted controller re-uses stored
# artifacts; deletion removes artifacts and finalizer; events are recorded.
# Sourced by tests/e2e/run with KUBECONFIG set; the tests run in order.

OR_SLUICE=${SLUICE_BIN:-$root/build/src/cli/sluice}
OR_NS=e2e-ocirepo
OR_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-e2e-ocirepo.XXXXXX")
OR_STORAGE=$OR_TMP/storage
mkdir -p "$OR_STORAGE" "$OR_TMP/src"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  v: "1"\n' >"$OR_TMP/src/cm.yaml"

# or_push TAG: pushes the current $OR_TMP/src as app:TAG.
or_push() {
  "$OR_SLUICE" push artifact "oci://$REGISTRY_HOST/e2e/app:$1" -f "$OR_TMP/src" \
    --source=https://github.com/example/app.git --revision="main@sha1:$1" >/dev/null 2>&1
}
or_digest() { # or_digest TAG: the manifest digest the registry has for it
  curl -fsS -o /dev/null -D - -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REGISTRY_HOST/v2/e2e/app/manifests/$1" | tr -d '\r' |
    awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}'
}
or_get() { kubectl get ocirepository -n "$OR_NS" "$1" -o jsonpath="$2"; }
or_start_controller() {
  setsid "$OR_SLUICE" controller --kubeconfig "$KUBECONFIG" --storage-path "$OR_STORAGE" \
    --storage-addr "127.0.0.1:$OR_PORT" --metrics-addr "127.0.0.1:$OR_METRICS" \
    --health-addr "127.0.0.1:$OR_HEALTH" --log-encoding console --concurrent 4 \
    --min-retry-delay 200ms --max-retry-delay 2s ${OR_EXTRA:-} >>"$OR_TMP/controller.log" 2>&1 &
  echo $! >"$OR_TMP/controller.pid"
  wait_for 30 curl -fsS "http://127.0.0.1:$OR_HEALTH/readyz" || fail "controller not ready: $(tail -5 "$OR_TMP/controller.log")"
}
or_stop_controller() {
  local pid
  pid=$(cat "$OR_TMP/controller.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  # SIGTERM is a graceful stop: wait for the process to be gone.
  wait_for 30 sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$OR_TMP/controller.pid"
}
# or_wait_ready NAME: Ready=True for the current generation.
or_wait_ready() {
  kubectl wait -n "$OR_NS" "ocirepository/$1" --for=condition=Ready --timeout=60s >/dev/null \
    || fail "$1 not Ready: $(kubectl get ocirepository -n "$OR_NS" "$1" -o jsonpath='{.status.conditions}')"
}
or_revision_is() { [ "$(or_get "$1" '{.status.artifact.revision}')" = "$2" ]; }

# Set-up runs here, not in a test's subshell: what it defines is needed by
# every test.
eval "$("$root/scripts/registry" start plain "$OR_TMP/registry")"
OR_PORT=$(free_port)
OR_HEALTH=$(free_port)
OR_METRICS=$(free_port)

or_setup() {
  or_push latest && or_push stable && or_push 1.0.0 && or_push 1.1.0 && or_push 2.0.0-rc.1 \
    || fail "pushing the artifacts"
  # The CRD only (the Deployment is for clusters with real nodes).
  "$OR_SLUICE" install --export | python3 -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] in ("CustomResourceDefinition", "Namespace")]
yaml.safe_dump_all(docs, sys.stdout)' | kubectl apply --server-side -f - >/dev/null
  kubectl wait crd/ocirepositories.source.toolkit.fluxcd.io --for=condition=Established --timeout=30s >/dev/null
  kubectl create namespace "$OR_NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  wait_for 30 kubectl get ocirepositories -n "$OR_NS" || fail "ocirepositories not served"
  or_start_controller
}

or_seed_objects_become_ready_with_fluxs_revision() {
  # The seed's manifests, verbatim but for the URL.
  kubectl apply -n "$OR_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo
spec:
  interval: 1m
  url: oci://$REGISTRY_HOST/e2e/app
  ref:
    tag: latest
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo-stable
spec:
  interval: 1m
  url: oci://$REGISTRY_HOST/e2e/app
  ref:
    tag: stable
---
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: podinfo-semver
spec:
  interval: 1m
  url: oci://$REGISTRY_HOST/e2e/app
  ref:
    semver: ">=1.0.0"
EOF
  or_wait_ready podinfo
  or_wait_ready podinfo-stable
  or_wait_ready podinfo-semver
  or_revision_is podinfo "latest@$(or_digest latest)" || fail "revision $(or_get podinfo '{.status.artifact.revision}')"
  or_revision_is podinfo-stable "stable@$(or_digest stable)" || fail "stable revision"
  or_revision_is podinfo-semver "1.1.0@$(or_digest 1.1.0)" || fail "semver revision $(or_get podinfo-semver '{.status.artifact.revision}')"
  [ "$(or_get podinfo '{.status.artifact.metadata.org\.opencontainers\.image\.source}')" = https://github.com/example/app.git ] \
    || fail "metadata: $(or_get podinfo '{.status.artifact.metadata}')"
  [ "$(or_get podinfo '{.status.artifact.metadata.org\.opencontainers\.image\.revision}')" = "main@sha1:latest" ] || fail "origin revision"
  [ "$(or_get podinfo '{.status.conditions[?(@.type=="Ready")].message}')" = "stored artifact for digest 'latest@$(or_digest latest)'" ] \
    || fail "Ready message: $(or_get podinfo '{.status.conditions}')"
  [ "$(or_get podinfo '{.status.observedGeneration}')" = "$(or_get podinfo '{.metadata.generation}')" ] || fail "observedGeneration"
  [ "$(or_get podinfo '{.metadata.finalizers[0]}')" = finalizers.fluxcd.io ] || fail "finalizer"
  [ "$(or_get podinfo '{.status.url}')" = "http://127.0.0.1:$OR_PORT/ocirepository/$OR_NS/podinfo/latest.tar.gz" ] \
    || fail "status.url $(or_get podinfo '{.status.url}')"
}

or_consumers_get_the_digest_status_names() {
  local url digest
  url=$(or_get podinfo '{.status.artifact.url}')
  digest=$(or_get podinfo '{.status.artifact.digest}')
  curl -fsS "$url" -o "$OR_TMP/artifact.tgz" || fail "GET $url"
  [ "sha256:$(sha256sum "$OR_TMP/artifact.tgz" | cut -d' ' -f1)" = "$digest" ] || fail "digest mismatch"
  tar -xzf "$OR_TMP/artifact.tgz" -C "$OR_TMP" ./cm.yaml 2>/dev/null || tar -xzf "$OR_TMP/artifact.tgz" -C "$OR_TMP" cm.yaml
  cmp "$OR_TMP/cm.yaml" "$OR_TMP/src/cm.yaml" || fail "content differs"
  [ "$(or_get podinfo '{.status.artifact.size}')" = "$(stat -c %s "$OR_TMP/artifact.tgz")" ] || fail "size"
}

or_new_push_is_picked_up_on_request() {
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  v: "2"\n' >"$OR_TMP/src/cm.yaml"
  or_push latest
  local want; want="latest@$(or_digest latest)"
  kubectl annotate -n "$OR_NS" ocirepository/podinfo --overwrite reconcile.fluxcd.io/requestedAt=req-1 >/dev/null
  wait_for 30 or_revision_is podinfo "$want" || fail "revision still $(or_get podinfo '{.status.artifact.revision}')"
  wait_for 10 test "$(or_get podinfo '{.status.lastHandledReconcileAt}')" = req-1 || fail "lastHandledReconcileAt"
  kubectl events -n "$OR_NS" --for ocirepository/podinfo 2>/dev/null | grep "NewArtifact" >/dev/null \
    || kubectl get events -n "$OR_NS" --field-selector involvedObject.name=podinfo | grep NewArtifact >/dev/null \
    || fail "no NewArtifact event"
}

or_digest_pin_ignores_pushes() {
  local pinned; pinned=$(or_digest 1.0.0)
  kubectl apply -n "$OR_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: pinned
spec:
  interval: 1m
  url: oci://$REGISTRY_HOST/e2e/app
  ref:
    digest: $pinned
    tag: latest
EOF
  or_wait_ready pinned
  or_revision_is pinned "$pinned" || fail "revision $(or_get pinned '{.status.artifact.revision}')"
  or_push 1.0.0
  kubectl annotate -n "$OR_NS" ocirepository/pinned --overwrite reconcile.fluxcd.io/requestedAt=req-2 >/dev/null
  wait_for 30 test "$(or_get pinned '{.status.lastHandledReconcileAt}')" = req-2 \
    || fail "not reconciled: $(or_get pinned '{.metadata.annotations} {.status}'); controller: $(tail -5 "$OR_TMP/controller.log")"
  or_revision_is pinned "$pinned" || fail "the pin moved"
}

or_malformed_url_stalls() {
  kubectl apply -n "$OR_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: bad-url
spec:
  interval: 1m
  url: oci://$REGISTRY_HOST/e2e/app:v1
EOF
  kubectl wait -n "$OR_NS" ocirepository/bad-url --for=condition=Stalled --timeout=30s >/dev/null || fail "not Stalled"
  [ "$(or_get bad-url '{.status.conditions[?(@.type=="Ready")].reason}')" = URLInvalid ] || fail "reason $(or_get bad-url '{.status.conditions}')"
  or_get bad-url '{.status.conditions[?(@.type=="Ready")].message}' | grep "URL must not contain a tag" >/dev/null || fail "message"
}

or_registry_outage_fails_and_recovers() {
  "$root/scripts/registry" stop "$OR_TMP/registry" >/dev/null
  kubectl annotate -n "$OR_NS" ocirepository/podinfo-stable --overwrite reconcile.fluxcd.io/requestedAt=req-3 >/dev/null
  kubectl wait -n "$OR_NS" ocirepository/podinfo-stable --for=condition=Ready=False --timeout=30s >/dev/null \
    || fail "still Ready: $(or_get podinfo-stable '{.status.conditions}')"
  [ "$(or_get podinfo-stable '{.status.conditions[?(@.type=="Ready")].reason}')" = OCIArtifactPullFailed ] \
    || fail "reason: $(or_get podinfo-stable '{.status.conditions}')"
  [ "$(or_get podinfo-stable '{.status.conditions[?(@.type=="FetchFailed")].status}')" = True ] || fail "FetchFailed"
  eval "$("$root/scripts/registry" start plain "$OR_TMP/registry")"
  # Retried with backoff (capped at 2 s here), not at the next interval.
  kubectl wait -n "$OR_NS" ocirepository/podinfo-stable --for=condition=Ready --timeout=60s >/dev/null \
    || fail "did not recover: $(or_get podinfo-stable '{.status.conditions}')"
}

or_suspended_objects_are_left_alone() {
  kubectl patch -n "$OR_NS" ocirepository/podinfo --type merge -p '{"spec":{"suspend":true}}' >/dev/null
  local before; before=$(or_get podinfo '{.status.artifact.revision}')
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  v: "3"\n' >"$OR_TMP/src/cm.yaml"
  or_push latest
  kubectl annotate -n "$OR_NS" ocirepository/podinfo --overwrite reconcile.fluxcd.io/requestedAt=req-4 >/dev/null
  # Another object's request goes through the same queue: once it is
  # handled, the suspended one had its chance.
  kubectl annotate -n "$OR_NS" ocirepository/podinfo-semver --overwrite reconcile.fluxcd.io/requestedAt=req-4 >/dev/null
  wait_for 30 test "$(or_get podinfo-semver '{.status.lastHandledReconcileAt}')" = req-4 || fail "semver not reconciled"
  [ "$(or_get podinfo '{.status.artifact.revision}')" = "$before" ] || fail "suspended object changed"
  [ "$(or_get podinfo '{.status.lastHandledReconcileAt}')" = req-1 ] || fail "suspended object handled a request"
  kubectl patch -n "$OR_NS" ocirepository/podinfo --type merge -p '{"spec":{"suspend":false}}' >/dev/null
  wait_for 30 or_revision_is podinfo "latest@$(or_digest latest)" || fail "resume did not pick up the push"
}

or_restart_reuses_stored_artifacts() {
  local before; before=$(or_get podinfo-stable '{.status.artifact.lastUpdateTime}')
  local gets; gets=$(grep -c 'GET /v2/e2e/app/blobs' "$REGISTRY_LOG" || true)
  or_stop_controller
  or_start_controller
  kubectl annotate -n "$OR_NS" ocirepository/podinfo-stable --overwrite reconcile.fluxcd.io/requestedAt=req-5 >/dev/null
  wait_for 30 test "$(or_get podinfo-stable '{.status.lastHandledReconcileAt}')" = req-5 || fail "not reconciled after restart"
  [ "$(or_get podinfo-stable '{.status.artifact.lastUpdateTime}')" = "$before" ] || fail "artifact rebuilt after restart"
  [ "$(grep -c 'GET /v2/e2e/app/blobs' "$REGISTRY_LOG" || true)" = "$gets" ] || fail "blobs downloaded again after restart"
}

or_secret_and_cert_refs_reach_a_private_tls_registry() {
  local vars host ca
  vars=$("$root/scripts/registry" start basic-tls "$OR_TMP/tls-registry") || fail "TLS registry"
  host=$(sed -n 's/^export REGISTRY_HOST=//p' <<<"$vars" | tr -d "'\"")
  ca=$(sed -n 's/^export REGISTRY_CA=//p' <<<"$vars" | tr -d "'\"")
  "$OR_SLUICE" push artifact "oci://$host/private/app:v1" -f "$OR_TMP/src" --source=s --revision=r \
    --creds flux:s3cret --ca-file "$ca" >/dev/null 2>&1 || fail "push to the TLS registry"
  kubectl create secret docker-registry -n "$OR_NS" regcred --docker-server="$host" \
    --docker-username=flux --docker-password=s3cret >/dev/null
  kubectl create secret generic -n "$OR_NS" regca --from-file=ca.crt="$ca" >/dev/null
  kubectl apply -n "$OR_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: private
spec:
  interval: 1m
  url: oci://$host/private/app
  ref:
    tag: v1
  secretRef:
    name: regcred
  certSecretRef:
    name: regca
EOF
  or_wait_ready private
  # Without the credentials: an authentication failure, Ready=False.
  kubectl patch -n "$OR_NS" ocirepository/private --type json -p '[{"op":"remove","path":"/spec/secretRef"}]' >/dev/null
  kubectl wait -n "$OR_NS" ocirepository/private --for=condition=Ready=False --timeout=30s >/dev/null \
    || fail "anonymous access succeeded: $(or_get private '{.status.conditions}')"
  # The same credentials through a ServiceAccount's imagePullSecrets.
  kubectl create serviceaccount -n "$OR_NS" puller >/dev/null
  kubectl patch -n "$OR_NS" serviceaccount/puller -p '{"imagePullSecrets":[{"name":"regcred"}]}' >/dev/null
  kubectl patch -n "$OR_NS" ocirepository/private --type merge -p '{"spec":{"serviceAccountName":"puller"}}' >/dev/null
  kubectl wait -n "$OR_NS" ocirepository/private --for=condition=Ready=True --timeout=30s >/dev/null \
    || fail "the ServiceAccount's pull secret was not used: $(or_get private '{.status.conditions}')"
  # Every pull secret it names must exist, as in Flux.
  kubectl patch -n "$OR_NS" serviceaccount/puller -p '{"imagePullSecrets":[{"name":"regcred"},{"name":"missing"}]}' >/dev/null
  kubectl annotate -n "$OR_NS" ocirepository/private --overwrite reconcile.fluxcd.io/requestedAt=sa-1 >/dev/null
  wait_for 30 sh -c "kubectl get ocirepository -n $OR_NS private -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].message}' | grep -q \"failed to get credential: failed to get secret '$OR_NS/missing'\"" \
    || fail "a missing pull secret: $(or_get private '{.status.conditions}')"
  ! kubectl get events -n "$OR_NS" -o yaml | grep s3cret >/dev/null || fail "the password reached an event"
  ! or_get private '{.status}' | grep s3cret >/dev/null || fail "the password reached the status"
  "$root/scripts/registry" stop --clean "$OR_TMP/tls-registry" >/dev/null 2>&1 || true
}

or_cert_secret_ref_client_certificate_reaches_an_mtls_registry() {
  local vars host ca cert key plain
  vars=$("$root/scripts/registry" start mtls "$OR_TMP/mtls-registry") || fail "mTLS registry"
  host=$(sed -n 's/^export REGISTRY_HOST=//p' <<<"$vars" | tr -d "'\"")
  ca=$(sed -n 's/^export REGISTRY_CA=//p' <<<"$vars" | tr -d "'\"")
  cert=$(sed -n 's/^export REGISTRY_CLIENT_CERT=//p' <<<"$vars" | tr -d "'\"")
  key=$(sed -n 's/^export REGISTRY_CLIENT_KEY=//p' <<<"$vars" | tr -d "'\"")
  # The artifact goes in through skopeo, which presents the client pair
  # from the registry's cert dir.
  plain=$REGISTRY_HOST # the plain registry the other tests use
  skopeo copy --preserve-digests --src-tls-verify=false \
    --dest-cert-dir "$OR_TMP/mtls-registry/certs.d" \
    "docker://$plain/e2e/app:stable" "docker://$host/mtls/app:v1" >/dev/null 2>&1 || fail "copy to the mTLS registry"
  kubectl create secret generic -n "$OR_NS" mtls-full --from-file=ca.crt="$ca" \
    --from-file=tls.crt="$cert" --from-file=tls.key="$key" >/dev/null
  kubectl create secret generic -n "$OR_NS" mtls-ca-only --from-file=ca.crt="$ca" >/dev/null
  kubectl create secret generic -n "$OR_NS" mtls-half --from-file=ca.crt="$ca" \
    --from-file=tls.crt="$cert" >/dev/null
  kubectl apply -n "$OR_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: mtls
spec:
  interval: 1m
  url: oci://$host/mtls/app
  ref:
    tag: v1
  certSecretRef:
    name: mtls-full
EOF
  or_wait_ready mtls
  [ "$(or_get mtls '{.status.artifact.revision}')" = "v1@$(or_digest stable)" ] || fail "revision: $(or_get mtls '{.status.artifact.revision}')"
  # Only the CA: the registry refuses the handshake.
  kubectl patch -n "$OR_NS" ocirepository/mtls --type merge -p '{"spec":{"certSecretRef":{"name":"mtls-ca-only"}}}' >/dev/null
  kubectl wait -n "$OR_NS" ocirepository/mtls --for=condition=Ready=False --timeout=30s >/dev/null \
    || fail "reached the registry without a client certificate: $(or_get mtls '{.status.conditions}')"
  # A certificate without its key: Flux's rule, both or neither.
  kubectl patch -n "$OR_NS" ocirepository/mtls --type merge -p '{"spec":{"certSecretRef":{"name":"mtls-half"}}}' >/dev/null
  wait_for 30 sh -c "kubectl get ocirepository -n $OR_NS mtls -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].message}' | grep -q 'must hold both tls.crt and tls.key'" \
    || fail "half a pair: $(or_get mtls '{.status.conditions}')"
  ! kubectl get events -n "$OR_NS" -o yaml | grep -q "PRIVATE KEY" || fail "the key reached an event"
  ! or_get mtls '{.status}' | grep -q "PRIVATE KEY" || fail "the key reached the status"
  ! ls "${TMPDIR:-/tmp}" | grep -q '^sluice-key' || fail "a key file was written"
  kubectl delete -n "$OR_NS" ocirepository/mtls --wait=false >/dev/null
  "$root/scripts/registry" stop --clean "$OR_TMP/mtls-registry" >/dev/null 2>&1 || true
}

# proxySecretRef: every registry request goes through the proxy it names,
# with its credentials; wrong ones fail the fetch, and no message, event or
# status repeats them.
or_proxy_secret_ref_routes_through_the_proxy() {
  local pf="$OR_TMP/proxy.port"
  python3 "$root/tests/e2e/forward_proxy.py" "$pf" proxyuser 'pr0xy-s3cret' >"$OR_TMP/proxy.out" 2>&1 &
  echo $! >"$OR_TMP/proxy.pid"
  wait_for 10 test -s "$pf" || fail "the proxy did not start: $(cat "$OR_TMP/proxy.out")"
  local proxy="http://127.0.0.1:$(cat "$pf")"
  kubectl create secret generic -n "$OR_NS" proxy-ok --from-literal=address="$proxy" \
    --from-literal=username=proxyuser --from-literal=password='pr0xy-s3cret' >/dev/null
  kubectl create secret generic -n "$OR_NS" proxy-wrong --from-literal=address="$proxy" \
    --from-literal=username=proxyuser --from-literal=password='wr0ng-s3cret' >/dev/null
  kubectl create secret generic -n "$OR_NS" proxy-noaddr --from-literal=username=proxyuser >/dev/null
  kubectl apply -n "$OR_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: proxied
spec:
  interval: 1m
  url: oci://$REGISTRY_HOST/e2e/app
  ref:
    tag: stable
  proxySecretRef:
    name: proxy-ok
EOF
  or_wait_ready proxied
  grep -q "GET http://$REGISTRY_HOST/v2/e2e/app/manifests/stable -> 200" "$pf.log" \
    || fail "the manifest did not go through the proxy: $(cat "$pf.log")"
  grep -q "GET http://$REGISTRY_HOST/v2/e2e/app/blobs/sha256:.* -> 200" "$pf.log" \
    || fail "the layer did not go through the proxy: $(cat "$pf.log")"
  # Wrong credentials: the proxy refuses, the object fails.
  kubectl patch -n "$OR_NS" ocirepository/proxied --type merge -p '{"spec":{"proxySecretRef":{"name":"proxy-wrong"}}}' >/dev/null
  kubectl wait -n "$OR_NS" ocirepository/proxied --for=condition=Ready=False --timeout=30s >/dev/null \
    || fail "wrong proxy credentials were accepted: $(or_get proxied '{.status.conditions}')"
  grep -q -- "-> 407" "$pf.log" || fail "the proxy never refused: $(cat "$pf.log")"
  # No address: Flux's words.
  kubectl patch -n "$OR_NS" ocirepository/proxied --type merge -p '{"spec":{"proxySecretRef":{"name":"proxy-noaddr"}}}' >/dev/null
  wait_for 30 sh -c "kubectl get ocirepository -n $OR_NS proxied -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].message}' | grep -q \"failed to get proxy address: secret '$OR_NS/proxy-noaddr': key 'address' not found\"" \
    || fail "no address: $(or_get proxied '{.status.conditions}')"
  ! kubectl get events -n "$OR_NS" -o yaml | grep -q 's3cret' || fail "a proxy password reached an event"
  ! or_get proxied '{.status}' | grep -q 's3cret' || fail "a proxy password reached the status"
  ! grep -q 's3cret' "$OR_TMP/controller.log" || fail "a proxy password reached the log"
  kubectl delete -n "$OR_NS" ocirepository/proxied --wait=false >/dev/null
  kill "$(cat "$OR_TMP/proxy.pid")" 2>/dev/null || true
}

# "\u0000" is valid JSON and any user may write it into an annotation:
# the informer once refused the whole list over it, and every object in
# the cluster stopped reconciling.
or_a_nul_in_an_annotation_stops_nothing() {
  printf '{"apiVersion":"source.toolkit.fluxcd.io/v1","kind":"OCIRepository","metadata":{"name":"nul","annotations":{"x":"a\\u0000b"}},"spec":{"interval":"10m","url":"oci://%s/e2e/app","ref":{"tag":"stable"}}}' \
    "$REGISTRY_HOST" | kubectl create -n "$OR_NS" -f - >/dev/null || fail "create the object"
  or_wait_ready nul
  kubectl annotate -n "$OR_NS" ocirepository/podinfo-stable --overwrite reconcile.fluxcd.io/requestedAt=nul-1 >/dev/null
  wait_for 30 test "$(or_get podinfo-stable '{.status.lastHandledReconcileAt}')" = nul-1 \
    || fail "the other objects stopped: $(tail -3 "$OR_TMP/controller.log")"
  kubectl delete -n "$OR_NS" ocirepository/nul >/dev/null
}

or_metrics_expose_reconciles_and_the_queue() {
  local m="$OR_TMP/metrics.txt"
  # The queue figures are copied every 2 s: wait for a reconcile count.
  wait_for 10 sh -c "curl -fsS http://127.0.0.1:$OR_METRICS/metrics >$m && grep -q 'controller_runtime_reconcile_total{controller=\"ocirepository\",result=\"requeue_after\"}' $m" \
    || fail "no reconcile counts: $(head -c 2000 "$m")"
  grep -q '^gotk_reconcile_duration_seconds_count{kind="OCIRepository",name="podinfo",namespace="'"$OR_NS"'"} [1-9]' "$m" || fail "no gotk_reconcile_duration_seconds"
  grep -q '^gotk_reconcile_condition{kind="OCIRepository",name="podinfo",namespace="'"$OR_NS"'",status="True",type="Ready"} 1' "$m" || fail "no Ready condition gauge"
  grep -q '^workqueue_depth{name="ocirepository"} ' "$m" || fail "no workqueue_depth"
  grep -q '^workqueue_adds_total{name="ocirepository"} [1-9]' "$m" || fail "no workqueue_adds_total"
  curl -fsS "http://127.0.0.1:$OR_HEALTH/healthz" >/dev/null || fail "healthz"
}

# or_candidate NAME: a controller with leader election that reconciles
# nothing (its label selector matches no object); pid and health port in
# $OR_TMP/NAME.{pid,health}.
or_candidate() {
  local health; health=$(free_port)
  echo "$health" >"$OR_TMP/$1.health"
  RUNTIME_NAMESPACE=$OR_NS setsid "$OR_SLUICE" controller --kubeconfig "$KUBECONFIG" \
    --storage-path "$OR_STORAGE" --storage-addr "127.0.0.1:$(free_port)" \
    --metrics-addr "127.0.0.1:$(free_port)" --health-addr "127.0.0.1:$health" \
    --log-encoding console --enable-leader-election --watch-label-selector sluice-e2e=none \
    >>"$OR_TMP/$1.log" 2>&1 &
  echo $! >"$OR_TMP/$1.pid"
}
or_ready() { curl -fsS "http://127.0.0.1:$(cat "$OR_TMP/$1.health")/readyz" >/dev/null 2>&1; }
or_holder() { kubectl get lease -n "$OR_NS" source-controller-leader-election -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }

or_leader_election_hands_over() {
  or_candidate leader-a
  wait_for 30 or_ready leader-a || fail "first candidate never ready: $(tail -5 "$OR_TMP/leader-a.log")"
  local a b; a=$(cat "$OR_TMP/leader-a.pid")
  or_candidate leader-b
  b=$(cat "$OR_TMP/leader-b.pid")
  wait_for 10 sh -c "grep -q 'attempting to acquire leader lease' $OR_TMP/leader-b.log" || fail "second candidate silent"
  case $(or_holder) in *"_$a") ;; *) fail "lease held by $(or_holder), not $a" ;; esac
  ! or_ready leader-b || fail "the waiting candidate is ready"
  # A graceful stop releases the lease: the other takes over at its next try.
  kill -TERM "$a"
  wait_for 30 or_ready leader-b || fail "no hand-over: $(tail -5 "$OR_TMP/leader-b.log")"
  case $(or_holder) in *"_$b") ;; *) fail "lease held by $(or_holder), not $b" ;; esac
  kill -TERM "$b"
  wait_for 30 sh -c "! kill -0 $b 2>/dev/null" || fail "second candidate did not stop"
}

or_oversized_layers_are_refused() {
  # 5 MiB of zeros: a tiny layer that extracts far beyond a 1 MiB cap.
  mkdir -p "$OR_TMP/bomb"
  head -c $((5 << 20)) /dev/zero >"$OR_TMP/bomb/zeros.yaml"
  "$OR_SLUICE" push artifact "oci://$REGISTRY_HOST/e2e/bomb:v1" -f "$OR_TMP/bomb" --source=s --revision=r \
    >/dev/null 2>&1 || fail "push"
  or_stop_controller
  OR_EXTRA="--artifact-max-size 1" or_start_controller
  kubectl apply -n "$OR_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: bomb
spec:
  interval: 1m
  url: oci://$REGISTRY_HOST/e2e/bomb
  ref:
    tag: v1
EOF
  kubectl wait -n "$OR_NS" ocirepository/bomb --for=condition=Ready=False --timeout=30s >/dev/null \
    || fail "not refused: $(or_get bomb '{.status.conditions}')"
  [ ! -e "$OR_STORAGE/ocirepository/$OR_NS/bomb/latest.tar.gz" ] || fail "the bomb was stored"
  kubectl delete -n "$OR_NS" ocirepository/bomb --wait --timeout=30s >/dev/null
  or_stop_controller
  or_start_controller
}

# or_condition NAME TYPE FIELD: a condition's field.
or_condition() { or_get "$1" "{.status.conditions[?(@.type==\"$2\")].$3}"; }
or_digest_of() { # or_digest_of REPO TAG
  curl -fsS -o /dev/null -D - -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REGISTRY_HOST/v2/$1/manifests/$2" | tr -d '\r' |
    awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}'
}

or_verify_checks_signatures_before_pulling() {
  local keys=$OR_TMP/keys cosign3 host=$REGISTRY_HOST
  cosign3=$("$root/scripts/cosign-peer" bin v3) || fail "cosign v3 peer"
  mkdir -p "$keys"
  (cd "$keys" && COSIGN_PASSWORD=pw "$OR_SLUICE" generate-key-pair --output-key-prefix sluice &&
    COSIGN_PASSWORD=pw "$cosign3" generate-key-pair --output-key-prefix cosign) >/dev/null 2>&1 || fail "keys"
  kubectl create secret generic -n "$OR_NS" cosign-keys --from-file=sluice.pub="$keys/sluice.pub" \
    --from-file=cosign.pub="$keys/cosign.pub" --from-literal=README=not-a-key >/dev/null
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: signed\n' >"$OR_TMP/src/cm.yaml"
  COSIGN_PASSWORD=pw "$OR_SLUICE" push artifact "oci://$host/e2e/signed:v1" -f "$OR_TMP/src" --source=s \
    --revision=r --sign-key "$keys/sluice.key" >/dev/null 2>&1 || fail "signed push"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: unsigned\n' >"$OR_TMP/src/cm.yaml"
  "$OR_SLUICE" push artifact "oci://$host/e2e/signed:v2" -f "$OR_TMP/src" --source=s --revision=r >/dev/null 2>&1 || fail "push"
  local v1 v2 layer2
  v1=$(or_digest_of e2e/signed v1)
  v2=$(or_digest_of e2e/signed v2)
  layer2=$(curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$host/v2/e2e/signed/manifests/v2" | jq -r '.layers[0].digest')
  for tag in v1 v2; do
    kubectl apply -n "$OR_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1beta2
kind: OCIRepository
metadata:
  name: signed-$tag
spec:
  interval: 1m
  url: oci://$host/e2e/signed
  ref:
    tag: $tag
  verify:
    provider: cosign
    secretRef:
      name: cosign-keys
EOF
  done
  or_wait_ready signed-v1
  [ "$(or_condition signed-v1 SourceVerified status)" = True ] || fail "SourceVerified: $(or_get signed-v1 '{.status.conditions}')"
  [ "$(or_condition signed-v1 SourceVerified message)" = "verified signature of revision v1@$v1" ] || fail "$(or_condition signed-v1 SourceVerified message)"
  # Same revision, same generation: not verified again.
  # (Only v1's signature documents count: signed-v2 is retrying meanwhile.)
  local sig_reads; sig_reads=$(grep -c "GET /v2/e2e/signed/manifests/sha256-${v1#sha256:}" "$REGISTRY_LOG" || true)
  kubectl annotate -n "$OR_NS" ocirepository/signed-v1 --overwrite reconcile.fluxcd.io/requestedAt=sig-0 >/dev/null
  wait_for 30 test "$(or_get signed-v1 '{.status.lastHandledReconcileAt}')" = sig-0 || fail "not reconciled"
  [ "$(grep -c "GET /v2/e2e/signed/manifests/sha256-${v1#sha256:}" "$REGISTRY_LOG" || true)" = "$sig_reads" ] || fail "verified again"
  # Unsigned: refused before anything is pulled, with Flux's reason and message.
  kubectl wait -n "$OR_NS" ocirepository/signed-v2 --for=condition=Ready=False --timeout=30s >/dev/null \
    || fail "unsigned accepted: $(or_get signed-v2 '{.status.conditions}')"
  [ "$(or_condition signed-v2 Ready reason)" = VerificationError ] || fail "$(or_get signed-v2 '{.status.conditions}')"
  [ "$(or_condition signed-v2 SourceVerified status)" = False ] || fail "SourceVerified"
  # Flux's message exactly: alerts match on it.
  [ "$(or_condition signed-v2 Ready message)" = "failed to verify the signature using provider 'cosign': no matching signatures were found for '$host/e2e/signed@$v2'" ] \
    || fail "message: $(or_condition signed-v2 Ready message)"
  [ -z "$(or_get signed-v2 '{.status.artifact}')" ] || fail "an unverified artifact was stored"
  [ "$(grep -c "GET /v2/e2e/signed/blobs/$layer2" "$REGISTRY_LOG" || true)" = 0 ] || fail "the unverified layer was downloaded"
  wait_for 30 sh -c "kubectl events -n '$OR_NS' --for OCIRepository/signed-v2 | grep VerificationError" || fail "no event"
  # cosign v3 signs it (a bundle, through the referrers tag): verified and stored.
  TUF_ROOT=$keys/tuf HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost COSIGN_PASSWORD=pw "$cosign3" sign --key "$keys/cosign.key" --tlog-upload=false --yes --allow-insecure-registry --allow-http-registry \
    --use-signing-config=false "$host/e2e/signed@$v2" >/dev/null 2>&1 || fail "cosign v3 sign"
  kubectl annotate -n "$OR_NS" ocirepository/signed-v2 --overwrite reconcile.fluxcd.io/requestedAt=sig-1 >/dev/null
  or_wait_ready signed-v2
  [ "$(or_condition signed-v2 SourceVerified message)" = "verified signature of revision v2@$v2" ] || fail "$(or_get signed-v2 '{.status.conditions}')"
  # Keyless is answered, never silently accepted.
  kubectl apply -n "$OR_NS" -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: keyless
spec:
  interval: 1m
  url: oci://$host/e2e/signed
  ref:
    tag: v1
  verify:
    provider: cosign
    matchOIDCIdentity:
    - issuer: ^https://token.actions.githubusercontent.com$
      subject: ^https://github.com/org/app.*$
EOF
  kubectl wait -n "$OR_NS" ocirepository/keyless --for=condition=Ready=False --timeout=30s >/dev/null \
    || fail "keyless accepted: $(or_get keyless '{.status.conditions}')"
  or_condition keyless Ready message | grep -F "provider 'cosign keyless': keyless verification is not supported yet" >/dev/null \
    || fail "$(or_condition keyless Ready message)"
  kubectl delete -n "$OR_NS" ocirepository/signed-v1 ocirepository/signed-v2 ocirepository/keyless --wait --timeout=30s >/dev/null
}

or_deletion_removes_artifacts_and_finalizer() {
  [ -d "$OR_STORAGE/ocirepository/$OR_NS/podinfo-stable" ] || fail "no stored artifacts to remove"
  kubectl delete -n "$OR_NS" ocirepository/podinfo-stable --wait --timeout=30s >/dev/null || fail "deletion hangs"
  [ ! -e "$OR_STORAGE/ocirepository/$OR_NS/podinfo-stable" ] || fail "artifacts left in storage"
}

run_test "ocirepository: setup (registry, CRD, controller)" or_setup
run_test "ocirepository: the seed's v1beta2 objects become Ready with Flux's revision and metadata" or_seed_objects_become_ready_with_fluxs_revision
run_test "ocirepository: status.artifact.url serves the bytes status.artifact.digest names" or_consumers_get_the_digest_status_names
run_test "ocirepository: a new push is picked up on reconcile.fluxcd.io/requestedAt" or_new_push_is_picked_up_on_request
run_test "ocirepository: a digest pin ignores new pushes" or_digest_pin_ignores_pushes
run_test "ocirepository: a malformed URL stalls with URLInvalid" or_malformed_url_stalls
run_test "ocirepository: a stopped registry makes Ready=False, and it recovers" or_registry_outage_fails_and_recovers
run_test "ocirepository: suspended objects are left alone" or_suspended_objects_are_left_alone
run_test "ocirepository: a restarted controller re-uses stored artifacts" or_restart_reuses_stored_artifacts
run_test "ocirepository: secretRef, serviceAccountName and certSecretRef reach a private TLS registry" or_secret_and_cert_refs_reach_a_private_tls_registry
run_test "ocirepository: certSecretRef's client certificate reaches an mTLS registry" or_cert_secret_ref_client_certificate_reaches_an_mtls_registry
run_test "ocirepository: proxySecretRef routes registry requests through its proxy" or_proxy_secret_ref_routes_through_the_proxy
run_test "ocirepository: a NUL in an annotation stops no reconcile" or_a_nul_in_an_annotation_stops_nothing
run_test "ocirepository: /metrics has Flux's gotk_* and the work-queue figures" or_metrics_expose_reconciles_and_the_queue
run_test "ocirepository: leader election: one candidate leads, a graceful stop hands over" or_leader_election_hands_over
run_test "ocirepository: a layer extracting beyond --artifact-max-size is refused" or_oversized_layers_are_refused
run_test "ocirepository: spec.verify checks cosign signatures (sluice's, cosign v3 bundles) before pulling" or_verify_checks_signatures_before_pulling
run_test "ocirepository: deletion removes artifacts and the finalizer" or_deletion_removes_artifacts_and_finalizer
or_stop_controller
"$root/scripts/registry" stop --clean "$OR_TMP/registry" >/dev/null 2>&1 || true
[ -n "${SLUICE_E2E_KEEP:-}" ] || rm -rf "$OR_TMP"
