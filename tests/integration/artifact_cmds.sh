#!/usr/bin/env bash
# build, tag and diff artifact against the real registry.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"

start_registry plain REG || { echo "not ok - ${P}artifact_cmds: registry starts"; exit 1; }
start_registry token TOK || { echo "not ok - ${P}artifact_cmds: token registry starts"; exit 1; }
SRC=$(tmpdir); make_tree "$SRC"

build_writes_exactly_the_layer_push_uploads() {
  local out; out=$(tmpdir)
  sl build artifact -p "$SRC" -o "$out/a.tgz"
  expect_ok
  grep -q "^✔ artifact created at $out/a.tgz" <<<"$ERR"
  [ "$(stat -c %a "$out/a.tgz")" = 640 ]
  sl push artifact "oci://$REG_HOST/app/build:v1" -f "$SRC" --source=s --revision=r
  expect_ok
  local layer; layer=$(manifest_of "$REG_HOST" app/build v1 | jq -r '.layers[0].digest')
  [ "sha256:$(sha256sum "$out/a.tgz" | cut -d' ' -f1)" = "$layer" ] || fail "build and push differ"
  # A failed build leaves no half-written tarball where readers look.
  sl build artifact -p /nonexistent -o "$out/b.tgz"
  expect_fail "invalid path '/nonexistent'"
  [ ! -e "$out/b.tgz" ] && [ -z "$(ls "$out" | grep -v '^a.tgz$')" ]
  sl build artifact -p "$SRC" -o "$out/missing-dir/c.tgz"
  expect_fail "creating $out/missing-dir/c.tgz"
}

tag_puts_the_same_manifest_under_each_tag() {
  sl push artifact "oci://$REG_HOST/app/tag:v1" -f "$SRC" --source=s --revision=r -o json
  expect_ok
  local digest; digest=$(jq -r .digest <<<"$OUT")
  local blobs_before; blobs_before=$(grep -c 'PUT /v2/app/tag/blobs' "$REG_LOG" || true)
  sl tag artifact "oci://$REG_HOST/app/tag:v1" --tag latest,stable --tag prod
  expect_ok
  for t in latest stable prod; do
    grep -q "^✔ artifact tagged as $REG_HOST/app/tag:$t$" <<<"$ERR" || fail "$ERR"
    [ "sha256:$(manifest_of "$REG_HOST" app/tag "$t" | sha256sum | cut -d' ' -f1)" = "$digest" ] || fail "$t"
  done
  [ "$(grep -c 'PUT /v2/app/tag/blobs' "$REG_LOG" || true)" = "$blobs_before" ] || fail "tagging moved blobs"
  # By digest too.
  sl tag artifact "oci://$REG_HOST/app/tag@$digest" --tag by-digest
  expect_ok
}

tag_checks_every_tag_before_applying_any() {
  sl push artifact "oci://$REG_HOST/app/tag2:v1" -f "$SRC" --source=s --revision=r
  sl tag artifact "oci://$REG_HOST/app/tag2:v1" --tag good --tag -bad
  expect_fail 'invalid tag "-bad"'
  ! curl -fsS "http://$REG_HOST/v2/app/tag2/tags/list" | jq -e '.tags | index("good")' >/dev/null || fail "good was applied"
  sl tag artifact "oci://$REG_HOST/app/tag2:v1"
  expect_fail "--tag is required"
  sl tag artifact --tag x
  expect_fail "artifact name is required"
  sl tag artifact "oci://$REG_HOST/app/tag2:nope" --tag x
  expect_fail "MANIFEST_UNKNOWN"
}

diff_reports_no_changes_for_the_same_content() {
  sl push artifact "oci://$REG_HOST/app/diff:v1" -f "$SRC" --source=s --revision=r
  expect_ok
  sl diff artifact "oci://$REG_HOST/app/diff:v1" --path "$SRC"
  expect_ok
  grep -q '^✔ no changes detected' <<<"$ERR"
  [ -z "$OUT" ]
}

