# Smoke tests of the loopback control plane itself: if these fail, no sluice
# e2e result means anything. Sourced by tests/e2e/run with KUBECONFIG set;
# each test runs in a subshell with errexit (tests/lib.sh run_test).
#
# They share one namespace and run in order, as a user would: apply, wait
# for the workloads, then delete the namespace.

SMOKE_NS=e2e-smoke

smoke_server_reports_pinned_version() {
  local v
  v=$(kubectl get --raw /version | python3 -c 'import json,sys; print(json.load(sys.stdin)["gitVersion"])')
  [ "$v" = v1.35.4 ] || fail "server reports $v, want v1.35.4 (the pin in scripts/testenv.d/pins)"
}

smoke_fake_nodes_are_ready_and_untainted() {
  kubectl wait node --all --for=condition=Ready --timeout=30s
  local n taints
  n=$(kubectl get nodes -o name | wc -l)
  [ "$n" -ge 1 ] || fail "no nodes"
  taints=$(kubectl get nodes -o jsonpath='{.items[*].spec.taints}')
  [ -z "$taints" ] || fail "nodes are tainted: $taints"
}

smoke_apply_namespace_configmap_deployment_service() {
  kubectl apply -f - <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: $SMOKE_NS
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: $SMOKE_NS
data:
  greeting: hello from sluice
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: $SMOKE_NS
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example/web:1.0
        ports:
        - containerPort: 8080
        envFrom:
        - configMapRef: {name: web-config}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: $SMOKE_NS
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
EOF
  local got ip
  got=$(kubectl -n "$SMOKE_NS" get configmap web-config -o jsonpath='{.data.greeting}')
  [ "$got" = "hello from sluice" ] || fail "configmap data: '$got'"
  ip=$(kubectl -n "$SMOKE_NS" get service web -o jsonpath='{.spec.clusterIP}')
  [[ $ip == 10.96.* ]] || fail "service clusterIP '$ip' not in 10.96.0.0/16"
}

smoke_deployment_becomes_available_through_kwok() {
  kubectl -n "$SMOKE_NS" wait deployment/web --for=condition=Available --timeout=60s
  kubectl -n "$SMOKE_NS" rollout status deployment/web --timeout=60s
  local ready
  ready=$(kubectl -n "$SMOKE_NS" get deployment web -o jsonpath='{.status.readyReplicas}')
  [ "$ready" = 2 ] || fail "readyReplicas=$ready, want 2"
  # The pods run on the fake nodes, with IPs from kwok's pod range...
  while read -r node ip; do
    [[ $node == sluice-node-* ]] || fail "pod on node '$node'"
    [[ $ip == 10.244.* ]] || fail "pod IP '$ip' not from kwok's 10.244.0.0/16"
  done < <(kubectl -n "$SMOKE_NS" get pods -l app=web \
    -o jsonpath='{range .items[*]}{.spec.nodeName} {.status.podIP}{"\n"}{end}')
  # ...and the endpoint slice controller sees them ready behind the Service.
  wait_for 30 smoke_service_has_ready_endpoints 2 \
    || fail "service web has no 2 ready endpoints: $(kubectl -n "$SMOKE_NS" get endpointslices -o yaml)"
}

smoke_service_has_ready_endpoints() {
  local n
  n=$(kubectl -n "$SMOKE_NS" get endpointslices -l kubernetes.io/service-name=web \
    -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}x{"\n"}{end}' | grep -c x)
  [ "$n" -eq "$1" ]
}

smoke_statefulset_daemonset_job_complete() {
  kubectl apply -f - <<EOF
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: $SMOKE_NS
spec:
  replicas: 2
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: registry.example/db:1.0
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: $SMOKE_NS
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: registry.example/agent:1.0
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: $SMOKE_NS
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: registry.example/migrate:1.0
EOF
  kubectl -n "$SMOKE_NS" rollout status statefulset/db --timeout=60s
  kubectl -n "$SMOKE_NS" rollout status daemonset/agent --timeout=60s
  local nodes ready
  nodes=$(kubectl get nodes -o name | wc -l)
  ready=$(kubectl -n "$SMOKE_NS" get daemonset agent -o jsonpath='{.status.numberReady}')
  [ "$ready" = "$nodes" ] || fail "daemonset ready on $ready of $nodes nodes"
  kubectl -n "$SMOKE_NS" wait job/migrate --for=condition=Complete --timeout=60s
}

smoke_crd_is_established_and_serves_custom_resources() {
  kubectl apply -f - <<EOF
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.e2e.sluice.dev
spec:
  group: e2e.sluice.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1}
          status:
            type: object
            properties:
              phase: {type: string}
EOF
  kubectl wait crd/widgets.e2e.sluice.dev --for=condition=Established --timeout=30s
  # Discovery can lag Established by a moment; apply retries until served
  # (and once more outside wait_for so a real error is shown).
  wait_for 30 smoke_apply_widget || smoke_apply_widget
  local size
  size=$(kubectl -n "$SMOKE_NS" get widget w1 -o jsonpath='{.spec.size}')
  [ "$size" = 3 ] || fail "widget size '$size'"
  # The schema is enforced by the server, not just stored.
  if kubectl -n "$SMOKE_NS" patch widget w1 --type merge -p '{"spec":{"size":0}}' 2>/dev/null; then
    fail "server accepted size 0 despite minimum: 1"
  fi
  # The status subresource is served separately from the main resource.
  kubectl -n "$SMOKE_NS" patch widget w1 --subresource status --type merge \
    -p '{"status":{"phase":"Ready"}}'
  [ "$(kubectl -n "$SMOKE_NS" get widget w1 -o jsonpath='{.status.phase}')" = Ready ] \
    || fail "status subresource patch not visible"
}

smoke_apply_widget() {
  kubectl -n "$SMOKE_NS" apply -f - <<EOF
apiVersion: e2e.sluice.dev/v1
kind: Widget
metadata:
  name: w1
spec:
  size: 3
EOF
}

smoke_namespace_deletion_completes() {
  # Finalization needs the namespace controller and garbage collector to
  # delete every object above, custom resources included.
  kubectl delete namespace "$SMOKE_NS" --wait --timeout=90s
  if kubectl get namespace "$SMOKE_NS" >/dev/null 2>&1; then
    fail "namespace $SMOKE_NS still exists"
  fi
  kubectl delete crd widgets.e2e.sluice.dev --wait --timeout=30s
}

run_test "control plane reports the pinned Kubernetes version" smoke_server_reports_pinned_version
run_test "fake nodes are Ready and untainted" smoke_fake_nodes_are_ready_and_untainted
run_test "kubectl apply of a Namespace, ConfigMap, Deployment and Service" smoke_apply_namespace_configmap_deployment_service
run_test "Deployment becomes Available on kwok nodes with ready endpoints" smoke_deployment_becomes_available_through_kwok
run_test "StatefulSet and DaemonSet roll out, Job completes" smoke_statefulset_daemonset_job_complete
run_test "CRD becomes Established and serves its custom resources" smoke_crd_is_established_and_serves_custom_resources
run_test "deleting the Namespace completes" smoke_namespace_deletion_completes
