#!/usr/bin/env bash
# `sluice install --export`: the Namespace, CRDs, RBAC, Service and
# Deployment as one YAML stream in apply order, read back with parsers that
# are not sluice's: PyYAML for structure, and kubectl's own (go-yaml, via
# `kubectl kustomize`), which is what reads it in `| kubectl apply -f -`.
# tests/e2e/crds.sh applies the same stream to a real API server.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"

if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "not ok - ${P}install_export: needs python3 with PyYAML (Debian: apt-get install python3-yaml)"
  exit 1
fi

W=$(tmpdir)

# export_to FILE ARGS...: sluice install --export ARGS > FILE, which must succeed.
export_to() {
  local file=$1; shift
  sl install --export "$@"
  expect_ok
  [ -z "$ERR" ] || fail "unexpected stderr: $ERR"
  printf '%s\n' "$OUT" >"$file"
}

# check FILE PYTHON: runs PYTHON with `docs` (the stream's documents, parsed
# by PyYAML) and `by_kind` (kind -> list of docs); an assert fails the test.
check() {
  local file=$1 code=$2
  python3 - "$file" <<PY
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
by_kind = {}
for d in docs:
    by_kind.setdefault(d["kind"], []).append(d)
$code
PY
}

stream_parses_and_lists_documents_in_apply_order() {
  export_to "$W/default.yaml"
  check "$W/default.yaml" '
kinds = [d["kind"] for d in docs]
want = ["Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole",
        "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment"]
assert kinds == want, kinds
for d in docs:
    assert d["apiVersion"] and d["metadata"]["name"], d
    assert d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "sluice", d["metadata"]
'
  # kubectl reads the stream as it will on `| kubectl apply -f -`.
  mkdir -p "$W/kustomize" && cp "$W/default.yaml" "$W/kustomize/install.yaml"
  printf 'resources:\n- install.yaml\n' >"$W/kustomize/kustomization.yaml"
  local n
  n=$(kubectl kustomize "$W/kustomize" | grep -c '^kind: ') || fail "kubectl kustomize failed"
  [ "$n" -eq 9 ] || fail "kubectl read $n objects, want 9"
}

# The binary prints config/ itself, variables filled in: nothing stale.
stream_is_config_dir_with_variables_filled_in() {
  export_to "$W/default.yaml"
  local version; version=$("$SLUICE" version | awk '{print $2}')
  local f expected="$W/expected.yaml"
  echo "# sluice v$version install manifests for namespace flux-system" >"$expected"
  for f in namespace.yaml crd/source.toolkit.fluxcd.io_ocirepositories.yaml rbac.yaml \
           service.yaml deployment.yaml; do
    sed -e 's/${NAMESPACE}/flux-system/g' -e "s/\${VERSION}/$version/g" \
        -e 's|${REGISTRY}|ghcr.io/sluice-project|g' -e 's/${CLUSTER_DOMAIN}/cluster.local/g' \
        -e 's/${LOG_LEVEL}/info/g' -e 's/${WATCH_ALL_NAMESPACES}/true/g' \
        "$ROOT/config/$f" >>"$expected"
  done
  diff -u "$expected" "$W/default.yaml" || fail "install --export differs from config/"
  ! grep -n '\${' "$W/default.yaml" || fail "a variable was left unexpanded"
}

namespace_flag_changes_every_namespace() {
  export_to "$W/other.yaml" --namespace other
  check "$W/other.yaml" '
namespaced = {"ServiceAccount", "Role", "RoleBinding", "Service", "Deployment"}
for d in docs:
    m = d["metadata"]
    if d["kind"] in namespaced:
        assert m.get("namespace") == "other", (d["kind"], m)
    else:
        assert "namespace" not in m, (d["kind"], m)
    assert m["labels"]["app.kubernetes.io/instance"] == "other", m
assert by_kind["Namespace"][0]["metadata"]["name"] == "other"
for b in by_kind["ClusterRoleBinding"] + by_kind["RoleBinding"]:
    assert [s["namespace"] for s in b["subjects"]] == ["other"], b
assert by_kind["ClusterRole"][0]["metadata"]["name"] == "sluice-controller-other"
assert by_kind["ClusterRoleBinding"][0]["roleRef"]["name"] == "sluice-controller-other"
'
  ! grep -n flux-system "$W/other.yaml" || fail "flux-system is still named"
  # The short flag too, and the default.
  sl install --export -n other
  expect_ok
  [ "$OUT" = "$(cat "$W/other.yaml")" ] || fail "-n other differs from --namespace other"
  export_to "$W/default.yaml"
  check "$W/default.yaml" '
assert by_kind["Namespace"][0]["metadata"]["name"] == "flux-system"
assert by_kind["Deployment"][0]["metadata"]["namespace"] == "flux-system"
'
}

