# Helpers shared by the integration suites: registries, raw uploads, checks.
# Source after tests/lib.sh. SLUICE_BIN names the binary under test.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SLUICE=${SLUICE_BIN:-$ROOT/build/src/cli/sluice}
P=${TEST_PREFIX:-}
export SLUICE_NO_PROGRESS=1
# Never let the developer's own docker login leak into a test.
export DOCKER_CONFIG=$(mktemp -d)
export HOME_ORIG=$HOME

T_DIRS=()
T_REGISTRIES=()
cleanup_all() {
  for d in "${T_REGISTRIES[@]}"; do "$ROOT/scripts/registry" stop --clean "$d" >/dev/null 2>&1 || true; done
  for d in "${T_DIRS[@]}" "$DOCKER_CONFIG"; do rm -rf "$d"; done
}
trap cleanup_all EXIT

tmpdir() { local d; d=$(mktemp -d "${TMPDIR:-/tmp}/sluice-it-XXXXXX"); T_DIRS+=("$d"); echo "$d"; }

# start_registry VARIANT PREFIX: starts a registry and defines PREFIX_HOST,
# PREFIX_CA, PREFIX_STORAGE, PREFIX_LOG, PREFIX_DIR, PREFIX_ISSUER_LOG.
start_registry() {
  local variant=$1 prefix=$2 dir
  dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-reg-XXXXXX")
  T_REGISTRIES+=("$dir")
  "$ROOT/scripts/registry" start "$variant" "$dir" >/dev/null || return 1
  # shellcheck disable=SC1091
  ( . "$dir/env"; printf '%s_HOST=%s\n%s_CA=%s\n%s_STORAGE=%s\n%s_LOG=%s\n%s_ISSUER_LOG=%s\n%s_DIR=%s\n' \
      "$prefix" "$REGISTRY_HOST" "$prefix" "$REGISTRY_CA" "$prefix" "$REGISTRY_STORAGE" \
      "$prefix" "$REGISTRY_LOG" "$prefix" "${TOKEN_ISSUER_LOG:-}" "$prefix" "$dir" ) > "$dir/vars"
  # shellcheck disable=SC1091
  . "$dir/vars"
}

# make_tree DIR: a small config directory with nested dirs, modes and a link.
make_tree() {
  local d=$1
  mkdir -p "$d/deploy/base" "$d/deploy/overlays/prod" "$d/.git/objects"
  printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n' > "$d/deploy/base/ns.yaml"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  k: v\n' > "$d/deploy/base/cm.yaml"
  printf 'resources:\n- ../../base\n' > "$d/deploy/overlays/prod/kustomization.yaml"
  printf '#!/bin/sh\necho hi\n' > "$d/deploy/run.sh"; chmod 755 "$d/deploy/run.sh"
  printf 'secret-ish but not really\n' > "$d/deploy/private.txt"; chmod 600 "$d/deploy/private.txt"
  printf 'x' > "$d/.git/objects/abc"
  printf 'png' > "$d/logo.png"
}

# sl ARGS...: run sluice, keeping stdout/stderr/status in $OUT $ERR $RC.
sl() {
  local o e
  o=$(mktemp); e=$(mktemp)
  set +e
  "$SLUICE" "$@" >"$o" 2>"$e"
  RC=$?
  set -e
  OUT=$(cat "$o"); ERR=$(cat "$e"); rm -f "$o" "$e"
}

