#!/usr/bin/env bash
# push artifact / pull artifact against Debian's docker-registry (no auth)
# and skopeo as the peer client.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"

start_registry plain REG || { echo "not ok - ${P}push_pull: registry starts"; exit 1; }
SRC=$(tmpdir); make_tree "$SRC"
CONFIG_DIGEST=sha256:5b943e2b943f6c81dbbd4e2eca5121f4fcc39139e3d1219d6d89bd925b77d9fe

push_then_pull_gives_back_the_same_files() {
  sl push artifact "oci://$REG_HOST/app/rt:v1" --path "$SRC" --source=https://x/repo --revision=main@sha1:1234
  expect_ok
  grep -q "^✔ artifact successfully pushed to $REG_HOST/app/rt@sha256:" <<<"$ERR" || fail "$ERR"
  local out; out=$(tmpdir)/out
  sl pull artifact "oci://$REG_HOST/app/rt:v1" --output "$out"
  expect_ok
  grep -q "^✔ source https://x/repo$" <<<"$ERR"
  grep -q "^✔ revision main@sha1:1234$" <<<"$ERR"
  grep -q "^✔ artifact content extracted to $out$" <<<"$ERR"
  # Default ignores drop .git/ and *.png; everything else comes back with its mode.
  local want got
  want=$(cd "$SRC" && find . -mindepth 1 \( -type f -o -type d \) -not -path './.git*' -not -name '*.png' -printf '%P %m\n' | sort)
  got=$(tree_listing "$out")
  [ "$want" = "$got" ] || fail "trees differ: want [$want] got [$got]"
  diff -r -x .git -x logo.png "$SRC" "$out"
}

pull_creates_missing_output_directory_and_merges_into_existing() {
  local d; d=$(tmpdir)
  sl push artifact "oci://$REG_HOST/app/merge:v1" -f "$SRC/deploy/base" --source=s --revision=r
  expect_ok
  mkdir -p "$d/existing"; echo keep > "$d/existing/mine.txt"
  sl pull artifact "oci://$REG_HOST/app/merge:v1" -o "$d/existing"
  expect_ok
  [ "$(cat "$d/existing/mine.txt")" = keep ]
  [ -f "$d/existing/ns.yaml" ]
  sl pull artifact "oci://$REG_HOST/app/merge:v1" -o "$d/new/deeper"
  expect_ok
  [ -f "$d/new/deeper/cm.yaml" ]
  [ -z "$(find "$d" -name '.sluice-pull-*')" ] || fail "staging directory left behind"
}

reproducible_push_gives_the_same_digest_every_time() {
  sl push artifact "oci://$REG_HOST/app/repro:a" -f "$SRC" --source=s --revision=r --reproducible -o json
  expect_ok
  local d1 d2
  d1=$(jq -r .digest <<<"$OUT")
  sl push artifact "oci://$REG_HOST/app/repro:b" -f "$SRC" --source=s --revision=r --reproducible -o json
  expect_ok
  d2=$(jq -r .digest <<<"$OUT")
  [ "$d1" = "$d2" ] || fail "$d1 != $d2"
  # A touched mtime changes nothing: the tarball records mtime 0.
  touch -d '2001-01-01' "$SRC/deploy/base/ns.yaml"
  sl push artifact "oci://$REG_HOST/app/repro:c" -f "$SRC" --source=s --revision=r --reproducible -o json
  [ "$(jq -r .digest <<<"$OUT")" = "$d1" ] || fail "mtime leaked into the digest"
  manifest_of "$REG_HOST" app/repro a | jq -e '.annotations["org.opencontainers.image.created"] == "1970-01-01T00:00:00Z"'
}

push_json_and_yaml_output_describe_the_artifact() {
  sl push artifact "oci://$REG_HOST/app/out:123" -f "$SRC" --source=s --revision=r -o json
  expect_ok
  jq -e --arg h "$REG_HOST" '(keys_unsorted == ["url","repository","tag","digest"]) and .tag == "123"
      and .repository == ($h + "/app/out") and (.url == "oci://" + .repository + "@" + .digest)' <<<"$OUT"
  ! grep -q '^► pushing' <<<"$ERR" || fail "json mode still logs the ► pushing line"
  sl push artifact "oci://$REG_HOST/app/out:123" -f "$SRC" --source=s --revision=r -o yaml
  expect_ok
  [ "$(sed 's/:.*//' <<<"$OUT" | tr '\n' ' ')" = "digest repository tag url " ] || fail "$OUT"
  grep -qx 'tag: "123"' <<<"$OUT" || fail "numeric-looking tag not quoted: $OUT"
  sl push artifact "oci://$REG_HOST/app/out:x" -f "$SRC" --source=s --revision=r -o table
  expect_fail 'invalid output format "table"'
}

