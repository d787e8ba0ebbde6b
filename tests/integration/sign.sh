#!/usr/bin/env bash
# Signing and verification against real cosign (v2.6.5 and v3.1.3, built by
# scripts/cosign-peer), in both directions, on Debian's docker-registry (no
# referrers API: v3 bundles go through the sha256-<hex> tag) and on
# go-containerregistry's registry with the referrers API switched on.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"

COSIGN2=$("$ROOT/scripts/cosign-peer" bin v2) || { echo "not ok - ${P}sign: cosign v2 builds"; exit 1; }
COSIGN3=$("$ROOT/scripts/cosign-peer" bin v3) || { echo "not ok - ${P}sign: cosign v3 builds"; exit 1; }
GGCR_REGISTRY=$("$ROOT/scripts/cosign-peer" bin registry) || { echo "not ok - ${P}sign: referrers registry builds"; exit 1; }
start_registry plain REG || { echo "not ok - ${P}sign: registry starts"; exit 1; }

# The referrers-capable registry, stopped when the suite ends.
REF_DIR=$(tmpdir)
"$GGCR_REGISTRY" --addr 127.0.0.1:0 --port-file "$REF_DIR/addr" 2>"$REF_DIR/log" &
REF_PID=$!
trap 'kill "$REF_PID" 2>/dev/null; wait "$REF_PID" 2>/dev/null; cleanup_all' EXIT
wait_for 20 test -s "$REF_DIR/addr" || { echo "not ok - ${P}sign: referrers registry starts"; exit 1; }
REF_HOST=$(cat "$REF_DIR/addr")

# Keys: one pair from each tool, password "pw", made once for the suite.
export COSIGN_PASSWORD=pw
KEYS=$(tmpdir)
(cd "$KEYS" && "$SLUICE" generate-key-pair --output-key-prefix sluice >/dev/null 2>&1 &&
  "$COSIGN2" generate-key-pair --output-key-prefix cosign >/dev/null 2>&1 &&
  "$COSIGN3" generate-key-pair --output-key-prefix cosign3 >/dev/null 2>&1) ||
  { echo "not ok - ${P}sign: key pairs"; exit 1; }
SRC=$(tmpdir); make_tree "$SRC"
COSIGN_FLAGS=(--allow-insecure-registry --allow-http-registry)
# cosign offline: its TUF cache in the suite's directory, any request off
# loopback sent to a dead proxy (a forgotten flag fails at once instead of
# reaching Sigstore), and an empty trusted root for verify (without it v2
# fails on bundles, wanting Sigstore's; keys need none).
export TUF_ROOT=$KEYS/tuf HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost
printf '{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}' >"$KEYS/empty-root.json"

# push HOST REPO TAG: pushes SRC (content varied by TAG); DIGEST= its digest.
push() {
  echo "$3" > "$SRC/deploy/base/version.txt"
  sl push artifact "oci://$1/$2:$3" -f "$SRC" --source=s --revision="$3" -o json
  expect_ok
  DIGEST=$(jq -r .digest <<<"$OUT")
}

cosign_sign() { # cosign_sign v2|v3 KEY HOST/REPO@DIGEST [extra...]
  local bin=$COSIGN2 extra=(); [ "$1" = v3 ] && bin=$COSIGN3 && extra=(--use-signing-config=false)
  "$bin" sign --key "$2" --tlog-upload=false --yes "${COSIGN_FLAGS[@]}" "${extra[@]}" "${@:4}" "$3" \
    >"$KEYS/cosign.out" 2>&1 || { cat "$KEYS/cosign.out"; fail "cosign $1 sign $3"; }
}

cosign_verify() { # cosign_verify v2|v3 PUB HOST/REPO@DIGEST: status of cosign verify
  local bin=$COSIGN2; [ "$1" = v3 ] && bin=$COSIGN3
  "$bin" verify --key "$2" --insecure-ignore-tlog=true --trusted-root "$KEYS/empty-root.json" \
    "${COSIGN_FLAGS[@]}" "$3" >"$KEYS/cosign.out" 2>&1
}

# Requests the registry saw for blobs of REPO other than signature documents.
content_fetches() { # content_fetches LOG REPO LAYER_DIGEST
  grep -c "GET /v2/$2/blobs/$3" "$1" || true
}

