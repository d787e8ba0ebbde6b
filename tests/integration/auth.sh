#!/usr/bin/env bash
# Authentication and TLS: htpasswd Basic over TLS with a private CA, and the
# registry's token mode (Bearer) with the harness's JWT issuer.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"

start_registry basic-tls TLS || { echo "not ok - ${P}auth: TLS registry starts"; exit 1; }
start_registry token TOK || { echo "not ok - ${P}auth: token registry starts"; exit 1; }
SRC=$(tmpdir); make_tree "$SRC"
SECRET=s3cret

no_secret_in() { ! grep -q "$SECRET\|czNjcmV0\|wrongpass" <<<"$1" || fail "a secret reached the output: $1"; }

basic_auth_over_tls_with_a_private_ca() {
  sl push artifact "oci://$TLS_HOST/app/b:v1" -f "$SRC" --source=s --revision=r --creds "flux:$SECRET" --ca-file "$TLS_CA"
  expect_ok
  grep -q '^► logging in to registry with credentials' <<<"$ERR"
  local out; out=$(tmpdir)
  sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$out" --creds "flux:$SECRET" --ca-file "$TLS_CA"
  expect_ok
  [ -f "$out/deploy/base/ns.yaml" ]
  no_secret_in "$ERR$OUT"
}

ssl_cert_file_is_honoured_like_go_does() {
  SSL_CERT_FILE=$TLS_CA sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --creds "flux:$SECRET"
  expect_ok
}

untrusted_certificate_fails_with_a_hint_and_insecure_skips_it() {
  sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --creds "flux:$SECRET"
  expect_fail "SSL certificate problem"
  grep -q -- "--ca-file" <<<"$ERR"
  sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --creds "flux:$SECRET" --insecure-registry
  expect_ok
}

wrong_password_names_the_registry_never_the_secret() {
  sl push artifact "oci://$TLS_HOST/app/b:v2" -f "$SRC" --source=s --revision=r --creds flux:wrongpass --ca-file "$TLS_CA"
  expect_fail "authentication to $TLS_HOST failed"
  grep -q "401 Unauthorized" <<<"$ERR"
  no_secret_in "$ERR$OUT"
  sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --ca-file "$TLS_CA"
  expect_fail "no credentials found for $TLS_HOST"
}

docker_config_auths_are_used() {
  local cfg; cfg=$(tmpdir)
  jq -n --arg h "$TLS_HOST" --arg a "$(printf 'flux:%s' "$SECRET" | base64)" '{auths: {($h): {auth: $a}}}' > "$cfg/config.json"
  DOCKER_CONFIG=$cfg sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --ca-file "$TLS_CA"
  expect_ok
  # A URL-style key matches by host, as docker login writes for some registries.
  jq -n --arg h "https://$TLS_HOST/v1/" '{auths: {($h): {username: "flux", password: "s3cret"}}}' > "$cfg/config.json"
  DOCKER_CONFIG=$cfg sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --ca-file "$TLS_CA"
  expect_ok
  # --creds wins over the config.
  DOCKER_CONFIG=$cfg sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --ca-file "$TLS_CA" --creds flux:wrongpass
  expect_fail "authentication to $TLS_HOST failed"
  echo '{ not json' > "$cfg/config.json"
  DOCKER_CONFIG=$cfg sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --ca-file "$TLS_CA"
  expect_fail "docker config: invalid JSON"
}

credential_helpers_speak_dockers_protocol() {
  local bin cfg log; bin=$(tmpdir); cfg=$(tmpdir); log=$bin/calls
  cat > "$bin/docker-credential-sluicetest" <<HELPER
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r server
echo "\$server" >> "$log"
case "\$server" in
  $TLS_HOST) printf '{"ServerURL":"%s","Username":"flux","Secret":"$SECRET"}' "\$server" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
HELPER
  chmod +x "$bin/docker-credential-sluicetest"
  jq -n '{credsStore: "sluicetest"}' > "$cfg/config.json"
  PATH=$bin:$PATH DOCKER_CONFIG=$cfg sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --ca-file "$TLS_CA"
  expect_ok
  # Asked for the repository first, then the registry host.
  [ "$(cat "$log")" = "$(printf '%s\n%s' "$TLS_HOST/app/b" "$TLS_HOST")" ] || fail "helper calls: $(cat "$log")"
  jq -n --arg h "$TLS_HOST" '{credHelpers: {($h): "sluicetest"}}' > "$cfg/config.json"
  PATH=$bin:$PATH DOCKER_CONFIG=$cfg sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --ca-file "$TLS_CA"
  expect_ok
  # A helper stuck on a prompt nobody answers is given up on.
  printf '#!/bin/sh\nexec sleep 30\n' > "$bin/docker-credential-stuck"; chmod +x "$bin/docker-credential-stuck"
  jq -n '{credsStore: "stuck"}' > "$cfg/config.json"
  PATH=$bin:$PATH DOCKER_CONFIG=$cfg SLUICE_CREDENTIAL_HELPER_TIMEOUT=500ms \
    sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --ca-file "$TLS_CA"
  expect_fail "docker-credential-stuck get: no answer within 500 ms"
  jq -n '{credsStore: "missinghelper"}' > "$cfg/config.json"
  DOCKER_CONFIG=$cfg sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --ca-file "$TLS_CA"
  expect_fail "docker-credential-missinghelper not found"
}