diff_compares_content_not_gzip_bytes() {
  # skopeo pushes a layout whose gzip stream another encoder wrote.
  local layout; layout=$(tmpdir)/layout
  "$ROOT/scripts/registry.d/make-flux-layout" "$layout" v1 "$SRC/deploy" >/dev/null
  python3 - "$layout" <<'PY'
import gzip, hashlib, json, os, sys
# Re-compress the layer at another level so only the gzip bytes change.
lay = sys.argv[1]
idx = json.load(open(f"{lay}/index.json"))
md = idx["manifests"][0]["digest"].split(":")[1]
m = json.load(open(f"{lay}/blobs/sha256/{md}"))
ld = m["layers"][0]["digest"].split(":")[1]
raw = gzip.decompress(open(f"{lay}/blobs/sha256/{ld}", "rb").read())
new = gzip.compress(raw, compresslevel=1, mtime=0)
nd = hashlib.sha256(new).hexdigest()
open(f"{lay}/blobs/sha256/{nd}", "wb").write(new)
m["layers"][0]["digest"] = "sha256:" + nd; m["layers"][0]["size"] = len(new)
mb = json.dumps(m, separators=(",", ":")).encode()
mdn = hashlib.sha256(mb).hexdigest()
open(f"{lay}/blobs/sha256/{mdn}", "wb").write(mb)
idx["manifests"][0]["digest"] = "sha256:" + mdn; idx["manifests"][0]["size"] = len(mb)
json.dump(idx, open(f"{lay}/index.json", "w"))
PY
  skopeo copy -q --dest-tls-verify=false "oci:$layout:v1" "docker://$REG_HOST/app/diff:peer"
  sl diff artifact "oci://$REG_HOST/app/diff:peer" --path "$SRC/deploy"
  expect_ok
  grep -q '^✔ no changes detected (the layers differ only in compression)' <<<"$ERR" || fail "$ERR"
}

diff_lists_what_changed_and_unified_shows_how() {
  local src; src=$(tmpdir); make_tree "$src"
  sl push artifact "oci://$REG_HOST/app/diff:v2" -f "$src" --source=s --revision=r
  expect_ok
  printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n' > "$src/deploy/base/ns.yaml"
  rm "$src/deploy/base/cm.yaml"
  echo new > "$src/deploy/new.yaml"
  chmod 700 "$src/deploy/run.sh"
  sl diff artifact "oci://$REG_HOST/app/diff:v2" --path "$src"
  expect_fail "the remote artifact contents differs from the local one (1 added, 1 removed, 2 changed)"
  [ "$OUT" = "$(printf '%s\n' '- deploy/base/cm.yaml' '~ deploy/base/ns.yaml (content)' '+ deploy/new.yaml' '~ deploy/run.sh (mode 0755 -> 0700)')" ] || fail "$OUT"
  sl diff artifact "oci://$REG_HOST/app/diff:v2" --path "$src" --unified
  expect_fail "differs"
  grep -q '^-  name: app$' <<<"$OUT" && grep -q '^+  name: other$' <<<"$OUT" && grep -q '^+++ b/deploy/new.yaml$' <<<"$OUT" || fail "$OUT"
}

diff_bad_input() {
  sl diff artifact; expect_fail "artifact URL is required"
  sl diff artifact "oci://$REG_HOST/app/diff:v1"; expect_fail 'invalid path ""'
  sl diff artifact "oci://$REG_HOST/app/diff:v1" --path /nonexistent; expect_fail "invalid path '/nonexistent'"
  sl diff artifact "oci://$REG_HOST/app/diff:absent" --path "$SRC"; expect_fail "MANIFEST_UNKNOWN"
}

copy_between_repositories_mounts_and_keeps_the_digest() {
  sl push artifact "oci://$REG_HOST/app/copysrc:v1" -f "$SRC" --source=s --revision=r -o json
  expect_ok
  local digest; digest=$(jq -r .digest <<<"$OUT")
  local uploads_before; uploads_before=$(grep -c 'PUT /v2/team/copydst/blobs' "$REG_LOG" || true)
  sl copy artifact "oci://$REG_HOST/app/copysrc:v1" "oci://$REG_HOST/team/copydst" -o json
  expect_ok
  jq -e --arg d "$digest" '.digest == $d and .tag == "v1" and .blobsMounted == 2 and .blobsCopied == 0' <<<"$OUT"
  [ "$(grep -c 'PUT /v2/team/copydst/blobs' "$REG_LOG" || true)" = "$uploads_before" ] || fail "blobs uploaded, not mounted"
  [ "sha256:$(manifest_of "$REG_HOST" team/copydst v1 | sha256sum | cut -d' ' -f1)" = "$digest" ]
  # Again: everything is there already.
  sl copy artifact "oci://$REG_HOST/app/copysrc:v1" "oci://$REG_HOST/team/copydst:stable" -o json
  jq -e '.blobsSkipped == 2 and .blobsCopied == 0 and .tag == "stable"' <<<"$OUT"
}

