#!/usr/bin/env bash
# tag, list, diff and copy on the authenticated registry variants (Basic
# over TLS with a private CA, and Bearer tokens), and what happens when the
# destination cannot be written.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"

start_registry basic-tls TLS || { echo "not ok - ${P}auth_cmds: TLS registry starts"; exit 1; }
start_registry token TOK || { echo "not ok - ${P}auth_cmds: token registry starts"; exit 1; }
SRC=$(tmpdir); make_tree "$SRC"

# every_command HOST ARGS...: push, tag, list, diff and copy against HOST.
every_command() {
  local host=$1; shift
  sl push artifact "oci://$host/app/cmds:v1.0.0" -f "$SRC" --source=s --revision=r -o json "$@"
  expect_ok
  local digest; digest=$(jq -r .digest <<<"$OUT")
  sl tag artifact "oci://$host/app/cmds:v1.0.0" --tag stable "$@"
  expect_ok
  sl list artifacts "oci://$host/app/cmds" --filter-semver '>=1.0.0' -o json "$@"
  expect_ok
  [ "$(jq -r 'map(.tag + "=" + .digest) | join(" ")' <<<"$OUT")" = "v1.0.0=$digest" ] || fail "list: $OUT"
  sl diff artifact "oci://$host/app/cmds:stable" --path "$SRC" "$@"
  expect_ok
  sl copy artifact "oci://$host/app/cmds:stable" "oci://$host/other/cmds" -o json "$@"
  expect_ok
  jq -e --arg d "$digest" '.digest == $d and .blobsMounted == 2' <<<"$OUT"
  local layout; layout=$(tmpdir)/l
  sl copy artifact "oci://$host/app/cmds:stable" "oci-layout://$layout" "$@"
  expect_ok
}

every_command_works_with_basic_auth_over_tls() {
  every_command "$TLS_HOST" --creds flux:s3cret --ca-file "$TLS_CA"
}

every_command_works_with_bearer_tokens() {
  every_command "$TOK_HOST" --creds flux:s3cret
}

every_command_names_the_registry_when_credentials_are_missing() {
  local c
  for c in "tag artifact oci://$TOK_HOST/app/cmds:v1.0.0 --tag x" "list artifacts oci://$TOK_HOST/app/cmds" \
           "diff artifact oci://$TOK_HOST/app/cmds:v1.0.0 --path $SRC"; do
    # shellcheck disable=SC2086
    sl $c
    expect_fail "no credentials found for $TOK_HOST"
  done
}

# Root ignores permission bits, so these run sluice as nobody.
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

unwritable_destinations_fail_cleanly() {
  command -v setpriv >/dev/null || fail "setpriv (util-linux) missing"
  local ro; ro=$(tmpdir); chmod 755 "$ro"
  local sluice_copy; sluice_copy=$(tmpdir)/sluice; cp "$SLUICE" "$sluice_copy"; chmod 755 "$(dirname "$sluice_copy")" "$sluice_copy"
  local src; src=$(tmpdir); make_tree "$src"; chmod -R a+rX "$src"; chmod 755 "$src"
  local rc=0
  as_nobody "$sluice_copy" build artifact -p "$src/deploy" -o "$ro/a.tgz" 2>"$ro.err" || rc=$?
  [ "$rc" = 1 ] && grep -q "Permission denied" "$ro.err" || fail "build: rc=$rc $(cat "$ro.err")"
  [ -z "$(ls -A "$ro")" ] || fail "build left $(ls -A "$ro")"
  rc=0
  as_nobody env TMPDIR=/tmp "$sluice_copy" push artifact "oci-layout://$ro/store:v1" -f "$src/deploy" --source=s --revision=r 2>"$ro.err" || rc=$?
  [ "$rc" = 1 ] && grep -q "Permission denied" "$ro.err" || fail "push to layout: rc=$rc $(cat "$ro.err")"
  [ -z "$(ls -A "$ro")" ] || fail "push left $(ls -A "$ro")"
}

for t in every_command_works_with_basic_auth_over_tls \
         every_command_works_with_bearer_tokens \
         every_command_names_the_registry_when_credentials_are_missing \
         unwritable_destinations_fail_cleanly; do
  run_test "${P}$t" "$t"
done
[ "$T_FAILED" -eq 0 ]