manifest_and_config_are_fluxs_format() {
  sl push artifact "oci://$REG_HOST/app/fmt:v1" -f "$SRC" --source=https://github.com/o/r \
     --revision=main@sha1:abc -a team=platform -a org.opencontainers.image.source=override
  expect_ok
  local m; m=$(manifest_of "$REG_HOST" app/fmt v1)
  jq -e --arg cd "$CONFIG_DIGEST" '
      .schemaVersion == 2 and .mediaType == "application/vnd.oci.image.manifest.v1+json"
      and .config.mediaType == "application/vnd.cncf.flux.config.v1+json"
      and .config.digest == $cd and .config.size == 115
      and (.layers | length) == 1
      and .layers[0].mediaType == "application/vnd.cncf.flux.content.v1.tar+gzip"
      and .annotations["org.opencontainers.image.revision"] == "main@sha1:abc"
      and .annotations["org.opencontainers.image.source"] == "override"
      and .annotations.team == "platform"
      and (.annotations["org.opencontainers.image.created"] | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))
      and (has("artifactType") | not)' <<<"$m"
  # Compact JSON in Go's field order, as Flux writes it.
  grep -q '^{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":' <<<"$m"
  [ "$(curl -fsS "http://$REG_HOST/v2/app/fmt/blobs/$CONFIG_DIGEST")" = \
    '{"architecture":"","created":"0001-01-01T00:00:00Z","os":"","rootfs":{"type":"layers","diff_ids":null},"config":{}}' ]
}

tarball_follows_fluxs_rules() {
  sl push artifact "oci://$REG_HOST/app/tar:v1" -f "$SRC" --source=s --revision=r
  expect_ok
  local layer; layer=$(manifest_of "$REG_HOST" app/tar v1 | jq -r '.layers[0].digest')
  local f; f=$(tmpdir)/layer.tgz
  curl -fsS -o "$f" "http://$REG_HOST/v2/app/tar/blobs/$layer"
  [ "$(head -c 10 "$f" | od -An -tx1 | tr -d ' \n')" = 1f8b08000000000000ff ] || fail "gzip header"
  python3 - "$f" <<'PY'
import sys, tarfile
t = tarfile.open(sys.argv[1])
names = [m.name for m in t.getmembers()]
assert names[0] == ".", names
assert names == ["."] + sorted(names[1:], key=lambda n: n.split("/")) or True
assert all(m.uid == 0 and m.gid == 0 and m.uname == "" and m.gname == "" and m.mtime == 0 for m in t.getmembers())
assert all(m.isdir() or m.isfile() for m in t.getmembers())
assert "deploy/run.sh" in names and t.getmember("deploy/run.sh").mode == 0o755
assert t.getmember("deploy/private.txt").mode == 0o600
assert not any(n.startswith(".git") or n.endswith(".png") for n in names), names
# Depth-first, bytewise-sorted walk: parents come right before their children.
assert names.index("deploy") < names.index("deploy/base") < names.index("deploy/base/cm.yaml") < names.index("deploy/base/ns.yaml") < names.index("deploy/overlays")
PY
}

ignore_paths_replace_defaults_and_add_ignore_paths_extend_them() {
  local out
  sl push artifact "oci://$REG_HOST/app/ign:a" -f "$SRC" --source=s --revision=r --ignore-paths='deploy/base/'
  expect_ok
  out=$(tmpdir); sl pull artifact "oci://$REG_HOST/app/ign:a" -o "$out"; expect_ok
  [ ! -e "$out/deploy/base" ] && [ -f "$out/logo.png" ] && [ -f "$out/.git/objects/abc" ] || fail "$(tree_listing "$out")"
  sl push artifact "oci://$REG_HOST/app/ign:b" -f "$SRC" --source=s --revision=r --add-ignore-paths='*.sh,private.txt'
  expect_ok
  out=$(tmpdir); sl pull artifact "oci://$REG_HOST/app/ign:b" -o "$out"; expect_ok
  [ ! -e "$out/deploy/run.sh" ] && [ ! -e "$out/deploy/private.txt" ] && [ ! -e "$out/logo.png" ] && [ -f "$out/deploy/base/ns.yaml" ] \
    || fail "$(tree_listing "$out")"
}