copy_across_registries_with_signatures() {
  sl push artifact "oci://$REG_HOST/app/signed:v1" -f "$SRC" --source=s --revision=r -o json
  local digest; digest=$(jq -r .digest <<<"$OUT")
  # A stand-in signature: any manifest under cosign's tag for this digest.
  local sig; sig=$(tmpdir); echo signature > "$sig/payload"
  "$SLUICE" push artifact "oci://$REG_HOST/app/signed:sha256-${digest#sha256:}.sig" -f "$sig" --source=cosign --revision=sig 2>/dev/null
  sl copy artifact "oci://$REG_HOST/app/signed:v1" "oci://$TOK_HOST/prod/app:v1" --dest-creds flux:s3cret --with-signatures
  expect_ok
  grep -q "artifact copied to $TOK_HOST/prod/app@$digest (.*signatures copied)" <<<"$ERR" || fail "$ERR"
  local out; out=$(tmpdir)
  sl pull artifact "oci://$TOK_HOST/prod/app:v1" -o "$out" --creds flux:s3cret
  expect_ok
  grep -q "digest $TOK_HOST/prod/app@$digest" <<<"$ERR"
  sl pull artifact "oci://$TOK_HOST/prod/app:sha256-${digest#sha256:}.sig" -o "$(tmpdir)" --creds flux:s3cret
  expect_ok
  # Without credentials for the destination the error names it.
  sl copy artifact "oci://$REG_HOST/app/signed:v1" "oci://$TOK_HOST/prod/app:v2"
  expect_fail "no credentials found for $TOK_HOST"
}

copy_through_an_oci_layout_for_air_gaps() {
  sl push artifact "oci://$REG_HOST/app/airgap:v1" -f "$SRC" --source=s --revision=r -o json
  local digest; digest=$(jq -r .digest <<<"$OUT")
  local layout; layout=$(tmpdir)/airgap
  sl copy artifact "oci://$REG_HOST/app/airgap:v1" "oci-layout://$layout"
  expect_ok
  jq -e --arg d "$digest" '.manifests[0].digest == $d and .manifests[0].annotations["org.opencontainers.image.ref.name"] == "v1"' "$layout/index.json"
  # skopeo reads what sluice wrote ...
  skopeo copy -q --dest-tls-verify=false "oci:$layout:v1" "docker://$REG_HOST/app/viaskopeo:v1"
  [ "sha256:$(manifest_of "$REG_HOST" app/viaskopeo v1 | sha256sum | cut -d' ' -f1)" = "$digest" ]
  # ... and sluice reads what skopeo writes.
  local sk; sk=$(tmpdir)/skopeo-layout
  skopeo copy -q --src-tls-verify=false "docker://$REG_HOST/app/airgap:v1" "oci:$sk:fromskopeo"
  sl copy artifact "oci-layout://$sk:fromskopeo" "oci://$REG_HOST/app/airgap-back:v1" -o json
  expect_ok
  jq -e --arg d "$digest" '.digest == $d and .blobsCopied == 2' <<<"$OUT"
  local out; out=$(tmpdir)
  sl pull artifact "oci://$REG_HOST/app/airgap-back:v1" -o "$out"
  expect_ok
  diff -r -x .git -x logo.png "$SRC" "$out"
}

copy_refuses_a_tampered_layout_and_a_non_layout() {
  sl push artifact "oci://$REG_HOST/app/airgap2:v1" -f "$SRC" --source=s --revision=r -o json
  local layout; layout=$(tmpdir)/l
  sl copy artifact "oci://$REG_HOST/app/airgap2:v1" "oci-layout://$layout"
  expect_ok
  local layer; layer=$(jq -r '.manifests[0].digest' "$layout/index.json")
  layer=$(jq -r '.layers[0].digest' "$layout/blobs/sha256/${layer#sha256:}")
  printf 'X' | dd of="$layout/blobs/sha256/${layer#sha256:}" bs=1 seek=30 conv=notrunc status=none
  sl copy artifact "oci-layout://$layout:v1" "oci://$REG_HOST/app/tampered:v1"
  expect_fail "digest"
  local plain; plain=$(tmpdir); echo hi > "$plain/file"
  sl copy artifact "oci-layout://$plain:v1" "oci://$REG_HOST/app/x:v1"
  expect_fail "is not an OCI image layout"
  sl copy artifact "oci://$REG_HOST/app/airgap2:v1" "oci-layout://$plain"
  expect_fail "not an OCI image layout"
  [ "$(ls "$plain")" = file ] || fail "files scattered into a non-layout directory"
}

copy_bad_input() {
  sl copy artifact "oci://$REG_HOST/app/copysrc:v1"; expect_fail "source and destination URLs are required"
  sl copy artifact "oci://$REG_HOST/app/copysrc:v1" "oci://$REG_HOST/x/y@sha256:$(printf 'a%.0s' {1..64})"
  expect_fail "the destination is named by tag"
  sl copy artifact "oci://$REG_HOST/app/copysrc:absent" "oci://$REG_HOST/x/y"; expect_fail "MANIFEST_UNKNOWN"
}

