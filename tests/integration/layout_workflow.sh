#!/usr/bin/env bash
# The whole artifact workflow with no registry at all: an OCI image layout
# directory as the store (oci-layout://PATH[:tag]), and skopeo reading it.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"

SRC=$(tmpdir); make_tree "$SRC"

push_pull_tag_list_and_diff_against_a_layout() {
  local store; store=$(tmpdir)/store
  sl push artifact "oci-layout://$store:v1.0.0" -f "$SRC" --source=https://x/repo --revision=main@sha1:1 -o json
  expect_ok
  local digest; digest=$(jq -r .digest <<<"$OUT")
  jq -e --arg s "$store" '.url == "oci-layout://" + $s + "@" + .digest' <<<"$OUT"
  [ -f "$store/oci-layout" ] && [ -f "$store/index.json" ]
  sl tag artifact "oci-layout://$store:v1.0.0" --tag latest
  expect_ok
  sl list artifacts "oci-layout://$store" -o json
  expect_ok
  [ "$(jq -r 'map(.tag + "=" + .digest) | join(" ")' <<<"$OUT")" = "v1.0.0=$digest latest=$digest" ] || fail "$OUT"
  jq -e 'all(.[]; .source == "https://x/repo" and .revision == "main@sha1:1")' <<<"$OUT"
  sl diff artifact "oci-layout://$store:latest" --path "$SRC"
  expect_ok
  local out; out=$(tmpdir)
  sl pull artifact "oci-layout://$store:latest" -o "$out"
  expect_ok
  grep -q "^✔ digest oci-layout://$store@$digest$" <<<"$ERR" || fail "$ERR"
  diff -r -x .git -x logo.png "$SRC" "$out"
  # Pushing the same content again changes nothing on disk.
  local before
  sl push artifact "oci-layout://$store:v1.0.0" -f "$SRC" --source=https://x/repo --revision=main@sha1:1 --reproducible
  before=$(find "$store" -type f | sort | xargs sha256sum)
  sl push artifact "oci-layout://$store:v1.0.0" -f "$SRC" --source=https://x/repo --revision=main@sha1:1 --reproducible
  [ "$before" = "$(find "$store" -type f | sort | xargs sha256sum)" ] || fail "an identical push rewrote the store"
}

skopeo_reads_a_layout_sluice_pushed_to() {
  local store; store=$(tmpdir)/store
  sl push artifact "oci-layout://$store:v1" -f "$SRC/deploy" --source=s --revision=r -o json
  expect_ok
  local digest; digest=$(jq -r .digest <<<"$OUT")
  local copy; copy=$(tmpdir)/copy
  skopeo copy -q "oci:$store:v1" "oci:$copy:v1"
  [ "$(jq -r '.manifests[0].digest' "$copy/index.json")" = "$digest" ]
  sl pull artifact "oci-layout://$copy:v1" -o "$(tmpdir)"
  expect_ok
}

layout_errors_are_clear() {
  local plain; plain=$(tmpdir); echo x > "$plain/f"
  sl pull artifact "oci-layout://$plain:v1" -o "$(tmpdir)"; expect_fail "is not an OCI image layout"
  sl push artifact "oci-layout://$plain:v1" -f "$SRC" --source=s --revision=r; expect_fail "not an OCI image layout"
  [ "$(ls "$plain")" = f ]
  local store; store=$(tmpdir)/store
  sl push artifact "oci-layout://$store:v1" -f "$SRC" --source=s --revision=r; expect_ok
  sl pull artifact "oci-layout://$store:nope" -o "$(tmpdir)"; expect_fail "tag nope not found"
  sl list artifacts "oci-layout://$store:v1"; expect_fail "is not a repository"
  sl push artifact "oci-layout://$store@sha256:$(printf 'a%.0s' {1..64})" -f "$SRC" --source=s --revision=r
  expect_fail "cannot push to a digest reference"
}

for t in push_pull_tag_list_and_diff_against_a_layout \
         skopeo_reads_a_layout_sluice_pushed_to \
         layout_errors_are_clear; do
  run_test "${P}$t" "$t"
done
[ "$T_FAILED" -eq 0 ]
