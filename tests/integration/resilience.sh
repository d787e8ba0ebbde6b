#!/usr/bin/env bash
# Transport trouble: truncated bodies, 503s, corrupted bytes in flight, and
# memory that stays flat while a large artifact streams through.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"

start_registry plain REG || { echo "not ok - ${P}resilience: registry starts"; exit 1; }
SRC=$(tmpdir); make_tree "$SRC"; head -c 300000 /dev/urandom > "$SRC/deploy/blob.bin"
# Tests run in subshells, so proxy pids are collected in a file.
PROXY_PIDS=$(tmpdir)/pids
trap 'xargs -r kill < "$PROXY_PIDS" 2>/dev/null; cleanup_all' EXIT

# start_proxy MODE: sets PROXY_HOST to a flaky proxy in front of the registry.
start_proxy() {
  local pf; pf=$(tmpdir)/port
  # Its output must not hold the test's captured stdout open.
  python3 "$(dirname "$0")/flaky_proxy.py" "$pf" "$REG_HOST" "$1" >"$pf.log" 2>&1 &
  echo $! >> "$PROXY_PIDS"
  wait_for 10 test -s "$pf" || return 1
  PROXY_HOST=127.0.0.1:$(cat "$pf")
  PROXY_PORTFILE=$pf
}

sl push artifact "oci://$REG_HOST/app/r:v1" -f "$SRC" --source=s --revision=r >/dev/null 2>&1

a_truncated_download_is_retried() {
  start_proxy truncate-once
  local out; out=$(tmpdir)
  sl pull artifact "oci://$PROXY_HOST/app/r:v1" -o "$out"
  expect_ok
  cmp "$SRC/deploy/blob.bin" "$out/deploy/blob.bin"
}

a_download_that_is_always_truncated_fails_and_leaves_nothing() {
  start_proxy truncate-always
  local out; out=$(tmpdir)/out
  sl pull artifact "oci://$PROXY_HOST/app/r:v1" -o "$out"
  expect_fail "fetching blob"
  [ ! -e "$out" ]
}

server_errors_are_retried() {
  start_proxy 503-once
  sl push artifact "oci://$PROXY_HOST/app/r503:v1" -f "$SRC" --source=s --revision=r
  expect_ok
  local out; out=$(tmpdir)
  sl pull artifact "oci://$PROXY_HOST/app/r503:v1" -o "$out"
  expect_ok
}

bytes_corrupted_in_flight_are_caught_by_the_digest() {
  start_proxy garbage-blob
  local out; out=$(tmpdir)/out
  sl pull artifact "oci://$PROXY_HOST/app/r:v1" -o "$out"
  expect_fail "blob digest mismatch"
  [ ! -e "$out" ]
}

a_large_artifact_streams_in_flat_memory() {
  # 1 GiB: half incompressible, half text, so gzip and the upload both work.
  local big; big=$(tmpdir)
  openssl enc -aes-128-ctr -pass pass:sluice -nosalt -pbkdf2 -in <(head -c $((512 << 20)) /dev/zero) -out "$big/random.bin" 2>/dev/null
  # (a process substitution: under pipefail, yes's SIGPIPE would fail the test)
  head -c $((512 << 20)) < <(yes 'apiVersion: v1 kind: ConfigMap metadata: name: filler') > "$big/text.yaml"
  local rss
  rss=$( { /usr/bin/time -f '%M' "$SLUICE" push artifact "oci://$REG_HOST/app/big:v1" -f "$big" --source=s --revision=r 2>&1 >/dev/null | tail -n 1; } )
  [ "$rss" -lt $((32 * 1024)) ] || fail "push peak RSS ${rss} KiB"
  local out; out=$(tmpdir)
  rss=$( { /usr/bin/time -f '%M' "$SLUICE" pull artifact "oci://$REG_HOST/app/big:v1" -o "$out" 2>&1 >/dev/null | tail -n 1; } )
  [ "$rss" -lt $((32 * 1024)) ] || fail "pull peak RSS ${rss} KiB"
  cmp "$big/random.bin" "$out/random.bin"
  cmp "$big/text.yaml" "$out/text.yaml"
  rm -rf "$big" "$out"
}

credentials_never_follow_a_location_to_another_origin() {
  start_proxy foreign-location
  local pf=$PROXY_PORTFILE
  sl push artifact "oci://$PROXY_HOST/app/foreign:v1" -f "$SRC/deploy" --source=s --revision=r --creds registry-token-not-for-others
  expect_ok
  [ -n "$pf" ] || fail "proxy port file not found"
  [ ! -s "$pf.leaks" ] || fail "credentials sent to another origin: $(cat "$pf.leaks")"
  grep -q "uploads" "$REG_LOG" || fail "nothing was uploaded through the redirect"
}

layout_media_types_cannot_smuggle_headers() {
  local layout; layout=$(tmpdir)/l
  sl copy artifact "oci://$REG_HOST/app/r:v1" "oci-layout://$layout"
  expect_ok
  python3 - "$layout/index.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p))
d["manifests"][0]["mediaType"] += "\r\nX-Evil: injected"
json.dump(d, open(p, "w"))
PY
  sl copy artifact "oci-layout://$layout:v1" "oci://$REG_HOST/app/smuggled:v1"
  expect_fail "mediaType"
  ! grep -qi "x-evil" "$REG_LOG" || fail "the header reached the registry"
}

tests=(a_truncated_download_is_retried
       credentials_never_follow_a_location_to_another_origin
       layout_media_types_cannot_smuggle_headers
       a_download_that_is_always_truncated_fails_and_leaves_nothing
       server_errors_are_retried
       bytes_corrupted_in_flight_are_caught_by_the_digest)
# The 1 GiB run measures the production build; under ASan RSS means little.
[ -n "$P" ] || tests+=(a_large_artifact_streams_in_flat_memory)
for t in "${tests[@]}"; do
  run_test "${P}$t" "$t"
done
[ "$T_FAILED" -eq 0 ]
