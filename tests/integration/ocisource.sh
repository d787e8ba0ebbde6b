#!/usr/bin/env bash
# The registry half of the OCIRepository reconciler (controller/ocisource)
# against the real registry: ref precedence, revisions, semver with Flux's
# rules, layer selection, extraction and copy, credentials and CA, and the
# condition reasons of each failure. Driven through
# build*/tests/integration/drivers/ocisource (next to the binary under test).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"

DRIVER=$(cd "$(dirname "$SLUICE")/../.." && pwd)/tests/integration/drivers/ocisource
[ -x "$DRIVER" ] || { echo "not ok - ${P}ocisource: driver $DRIVER missing"; exit 1; }

start_registry plain REG || { echo "not ok - ${P}ocisource: registry starts"; exit 1; }
start_registry basic-tls SEC || { echo "not ok - ${P}ocisource: TLS registry starts"; exit 1; }
SRC=$(tmpdir)
mkdir -p "$SRC/apps"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n' >"$SRC/apps/cm.yaml"
for tag in 1.0.0 1.2.0 2.0.0-rc.1 v1.1.0 latest 1.2 nightly; do
  sl push artifact "oci://$REG_HOST/app/podinfo:$tag" -f "$SRC" --source=https://github.com/x/y.git --revision="$tag@sha1:abc"
  [ "$RC" -eq 0 ] || { echo "not ok - ${P}ocisource: push $tag: $ERR"; exit 1; }
done

# fetch SPEC_JSON [OUT_FILE]: runs the driver; output in $OUT, status in $RC,
# the extraction directory in $DIR.
fetch() {
  DIR=$(tmpdir)
  set +e
  OUT=$("$DRIVER" "{\"spec\": $1}" "$DIR" ${2:+"$2"} 2>&1)
  RC=$?
  set -e
}
field() { sed -n "s/^$1=//p" <<<"$OUT"; }
digest_of() { manifest_of "$REG_HOST" app/podinfo "$1" -o /dev/null -D - | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}'; }

