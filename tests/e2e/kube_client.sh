# The Kubernetes client (src/kube) against the real API server, through
# tests/e2e/kube_client (build/tests/e2e/kube_client, or $KUBE_CLIENT_BIN
# for another build such as build-asan). Sourced by tests/e2e/run with
# KUBECONFIG set; each test runs in a subshell with errexit.
#
# The scenarios run in order in one namespace; kubectl checks from the
# outside what the client did.

KC_NS=kube-client-e2e
KC_BIN=${KUBE_CLIENT_BIN:-$root/build/tests/e2e/kube_client}
KC_DIR=$SLUICE_TESTENV_DIR/kube-client
mkdir -p "$KC_DIR"

kc() { "$KC_BIN" "$@"; }

# A kubeconfig field of the testenv cluster/user (raw: secrets included).
kc_field() { kubectl config view --raw --minify -o "jsonpath={$1}"; }

kc_builds_and_namespace_exists() {
  if [ -z "${KUBE_CLIENT_BIN:-}" ]; then
    # tests/run builds before the other suites, not before e2e.
    [ -f "$root/build/build.ninja" ] || meson setup "$root/build" >/dev/null
    ninja -C "$root/build" tests/e2e/kube_client >/dev/null \
      || fail "cannot build tests/e2e/kube_client: ninja -C build tests/e2e/kube_client"
  fi
  [ -x "$KC_BIN" ] || fail "no $KC_BIN"
  kubectl create namespace "$KC_NS"
}

kc_client_certificate_data() {
  local out
  out=$(kc connect "$KC_NS")
  echo "$out"
  [[ $out == *"v1.35.4"*"HTTP/2, connection reused"* ]] || fail "unexpected: $out"
}

# The same credentials as files named relative to the kubeconfig, and
# KUBECONFIG merging: contexts in one file, cluster and user in another.
kc_certificate_files_and_merged_kubeconfigs() {
  local d=$KC_DIR/files
  mkdir -p "$d/pki"
  kc_field '.clusters[0].cluster.certificate-authority-data' | base64 -d >"$d/pki/ca.crt"
  kc_field '.users[0].user.client-certificate-data' | base64 -d >"$d/pki/client.crt"
  kc_field '.users[0].user.client-key-data' | base64 -d >"$d/pki/client.key"
  local server
  server=$(kc_field '.clusters[0].cluster.server')
  cat >"$d/clusters.yaml" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: files
  cluster:
    server: $server
    certificate-authority: pki/ca.crt
users:
- name: files
  user:
    client-certificate: pki/client.crt
    client-key: pki/client.key
EOF
  cat >"$d/contexts.yaml" <<EOF
apiVersion: v1
kind: Config
contexts:
- name: files
  context: {cluster: files, user: files, namespace: $KC_NS}
current-context: files
EOF
  local out
  out=$(KUBECONFIG="$d/contexts.yaml:$d/missing.yaml:$d/clusters.yaml" kc connect "$KC_NS")
  echo "$out"
  [[ $out == *"HTTP/2, connection reused"*"default namespace $KC_NS"* ]] || fail "unexpected: $out"
  # A CA that did not sign the server's certificate is refused.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other \
    -keyout "$d/other.key" -out "$d/pki/other.crt" -days 1 2>/dev/null
  sed 's#pki/ca.crt#pki/other.crt#' "$d/clusters.yaml" >"$d/wrong-ca.yaml"
  if out=$(KUBECONFIG="$d/contexts.yaml:$d/wrong-ca.yaml" kc connect "$KC_NS"); then
    fail "connected with the wrong CA: $out"
  fi
  echo "$out"
  [[ $out == *"certificate"* ]] || fail "no certificate error: $out"
}