expect_ok() { [ "$RC" -eq 0 ] || fail "expected success, got $RC: $ERR"; }
expect_fail() {
  [ "$RC" -eq 1 ] || fail "expected exit 1, got $RC (stdout: $OUT, stderr: $ERR)"
  if [ $# -gt 0 ]; then
    grep -qF -- "$1" <<<"$ERR" || fail "stderr lacks '$1': $ERR"
  fi
  grep -q '^✗ ' <<<"$ERR" || fail "no ✗ line on stderr: $ERR"
}

manifest_of() { # manifest_of HOST REPO REF [curl args...]
  local host=$1 repo=$2 ref=$3; shift 3
  curl -fsS "$@" -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$host/v2/$repo/manifests/$ref"
}

# push_raw HOST REPO TAG LAYER_FILE [LAYER_MEDIA_TYPE]: uploads a hand-made
# artifact with curl, bypassing sluice, for tests of hostile content.
push_raw() {
  local host=$1 repo=$2 tag=$3 file=$4 mt=${5:-application/vnd.cncf.flux.content.v1.tar+gzip}
  local cfg ld ls cd cs loc
  cfg=$(mktemp)
  printf '%s' '{"architecture":"","created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":null},"config":{}}' > "$cfg"
  for f in "$file" "$cfg"; do
    local dg
    dg=sha256:$(sha256sum "$f" | cut -d' ' -f1)
    loc=$(curl -fsS -o /dev/null -D - -X POST "http://$host/v2/$repo/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
    case $loc in http*) ;; *) loc="http://$host$loc" ;; esac
    curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$f" "$loc&digest=$dg"
  done
  ld=sha256:$(sha256sum "$file" | cut -d' ' -f1); ls=$(stat -c %s "$file")
  cd=sha256:$(sha256sum "$cfg" | cut -d' ' -f1); cs=$(stat -c %s "$cfg")
  rm -f "$cfg"
  jq -cn --arg ld "$ld" --argjson ls "$ls" --arg cd "$cd" --argjson cs "$cs" --arg mt "$mt" \
    '{schemaVersion:2, mediaType:"application/vnd.oci.image.manifest.v1+json",
      config:{mediaType:"application/vnd.cncf.flux.config.v1+json", size:$cs, digest:$cd},
      layers:[{mediaType:$mt, size:$ls, digest:$ld}],
      annotations:{"org.opencontainers.image.source":"raw","org.opencontainers.image.revision":"raw"}}' |
    curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
      --data-binary @- "http://$host/v2/$repo/manifests/$tag"
}

# hostile_tgz OUT KIND: writes a gzip tarball with one kind of attack.
hostile_tgz() {
  python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
out, kind = sys.argv[1], sys.argv[2]
t = tarfile.open(out, "w:gz", format=tarfile.GNU_FORMAT)
def add(name, data=b"x", **kw):
    ti = tarfile.TarInfo(name); ti.size = len(data)
    for k, v in kw.items(): setattr(ti, k, v)
    t.addfile(ti, io.BytesIO(data) if ti.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else None)
add("ok.yaml", b"kind: ok\n")
if kind == "traversal":
    add("../evil.txt")
elif kind == "absolute":
    add("/tmp/sluice-evil-absolute.txt")
elif kind == "symlink-escape":
    ti = tarfile.TarInfo("link"); ti.type = tarfile.SYMTYPE; ti.linkname = "/tmp"; t.addfile(ti)
    add("link/sluice-evil-symlink.txt")
elif kind == "hardlink":
    ti = tarfile.TarInfo("hard"); ti.type = tarfile.LNKTYPE; ti.linkname = "/etc/passwd"; t.addfile(ti)
elif kind == "device":
    ti = tarfile.TarInfo("dev"); ti.type = tarfile.CHRTYPE; ti.devmajor = 1; ti.devminor = 3; t.addfile(ti)
elif kind == "bomb":
    class Zeros(io.RawIOBase):
        def __init__(self, n): self.n = n
        def readable(self): return True
        def readinto(self, b):
            k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k
    ti = tarfile.TarInfo("zeros.bin"); ti.size = 64 << 20
    t.addfile(ti, io.BufferedReader(Zeros(ti.size)))
t.close()
PY
}

tree_listing() { # tree_listing DIR: names with modes, sorted, for comparisons
  (cd "$1" && find . -mindepth 1 \( -type f -o -type d \) -printf '%P %m\n' | sort)
}
