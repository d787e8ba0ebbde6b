#!/usr/bin/env bash
# OpenSSL is loaded on first use (src/base/crypto_loader.c), not linked: the
# kustomize engine and the other commands that never hash a layer work
# without it (small digests and base64 are portable code), and the ones that
# need it say clearly why when it cannot be loaded. A libcrypto.so.3 that the
# dynamic loader finds first on LD_LIBRARY_PATH but cannot use stands in for
# a missing or broken one.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"

SRC=$(tmpdir); make_tree "$SRC"
CASES=$ROOT/tests/data/kustomize
FAKE=$(tmpdir)
# Not an ELF file: dlopen fails.
mkdir -p "$FAKE/junk" && echo 'not a library' >"$FAKE/junk/libcrypto.so.3"
# A real shared object without libcrypto's functions: dlsym fails.
mkdir -p "$FAKE/empty" && echo 'int not_libcrypto;' >"$FAKE/empty/stub.c"
cc -shared -fPIC -o "$FAKE/empty/libcrypto.so.3" "$FAKE/empty/stub.c" ||
  { echo "not ok - ${P}libcrypto_on_demand: building a stub library"; exit 1; }

the_binary_does_not_link_openssl() {
  local needed; needed=$(readelf -d "$SLUICE" | grep NEEDED)
  [ -n "$needed" ] || fail "readelf found no NEEDED entries at all"
  ! grep -q "libcrypto\|libssl" <<<"$needed" || fail "sluice links OpenSSL: $needed"
}

# build_case CASE: builds tests/data/kustomize/CASE as the kustomize suite
# does, from inside the case directory, and compares with kubectl's output.
build_case() {
  local dir=$CASES/$1
  ( cd "$dir" && sl build kustomization --path input
    expect_ok
    [ "$OUT" = "$(cat expected.yaml)" ] ||
      fail "$1: output differs from expected.yaml: $(diff <(echo "$OUT") expected.yaml | head -20)" )
}

# With a libcrypto.so.3 that cannot be loaded, a binary linking OpenSSL would
# not even start. Generators hash (sha256) and base64-encode their data: 040
# has ConfigMaps with binaryData, 043 Secrets.
kustomize_and_version_run_without_a_usable_libcrypto() {
  local fake
  for fake in junk empty; do
    export LD_LIBRARY_PATH=$FAKE/$fake
    sl version
    expect_ok
    build_case 040-configmap-generator-sources
    build_case 043-secret-generator-wrapping
    sl create secret oci pull-secret --url=ghcr.io/org/app --username=u --password=p --export
    expect_ok
    grep -q '\.dockerconfigjson: ' <<<"$OUT" || fail "no base64 config in: $OUT"
  done
}

# Commands that hash layers or blobs check before they start, so the user
# reads dlerror()'s reason with the library's name, not an abort.
layer_commands_name_the_library_they_cannot_load() {
  local store; store=$(tmpdir)/store
  LD_LIBRARY_PATH=$FAKE/junk sl build artifact -p "$SRC" -o "$(tmpdir)/a.tgz"
  expect_fail "cannot load libcrypto.so.3"
  grep -qF "$FAKE/junk/libcrypto.so.3" <<<"$ERR" || fail "dlerror's reason is missing: $ERR"
  LD_LIBRARY_PATH=$FAKE/empty sl push artifact "oci-layout://$store:v1" -f "$SRC" \
    --source=s --revision=r
  expect_fail "loading libcrypto.so.3: it has no EVP_"
  grep -q "undefined symbol: EVP_" <<<"$ERR" || fail "dlerror's reason is missing: $ERR"
  # A layout that exists, so only loading libcrypto can fail.
  sl push artifact "oci-layout://$store:v1" -f "$SRC" --source=s --revision=r
  expect_ok
  LD_LIBRARY_PATH=$FAKE/junk sl pull artifact "oci-layout://$store:v1" -o "$(tmpdir)/out"
  expect_fail "cannot load libcrypto.so.3"
}

# libcurl needs libssl and libcrypto itself: the error names the one it could
# not load, before any connection is tried.
registry_commands_name_the_library_they_cannot_load() {
  local port; port=$(free_port)
  LD_LIBRARY_PATH=$FAKE/junk sl pull artifact "oci://127.0.0.1:$port/app/x:v1" -o "$(tmpdir)"
  expect_fail "$FAKE/junk/libcrypto.so.3"
  ! grep -q "Couldn't connect\|connecting to" <<<"$ERR" || fail "it tried to connect: $ERR"
  LD_LIBRARY_PATH=$FAKE/junk sl push artifact "oci://127.0.0.1:$port/app/x:v1" -f "$SRC" \
    --source=s --revision=r
  expect_fail "libcrypto.so.3"
  ! grep -q "Couldn't connect\|connecting to" <<<"$ERR" || fail "it tried to connect: $ERR"
}

# The same binary, with the system's OpenSSL found as usual, hashes layers
# and reaches the network: the error is the connection's, not the loader's.
layer_and_registry_commands_load_the_system_libcrypto() {
  sl build artifact -p "$SRC" -o "$(tmpdir)/a.tgz"
  expect_ok
  local port; port=$(free_port)
  sl pull artifact "oci://127.0.0.1:$port/app/x:v1" -o "$(tmpdir)"
  expect_fail "connecting to 127.0.0.1:$port"
  ! grep -q "libcrypto.so.3" <<<"$ERR" || fail "$ERR"
}

for t in the_binary_does_not_link_openssl \
         kustomize_and_version_run_without_a_usable_libcrypto \
         layer_commands_name_the_library_they_cannot_load \
         registry_commands_name_the_library_they_cannot_load \
         layer_and_registry_commands_load_the_system_libcrypto; do
  run_test "${P}$t" "$t"
done
[ "$T_FAILED" -eq 0 ]
