#!/usr/bin/env bash
# Self-test of scripts/registry: each variant starts, answers the way real
# registries do, takes (or refuses) a Flux-style push from skopeo, and stops
# without leaving a process behind. TAP lines via tests/lib.sh.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$top/tests/lib.sh"
registry=$top/scripts/registry
make_layout=$top/scripts/registry.d/make-flux-layout

for tool in docker-registry skopeo curl jq openssl htpasswd python3; do
  command -v "$tool" >/dev/null || { echo "Bail out! $tool not installed (run scripts/deps)"; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-registry-test.XXXXXX")
cleanup() {
  local d
  for d in "$tmp"/reg-*; do [ -d "$d" ] && "$registry" stop "$d"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_test's subshell runs inside an `&&`/`||` list, where bash ignores
# errexit (even after `set -e`), so a test must stop on its own: die ends it
# at the first failed check, must at the first failed command.
die() { fail "$@"; exit 1; }
must() { "$@" || die "failed: $*"; }

# skopeo isolated from the caller's policy and stored credentials.
echo '{"auths":{}}' >"$tmp/auth.json"
sko() { REGISTRY_AUTH_FILE=$tmp/auth.json skopeo --insecure-policy "$@"; }

layout=$tmp/layout
digest_v1=$("$make_layout" "$layout" v1) || { echo "Bail out! make-flux-layout failed"; exit 1; }

# start VARIANT NAME: start into $tmp/reg-NAME, check the env file against
# the printed exports, and remember the PIDs for the leftover check.
start() {
  local d=$tmp/reg-$2 out t0 t1
  t0=$(date +%s%N)
  out=$("$registry" start "$1" "$d") || die "start $1 failed"
  t1=$(date +%s%N)
  echo "$1 $(( (t1 - t0) / 1000000 ))" >>"$tmp/start-times"
  [ -f "$d/env" ] || die "no $d/env"
  [ "$out" = "$(sed 's/^/export /' "$d/env")" ] || die "printed exports differ from $d/env"
  . "$d/env"
  echo "$REGISTRY_PID $TOKEN_ISSUER_PID" >>"$tmp/pids"
  [ "$REGISTRY_VARIANT" = "$1" ] || die "REGISTRY_VARIANT=$REGISTRY_VARIANT"
  [[ "$REGISTRY_HOST" =~ ^127\.0\.0\.1:[0-9]+$ ]] || die "REGISTRY_HOST=$REGISTRY_HOST"
  [ "$REGISTRY_STORAGE" = "$d/storage" ] || die "REGISTRY_STORAGE=$REGISTRY_STORAGE"
  running "$REGISTRY_PID" || die "REGISTRY_PID $REGISTRY_PID not running"
}

in_env() { . "$tmp/reg-$1/env" || die "no env for $1"; }

# running PID: alive and not a zombie (an orphan's exit is reaped by init,
# which may take a moment).
running() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$state" ] && [ "$state" != Z ]
}

http_code() { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }

# oci_digest URL [CURL ARGS]: Docker-Content-Digest of an OCI manifest.
oci_digest() {
  local url=$1; shift
  curl -sfI "$@" -H 'Accept: application/vnd.oci.image.manifest.v1+json' "$url" |
    tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}

# jwt_part TOKEN N: the decoded JSON of part N (0 header, 1 claims).
jwt_part() {
  local p
  p=$(cut -d. -f$(($2 + 1)) <<<"$1" | tr '_-' '/+')
  while [ $((${#p} % 4)) -ne 0 ]; do p+="="; done
  base64 -d <<<"$p"
}

# --- layout builder ---------------------------------------------------------

t_layout_archives_source_like_flux() {
  local src=$tmp/src out=$tmp/layout-src m layer
  mkdir -p "$src/b-dir" "$src/a-dir"
  echo one >"$src/b-dir/x.yaml"
  echo two >"$src/a-dir/y.yaml"
  echo three >"$src/top.yaml"
  ln -s top.yaml "$src/link.yaml"
  FLUX_ARTIFACT_REVISION=v9@sha1:0123 FLUX_ARTIFACT_CREATED=1970-01-01T00:00:00Z \
    FLUX_ARTIFACT_SOURCE=https://example.com/r must "$make_layout" "$out" v9 "$src" >/dev/null
  must "$make_layout" "$out" v10 >/dev/null
  jq -e '[.manifests[].annotations["org.opencontainers.image.ref.name"]] == ["v9","v10"]' \
    "$out/index.json" >/dev/null || die "index does not hold both tags: $(cat "$out/index.json")"
  m=$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$out/index.json")
  jq -e '.annotations == {"org.opencontainers.image.created":"1970-01-01T00:00:00Z",
    "org.opencontainers.image.revision":"v9@sha1:0123",
    "org.opencontainers.image.source":"https://example.com/r"}' "$out/blobs/sha256/$m" >/dev/null ||
    die "annotations: $(cat "$out/blobs/sha256/$m")"
  layer=$(jq -r '.layers[0].digest | sub("sha256:"; "")' "$out/blobs/sha256/$m")
  [ "$(tar tzf "$out/blobs/sha256/$layer" | tr '\n' ' ')" = ". a-dir a-dir/y.yaml b-dir b-dir/x.yaml top.yaml " ] ||
    die "entries: $(tar tzf "$out/blobs/sha256/$layer" | tr '\n' ' ')"
  TZ=UTC tar tvzf "$out/blobs/sha256/$layer" | awk '$2 != "0/0" || $4 != "1970-01-01" { bad = 1 } END { exit bad }' ||
    die "owner or mtime not zeroed: $(tar tvzf "$out/blobs/sha256/$layer")"
}

# --- plain ------------------------------------------------------------------

t_plain_starts() {
  start plain plain
  in_env plain
  [ "$REGISTRY_SCHEME" = http ] && [ -z "$REGISTRY_USER$REGISTRY_PASSWORD$REGISTRY_CA" ] ||
    die "plain env: scheme=$REGISTRY_SCHEME user=$REGISTRY_USER ca=$REGISTRY_CA"
  [ "$(http_code "$REGISTRY_URL/v2/")" = 200 ] || die "GET /v2/ is not 200"
}

t_plain_accepts_anonymous_push() {
  in_env plain
  must sko copy -q --dest-tls-verify=false "oci:$layout:v1" "docker://$REGISTRY_HOST/flux/demo:v1"
  curl -sf "$REGISTRY_URL/v2/flux/demo/tags/list" | jq -e '.tags == ["v1"]' >/dev/null ||
    die "tag v1 not listed"
  [ "$(oci_digest "$REGISTRY_URL/v2/flux/demo/manifests/v1")" = "$digest_v1" ] ||
    die "pushed manifest digest differs from the layout's $digest_v1"
}

t_plain_pushed_artifact_is_flux_format() {
  in_env plain
  local m
  m=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "$REGISTRY_URL/v2/flux/demo/manifests/v1")
  jq -e '.mediaType == "application/vnd.oci.image.manifest.v1+json"
    and .config.mediaType == "application/vnd.cncf.flux.config.v1+json"
    and (.layers | length) == 1
    and .layers[0].mediaType == "application/vnd.cncf.flux.content.v1.tar+gzip"
    and (.annotations | has("org.opencontainers.image.created")
      and has("org.opencontainers.image.source")
      and has("org.opencontainers.image.revision"))' <<<"$m" >/dev/null ||
    die "not a Flux artifact manifest: $m"
  local layer
  layer=$(jq -r '.layers[0].digest' <<<"$m")
  curl -sf "$REGISTRY_URL/v2/flux/demo/blobs/$layer" | tar tzf - | grep -qx 'configmap.yaml' ||
    die "layer does not hold configmap.yaml"
}

t_plain_storage_holds_blobs_on_disk() {
  in_env plain
  local layer hex data
  layer=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "$REGISTRY_URL/v2/flux/demo/manifests/v1" | jq -r '.layers[0].digest')
  hex=${layer#sha256:}
  data=$REGISTRY_STORAGE/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data
  [ -f "$data" ] || die "no blob file $data"
  [ "$(sha256sum <"$data" | cut -d' ' -f1)" = "$hex" ] || die "blob file content differs"
}

# --- basic-tls --------------------------------------------------------------

t_tls_starts_with_ca_signed_cert() {
  start basic-tls tls
  in_env tls
  [ "$REGISTRY_SCHEME" = https ] && [ "$REGISTRY_USER" = flux ] && [ "$REGISTRY_PASSWORD" = s3cret ] ||
    die "basic-tls env: scheme=$REGISTRY_SCHEME user=$REGISTRY_USER"
  [ "$(ls "$REGISTRY_CERT_DIR")" = ca.crt ] || die "cert dir holds more than ca.crt"
  openssl x509 -in "$REGISTRY_CA" -noout -ext basicConstraints | grep -q 'CA:TRUE' ||
    die "REGISTRY_CA is not a CA certificate"
  # The server's certificate is not the CA: the chain is leaf -> CA.
  local served
  served=$(openssl s_client -connect "$REGISTRY_HOST" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256)
  [ -n "$served" ] && [ "$served" != "$(openssl x509 -in "$REGISTRY_CA" -noout -fingerprint -sha256)" ] ||
    die "served certificate is the CA itself (or none)"
  local h
  h=$(curl -s -D - -o /dev/null --cacert "$REGISTRY_CA" "$REGISTRY_URL/v2/" | tr -d '\r')
  grep -q '^HTTP/[0-9.]* 401' <<<"$h" || die "anonymous GET /v2/ is not 401: $h"
  grep -qi '^www-authenticate: Basic realm=' <<<"$h" || die "no Basic challenge: $h"
  [ "$(http_code --cacert "$REGISTRY_CA" -u flux:s3cret "$REGISTRY_URL/v2/")" = 200 ] ||
    die "GET /v2/ with flux:s3cret is not 200"
  [ "$(http_code --cacert "$REGISTRY_CA" -u flux:wrong "$REGISTRY_URL/v2/")" = 401 ] ||
    die "GET /v2/ with a wrong password is not 401"
  [ "$(http_code --cacert "$REGISTRY_CA" -u flux:s3cret "https://localhost:${REGISTRY_HOST#*:}/v2/")" = 200 ] ||
    die "the certificate does not cover DNS:localhost"
}

t_tls_untrusted_without_ca() {
  in_env tls
  local rc=0
  curl -s -o /dev/null -u flux:s3cret "$REGISTRY_URL/v2/" || rc=$?
  [ "$rc" = 60 ] || die "curl without the CA: exit $rc, want 60 (certificate not trusted)"
  if sko copy -q --dest-creds flux:s3cret "oci:$layout:v1" "docker://$REGISTRY_HOST/flux/demo:v1" 2>"$tmp/err"; then
    die "skopeo pushed without being given the CA"
  fi
  grep -qi 'x509\|certificate' "$tmp/err" || die "unexpected error: $(cat "$tmp/err")"
}

t_tls_rejects_wrong_password() {
  in_env tls
  if sko copy -q --dest-cert-dir "$REGISTRY_CERT_DIR" --dest-creds flux:wrong \
    "oci:$layout:v1" "docker://$REGISTRY_HOST/flux/demo:v1" 2>"$tmp/err"; then
    die "push with a wrong password succeeded"
  fi
  grep -qi 'unauthorized\|authentication required' "$tmp/err" || die "unexpected error: $(cat "$tmp/err")"
  [ "$(http_code --cacert "$REGISTRY_CA" -u flux:s3cret "$REGISTRY_URL/v2/flux/demo/tags/list")" = 404 ] ||
    die "something was stored"
}

t_tls_accepts_right_password_with_ca() {
  in_env tls
  must sko copy -q --dest-cert-dir "$REGISTRY_CERT_DIR" --dest-creds flux:s3cret \
    "oci:$layout:v1" "docker://$REGISTRY_HOST/flux/demo:v1"
  [ "$(oci_digest "$REGISTRY_URL/v2/flux/demo/manifests/v1" --cacert "$REGISTRY_CA" -u flux:s3cret)" = "$digest_v1" ] ||
    die "pushed manifest digest differs"
  must sko copy -q --src-cert-dir "$REGISTRY_CERT_DIR" --src-creds flux:s3cret \
    "docker://$REGISTRY_HOST/flux/demo:v1" "oci:$tmp/pulled:v1"
  [ "$(jq -r '.manifests[0].digest' "$tmp/pulled/index.json")" = "$digest_v1" ] ||
    die "pulled manifest digest differs"
}

# --- token ------------------------------------------------------------------

t_token_starts_and_challenges_bearer() {
  start token token
  in_env token
  [ "$REGISTRY_SCHEME" = http ] && [ -n "$TOKEN_ISSUER_URL" ] && [ -n "$TOKEN_SERVICE" ] ||
    die "token env: scheme=$REGISTRY_SCHEME issuer=$TOKEN_ISSUER_URL"
  running "$TOKEN_ISSUER_PID" || die "TOKEN_ISSUER_PID not running"
  local h
  h=$(curl -s -D - -o /dev/null "$REGISTRY_URL/v2/" | tr -d '\r')
  grep -q '^HTTP/[0-9.]* 401' <<<"$h" || die "anonymous GET /v2/ is not 401: $h"
  grep -qi "^www-authenticate: Bearer realm=\"$TOKEN_ISSUER_URL\",service=\"$TOKEN_SERVICE\"\$" <<<"$h" ||
    die "unexpected challenge: $h"
}

t_token_issuer_grants_by_credentials() {
  in_env token
  local q="$TOKEN_ISSUER_URL?service=$TOKEN_SERVICE&scope=repository:flux/demo:pull,push" body tok
  [ "$(http_code -u flux:wrong "$q")" = 401 ] || die "wrong password is not 401"
  body=$(curl -sf -u flux:s3cret "$q") || die "token request with flux:s3cret failed"
  jq -e '(.token | length) > 0 and .access_token == .token and .expires_in == 300
    and (.issued_at | test("^[0-9-]+T[0-9:]+Z$"))' <<<"$body" >/dev/null || die "bad response: $body"
  tok=$(jq -r .token <<<"$body")
  jwt_part "$tok" 0 | jq -e '.alg == "ES256" and (.x5c | length) == 1' >/dev/null ||
    die "header: $(jwt_part "$tok" 0)"
  jwt_part "$tok" 1 | jq -e --arg aud "$TOKEN_SERVICE" '.aud == $aud and .sub == "flux"
    and .exp > .nbf and (.jti | length) > 0
    and .access == [{"type":"repository","name":"flux/demo","actions":["pull","push"]}]' >/dev/null ||
    die "claims: $(jwt_part "$tok" 1)"
  tok=$(curl -sf "$q" | jq -r .token) || die "anonymous token request failed"
  jwt_part "$tok" 1 | jq -e '.access == [] and .sub == ""' >/dev/null ||
    die "anonymous claims: $(jwt_part "$tok" 1)"
}

t_token_push_with_credentials() {
  in_env token
  must sko copy -q --dest-tls-verify=false --dest-creds flux:s3cret \
    "oci:$layout:v1" "docker://$REGISTRY_HOST/flux/demo:v1"
  local tok
  tok=$(curl -sf -u flux:s3cret "$TOKEN_ISSUER_URL?service=$TOKEN_SERVICE&scope=repository:flux/demo:pull" | jq -r .token)
  [ "$(oci_digest "$REGISTRY_URL/v2/flux/demo/manifests/v1" -H "Authorization: Bearer $tok")" = "$digest_v1" ] ||
    die "pushed manifest digest differs"
  grep -q '"user": "flux"' "$TOKEN_ISSUER_LOG" || die "issuer log does not show flux's request"
}

t_token_rejects_wrong_password_and_anonymous() {
  in_env token
  if sko copy -q --dest-tls-verify=false --dest-creds flux:wrong \
    "oci:$layout:v1" "docker://$REGISTRY_HOST/flux/other:v1" 2>"$tmp/err"; then
    die "push with a wrong password succeeded"
  fi
  grep -qi 'unauthorized\|username or password' "$tmp/err" || die "unexpected error: $(cat "$tmp/err")"
  if sko copy -q --dest-tls-verify=false "oci:$layout:v1" "docker://$REGISTRY_HOST/flux/other:v1" 2>"$tmp/err"; then
    die "anonymous push succeeded"
  fi
  grep -qi 'denied\|unauthorized' "$tmp/err" || die "unexpected error: $(cat "$tmp/err")"
  local tok
  tok=$(curl -sf "$TOKEN_ISSUER_URL?service=$TOKEN_SERVICE&scope=repository:flux/demo:pull" | jq -r .token)
  [ "$(http_code -H "Authorization: Bearer $tok" "$REGISTRY_URL/v2/flux/demo/tags/list")" = 401 ] ||
    die "an anonymous token could read flux/demo"
}

# --- lifecycle --------------------------------------------------------------

t_start_refuses_a_running_dir() {
  if "$registry" start plain "$tmp/reg-plain" >/dev/null 2>"$tmp/err"; then
    die "second start in a running DIR succeeded"
  fi
  grep -q 'already runs' "$tmp/err" || die "unexpected error: $(cat "$tmp/err")"
  in_env plain
  [ "$(http_code "$REGISTRY_URL/v2/")" = 200 ] || die "the running registry was harmed"
}

t_restart_keeps_endpoint_ca_and_storage() {
  local d=$tmp/reg-tls host ca pid
  host=$(. "$d/env"; echo "$REGISTRY_HOST")
  ca=$(cat "$d/certs.d/ca.crt")
  pid=$(. "$d/env"; echo "$REGISTRY_PID")
  must "$registry" stop "$d"
  ! running "$pid" || die "registry $pid still running after stop"
  [ "$(http_code --cacert "$d/certs.d/ca.crt" "https://$host/v2/")" = 000 ] || die "still answering"
  "$registry" start basic-tls "$d" >/dev/null || die "start basic-tls failed"
  in_env tls
  echo "$REGISTRY_PID" >>"$tmp/pids"
  [ "$REGISTRY_HOST" = "$host" ] || die "host changed: $host -> $REGISTRY_HOST"
  [ "$(cat "$REGISTRY_CA")" = "$ca" ] || die "CA changed"
  curl -sf --cacert "$REGISTRY_CA" -u flux:s3cret "$REGISTRY_URL/v2/flux/demo/tags/list" |
    jq -e '.tags == ["v1"]' >/dev/null || die "pushed tag lost over a restart"
}

t_failed_start_cleans_up() {
  local d=$tmp/reg-broken
  "$registry" start basic-tls "$d" >/dev/null || die "start basic-tls failed"
  local pid
  pid=$(. "$d/env"; echo "$REGISTRY_PID")
  echo "$pid" >>"$tmp/pids"
  must "$registry" stop "$d"
  echo garbage >"$d/tls/server.key"
  if "$registry" start basic-tls "$d" >/dev/null 2>"$tmp/err"; then
    die "start with a broken key succeeded"
  fi
  grep -q 'tail of .*registry.log' "$tmp/err" || die "no log tail shown: $(cat "$tmp/err")"
  [ ! -e "$d/registry.pid" ] && [ ! -e "$d/env" ] || die "pid or env file left behind"
  local broken=$d/token-failed
  if SLUICE_TOKEN_TTL=soon "$registry" start token "$broken" >/dev/null 2>"$tmp/err"; then
    die "token start with a bad TTL succeeded"
  fi
  grep -q 'tail of .*token-issuer.log' "$tmp/err" || die "no issuer log tail shown: $(cat "$tmp/err")"
  [ ! -e "$broken/token-issuer.pid" ] || die "issuer pid file left behind"
}

t_stop_is_idempotent_and_clean_removes() {
  local d=$tmp/reg-plain pid
  pid=$(. "$d/env"; echo "$REGISTRY_PID")
  must "$registry" stop "$d"
  must "$registry" stop "$d"
  ! running "$pid" || die "registry $pid still running"
  [ -d "$d/storage" ] || die "stop without --clean removed DIR"
  must "$registry" stop --clean "$d"
  [ ! -e "$d" ] || die "--clean left $d"
  "$registry" stop --clean "$d" || die "stop of a missing DIR failed"
}

t_nothing_left_running() {
  local d pid left=""
  for d in "$tmp"/reg-*; do must "$registry" stop "$d"; done
  for pid in $(cat "$tmp/pids"); do
    if running "$pid"; then left+=" $pid"; fi
  done
  [ -z "$left" ] || die "still running:$left ($(ps -o pid,cmd -p "${left# }" | tail -n +2))"
}

: >"$tmp/pids"
run_test "make-flux-layout: archives a source dir the way Flux does" t_layout_archives_source_like_flux
run_test "plain: starts on a free loopback port, env matches exports" t_plain_starts
run_test "plain: accepts an anonymous skopeo push of a Flux artifact" t_plain_accepts_anonymous_push
run_test "plain: pushed artifact keeps Flux media types and annotations" t_plain_pushed_artifact_is_flux_format
run_test "plain: REGISTRY_STORAGE holds blobs at blobs/sha256/xx/HEX/data" t_plain_storage_holds_blobs_on_disk
run_test "basic-tls: serves a CA-signed cert and challenges Basic" t_tls_starts_with_ca_signed_cert
run_test "basic-tls: clients without the CA do not trust it" t_tls_untrusted_without_ca
run_test "basic-tls: rejects a wrong password" t_tls_rejects_wrong_password
run_test "basic-tls: accepts flux:s3cret with the CA as ca.crt" t_tls_accepts_right_password_with_ca
run_test "token: anonymous /v2/ gets a Bearer realm/service challenge" t_token_starts_and_challenges_bearer
run_test "token: issuer grants by credentials, ES256 JWT with x5c" t_token_issuer_grants_by_credentials
run_test "token: skopeo push with flux:s3cret works" t_token_push_with_credentials
run_test "token: wrong password and anonymous pushes fail" t_token_rejects_wrong_password_and_anonymous
run_test "start: refuses a DIR whose registry runs" t_start_refuses_a_running_dir
run_test "restart: keeps host, CA and storage" t_restart_keeps_endpoint_ca_and_storage
run_test "start: a failure stops what started and shows the log" t_failed_start_cleans_up
run_test "stop: idempotent; --clean removes DIR" t_stop_is_idempotent_and_clean_removes
run_test "stop: no registry or issuer process left" t_nothing_left_running

[ -f "$tmp/start-times" ] && sed 's/^\([^ ]*\) \(.*\)/# start \1: \2 ms/' "$tmp/start-times"
[ "$T_FAILED" -eq 0 ]