crd_serves_v1_and_deprecated_v1beta2_with_one_schema() {
  export_to "$W/default.yaml"
  check "$W/default.yaml" '
crd = by_kind["CustomResourceDefinition"][0]
s = crd["spec"]
assert crd["metadata"]["name"] == "ocirepositories.source.toolkit.fluxcd.io"
assert crd["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/substitute"] == "disabled"
assert s["group"] == "source.toolkit.fluxcd.io" and s["scope"] == "Namespaced"
assert s["names"] == {"kind": "OCIRepository", "listKind": "OCIRepositoryList",
                      "plural": "ocirepositories", "singular": "ocirepository",
                      "shortNames": ["ocirepo"],
                      "categories": ["all", "fluxcd", "fluxcd-sources"]}, s["names"]
assert s["conversion"] == {"strategy": "None"}
v1, v1beta2 = s["versions"]
assert (v1["name"], v1["served"], v1["storage"]) == ("v1", True, True)
assert "deprecated" not in v1
assert (v1beta2["name"], v1beta2["served"], v1beta2["storage"]) == ("v1beta2", True, False)
assert v1beta2["deprecated"] is True
assert v1beta2["deprecationWarning"] == "v1beta2 OCIRepository is deprecated, upgrade to v1"
# Strategy None converts by relabelling: only right if the schemas agree.
assert v1["schema"] == v1beta2["schema"], "v1 and v1beta2 schemas differ"
for v in (v1, v1beta2):
    assert v["subresources"] == {"status": {}}
    cols = [(c["name"], c["type"], c["jsonPath"]) for c in v["additionalPrinterColumns"]]
    assert cols == [
        ("URL", "string", ".spec.url"),
        ("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status"),
        ("Status", "string", ".status.conditions[?(@.type==\"Ready\")].message"),
        ("Age", "date", ".metadata.creationTimestamp"),
    ], cols
'
}

# Flux's field names, types, validation and defaults, and a structural
# schema (every node typed), which the API server requires.
crd_schema_has_fluxs_fields_and_validation() {
  export_to "$W/default.yaml"
  check "$W/default.yaml" '
root = by_kind["CustomResourceDefinition"][0]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]

def walk(node, path):
    assert "type" in node, "untyped schema node at " + path
    for k, v in node.get("properties", {}).items():
        walk(v, path + "." + k)
    if "items" in node:
        walk(node["items"], path + "[]")
    if isinstance(node.get("additionalProperties"), dict):
        walk(node["additionalProperties"], path + "{}")
walk(root, "")

spec = root["properties"]["spec"]
p = spec["properties"]
assert sorted(p) == sorted(["certSecretRef", "ignore", "insecure", "interval", "layerSelector",
    "provider", "proxySecretRef", "ref", "secretRef", "serviceAccountName", "suspend",
    "timeout", "url", "verify"]), sorted(p)