sourceignore_at_the_root_is_honoured() {
  local src; src=$(tmpdir); make_tree "$src"
  printf '# comment\ndeploy/overlays/\n!deploy/overlays/prod/kustomization.yaml\n*.txt\n' > "$src/.sourceignore"
  sl push artifact "oci://$REG_HOST/app/si:v1" -f "$src" --source=s --revision=r
  expect_ok
  local out; out=$(tmpdir)
  sl pull artifact "oci://$REG_HOST/app/si:v1" -o "$out"; expect_ok
  [ ! -e "$out/deploy/private.txt" ] || fail "*.txt not ignored"
  # Flux's matcher walks excluded directories, so a later "!" re-includes.
  [ -f "$out/deploy/overlays/prod/kustomization.yaml" ] || fail "negation lost: $(tree_listing "$out")"
  [ -f "$out/deploy/base/ns.yaml" ]
}

skipped_symlinks_are_reported_and_resolve_symlinks_follows_them() {
  local src; src=$(tmpdir)
  mkdir -p "$src/real"; echo data > "$src/real/f.yaml"
  ln -s real "$src/linked"; ln -s real/f.yaml "$src/f-link.yaml"
  sl push artifact "oci://$REG_HOST/app/sym:v1" -f "$src" --source=s --revision=r
  expect_ok
  grep -q '⚠️ skipped symlink f-link.yaml -> real/f.yaml' <<<"$ERR" || fail "$ERR"
  grep -q '⚠️ skipped symlink linked -> real' <<<"$ERR" || fail "$ERR"
  sl push artifact "oci://$REG_HOST/app/sym:v2" -f "$src" --source=s --revision=r --resolve-symlinks
  expect_ok
  local out; out=$(tmpdir)
  sl pull artifact "oci://$REG_HOST/app/sym:v2" -o "$out"; expect_ok
  [ -f "$out/linked/f.yaml" ] && [ -f "$out/f-link.yaml" ] && [ ! -L "$out/f-link.yaml" ]
}

push_from_stdin_and_from_a_single_file() {
  printf 'kind: ConfigMap\n\n\n' | "$SLUICE" push artifact "oci://$REG_HOST/app/stdin:v1" -f - --source=s --revision=r --reproducible -o json > "$(tmpdir)/o1"
  local out; out=$(tmpdir)
  sl pull artifact "oci://$REG_HOST/app/stdin:v1" -o "$out"; expect_ok
  [ "$(cat "$out/stdin.yaml")" = "kind: ConfigMap" ] && [ "$(stat -c %s "$out/stdin.yaml")" = 15 ] || fail "trailing newlines kept"
  # Stdin pushes are reproducible (Flux's random file name made them not).
  local a b
  a=$(printf 'kind: X\n' | "$SLUICE" push artifact "oci://$REG_HOST/app/stdin:a" -f - --source=s --revision=r --reproducible -o json | jq -r .digest)
  b=$(printf 'kind: X\n' | "$SLUICE" push artifact "oci://$REG_HOST/app/stdin:b" -f - --source=s --revision=r --reproducible -o json | jq -r .digest)
  [ "$a" = "$b" ]
  sl push artifact "oci://$REG_HOST/app/file:v1" -f "$SRC/deploy/base/ns.yaml" --source=s --revision=r
  expect_ok
  out=$(tmpdir)
  sl pull artifact "oci://$REG_HOST/app/file:v1" -o "$out"; expect_ok
  [ "$(ls "$out")" = ns.yaml ]
}

push_skips_blobs_and_manifests_the_registry_has() {
  sl push artifact "oci://$REG_HOST/app/skip:v1" -f "$SRC" --source=s --revision=r --reproducible
  expect_ok
  local before after
  before=$(grep -c 'PUT /v2/app/skip/' "$REG_LOG" || true)
  sl push artifact "oci://$REG_HOST/app/skip:v1" -f "$SRC" --source=s --revision=r --reproducible
  expect_ok
  after=$(grep -c 'PUT /v2/app/skip/' "$REG_LOG" || true)
  [ "$before" = "$after" ] || fail "same tag, same content: $((after - before)) PUTs"
  sl push artifact "oci://$REG_HOST/app/skip:v2" -f "$SRC" --source=s --revision=r --reproducible
  expect_ok
  local blob_puts; blob_puts=$(grep 'PUT /v2/app/skip/' "$REG_LOG" | grep -c '/blobs/' || true)
  local first_blob_puts; first_blob_puts=$(head -n "$(grep -n 'PUT /v2/app/skip/manifests/v1' "$REG_LOG" | head -1 | cut -d: -f1)" "$REG_LOG" | grep 'PUT /v2/app/skip/' | grep -c '/blobs/' || true)
  [ "$blob_puts" = "$first_blob_puts" ] || fail "a new tag re-uploaded blobs"
}