# A service account's token: as a kubeconfig token, as a tokenFile, and
# through the in-cluster configuration (KUBERNETES_SERVICE_HOST + files).
kc_bearer_tokens_and_in_cluster() {
  kubectl -n "$KC_NS" create serviceaccount e2e-reader
  kubectl create clusterrolebinding kube-client-e2e-reader --clusterrole=view \
    --serviceaccount="$KC_NS:e2e-reader"
  local token server port d=$KC_DIR/token
  token=$(kubectl -n "$KC_NS" create token e2e-reader --duration=1h)
  server=$(kc_field '.clusters[0].cluster.server')
  port=${server##*:}
  mkdir -p "$d"
  kc_field '.clusters[0].cluster.certificate-authority-data' | base64 -d >"$d/ca.crt"
  printf '%s\n' "$token" >"$d/token"
  write_token_kubeconfig() { # FILE USER-YAML
    cat >"$1" <<EOF
clusters:
- {name: c, cluster: {server: '$server', certificate-authority: ca.crt}}
users:
- {name: sa, user: $2}
contexts:
- {name: c, context: {cluster: c, user: sa}}
current-context: c
EOF
  }
  write_token_kubeconfig "$d/token.yaml" "{token: '$token'}"
  write_token_kubeconfig "$d/token-file.yaml" "{tokenFile: token}"
  write_token_kubeconfig "$d/bad-token.yaml" "{token: not-a-valid-token-s3cr3t}"
  local out
  out=$(kc --kubeconfig "$d/token.yaml" connect "$KC_NS")
  echo "token: $out"
  out=$(kc --kubeconfig "$d/token-file.yaml" connect "$KC_NS")
  echo "tokenFile: $out"
  if out=$(kc --kubeconfig "$d/bad-token.yaml" connect "$KC_NS"); then
    fail "a bad token was accepted"
  fi
  echo "bad token: $out"
  [[ $out == *"401 Unauthorized"* ]] || fail "no 401: $out"
  [[ $out != *"s3cr3t"* ]] || fail "the token appears in the error: $out"
  local sa=$d/root/var/run/secrets/kubernetes.io/serviceaccount
  mkdir -p "$sa"
  cp "$d/ca.crt" "$d/token" "$sa/"
  printf '%s' "$KC_NS" >"$sa/namespace"
  out=$(KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$port \
    kc --in-cluster "$d/root" connect "$KC_NS")
  echo "in-cluster: $out"
  [[ $out == *"in-cluster configuration"*"default namespace $KC_NS"* ]] || fail "unexpected: $out"
}

kc_pagination() {
  local out n
  out=$(kc pagination "$KC_NS")
  echo "$out"
  n=$(kubectl -n "$KC_NS" get configmaps -l page=yes -o name | wc -l)
  [ "$n" -eq 250 ] || fail "kubectl sees $n ConfigMaps, want 250"
}

# A continue token that expired half-way (etcd compacted past its revision:
# 410 Expired): the list starts over without pages, as client-go's pager
# does, and the pages before are dropped. A proxy in front of the API
# server expires the first continue token it sees and forwards the rest.
kc_pagination_continue_expired() {
  local d=$KC_DIR/expired ns=$KC_NS-expired pid port server out
  mkdir -p "$d"
  kc_field '.clusters[0].cluster.certificate-authority-data' | base64 -d >"$d/ca.crt"
  kc_field '.users[0].user.client-certificate-data' | base64 -d >"$d/client.crt"
  kc_field '.users[0].user.client-key-data' | base64 -d >"$d/client.key"
  server=$(kc_field '.clusters[0].cluster.server')
  cat >"$d/proxy.py" <<'PY'
import http.client, http.server, os, ssl, sys, threading, urllib.parse
portfile, upstream, ca, cert, key = sys.argv[1:6]
up = urllib.parse.urlsplit(upstream)
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
log = open(portfile + ".log", "a", buffering=1)
expired = threading.Event()
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host",
       "content-length"}
class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def reply(self, status, headers, data):
        log.write(f"{self.command} {self.path} -> {status}\n")
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in HOP: self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if "continue=" in self.path and not expired.is_set():
            expired.set()
            return self.reply(410, [("Content-Type", "application/json")],
                b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired",'
                b'"message":"The provided continue parameter is too old","code":410}')
        conn = http.client.HTTPSConnection(up.hostname, up.port, context=ctx, timeout=30)
        conn.request(self.command, self.path, body=body,
                     headers={k: v for k, v in self.headers.items() if k.lower() not in HOP})
        resp = conn.getresponse()
        self.reply(resp.status, resp.getheaders(), resp.read())
        conn.close()
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
with open(portfile + ".tmp", "w") as f: f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
PY
  rm -f "$d/port" "$d/port.log"
  python3 "$d/proxy.py" "$d/port" "$server" "$d/ca.crt" "$d/client.crt" "$d/client.key" &
  pid=$!
  wait_for 10 test -s "$d/port" || { kill "$pid"; fail "proxy did not start"; }
  port=$(cat "$d/port")
  cat >"$d/kubeconfig" <<EOF
clusters:
- {name: proxy, cluster: {server: 'http://127.0.0.1:$port'}}
contexts:
- {name: proxy, context: {cluster: proxy, namespace: $ns}}
current-context: proxy
EOF
  kubectl create namespace "$ns"
  if ! out=$(kc --kubeconfig "$d/kubeconfig" pagination "$ns"); then
    kill "$pid"; wait "$pid" 2>/dev/null || true
    fail "listing through the expiring proxy: $out"
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$out"
  # The token did expire (a test that cannot fail is a defect), and the
  # list went again from the start without a limit; kc checked that it
  # holds each ConfigMap once, in order.
  grep -- ' -> 410$' "$d/port.log" | grep -q 'continue=' || fail "no continue token expired"
  sed -n '/ -> 410$/,$p' "$d/port.log" | grep -v 'limit=' |
    grep -q 'configmaps?labelSelector=page%3Dyes -> 200$' ||
    fail "no list without pages after the 410: $(tail -3 "$d/port.log")"
}