bearer_token_auth_round_trip() {
  sl push artifact "oci://$TOK_HOST/app/t:v1" -f "$SRC" --source=s --revision=r --creds "flux:$SECRET"
  expect_ok
  local out; out=$(tmpdir)
  sl pull artifact "oci://$TOK_HOST/app/t:v1" -o "$out" --creds "flux:$SECRET"
  expect_ok
  diff -r -x .git -x logo.png "$SRC" "$out"
  no_secret_in "$ERR$OUT"
}

a_push_fetches_one_token_and_reuses_it() {
  local before after
  before=$(wc -l < "$TOK_ISSUER_LOG")
  sl push artifact "oci://$TOK_HOST/app/t:v2" -f "$SRC/deploy" --source=s --revision=r --creds "flux:$SECRET"
  expect_ok
  after=$(wc -l < "$TOK_ISSUER_LOG")
  [ $((after - before)) -eq 1 ] || fail "$((after - before)) token requests for one push"
  tail -n 1 "$TOK_ISSUER_LOG" | jq -e '.scopes == ["repository:app/t:pull,push"] and .user == "flux"'
}

bearer_auth_failures_are_clear() {
  sl push artifact "oci://$TOK_HOST/app/t:v3" -f "$SRC" --source=s --revision=r
  expect_fail "no credentials found for $TOK_HOST"
  sl push artifact "oci://$TOK_HOST/app/t:v3" -f "$SRC" --source=s --revision=r --creds flux:wrongpass
  expect_fail "fetching a token for $TOK_HOST"
  no_secret_in "$ERR$OUT"
}

create_secret_oci_is_fluxs_yaml_and_its_config_works() {
  # Flux's own golden file for this command line.
  sl create secret oci ghcr --namespace=my-namespace --url ghcr.io --username stefanprodan --password=password --export
  expect_ok
  [ "$OUT" = "$(printf '%s\n' '---' 'apiVersion: v1' 'kind: Secret' 'metadata:' '  name: ghcr' '  namespace: my-namespace' \
    'stringData:' "  .dockerconfigjson: '{\"auths\":{\"ghcr.io\":{\"username\":\"stefanprodan\",\"password\":\"password\",\"auth\":\"c3RlZmFucHJvZGFuOnBhc3N3b3Jk\"}}}'" \
    'type: kubernetes.io/dockerconfigjson')" ] || fail "$OUT"
  [ -z "$ERR" ] || fail "--export printed on stderr: $ERR"
  # The generated docker config authenticates for real.
  sl create secret oci reg --url "$TLS_HOST" --username flux --password "$SECRET" --export
  local cfg; cfg=$(tmpdir)
  sed -n "s/^  .dockerconfigjson: '\(.*\)'$/\1/p" <<<"$OUT" | sed "s/''/'/g" > "$cfg/config.json"
  DOCKER_CONFIG=$cfg sl pull artifact "oci://$TLS_HOST/app/b:v1" -o "$(tmpdir)" --ca-file "$TLS_CA"
  expect_ok
  sl create secret oci; expect_fail "name is required"
  sl create secret oci x --username a --password b; expect_fail "--url is required"
  sl create secret oci x --url ghcr.io --password b; expect_fail "--username is required"
  sl create secret oci Bad_Name --url ghcr.io -u a -p b; expect_fail 'invalid name "Bad_Name"'
  sl create secret oci x --url 'not a url' -u a -p b; expect_fail "error parsing url"
}

for t in basic_auth_over_tls_with_a_private_ca \
         ssl_cert_file_is_honoured_like_go_does \
         untrusted_certificate_fails_with_a_hint_and_insecure_skips_it \
         wrong_password_names_the_registry_never_the_secret \
         docker_config_auths_are_used \
         credential_helpers_speak_dockers_protocol \
         bearer_token_auth_round_trip \
         a_push_fetches_one_token_and_reuses_it \
         bearer_auth_failures_are_clear \
         create_secret_oci_is_fluxs_yaml_and_its_config_works; do
  run_test "${P}$t" "$t"
done
[ "$T_FAILED" -eq 0 ]
