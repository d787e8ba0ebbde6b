#!/usr/bin/env bash
# libcurl is loaded on first use (src/oci/curl_loader.c), not linked: commands
# that never talk to a registry work without it, and the ones that do say
# clearly why when it cannot be loaded. A libcurl.so.4 that the dynamic loader
# finds first on LD_LIBRARY_PATH but cannot use stands in for a missing or
# broken one.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"

SRC=$(tmpdir); make_tree "$SRC"
FAKE=$(tmpdir)
# Not an ELF file: dlopen fails.
mkdir -p "$FAKE/junk" && echo 'not a library' >"$FAKE/junk/libcurl.so.4"
# A real shared object without libcurl's functions: dlsym fails.
mkdir -p "$FAKE/empty" && echo 'int not_libcurl;' >"$FAKE/empty/stub.c"
cc -shared -fPIC -o "$FAKE/empty/libcurl.so.4" "$FAKE/empty/stub.c" ||
  { echo "not ok - ${P}libcurl_on_demand: building a stub library"; exit 1; }

the_binary_does_not_link_libcurl() {
  local needed; needed=$(readelf -d "$SLUICE" | grep NEEDED)
  [ -n "$needed" ] || fail "readelf found no NEEDED entries at all"
  ! grep -q libcurl <<<"$needed" || fail "sluice links libcurl: $needed"
}

# With a libcurl.so.4 that cannot be loaded, a binary linking libcurl would
# not even start; one that loads it on first use runs every local command.
local_commands_run_without_a_usable_libcurl() {
  local store; store=$(tmpdir)/store
  export LD_LIBRARY_PATH=$FAKE/junk
  sl version
  expect_ok
  sl build artifact -p "$SRC" -o "$(tmpdir)/a.tgz"
  expect_ok
  sl push artifact "oci-layout://$store:v1" -f "$SRC" --source=s --revision=r
  expect_ok
  sl pull artifact "oci-layout://$store:v1" -o "$(tmpdir)/out"
  expect_ok
}

registry_commands_name_the_library_they_cannot_load() {
  # Nothing listens there: the error must come from loading libcurl, before
  # any connection is tried.
  local port; port=$(free_port)
  LD_LIBRARY_PATH=$FAKE/junk sl pull artifact "oci://127.0.0.1:$port/app/x:v1" -o "$(tmpdir)"
  expect_fail "cannot load libcurl.so.4"
  grep -qF "$FAKE/junk/libcurl.so.4" <<<"$ERR" || fail "dlerror's reason is missing: $ERR"
  LD_LIBRARY_PATH=$FAKE/empty sl list artifacts "oci://127.0.0.1:$port/app/x"
  expect_fail "libcurl.so.4: it has no curl_"
  grep -q "undefined symbol: curl_" <<<"$ERR" || fail "dlerror's reason is missing: $ERR"
  LD_LIBRARY_PATH=$FAKE/empty sl push artifact "oci://127.0.0.1:$port/app/x:v1" -f "$SRC" \
    --source=s --revision=r
  expect_fail "libcurl.so.4"
  ! grep -q "Couldn't connect\|connecting to" <<<"$ERR" || fail "it tried to connect: $ERR"
}

# The same binary, with the system's libcurl found as usual, reaches the
# network: the error is the connection's, not the loader's.
registry_commands_load_the_system_libcurl() {
  local port; port=$(free_port)
  sl pull artifact "oci://127.0.0.1:$port/app/x:v1" -o "$(tmpdir)"
  expect_fail "connecting to 127.0.0.1:$port"
  ! grep -q "libcurl.so.4" <<<"$ERR" || fail "$ERR"
}

for t in the_binary_does_not_link_libcurl \
         local_commands_run_without_a_usable_libcurl \
         registry_commands_name_the_library_they_cannot_load \
         registry_commands_load_the_system_libcurl; do
  run_test "${P}$t" "$t"
done
[ "$T_FAILED" -eq 0 ]