kc_crud() {
  kc crud "$KC_NS"
  [ "$(kubectl -n "$KC_NS" get configmap applied -o jsonpath='{.data.owner}')" = second ] \
    || fail "applied ConfigMap not as forced"
  if kubectl -n "$KC_NS" get configmap crud 2>/dev/null; then fail "crud not deleted"; fi
}

kc_status_subresource_and_discovery() {
  kc status "$KC_NS"
  if kubectl get crd gadgets.kube-client.e2e.sluice.dev 2>/dev/null; then
    # Deletion may still be finalizing; it must be on its way.
    [ -n "$(kubectl get crd gadgets.kube-client.e2e.sluice.dev \
      -o jsonpath='{.metadata.deletionTimestamp}')" ] || fail "CRD not being deleted"
  fi
}

kc_watch() { kc watch "$KC_NS"; }

# etcd of the test environment: plain HTTP on loopback, for compactions.
kc_etcd_url() {
  local port
  port=$(sed -n 's/^ETCD_PORT=//p' "$SLUICE_TESTENV_DIR/state")
  [ -n "$port" ] || fail "no ETCD_PORT in $SLUICE_TESTENV_DIR/state"
  echo "http://127.0.0.1:$port"
}

kc_gone() {
  local url
  url=$(kc_etcd_url)
  KC_ETCD_URL=$url kc gone "$KC_NS"
}

kc_informer() { kc informer "$KC_NS"; }

# The informer's relist after Gone, forced by compacting etcd (plain HTTP
# on loopback in the test environment) under a watch on Events.
kc_informer_gone() {
  local url
  url=$(kc_etcd_url)
  KC_ETCD_URL=$url kc informer-gone "$KC_NS"
}

kc_events() {
  kc events "$KC_NS"
  local json
  json=$(kubectl -n "$KC_NS" get events --field-selector involvedObject.name=evented -o json)
  KC_UID=$(kubectl -n "$KC_NS" get configmap evented -o jsonpath='{.metadata.uid}') \
    python3 - "$json" <<'PY'
import json, os, sys
events = json.loads(sys.argv[1])["items"]
by_reason = {e["reason"]: e for e in events}
assert len(events) == 2, f"want 2 Events (one counted twice), got {len(events)}: {[e['reason'] for e in events]}"
na = by_reason["NewArtifact"]
assert na["type"] == "Normal" and na["count"] == 2, (na["type"], na["count"])
assert na["message"] == "stored artifact with revision 'latest@sha256:abc'", na["message"]
assert na["metadata"]["annotations"] == {
    "source.toolkit.fluxcd.io/revision": "latest@sha256:abc",
    "source.toolkit.fluxcd.io/digest": "sha256:abc"}, na["metadata"]["annotations"]
assert na["source"] == {"component": "source-controller", "host": "sluice-e2e-host"}, na["source"]
assert na["reportingComponent"] == "source-controller", na.get("reportingComponent")
assert na["reportingInstance"] == "sluice-e2e-host", na.get("reportingInstance")
io = na["involvedObject"]
assert io["kind"] == "ConfigMap" and io["apiVersion"] == "v1" and io["name"] == "evented", io
assert io["uid"] == os.environ["KC_UID"] and io["resourceVersion"], io
assert na["metadata"]["name"].startswith("evented."), na["metadata"]["name"]
assert na["firstTimestamp"] <= na["lastTimestamp"], (na["firstTimestamp"], na["lastTimestamp"])
w = by_reason["OCIArtifactPullFailed"]
assert w["type"] == "Warning" and w["count"] == 1, w
print("events as kubectl sees them:", ", ".join(f"{e['type']} {e['reason']} x{e['count']}" for e in events))
PY
  kubectl -n "$KC_NS" get events --field-selector involvedObject.name=evented
}