tag_resolves_to_tag_at_digest_and_extracts() {
  fetch "{\"url\": \"oci://$REG_HOST/app/podinfo\", \"interval\": \"1m\", \"ref\": {\"tag\": \"1.0.0\"}}"
  [ "$RC" -eq 0 ] || fail "$OUT"
  [ "$(field revision)" = "1.0.0@$(digest_of 1.0.0)" ] || fail "revision: $OUT"
  cmp "$SRC/apps/cm.yaml" "$DIR/apps/cm.yaml" || fail "extracted content differs"
  [ "$(field annotation.org.opencontainers.image.source)" = https://github.com/x/y.git ] || fail "annotations: $OUT"
  [ "$(field annotation.org.opencontainers.image.revision)" = "1.0.0@sha1:abc" ] || fail "annotations: $OUT"
}

no_ref_means_latest() {
  fetch "{\"url\": \"oci://$REG_HOST/app/podinfo\", \"interval\": \"1m\"}"
  [ "$RC" -eq 0 ] || fail "$OUT"
  [ "$(field revision)" = "latest@$(digest_of latest)" ] || fail "revision: $OUT"
}

semver_picks_the_highest_stable_flux_version() {
  # 2.0.0-rc.1 is a prerelease, 1.2 has two parts: neither counts.
  fetch "{\"url\": \"oci://$REG_HOST/app/podinfo\", \"interval\": \"1m\", \"ref\": {\"semver\": \">=1.0.0\", \"tag\": \"nightly\"}}"
  [ "$RC" -eq 0 ] || fail "$OUT"
  [ "$(field revision)" = "1.2.0@$(digest_of 1.2.0)" ] || fail "revision: $OUT"
  fetch "{\"url\": \"oci://$REG_HOST/app/podinfo\", \"interval\": \"1m\", \"ref\": {\"semver\": \">=1.0.0-0\"}}"
  [ "$(field revision)" = "2.0.0-rc.1@$(digest_of 2.0.0-rc.1)" ] || fail "prerelease range: $OUT"
  fetch "{\"url\": \"oci://$REG_HOST/app/podinfo\", \"interval\": \"1m\", \"ref\": {\"semver\": \"*\", \"semverFilter\": \"^v\"}}"
  [ "$(field revision)" = "v1.1.0@$(digest_of v1.1.0)" ] || fail "semverFilter: $OUT"
  fetch "{\"url\": \"oci://$REG_HOST/app/podinfo\", \"interval\": \"1m\", \"ref\": {\"semver\": \"~3.0\"}}"
  [ "$RC" -eq 1 ] && [ "$(field reason)" = ReadOperationFailed ] && [ "$(field stalling)" = 0 ] || fail "no match: $OUT"
  grep -q "no match found for semver: ~3.0" <<<"$OUT" || fail "message: $OUT"
}

digest_pin_wins_over_semver_and_tag() {
  local d; d=$(digest_of 1.0.0)
  fetch "{\"url\": \"oci://$REG_HOST/app/podinfo\", \"interval\": \"1m\", \"ref\": {\"digest\": \"$d\", \"semver\": \">=1.0.0\", \"tag\": \"latest\"}}"
  [ "$RC" -eq 0 ] || fail "$OUT"
  [ "$(field revision)" = "$d" ] || fail "revision: $OUT"
}

missing_tag_is_a_pull_failure_not_a_stall() {
  fetch "{\"url\": \"oci://$REG_HOST/app/podinfo\", \"interval\": \"1m\", \"ref\": {\"tag\": \"nope\"}}"
  [ "$RC" -eq 1 ] && [ "$(field reason)" = OCIArtifactPullFailed ] && [ "$(field stalling)" = 0 ] || fail "$OUT"
  grep -q "failed to determine artifact digest" <<<"$OUT" || fail "message: $OUT"
}

invalid_urls_stall() {
  local url
  for url in "https://$REG_HOST/app/podinfo" "oci://$REG_HOST/app/podinfo:v1" "oci://$REG_HOST/App"; do
    fetch "{\"url\": \"$url\", \"interval\": \"1m\"}"
    [ "$RC" -eq 1 ] && [ "$(field reason)" = URLInvalid ] && [ "$(field stalling)" = 1 ] || fail "$url: $OUT"
    grep -q "URL validation failed for '$url'" <<<"$OUT" || fail "message for $url: $OUT"
  done
  fetch "{\"url\": \"oci://$REG_HOST/app/podinfo:v1\", \"interval\": \"1m\"}"
  grep -q "URL must not contain a tag; remove ':v1'" <<<"$OUT" || fail "tag message: $OUT"
  fetch "{\"url\": \"oci://$REG_HOST/app/podinfo\", \"interval\": \"1m\", \"provider\": \"aws\"}"
  [ "$(field reason)" = UnsupportedProvider ] && [ "$(field stalling)" = 1 ] || fail "provider: $OUT"
}

copy_writes_the_layer_unchanged() {
  local out; out=$(tmpdir)/layer.tgz
  fetch "{\"url\": \"oci://$REG_HOST/app/podinfo\", \"interval\": \"1m\", \"ref\": {\"tag\": \"1.0.0\"}, \"layerSelector\": {\"mediaType\": \"application/vnd.cncf.flux.content.v1.tar+gzip\", \"operation\": \"copy\"}}" "$out"
  [ "$RC" -eq 0 ] || fail "$OUT"
  local layer; layer=$(manifest_of "$REG_HOST" app/podinfo 1.0.0 | jq -r '.layers[0].digest')
  [ "sha256:$(sha256sum "$out" | cut -d' ' -f1)" = "$layer" ] || fail "copied bytes differ from the layer"
  [ -z "$(ls -A "$DIR")" ] || fail "copy also extracted"
  fetch "{\"url\": \"oci://$REG_HOST/app/podinfo\", \"interval\": \"1m\", \"layerSelector\": {\"mediaType\": \"application/x-other\"}}"
  [ "$RC" -eq 1 ] && [ "$(field reason)" = OCIArtifactLayerOperationFailed ] || fail "$OUT"
  grep -q "failed to find layer with media type 'application/x-other' in artifact" <<<"$OUT" || fail "message: $OUT"
}

credentials_and_ca_reach_a_private_registry() {
  SLUICE_TEST_USER= sl push artifact "oci://$SEC_HOST/private/app:v1" -f "$SRC" --source=s --revision=r --creds flux:s3cret --ca-file "$SEC_CA"
  expect_ok
  export SLUICE_TEST_CA=$SEC_CA
  fetch "{\"url\": \"oci://$SEC_HOST/private/app\", \"interval\": \"1m\", \"ref\": {\"tag\": \"v1\"}}"
  [ "$RC" -eq 1 ] && [ "$(field reason)" = OCIArtifactPullFailed ] || fail "anonymous: $OUT"
  SLUICE_TEST_USER=flux SLUICE_TEST_PASSWORD=s3cret fetch "{\"url\": \"oci://$SEC_HOST/private/app\", \"interval\": \"1m\", \"ref\": {\"tag\": \"v1\"}}"
  [ "$RC" -eq 0 ] || fail "with credentials: $OUT"
  grep -q s3cret <<<"$OUT" && fail "the password reached the output"
  unset SLUICE_TEST_CA
}

for t in tag_resolves_to_tag_at_digest_and_extracts \
         no_ref_means_latest \
         semver_picks_the_highest_stable_flux_version \
         digest_pin_wins_over_semver_and_tag \
         missing_tag_is_a_pull_failure_not_a_stall \
         invalid_urls_stall \
         copy_writes_the_layer_unchanged \
         credentials_and_ca_reach_a_private_registry; do
  run_test "${P}ocisource: $t" "$t"
done
[ "$T_FAILED" -eq 0 ]
