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
want = ["Namespace", "CustomResourceDefinition", "CustomResourceDefinition", "ServiceAccount",
        "ClusterRole", "ClusterRoleBinding", "ClusterRoleBinding", "Role", "RoleBinding",
        "Service", "Deployment"]
assert kinds == want, kinds
assert [d["metadata"]["name"] for d in by_kind["CustomResourceDefinition"]] == [
    "ocirepositories.source.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io"]
for d in docs:
    assert d["apiVersion"] and d["metadata"]["name"], d
    assert d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "sluice", d["metadata"]
'
  # kubectl reads the stream as it will on `| kubectl apply -f -`.
  mkdir -p "$W/kustomize" && cp "$W/default.yaml" "$W/kustomize/install.yaml"
  printf 'resources:\n- install.yaml\n' >"$W/kustomize/kustomization.yaml"
  local n
  n=$(kubectl kustomize "$W/kustomize" | grep -c '^kind: ') || fail "kubectl kustomize failed"
  [ "$n" -eq 11 ] || fail "kubectl read $n objects, want 11"
}

# The binary prints config/ itself, variables filled in: nothing stale.
stream_is_config_dir_with_variables_filled_in() {
  export_to "$W/default.yaml"
  local version; version=$("$SLUICE" version | awk '{print $2}')
  local f expected="$W/expected.yaml"
  echo "# sluice v$version install manifests for namespace flux-system" >"$expected"
  for f in namespace.yaml crd/source.toolkit.fluxcd.io_ocirepositories.yaml \
           crd/kustomize.toolkit.fluxcd.io_kustomizations.yaml rbac.yaml service.yaml \
           deployment.yaml; do
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
assert [b["metadata"]["name"] for b in by_kind["ClusterRoleBinding"]] == [
    "sluice-controller-other", "sluice-cluster-reconciler-other"]
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

kustomization_crd_serves_v1_and_deprecated_v1beta2() {
  export_to "$W/default.yaml"
  check "$W/default.yaml" '
crd = by_kind["CustomResourceDefinition"][1]
s = crd["spec"]
assert crd["metadata"]["name"] == "kustomizations.kustomize.toolkit.fluxcd.io"
assert crd["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/substitute"] == "disabled"
assert s["group"] == "kustomize.toolkit.fluxcd.io" and s["scope"] == "Namespaced"
assert s["names"] == {"kind": "Kustomization", "listKind": "KustomizationList",
                      "plural": "kustomizations", "singular": "kustomization",
                      "shortNames": ["ks"],
                      "categories": ["all", "fluxcd", "fluxcd-appliers"]}, s["names"]
assert s["conversion"] == {"strategy": "None"}
v1, v1beta2 = s["versions"]
assert (v1["name"], v1["served"], v1["storage"]) == ("v1", True, True)
assert "deprecated" not in v1
assert (v1beta2["name"], v1beta2["served"], v1beta2["storage"]) == ("v1beta2", True, False)
assert v1beta2["deprecated"] is True
assert v1beta2["deprecationWarning"] == "v1beta2 Kustomization is deprecated, upgrade to v1"
for v in (v1, v1beta2):
    assert v["subresources"] == {"status": {}}
    cols = [(c["name"], c["type"], c["jsonPath"]) for c in v["additionalPrinterColumns"]]
    assert cols == [
        ("Age", "date", ".metadata.creationTimestamp"),
        ("Ready", "string", ".status.conditions[?(@.type==\"Ready\")].status"),
        ("Status", "string", ".status.conditions[?(@.type==\"Ready\")].message"),
    ], cols
'
}

# Flux's v1 and v1beta2 fields, validation and defaults, and structural
# schemas (every node typed, or explicitly free-form).
kustomization_crd_schema_has_fluxs_fields_and_validation() {
  export_to "$W/default.yaml"
  check "$W/default.yaml" '
crd = by_kind["CustomResourceDefinition"][1]
v1, v1beta2 = [v["schema"]["openAPIV3Schema"] for v in crd["spec"]["versions"]]

def walk(node, path):
    assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields") is True, \
        "untyped schema node at " + path
    for k, v in node.get("properties", {}).items():
        walk(v, path + "." + k)
    if "items" in node:
        walk(node["items"], path + "[]")
    if isinstance(node.get("additionalProperties"), dict):
        walk(node["additionalProperties"], path + "{}")
walk(v1, "")
walk(v1beta2, "")

duration = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"
common = ["commonMetadata", "components", "decryption", "dependsOn", "force", "healthChecks",
          "images", "interval", "kubeConfig", "patches", "path", "postBuild", "prune",
          "retryInterval", "serviceAccountName", "sourceRef", "suspend", "targetNamespace",
          "timeout", "wait"]
spec = v1["properties"]["spec"]
p = spec["properties"]
# v1 also keeps the legacy v1beta2 patches, so they survive storage.
assert sorted(p) == sorted(common + ["deletionPolicy", "healthCheckExprs", "ignore",
    "ignoreMissingComponents", "namePrefix", "nameSuffix", "patchesJson6902",
    "patchesStrategicMerge"]), sorted(p)

spec2 = v1beta2["properties"]["spec"]
p2 = spec2["properties"]
assert sorted(p2) == sorted(common + ["patchesJson6902", "patchesStrategicMerge",
    "validation"]), sorted(p2)
for s in (spec, spec2):
    assert s["required"] == ["interval", "prune", "sourceRef"], s["required"]
for pp in (p, p2):
    for k in ("interval", "retryInterval", "timeout"):
        assert pp[k]["pattern"] == duration, (k, pp[k])
    assert pp["force"]["default"] is False
    assert (pp["targetNamespace"]["minLength"], pp["targetNamespace"]["maxLength"]) == (1, 63)
    assert pp["sourceRef"]["required"] == ["kind", "name"]
    assert pp["patches"]["items"]["required"] == ["patch"]
    assert sorted(pp["patches"]["items"]["properties"]["target"]["properties"]) == [
        "annotationSelector", "group", "kind", "labelSelector", "name", "namespace", "version"]
    assert pp["images"]["items"]["required"] == ["name"]
    assert sorted(pp["images"]["items"]["properties"]) == ["digest", "name", "newName", "newTag"]
    sf = pp["postBuild"]["properties"]["substituteFrom"]["items"]
    assert sf["required"] == ["kind", "name"]
    assert sf["properties"]["kind"]["enum"] == ["Secret", "ConfigMap"]
    assert sf["properties"]["optional"]["default"] is False
    assert pp["postBuild"]["properties"]["substitute"]["additionalProperties"] == {"type": "string"}
    assert pp["decryption"]["required"] == ["provider"]
    assert pp["decryption"]["properties"]["provider"]["enum"] == ["sops"]
    assert pp["healthChecks"]["items"]["required"] == ["kind", "name"]
    for k in ("prune", "wait", "suspend", "force"):
        assert pp[k]["type"] == "boolean", k
assert p["sourceRef"]["properties"]["kind"]["enum"] == [
    "OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"]
assert p2["sourceRef"]["properties"]["kind"]["enum"] == ["OCIRepository", "GitRepository", "Bucket"]
assert p["deletionPolicy"]["enum"] == ["MirrorPrune", "Delete", "WaitForTermination", "Orphan"]
assert p["deletionPolicy"]["default"] == "MirrorPrune"
for k in ("namePrefix", "nameSuffix"):
    assert (p[k]["minLength"], p[k]["maxLength"]) == (1, 200), p[k]
assert p["healthCheckExprs"]["items"]["required"] == ["apiVersion", "current"]
assert sorted(p["dependsOn"]["items"]["properties"]) == ["name", "namespace", "readyExpr"]
assert sorted(p2["dependsOn"]["items"]["properties"]) == ["name", "namespace"]
assert p["postBuild"]["properties"]["substituteStrategy"]["enum"] == ["WithVariables", "Always"]
assert sorted(p["kubeConfig"]["properties"]) == ["configMapRef", "secretRef"]
assert p["kubeConfig"]["x-kubernetes-validations"][0]["rule"] == \
    "has(self.configMapRef) != has(self.secretRef)"
assert p2["kubeConfig"]["required"] == ["secretRef"]
assert p2["validation"]["enum"] == ["none", "client", "server"]
assert p2["patchesStrategicMerge"]["items"] == {"type": "object",
                                                "x-kubernetes-preserve-unknown-fields": True}
j = p2["patchesJson6902"]["items"]
assert j["required"] == ["patch", "target"]
assert j["properties"]["patch"]["items"]["properties"]["op"]["enum"] == [
    "test", "remove", "add", "replace", "move", "copy"]

status_fields = ["conditions", "inventory", "lastAppliedRevision", "lastAttemptedRevision",
                 "lastHandledReconcileAt", "observedGeneration"]
for root, extra in ((v1, ["history", "lastAppliedOriginRevision"]), (v1beta2, [])):
    status = root["properties"]["status"]
    assert status["default"] == {"observedGeneration": -1}
    assert sorted(status["properties"]) == sorted(status_fields + extra), sorted(status["properties"])
    inv = status["properties"]["inventory"]
    assert inv["required"] == ["entries"]
    assert inv["properties"]["entries"]["items"]["required"] == ["id", "v"]
    cond = status["properties"]["conditions"]["items"]
    assert cond["required"] == ["lastTransitionTime", "message", "reason", "status", "type"]
h = v1["properties"]["status"]["properties"]["history"]["items"]
assert h["required"] == ["digest", "firstReconciled", "lastReconciled", "lastReconciledDuration",
                         "lastReconciledStatus", "totalReconciliations"], h["required"]
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

# The ClusterRole records what the controller itself calls; what
# Kustomizations apply comes from cluster-admin, bound as Flux binds
# kustomize-controller (under a name of sluice's own).
rbac_grants_what_the_controller_calls_and_cluster_admin_for_what_it_applies() {
  export_to "$W/default.yaml"
  check "$W/default.yaml" '
rules = {}
for r in by_kind["ClusterRole"][0]["rules"]:
    for g in r["apiGroups"]:
        for res in r["resources"]:
            rules[(g, res)] = sorted(r["verbs"])
src, ks = "source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io"
assert rules == {
    (src, "ocirepositories"): ["get", "list", "patch", "update", "watch"],
    (src, "ocirepositories/status"): ["get", "patch", "update"],
    (src, "ocirepositories/finalizers"): ["update"],
    (ks, "kustomizations"): ["get", "list", "patch", "update", "watch"],
    (ks, "kustomizations/status"): ["get", "patch", "update"],
    (ks, "kustomizations/finalizers"): ["update"],
    ("", "secrets"): ["get", "list", "watch"],
    ("", "configmaps"): ["get", "list", "watch"],
    ("", "serviceaccounts"): ["get"],
    ("", "events"): ["create", "patch"],
}, rules
(role,) = by_kind["Role"]
assert role["rules"] == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                          "verbs": ["get", "create", "update", "patch"]}], role["rules"]
own, admin = by_kind["ClusterRoleBinding"]
assert admin["metadata"]["name"] == "sluice-cluster-reconciler-flux-system"
assert admin["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": "cluster-admin"}, admin["roleRef"]
sa = by_kind["ServiceAccount"][0]["metadata"]
for b, ref in ((own, by_kind["ClusterRole"][0]), (by_kind["RoleBinding"][0], role)):
    assert b["roleRef"]["kind"] == ref["kind"] and b["roleRef"]["name"] == ref["metadata"]["name"]
for b in (own, admin, by_kind["RoleBinding"][0]):
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
         kustomization_crd_serves_v1_and_deprecated_v1beta2 \
         kustomization_crd_schema_has_fluxs_fields_and_validation \
         rbac_grants_what_the_controller_calls_and_cluster_admin_for_what_it_applies \
         install_flags_fill_in_the_deployment \
         install_refuses_bad_flags \
         install_without_export_applies_to_a_cluster \
         install_help_shows_flags_and_examples; do
  run_test "${P}install_export: $t" "$t"
done
[ "$T_FAILED" -eq 0 ]