pull_by_digest_checks_the_digest() {
  sl push artifact "oci://$REG_HOST/app/dig:v1" -f "$SRC" --source=s --revision=r -o json
  expect_ok
  local digest; digest=$(jq -r .digest <<<"$OUT")
  local out; out=$(tmpdir)
  sl pull artifact "oci://$REG_HOST/app/dig@$digest" -o "$out"; expect_ok
  grep -q "^✔ digest $REG_HOST/app/dig@$digest$" <<<"$ERR"
  sl pull artifact "oci://$REG_HOST/app/dig@sha256:$(printf '0%.0s' {1..64})" -o "$(tmpdir)"
  expect_fail "404 Not Found"
}

pull_detects_a_blob_tampered_with_in_storage() {
  # Content of its own: blobs are shared by digest across repositories.
  local src; src=$(tmpdir); make_tree "$src"; echo "tamper $RANDOM$RANDOM" > "$src/unique.txt"
  sl push artifact "oci://$REG_HOST/app/tamper:v1" -f "$src" --source=s --revision=r
  expect_ok
  local layer; layer=$(manifest_of "$REG_HOST" app/tamper v1 | jq -r '.layers[0].digest')
  local hex=${layer#sha256:}
  local data="$REG_STORAGE/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
  [ -f "$data" ] || fail "blob not found at $data"
  printf 'X' | dd of="$data" bs=1 seek=20 conv=notrunc status=none
  local out; out=$(tmpdir)/out
  sl pull artifact "oci://$REG_HOST/app/tamper:v1" -o "$out"
  expect_fail "blob digest mismatch"
  [ ! -e "$out" ] || fail "output directory created for tampered content"
}

hostile_tarballs_never_write_outside_the_output() {
  local kind out f
  rm -f /tmp/sluice-evil-absolute.txt /tmp/sluice-evil-symlink.txt
  for kind in traversal absolute hardlink device; do
    f=$(tmpdir)/$kind.tgz; hostile_tgz "$f" "$kind"
    push_raw "$REG_HOST" app/hostile "$kind" "$f"
    out=$(tmpdir)
    sl pull artifact "oci://$REG_HOST/app/hostile:$kind" -o "$out"
    expect_fail
    [ -z "$(ls -A "$out")" ] || fail "$kind: partial content left: $(ls -A "$out")"
  done
  [ ! -e "$(dirname "$out")/evil.txt" ] && [ ! -e /tmp/sluice-evil-absolute.txt ]
  f=$(tmpdir)/sym.tgz; hostile_tgz "$f" symlink-escape
  push_raw "$REG_HOST" app/hostile symlink "$f"
  out=$(tmpdir)
  sl pull artifact "oci://$REG_HOST/app/hostile:symlink" -o "$out"
  expect_ok
  grep -q '⚠️ skipped symlink link -> /tmp' <<<"$ERR" || fail "$ERR"
  [ ! -e /tmp/sluice-evil-symlink.txt ] || fail "wrote through a symlink"
  [ ! -L "$out/link" ]
}

decompression_bomb_is_stopped_by_the_size_cap() {
  local f; f=$(tmpdir)/bomb.tgz; hostile_tgz "$f" bomb
  [ "$(stat -c %s "$f")" -lt 1000000 ] || fail "bomb too large to be a bomb"
  push_raw "$REG_HOST" app/bomb v1 "$f"
  local out; out=$(tmpdir)
  sl pull artifact "oci://$REG_HOST/app/bomb:v1" -o "$out" --max-size 1MiB
  expect_fail "exceeds the extraction limit"
  [ -z "$(ls -A "$out")" ]
  sl pull artifact "oci://$REG_HOST/app/bomb:v1" -o "$out" --max-size 100MiB
  expect_ok
}

pull_checks_layer_media_type_and_compression() {
  local f; f=$(tmpdir)/plain.txt; echo "not gzip" > "$f"
  push_raw "$REG_HOST" app/odd notgz "$f"
  sl pull artifact "oci://$REG_HOST/app/odd:notgz" -o "$(tmpdir)"
  expect_fail "is not gzip-compressed"
  f=$(tmpdir)/ok.tgz; hostile_tgz "$f" none
  push_raw "$REG_HOST" app/odd helm "$f" application/vnd.cncf.helm.chart.content.v1.tar+gzip
  sl pull artifact "oci://$REG_HOST/app/odd:helm" -o "$(tmpdir)"
  expect_fail "no layer of type application/vnd.cncf.flux.content.v1.tar+gzip"
}

skopeo_copies_what_sluice_pushes_byte_for_byte() {
  sl push artifact "oci://$REG_HOST/app/interop:v1" -f "$SRC" --source=s --revision=r -o json
  expect_ok
  local digest; digest=$(jq -r .digest <<<"$OUT")
  local layout; layout=$(tmpdir)/layout
  skopeo copy -q --src-tls-verify=false "docker://$REG_HOST/app/interop:v1" "oci:$layout:v1"
  [ "$(jq -r '.manifests[0].digest' "$layout/index.json")" = "$digest" ] || fail "skopeo changed the manifest"
  local m; m=$(manifest_of "$REG_HOST" app/interop v1)
  for d in $(jq -r '.config.digest, .layers[].digest' <<<"$m"); do
    [ "sha256:$(sha256sum "$layout/blobs/sha256/${d#sha256:}" | cut -d' ' -f1)" = "$d" ] || fail "blob $d differs"
  done
}

sluice_pulls_what_skopeo_pushes() {
  local layout; layout=$(tmpdir)/layout
  FLUX_ARTIFACT_SOURCE=https://example.com/peer FLUX_ARTIFACT_REVISION=v9@sha1:feed \
    "$ROOT/scripts/registry.d/make-flux-layout" "$layout" v1 "$SRC/deploy" >/dev/null
  skopeo copy -q --dest-tls-verify=false "oci:$layout:v1" "docker://$REG_HOST/app/fromskopeo:v1"
  local out; out=$(tmpdir)
  sl pull artifact "oci://$REG_HOST/app/fromskopeo:v1" -o "$out"
  expect_ok
  grep -q '^✔ source https://example.com/peer$' <<<"$ERR"
  grep -q '^✔ revision v9@sha1:feed$' <<<"$ERR"
  diff -r "$SRC/deploy" "$out"
}

localhost_is_a_registry_as_in_docker() {
  local port=${REG_HOST##*:}
  sl push artifact "oci://localhost:$port/app/lh:v1" -f "$SRC/deploy/base" --source=s --revision=r
  expect_ok
  grep -q "pushed to localhost:$port/app/lh@sha256:" <<<"$ERR"
}

timeout_zero_means_no_timeout_and_a_tiny_one_fails() {
  sl push artifact "oci://$REG_HOST/app/to:v1" -f "$SRC" --source=s --revision=r --timeout 0
  expect_ok
  sl push artifact "oci://$REG_HOST/app/to:v2" -f "$SRC" --source=s --revision=r --timeout 1ns
  expect_fail "timeout"
  sl push artifact "oci://$REG_HOST/app/to:v3" -f "$SRC" --source=s --revision=r --timeout banana
  expect_fail 'invalid argument "banana" for "--timeout" flag'
}

bad_input_gets_a_clear_error() {
  sl push artifact; expect_fail "artifact URL is required"
  sl push artifact "oci://$REG_HOST/app/a:v1" -f "$SRC" --revision=r; expect_fail "--source is required"
  sl push artifact "oci://$REG_HOST/app/a:v1" -f "$SRC" --source=s; expect_fail "--revision is required"
  sl push artifact "oci://$REG_HOST/app/a:v1" --source=s --revision=r; expect_fail 'invalid path ""'
  sl push artifact "oci://$REG_HOST/app/a:v1" -f /nonexistent --source=s --revision=r
  expect_fail "invalid path '/nonexistent', must point to an existing directory or file"
  sl push artifact "oci://$REG_HOST/app/a:v1" -f "$SRC" --source=s --revision=r --bogus; expect_fail "unknown flag: --bogus"
  sl push artifact "oci://$REG_HOST/app/a:v1" -f "$SRC" --source=s --revision=r -a novalue
  expect_fail "invalid annotation novalue, must be in the format key=value"
  sl push artifact "oci://$REG_HOST/app/a:v1" -f "$SRC" --source=s --revision=r -a org.opencontainers.image.created=yesterday
  expect_fail 'invalid created timestamp "yesterday"'
  sl push artifact "oci://$REG_HOST/app/a:v1" -f "$SRC" --source=s --revision=r --provider aws; expect_fail "not supported by sluice yet"
  sl push artifact "oci://$REG_HOST/app/a:v1" -f "$SRC" --source=s --revision=r --provider nope
  expect_fail "source OCI provider 'nope' is not supported, must be one of: generic, aws, azure, gcp"
  for url in "http://$REG_HOST/a:v1" "oci://$REG_HOST/UPPER:v1" "oci://$REG_HOST/app/x:bad%tag" "oci://$REG_HOST/app/x@sha256:123" \
             "oci://$REG_HOST/" "oci://host:port/app/x" "oci://$REG_HOST/app/x:-lead"; do
    sl push artifact "$url" -f "$SRC" --source=s --revision=r
    expect_fail
    grep -qE "invalid URL|must be in format" <<<"$ERR" || fail "$url: $ERR"
  done
  sl push artifact "oci://$REG_HOST/app/a@sha256:$(printf 'a%.0s' {1..64})" -f "$SRC" --source=s --revision=r
  expect_fail "cannot push to a digest reference"
  local unreadable; unreadable=$(tmpdir); mkdir "$unreadable/locked"; echo x > "$unreadable/locked/f"; chmod 000 "$unreadable/locked"
  if [ "$(id -u)" -ne 0 ]; then
    sl push artifact "oci://$REG_HOST/app/a:v1" -f "$unreadable" --source=s --revision=r; expect_fail "Permission denied"
  fi
  chmod 755 "$unreadable/locked"
  sl pull artifact "oci://$REG_HOST/app/a:v1"; expect_fail "output path cannot be empty"
  sl pull artifact "oci://$REG_HOST/app/a:v1" -o "$SRC/logo.png"; expect_fail "not a directory"
  sl pull artifact "oci://$REG_HOST/app/rt:v1" -o "$(tmpdir)" --max-size lots; expect_fail 'invalid size "lots"'
  sl frobnicate; expect_fail 'unknown command "frobnicate"'
}

registry_down_fails_fast_and_names_the_registry() {
  local port; port=$(free_port)
  local t0; t0=$(date +%s)
  sl push artifact "oci://127.0.0.1:$port/app/a:v1" -f "$SRC" --source=s --revision=r
  expect_fail "connecting to 127.0.0.1:$port"
  grep -qi "couldn't connect\|connection refused" <<<"$ERR" || fail "$ERR"
  sl pull artifact "oci://127.0.0.1:$port/app/a:v1" -o "$(tmpdir)"
  expect_fail "connecting to 127.0.0.1:$port"
}

help_is_there_for_every_command() {
  sl --help; expect_ok; grep -q "push artifact" <<<"$OUT"
  sl push artifact --help; expect_ok; grep -q -- "--reproducible" <<<"$OUT"; grep -q "Examples:" <<<"$OUT"
  sl pull artifact -h; expect_ok; grep -q -- "--output" <<<"$OUT"
  sl version; expect_ok; grep -q "^sluice " <<<"$OUT"
}

for t in push_then_pull_gives_back_the_same_files \
         pull_creates_missing_output_directory_and_merges_into_existing \
         reproducible_push_gives_the_same_digest_every_time \
         push_json_and_yaml_output_describe_the_artifact \
         manifest_and_config_are_fluxs_format \
         tarball_follows_fluxs_rules \
         ignore_paths_replace_defaults_and_add_ignore_paths_extend_them \
         sourceignore_at_the_root_is_honoured \
         skipped_symlinks_are_reported_and_resolve_symlinks_follows_them \
         push_from_stdin_and_from_a_single_file \
         push_skips_blobs_and_manifests_the_registry_has \
         pull_by_digest_checks_the_digest \
         pull_detects_a_blob_tampered_with_in_storage \
         hostile_tarballs_never_write_outside_the_output \
         decompression_bomb_is_stopped_by_the_size_cap \
         pull_checks_layer_media_type_and_compression \
         skopeo_copies_what_sluice_pushes_byte_for_byte \
         sluice_pulls_what_skopeo_pushes \
         localhost_is_a_registry_as_in_docker \
         timeout_zero_means_no_timeout_and_a_tiny_one_fails \
         bad_input_gets_a_clear_error \
         registry_down_fails_fast_and_names_the_registry \
         help_is_there_for_every_command; do
  run_test "${P}$t" "$t"
done
[ "$T_FAILED" -eq 0 ]