generate_key_pair_writes_what_cosign_reads() {
  local d; d=$(tmpdir)
  (cd "$d" && COSIGN_PASSWORD=secret "$SLUICE" generate-key-pair) 2>"$d/err" || fail "$(cat "$d/err")"
  [ "$(stat -c %a "$d/cosign.key")" = 600 ] && [ "$(stat -c %a "$d/cosign.pub")" = 644 ] || fail "modes"
  head -1 "$d/cosign.key" | grep -qx -- '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----'
  head -1 "$d/cosign.pub" | grep -qx -- '-----BEGIN PUBLIC KEY-----'
  # cosign reads the key with its password, and derives the same public key.
  (cd "$d" && COSIGN_PASSWORD=secret "$COSIGN2" public-key --key cosign.key >"$d/pub2") || fail "v2 cannot read it"
  (cd "$d" && COSIGN_PASSWORD=secret "$COSIGN3" public-key --key cosign.key >"$d/pub3") || fail "v3 cannot read it"
  cmp "$d/pub2" "$d/cosign.pub" && cmp "$d/pub3" "$d/cosign.pub" || fail "public keys differ"
  (cd "$d" && COSIGN_PASSWORD=wrong "$COSIGN2" public-key --key cosign.key >/dev/null 2>&1) && fail "wrong password accepted"
  # No silent overwrite: stdin is not a terminal, so it refuses.
  (cd "$d" && "$SLUICE" generate-key-pair </dev/null) 2>"$d/err" && fail "overwrote"
  grep -q -- "--force" "$d/err" || fail "$(cat "$d/err")"
  cmp "$d/pub2" "$d/cosign.pub" || fail "key changed"
  (cd "$d" && COSIGN_PASSWORD= "$SLUICE" generate-key-pair --force --output-key-prefix other) || fail "prefix"
  [ -f "$d/other.key" ] && [ -f "$d/other.pub" ]
  [ -z "$(ls "$d" | grep tmp)" ] || fail "temp files left: $(ls "$d")"
}

sluice_signs_and_both_cosigns_verify() {
  push "$REG_HOST" sign/a v1
  sl sign artifact "oci://$REG_HOST/sign/a:v1" --key "$KEYS/sluice.key"
  expect_ok
  grep -q "signature written to $REG_HOST/sign/a:sha256-${DIGEST#sha256:}.sig" <<<"$ERR" || fail "$ERR"
  cosign_verify v2 "$KEYS/sluice.pub" "$REG_HOST/sign/a@$DIGEST" || fail "v2: $(cat "$KEYS/cosign.out")"
  grep -q "\"docker-manifest-digest\":\"$DIGEST\"" "$KEYS/cosign.out" || fail "$(cat "$KEYS/cosign.out")"
  cosign_verify v3 "$KEYS/sluice.pub" "$REG_HOST/sign/a@$DIGEST" || fail "v3: $(cat "$KEYS/cosign.out")"
  # Signing again with the same key adds nothing; sluice verifies its own.
  sl sign artifact "oci://$REG_HOST/sign/a@$DIGEST" --key "$KEYS/sluice.key"
  expect_ok
  grep -q "already signed" <<<"$ERR" || fail "$ERR"
  sl verify artifact "oci://$REG_HOST/sign/a:v1" --key "$KEYS/sluice.pub" -o json
  expect_ok
  [ "$(jq -r .format <<<"$OUT")" = cosign-legacy ] && [ "$(jq -r .digest <<<"$OUT")" = "$DIGEST" ] || fail "$OUT"
}

cosign_v2_signs_and_sluice_verifies() {
  push "$REG_HOST" sign/b v1
  cosign_sign v2 "$KEYS/cosign.key" "$REG_HOST/sign/b@$DIGEST"
  sl verify artifact "oci://$REG_HOST/sign/b:v1" --key "$KEYS/cosign.pub"
  expect_ok
  grep -q "verified signature of $REG_HOST/sign/b@$DIGEST with $KEYS/cosign.pub (cosign-legacy" <<<"$ERR" || fail "$ERR"
  # The other tool's key: each key signs with the other tool.
  cosign_sign v2 "$KEYS/sluice.key" "$REG_HOST/sign/b@$DIGEST"
  sl verify artifact "oci://$REG_HOST/sign/b@$DIGEST" --key "$KEYS/sluice.pub"
  expect_ok
}