push_list_fixture() { # tags of Flux's semver example, a cosign signature tag, one non-version
  local t
  for t in 1.0.0 1.1.0-rc.1 v1.1.0 1.2 2.0.0 latest; do
    "$SLUICE" push artifact "oci://$REG_HOST/app/list:$t" -f "$SRC/deploy/base/ns.yaml" \
      --source="https://src/$t" --revision="rev-$t" 2>/dev/null
  done
  "$SLUICE" tag artifact "oci://$REG_HOST/app/list:latest" --tag sha256-0123.sig --tag sha256-0123.att 2>/dev/null
}

list_prints_fluxs_table_newest_name_first_without_cosign_tags() {
  sl list artifacts "oci://$REG_HOST/app/list"
  expect_ok
  local first; first=$(head -n 1 <<<"$OUT")
  [[ "$first" == ARTIFACT*$'\t'DIGEST*$'\t'SOURCE*$'\t'"REVISION       " ]] || fail "header: [$first]"
  [ "$(tail -n +2 <<<"$OUT" | cut -f1 | sed 's/ *$//; s/.*://' | tr '\n' ' ')" = "v1.1.0 latest 2.0.0 1.2 1.1.0-rc.1 1.0.0 " ] || fail "$OUT"
  ! grep -q '\.sig\|\.att' <<<"$OUT" || fail "cosign tags listed"
  # Every row ends with a tab, cells padded to their column.
  [ "$(tail -n +2 <<<"$OUT" | grep -vc $'\t$')" = 0 ] || fail "row without trailing tab"
  local want; want=$(manifest_of "$REG_HOST" app/list 2.0.0 | sha256sum | cut -d' ' -f1)
  grep -q "app/list:2.0.0 *	sha256:$want	https://src/2.0.0 *	rev-2.0.0 *	$" <<<"$OUT" || fail "$OUT"
}

list_filters_by_semver_with_fluxs_rules_and_by_regex() {
  sl list artifacts "oci://$REG_HOST/app/list" --filter-semver '~1' -o json
  expect_ok
  [ "$(jq -r 'map(.tag) | join(" ")' <<<"$OUT")" = "v1.1.0 1.0.0" ] || fail "~1: $OUT"
  sl list artifacts "oci://$REG_HOST/app/list" --filter-semver '>=1.1.0-0 <2.0.0' -o json
  [ "$(jq -r 'map(.tag) | join(" ")' <<<"$OUT")" = "v1.1.0 1.1.0-rc.1" ] || fail "prerelease group: $OUT"
  sl list artifacts "oci://$REG_HOST/app/list" --filter-regex '^[0-9]' -o json
  [ "$(jq -r 'map(.tag) | join(" ")' <<<"$OUT")" = "2.0.0 1.2 1.1.0-rc.1 1.0.0" ] || fail "regex: $OUT"
  jq -e 'all(.[]; (keys == ["created","digest","revision","source","tag"]))' <<<"$OUT"
  sl list artifacts "oci://$REG_HOST/app/list" --filter-semver '>=9' 
  expect_ok
  [ "$(wc -l <<<"$OUT")" = 1 ] || fail "expected only the header: $OUT"
}

list_bad_input() {
  sl list artifacts; expect_fail "artifact repository URL is required"
  sl list artifacts "oci://$REG_HOST/app/list:v1"; expect_fail "is not a repository"
  sl list artifacts "oci://$REG_HOST/app/list" --filter-semver 'not a version'; expect_fail "semver 'not a version' parse error"
  sl list artifacts "oci://$REG_HOST/app/list" --filter-regex '('; expect_fail "regex '(' parse error"
  sl list artifacts "oci://$REG_HOST/app/list" -o xml; expect_fail 'invalid output format "xml"'
  sl list artifacts "oci://$REG_HOST/app/nothing-here"; expect_fail "NAME_UNKNOWN"
}

push_list_fixture
for t in build_writes_exactly_the_layer_push_uploads \
         tag_puts_the_same_manifest_under_each_tag \
         tag_checks_every_tag_before_applying_any \
         diff_reports_no_changes_for_the_same_content \
         diff_compares_content_not_gzip_bytes \
         diff_lists_what_changed_and_unified_shows_how \
         diff_bad_input \
         list_prints_fluxs_table_newest_name_first_without_cosign_tags \
         list_filters_by_semver_with_fluxs_rules_and_by_regex \
         list_bad_input \
         copy_between_repositories_mounts_and_keeps_the_digest \
         copy_across_registries_with_signatures \
         copy_through_an_oci_layout_for_air_gaps \
         copy_refuses_a_tampered_layout_and_a_non_layout \
         copy_bad_input; do
  run_test "${P}$t" "$t"
done
[ "$T_FAILED" -eq 0 ]