assert spec["required"] == ["interval", "url"]
assert p["url"]["pattern"] == "^oci://.*$"
assert p["interval"]["pattern"] == r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
assert p["timeout"] == {**p["timeout"], "default": "60s", "pattern": r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"}
assert p["provider"]["default"] == "generic"
assert p["provider"]["enum"] == ["generic", "aws", "azure", "gcp"]
assert sorted(p["ref"]["properties"]) == ["digest", "semver", "semverFilter", "tag"]
ls = p["layerSelector"]["properties"]
assert sorted(ls) == ["mediaType", "operation"] and ls["operation"]["enum"] == ["extract", "copy"]
assert "default" not in ls["operation"]  # Flux: empty means extract, decided at run time
for ref in ("certSecretRef", "proxySecretRef", "secretRef"):
    assert p[ref]["required"] == ["name"], ref
v = p["verify"]
assert v["required"] == ["provider"]
assert v["properties"]["provider"]["default"] == "cosign"
assert v["properties"]["provider"]["enum"] == ["cosign", "notation"]
assert sorted(v["properties"]) == ["matchOIDCIdentity", "provider", "secretRef", "trustedRootSecretRef"]
assert v["properties"]["matchOIDCIdentity"]["items"]["required"] == ["issuer", "subject"]
for k in ("insecure", "suspend"):
    assert p[k]["type"] == "boolean"

status = root["properties"]["status"]
assert status["default"] == {"observedGeneration": -1}
sp = status["properties"]
assert sorted(sp) == ["artifact", "conditions", "lastHandledReconcileAt", "observedGeneration",
    "observedIgnore", "observedLayerSelector", "url"], sorted(sp)
art = sp["artifact"]
assert art["required"] == ["digest", "lastUpdateTime", "path", "revision", "url"]
assert art["properties"]["size"] == {**art["properties"]["size"], "type": "integer", "format": "int64"}
assert art["properties"]["metadata"]["additionalProperties"] == {"type": "string"}
cond = sp["conditions"]["items"]
assert cond["required"] == ["lastTransitionTime", "message", "reason", "status", "type"]
assert cond["properties"]["status"]["enum"] == ["True", "False", "Unknown"]
assert cond["properties"]["message"]["maxLength"] == 32768
'
}

deployment_runs_the_controller_with_fluxs_flags_and_hardening() {
  export_to "$W/default.yaml"
  check "$W/default.yaml" '
d = by_kind["Deployment"][0]
spec = d["spec"]
assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
pod = spec["template"]["spec"]
assert pod["serviceAccountName"] == by_kind["ServiceAccount"][0]["metadata"]["name"]
(c,) = pod["containers"]
assert c["image"].startswith("ghcr.io/sluice-project/sluice:v"), c["image"]
assert c["command"] + c["args"][:1] == ["sluice", "controller"]
for flag in ["--storage-path=/data", "--storage-addr=:9090",
             "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local.",
             "--metrics-addr=:8080", "--health-addr=:9440", "--log-level=info",
             "--log-encoding=json", "--watch-all-namespaces=true", "--enable-leader-election"]:
    assert flag in c["args"], (flag, c["args"])
env = {e["name"]: e for e in c["env"]}
assert env["RUNTIME_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
assert ports == {"http": 9090, "http-prom": 8080, "healthz": 9440}, ports
assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "healthz"}
assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "healthz"}
sc = c["securityContext"]
assert sc["runAsNonRoot"] is True and sc["readOnlyRootFilesystem"] is True
assert sc["allowPrivilegeEscalation"] is False
assert sc["capabilities"] == {"drop": ["ALL"]}
assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
vols = {v["name"]: v for v in pod["volumes"]}
assert vols[mounts["/data"]] == {"name": "data", "emptyDir": {}}
assert "emptyDir" in vols[mounts["/tmp"]]  # the root filesystem is read-only
assert c["resources"]["requests"] and c["resources"]["limits"]

svc = by_kind["Service"][0]
assert svc["metadata"]["name"] == "source-controller"  # Flux'"'"'s artifact URLs
labels = spec["template"]["metadata"]["labels"]
assert all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()), svc["spec"]["selector"]
assert spec["selector"]["matchLabels"] == svc["spec"]["selector"]
(port,) = svc["spec"]["ports"]
assert (port["port"], port["targetPort"]) == (80, "http")
'
}

rbac_grants_only_what_the_controller_calls() {
  export_to "$W/default.yaml"
  check "$W/default.yaml" '
rules = {}
for r in by_kind["ClusterRole"][0]["rules"]:
    for g in r["apiGroups"]:
        for res in r["resources"]:
            rules[(g, res)] = sorted(r["verbs"])
src = "source.toolkit.fluxcd.io"
assert rules == {
    (src, "ocirepositories"): ["get", "list", "patch", "update", "watch"],
    (src, "ocirepositories/status"): ["get", "patch", "update"],
    (src, "ocirepositories/finalizers"): ["update"],
    ("", "secrets"): ["get", "list", "watch"],
    ("", "configmaps"): ["get", "list", "watch"],
    ("", "serviceaccounts"): ["get"],
    ("", "events"): ["create", "patch"],
}, rules
(role,) = by_kind["Role"]
assert role["rules"] == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                          "verbs": ["get", "create", "update", "patch"]}], role["rules"]
sa = by_kind["ServiceAccount"][0]["metadata"]
for b, ref in ((by_kind["ClusterRoleBinding"][0], by_kind["ClusterRole"][0]),
               (by_kind["RoleBinding"][0], role)):
    assert b["roleRef"]["kind"] == ref["kind"] and b["roleRef"]["name"] == ref["metadata"]["name"]
    assert b["subjects"] == [{"kind": "ServiceAccount", "name": sa["name"],
                              "namespace": sa["namespace"]}], b["subjects"]