sluice_signs_with_keys_cosign_made() {
  push "$REG_HOST" sign/h v1
  # cosign v2 writes scrypt N=2^16 keys, as does v3; sluice reads both.
  sl sign artifact "oci://$REG_HOST/sign/h:v1" --key "$KEYS/cosign.key"
  expect_ok
  sl sign artifact "oci://$REG_HOST/sign/h:v1" --key "$KEYS/cosign3.key"
  expect_ok
  for v in v2 v3; do
    cosign_verify $v "$KEYS/cosign.pub" "$REG_HOST/sign/h@$DIGEST" || fail "$v cosign.pub: $(cat "$KEYS/cosign.out")"
    cosign_verify $v "$KEYS/cosign3.pub" "$REG_HOST/sign/h@$DIGEST" || fail "$v cosign3.pub: $(cat "$KEYS/cosign.out")"
  done
  # Two signatures under one tag; either key verifies.
  [ "$(manifest_of "$REG_HOST" sign/h "sha256-${DIGEST#sha256:}.sig" | jq '.layers | length')" = 2 ] || fail "layers"
  sl verify artifact "oci://$REG_HOST/sign/h:v1" --key "$KEYS/sluice.pub" --key "$KEYS/cosign3.pub" -o yaml
  expect_ok
  grep -q "^key: $KEYS/cosign3.pub$" <<<"$OUT" || fail "$OUT"
}

cosign_v3_bundle_verifies_through_the_tag_schema() {
  push "$REG_HOST" sign/c v1
  local layer; layer=$(manifest_of "$REG_HOST" sign/c v1 | jq -r '.layers[0].digest')
  cosign_sign v3 "$KEYS/cosign.key" "$REG_HOST/sign/c@$DIGEST"
  # Debian's registry has no referrers API: the index sits under sha256-<hex>.
  manifest_of "$REG_HOST" sign/c "sha256-${DIGEST#sha256:}" -H 'Accept: application/vnd.oci.image.index.v1+json' >/dev/null ||
    fail "no referrers tag"
  local before; before=$(content_fetches "$REG_LOG" sign/c "$layer")
  sl verify artifact "oci://$REG_HOST/sign/c:v1" --key "$KEYS/cosign.pub" -o json
  expect_ok
  [ "$(jq -r .format <<<"$OUT")" = sigstore-bundle ] || fail "$OUT"
  [ "$(content_fetches "$REG_LOG" sign/c "$layer")" = "$before" ] || fail "verify fetched the content"
  # With a bundle present, only bundles count (cosign v3 and Flux): the
  # sluice key has no bundle, so its legacy signature does not help.
  sl sign artifact "oci://$REG_HOST/sign/c:v1" --key "$KEYS/sluice.key"
  expect_ok
  sl verify artifact "oci://$REG_HOST/sign/c:v1" --key "$KEYS/sluice.pub"
  expect_fail "no matching signatures were found for '$REG_HOST/sign/c@$DIGEST'"
  # A key of sluice's signs a bundle with cosign v3.
  cosign_sign v3 "$KEYS/sluice.key" "$REG_HOST/sign/c@$DIGEST"
  sl verify artifact "oci://$REG_HOST/sign/c:v1" --key "$KEYS/sluice.pub"
  expect_ok
}

cosign_v3_bundle_verifies_through_the_referrers_api() {
  push "$REF_HOST" sign/d v1
  cosign_sign v3 "$KEYS/cosign.key" "$REF_HOST/sign/d@$DIGEST"
  # Stored as a referrer, not under a tag.
  curl -fsS "http://$REF_HOST/v2/sign/d/referrers/$DIGEST" | jq -e '.manifests | length == 1' >/dev/null ||
    fail "not a referrer"
  ! curl -fsS "http://$REF_HOST/v2/sign/d/tags/list" | jq -e '.tags | index("sha256-'"${DIGEST#sha256:}"'")' >/dev/null ||
    fail "tag schema used although the API exists"
  sl verify artifact "oci://$REF_HOST/sign/d:v1" --key "$KEYS/cosign.pub" -o json
  expect_ok
  [ "$(jq -r .format <<<"$OUT")" = sigstore-bundle ] || fail "$OUT"
  sl verify artifact "oci://$REF_HOST/sign/d:v1" --key "$KEYS/sluice.pub"
  expect_fail "no matching signatures were found"
  # sluice's legacy signatures work on this registry too.
  push "$REF_HOST" sign/e v1
  sl sign artifact "oci://$REF_HOST/sign/e:v1" --key "$KEYS/sluice.key"
  expect_ok
  cosign_verify v3 "$KEYS/sluice.pub" "$REF_HOST/sign/e@$DIGEST" || fail "v3: $(cat "$KEYS/cosign.out")"
}

push_sign_key_signs_in_the_same_run() {
  echo push-sign > "$SRC/deploy/base/version.txt"
  sl push artifact "oci://$REG_HOST/sign/f:v1" -f "$SRC" --source=s --revision=r --sign-key "$KEYS/sluice.key" -o json
  expect_ok
  DIGEST=$(jq -r .digest <<<"$OUT")
  grep -q "signature written to" <<<"$ERR" || fail "$ERR"
  cosign_verify v2 "$KEYS/sluice.pub" "$REG_HOST/sign/f@$DIGEST" || fail "v2: $(cat "$KEYS/cosign.out")"
  # A wrong password fails before anything is uploaded.
  echo other > "$SRC/deploy/base/version.txt"
  COSIGN_PASSWORD=wrong sl push artifact "oci://$REG_HOST/sign/f:v2" -f "$SRC" --source=s --revision=r --sign-key "$KEYS/sluice.key"
  expect_fail "wrong password"
  manifest_of "$REG_HOST" sign/f v2 >/dev/null 2>&1 && fail "pushed although the key did not open"
  true
}

verify_refuses_what_it_must() {
  push "$REG_HOST" sign/g v1
  local signed=$DIGEST layer
  layer=$(manifest_of "$REG_HOST" sign/g v1 | jq -r '.layers[0].digest')
  # No signature at all.
  sl verify artifact "oci://$REG_HOST/sign/g:v1" --key "$KEYS/sluice.pub"
  expect_fail "no matching signatures were found for '$REG_HOST/sign/g@$signed'"
  # Wrong key.
  sl sign artifact "oci://$REG_HOST/sign/g:v1" --key "$KEYS/sluice.key"
  expect_ok
  sl verify artifact "oci://$REG_HOST/sign/g:v1" --key "$KEYS/cosign.pub"
  expect_fail "does not verify with the key"
  [ "$(content_fetches "$REG_LOG" sign/g "$layer")" = 0 ] || fail "content fetched"
  # A signature for another digest, moved under this digest's tag.
  push "$REG_HOST" sign/g v2
  local other=$DIGEST
  manifest_of "$REG_HOST" sign/g "sha256-${signed#sha256:}.sig" >"$KEYS/sig.json"
  curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @"$KEYS/sig.json" \
    "http://$REG_HOST/v2/sign/g/manifests/sha256-${other#sha256:}.sig" >/dev/null
  sl verify artifact "oci://$REG_HOST/sign/g:v2" --key "$KEYS/sluice.pub"
  expect_fail "signs another digest, $signed"
  # A tampered payload: another digest written into it, the signature kept.
  local payload pdigest
  payload=$(curl -fsS "http://$REG_HOST/v2/sign/g/blobs/$(jq -r '.layers[0].digest' "$KEYS/sig.json")" | sed "s/${signed#sha256:}/${other#sha256:}/")
  pdigest=sha256:$(printf '%s' "$payload" | sha256sum | cut -d' ' -f1)
  local loc; loc=$(curl -fsS -X POST -D - -o /dev/null "http://$REG_HOST/v2/sign/g/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //Ip')
  case $loc in http*) ;; *) loc="http://$REG_HOST$loc" ;; esac
  printf '%s' "$payload" | curl -fsS -X PUT --data-binary @- -H 'Content-Type: application/octet-stream' "$loc&digest=$pdigest" >/dev/null
  jq -c --arg d "$pdigest" --argjson s "${#payload}" '.layers[0].digest = $d | .layers[0].size = $s' "$KEYS/sig.json" |
    curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @- \
      "http://$REG_HOST/v2/sign/g/manifests/sha256-${other#sha256:}.sig" >/dev/null
  sl verify artifact "oci://$REG_HOST/sign/g:v2" --key "$KEYS/sluice.pub"
  expect_fail "does not verify with the key"
  cosign_verify v2 "$KEYS/sluice.pub" "$REG_HOST/sign/g@$other" && fail "cosign accepted the tampered payload"
  # Malformed keys fail before any request.
  printf -- '-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----\n' >"$KEYS/bad.pub"
  sl verify artifact "oci://$REG_HOST/sign/g:v1" --key "$KEYS/bad.pub"
  expect_fail "public key $KEYS/bad.pub"
  sl verify artifact "oci://$REG_HOST/sign/g:v1" --key "$KEYS/sluice.key"
  expect_fail "public key $KEYS/sluice.key"
  COSIGN_PASSWORD=wrong sl sign artifact "oci://$REG_HOST/sign/g:v1" --key "$KEYS/sluice.key"
  expect_fail "wrong password"
  sl verify artifact "oci://$REG_HOST/sign/g:v1"
  expect_fail "--key is required"
}

for t in generate_key_pair_writes_what_cosign_reads \
         sluice_signs_and_both_cosigns_verify \
         cosign_v2_signs_and_sluice_verifies \
         sluice_signs_with_keys_cosign_made \
         cosign_v3_bundle_verifies_through_the_tag_schema \
         cosign_v3_bundle_verifies_through_the_referrers_api \
         push_sign_key_signs_in_the_same_run \
         verify_refuses_what_it_must; do
  run_test "${P}sign: $t" "$t"
done
[ "$T_FAILED" -eq 0 ]