kc_lease() {
  kc lease "$KC_NS"
  [ "$(kubectl -n "$KC_NS" get lease leader -o jsonpath='{.spec.holderIdentity}')" = candidate-a ] \
    || fail "kubectl sees another holder"
}

kc_errors() { kc errors "$KC_NS"; }

# Retries against the real server behind tests/e2e/kube_flaky_proxy.py,
# which fails the first request of each path: 429, 503, or no answer.
kc_retries() {
  local d=$KC_DIR/proxy mode pid port server
  mkdir -p "$d"
  kc_field '.clusters[0].cluster.certificate-authority-data' | base64 -d >"$d/ca.crt"
  kc_field '.users[0].user.client-certificate-data' | base64 -d >"$d/client.crt"
  kc_field '.users[0].user.client-key-data' | base64 -d >"$d/client.key"
  server=$(kc_field '.clusters[0].cluster.server')
  for mode in 429-once 503-once drop-once; do
    rm -f "$d/port" "$d/port.log"
    python3 "$root/tests/e2e/kube_flaky_proxy.py" "$d/port" "$server" "$d/ca.crt" \
      "$d/client.crt" "$d/client.key" "$mode" &
    pid=$!
    wait_for 10 test -s "$d/port" || { kill "$pid"; fail "proxy did not start"; }
    port=$(cat "$d/port")
    cat >"$d/kubeconfig-$mode" <<EOF
clusters:
- {name: proxy, cluster: {server: 'http://127.0.0.1:$port'}}
contexts:
- {name: proxy, context: {cluster: proxy, namespace: $KC_NS}}
current-context: proxy
EOF
    if ! kc --kubeconfig "$d/kubeconfig-$mode" "retry-${mode%-once}" "$KC_NS"; then
      kill "$pid"; wait "$pid" 2>/dev/null || true
      cat "$d/port.log"
      fail "retries through the $mode proxy"
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true
    # The proxy did misbehave (a test that cannot fail is a defect).
    [ "$(grep -c -- "-> $mode" "$d/port.log")" -ge 2 ] || fail "the $mode proxy never misbehaved"
  done
}

kc_cleanup() {
  kubectl delete clusterrolebinding kube-client-e2e-reader --ignore-not-found
  kubectl delete namespace "$KC_NS" "$KC_NS-expired" --ignore-not-found --wait --timeout=90s
}

run_test "kube client: builds, test namespace created" kc_builds_and_namespace_exists
run_test "kube client: kubeconfig with client certificate data, HTTP/2, connection reuse" kc_client_certificate_data
run_test "kube client: certificate files at relative paths, merged KUBECONFIG, wrong CA refused" kc_certificate_files_and_merged_kubeconfigs
run_test "kube client: bearer token, tokenFile, bad token (401, not echoed), in-cluster config" kc_bearer_tokens_and_in_cluster
run_test "kube client: 250 ConfigMaps listed in pages of 100" kc_pagination
run_test "kube client: a continue token expired half-way: listed again without pages" kc_pagination_continue_expired
run_test "kube client: create, update, conflicts, patches, server-side apply, delete" kc_crud
run_test "kube client: CRD status subresource, discovery and its invalidation" kc_status_subresource_and_discovery
run_test "kube client: watch sees ADDED/MODIFIED/DELETED, bookmarks, stops on request" kc_watch
run_test "kube client: watch from a compacted resourceVersion ends with Gone" kc_gone
run_test "kube client: informer lists, watches, re-watches, caches, stops" kc_informer
run_test "kube client: informer relists after Gone (etcd compacted under its watch)" kc_informer_gone
run_test "kube client: events as Flux records them, counted, visible to kubectl" kc_events
run_test "kube client: a Lease held by one candidate, refused to another until it expires" kc_lease
run_test "kube client: API errors map to codes" kc_errors
run_test "kube client: retries on 429 (Retry-After), 503 and dropped connections, by verb" kc_retries
run_test "kube client: cleanup" kc_cleanup