'
}

install_flags_fill_in_the_deployment() {
  export_to "$W/flags.yaml" --registry 127.0.0.1:5000/mirror --log-level=debug \
    --watch-all-namespaces=false --cluster-domain=k8s.internal -n team-a
  check "$W/flags.yaml" '
c = by_kind["Deployment"][0]["spec"]["template"]["spec"]["containers"][0]
assert c["image"].startswith("127.0.0.1:5000/mirror/sluice:v"), c["image"]
for flag in ["--log-level=debug", "--watch-all-namespaces=false",
             "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.k8s.internal."]:
    assert flag in c["args"], (flag, c["args"])
'
}

install_refuses_bad_flags() {
  sl install --export --namespace Bad_NS
  expect_fail 'invalid namespace "Bad_NS"'
  [ -z "$OUT" ] || fail "printed manifests anyway: $OUT"
  sl install --export --namespace "$(printf 'x%.0s' {1..64})"
  expect_fail "must be a lowercase RFC 1123 label"
  sl install --export --log-level=trace
  expect_fail "unsupported log level 'trace', must be one of: debug, info, error"
  sl install --export --registry 'ghcr.io/x y'
  expect_fail 'invalid registry "ghcr.io/x y"'
  sl install --export --registry 'ghcr.io/org/'
  expect_fail 'invalid registry'
  sl install --export --cluster-domain=-bad.local
  expect_fail 'invalid cluster domain "-bad.local"'
  sl install --export --watch-all-namespaces=maybe
  expect_fail 'invalid argument "maybe" for "--watch-all-namespaces" flag'
  sl install --export extra
  expect_fail 'unknown command "extra" for "sluice install"'
  sl install --export --bogus
  expect_fail 'unknown flag: --bogus'
}

# Without --export the manifests go to the cluster (tests/e2e/source_oci_cli.sh),
# never to stdout; without a cluster that is a clear error.
install_without_export_applies_to_a_cluster() {
  sl install --kubeconfig "$W/no-such-kubeconfig"
  expect_fail "kubeconfig $W/no-such-kubeconfig"
  [ -z "$OUT" ] || fail "printed manifests without --export: $OUT"
  grep -qxF "► installing components in flux-system namespace" <<<"$ERR" || fail "stderr: $ERR"
}

install_help_shows_flags_and_examples() {
  sl install --help
  expect_ok
  local want
  for want in "sluice install --export" "--export " "--registry string" \
              "--watch-all-namespaces" "--log-level string" "--cluster-domain string" \
              '-n, --namespace string' "kubectl apply --server-side -f -"; do
    grep -qF -- "$want" <<<"$OUT" || fail "help lacks '$want': $OUT"
  done
  sl --help
  grep -q '^  install ' <<<"$OUT" || fail "sluice --help does not list install: $OUT"
}

for t in stream_parses_and_lists_documents_in_apply_order \
         stream_is_config_dir_with_variables_filled_in \
         namespace_flag_changes_every_namespace \
         crd_serves_v1_and_deprecated_v1beta2_with_one_schema \
         crd_schema_has_fluxs_fields_and_validation \
         deployment_runs_the_controller_with_fluxs_flags_and_hardening \
         rbac_grants_only_what_the_controller_calls \
         install_flags_fill_in_the_deployment \
         install_refuses_bad_flags \
         install_without_export_applies_to_a_cluster \
         install_help_shows_flags_and_examples; do
  run_test "${P}install_export: $t" "$t"
done
[ "$T_FAILED" -eq 0 ]
