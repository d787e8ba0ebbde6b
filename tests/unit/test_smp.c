/* Strategic merge patches, JSON 6902 patches and patch targets as
 * `kubectl kustomize` (kustomize v5.5.0) applies them. Every expected value
 * here was checked against kubectl v1.32.4: the tables are the behaviour,
 * quirks included (they are marked as such). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kustomize/ks.h"

/* ---- helpers ---------------------------------------------------------- */

/* The first document of text, or NULL (message in err). */
static struct sl_node *parse_doc(const char *text, struct sl_error *err)
{
	struct sl_node *docs = NULL;
	if (sl_yaml_parse(text, strlen(text), "test", &docs, err) < 0)
		return NULL;
	struct sl_node *doc = docs->seq.len ? sl_node_seq_take(docs, 0) : NULL;
	sl_node_free(docs);
	if (!doc)
		sl_error_set(err, SL_EINVAL, "no document");
	return doc;
}

struct report {
	char text[8192];
	size_t failures, rows;
};

static void report_add(struct report *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_add(struct report *r, const char *name, const char *fmt, ...)
{
	r->failures++;
	size_t len = strlen(r->text);
	if (len + 1 >= sizeof(r->text))
		return;
	snprintf(r->text + len, sizeof(r->text) - len, "\n  %s: ", name);
	len = strlen(r->text);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->text + len, sizeof(r->text) - len, fmt, ap);
	va_end(ap);
}

static void report_check(const struct report *r)
{
	if (r->failures)
		fail_msg("%zu of %zu rows wrong:%s", r->failures, r->rows, r->text);
}

/* ---- strategic merge patches -------------------------------------------- */

struct smp_case {
	const char *name;
	const char *obj;
	const char *patch;
	const char *want; /* NULL: the object is deleted */
	bool allow_name, allow_kind;
	const char *error; /* a substring of the expected error */
};

static void run_smp_table(const struct smp_case *cases, size_t n)
{
	struct report rep = {.rows = n};
	for (size_t i = 0; i < n; i++) {
		const struct smp_case *c = &cases[i];
		struct sl_error err = {0};
		struct sl_node *obj = parse_doc(c->obj, &err);
		struct sl_node *patch = obj ? parse_doc(c->patch, &err) : NULL;
		struct sl_node *want = c->want && patch ? parse_doc(c->want, &err) : NULL;
		if (!obj || !patch || (c->want && !want)) {
			report_add(&rep, c->name, "bad test YAML: %s", err.msg);
		} else {
			bool deleted = true;
			int r =
			    ks_smp_apply(obj, patch, c->allow_name, c->allow_kind, &deleted, &err);
			if (c->error) {
				if (r >= 0)
					report_add(&rep, c->name, "succeeded, want an error");
				else if (!strstr(err.msg, c->error))
					report_add(&rep, c->name, "error \"%s\" lacks \"%s\"",
					           err.msg, c->error);
			} else if (r < 0) {
				report_add(&rep, c->name, "failed: %s", err.msg);
			} else if (!c->want) {
				if (!deleted)
					report_add(&rep, c->name, "kept, want deleted");
			} else if (deleted) {
				report_add(&rep, c->name, "deleted");
			} else if (!sl_node_equal(obj, want)) {
				report_add(&rep, c->name, "result differs");
			}
		}
		sl_node_free(obj);
		sl_node_free(patch);
		sl_node_free(want);
	}
	report_check(&rep);
}

#define DEPLOY         "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\n"
#define POD_SPEC(spec) DEPLOY "spec: {template: {spec: " spec "}}\n"

static void smp_merges_lists_by_their_merge_keys(void **state)
{
	(void)state;
	static const struct smp_case cases[] = {
	    {"containers by name",
	     POD_SPEC("{containers: [{name: a, image: a1}, {name: b, image: b1}]}"),
	     POD_SPEC("{containers: [{name: b, image: b2}]}"),
	     POD_SPEC("{containers: [{name: b, image: b2}, {name: a, image: a1}]}")},
	    {"initContainers by name", POD_SPEC("{initContainers: [{name: a, image: a1}]}"),
	     POD_SPEC("{initContainers: [{name: a, command: [x]}]}"),
	     POD_SPEC("{initContainers: [{name: a, image: a1, command: [x]}]}")},
	    {"ephemeralContainers by name",
	     POD_SPEC("{ephemeralContainers: [{name: a, image: a1}]}"),
	     POD_SPEC("{ephemeralContainers: [{name: b, image: b1}]}"),
	     POD_SPEC("{ephemeralContainers: [{name: b, image: b1}, {name: a, image: a1}]}")},
	    {"env by name, fields merged",
	     POD_SPEC(
	         "{containers: [{name: a, env: [{name: X, valueFrom: {fieldRef: {fieldPath: f}}}, "
	         "{name: Y, value: y}]}]}"),
	     POD_SPEC("{containers: [{name: a, env: [{name: X, value: x}]}]}"),
	     POD_SPEC("{containers: [{name: a, env: [{name: X, value: x, valueFrom: {fieldRef: "
	              "{fieldPath: f}}}, {name: Y, value: y}]}]}")},
	    {"imagePullSecrets and volumes by name",
	     POD_SPEC("{imagePullSecrets: [{name: a}], volumes: [{name: v, emptyDir: {}}]}"),
	     POD_SPEC("{imagePullSecrets: [{name: b}], volumes: [{name: v, emptyDir: {medium: "
	              "Memory}}]}"),
	     POD_SPEC("{imagePullSecrets: [{name: b}, {name: a}], volumes: [{name: v, emptyDir: "
	              "{medium: Memory}}]}")},
	    {"a volume changing source keeps both (retainKeys not applied)",
	     POD_SPEC("{volumes: [{name: v, configMap: {name: c}}]}"),
	     POD_SPEC("{volumes: [{name: v, secret: {secretName: s}}]}"),
	     POD_SPEC("{volumes: [{name: v, configMap: {name: c}, secret: {secretName: s}}]}")},
	    {"container ports by containerPort and protocol",
	     POD_SPEC(
	         "{containers: [{name: a, ports: [{containerPort: 53, protocol: TCP, name: t}]}]}"),
	     POD_SPEC(
	         "{containers: [{name: a, ports: [{containerPort: 53, protocol: UDP, name: u}]}]}"),
	     POD_SPEC(
	         "{containers: [{name: a, ports: [{containerPort: 53, protocol: UDP, name: u}, "
	         "{containerPort: 53, protocol: TCP, name: t}]}]}")},
	    {"quirk: a patch port without protocol is dropped when the original has one",
	     POD_SPEC("{containers: [{name: a, ports: [{containerPort: 80, protocol: TCP}]}]}"),
	     POD_SPEC("{containers: [{name: a, ports: [{containerPort: 80, name: http}]}]}"),
	     POD_SPEC("{containers: [{name: a, ports: [{containerPort: 80, protocol: TCP}]}]}")},
	    {"a port given as a string matches the number",
	     POD_SPEC("{containers: [{name: a, ports: [{containerPort: 80, name: p}]}]}"),
	     POD_SPEC("{containers: [{name: a, ports: [{containerPort: \"80\", name: q}]}]}"),
	     POD_SPEC("{containers: [{name: a, ports: [{containerPort: \"80\", name: q}]}]}")},
	    {"Service ports by port and protocol; quirk: one lacking protocol moves last",
	     "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 53, "
	     "protocol: UDP}, {port: 53, protocol: TCP}, {port: 80}]}",
	     "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, "
	     "targetPort: 8080}]}",
	     "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 53, "
	     "protocol: UDP}, {port: 53, protocol: TCP}, {port: 80, targetPort: 8080}]}"},
	    {"volumeMounts by mountPath, not name",
	     POD_SPEC("{containers: [{name: a, volumeMounts: [{name: x, mountPath: /a}, {name: x, "
	              "mountPath: /b}]}]}"),
	     POD_SPEC("{containers: [{name: a, volumeMounts: [{name: y, mountPath: /b}]}]}"),
	     POD_SPEC("{containers: [{name: a, volumeMounts: [{name: y, mountPath: /b}, {name: x, "
	              "mountPath: /a}]}]}")},
	    {"volumeDevices by devicePath",
	     POD_SPEC("{containers: [{name: a, volumeDevices: [{name: x, devicePath: /dev/a}]}]}"),
	     POD_SPEC("{containers: [{name: a, volumeDevices: [{name: y, devicePath: /dev/a}]}]}"),
	     POD_SPEC("{containers: [{name: a, volumeDevices: [{name: y, devicePath: /dev/a}]}]}")},
	    {"hostAliases by ip", POD_SPEC("{hostAliases: [{ip: 10.0.0.1, hostnames: [a]}]}"),
	     POD_SPEC("{hostAliases: [{ip: 10.0.0.1, hostnames: [b]}, {ip: 10.0.0.2, hostnames: "
	              "[c]}]}"),
	     POD_SPEC("{hostAliases: [{ip: 10.0.0.1, hostnames: [b]}, {ip: 10.0.0.2, hostnames: "
	              "[c]}]}")},
	    {"topologySpreadConstraints by topologyKey and whenUnsatisfiable, original order",
	     POD_SPEC("{topologySpreadConstraints: [{topologyKey: zone, whenUnsatisfiable: A, "
	              "maxSkew: 1}, {topologyKey: zone, whenUnsatisfiable: B, maxSkew: 1}]}"),
	     POD_SPEC("{topologySpreadConstraints: [{topologyKey: zone, whenUnsatisfiable: B, "
	              "maxSkew: 2}]}"),
	     POD_SPEC("{topologySpreadConstraints: [{topologyKey: zone, whenUnsatisfiable: A, "
	              "maxSkew: 1}, {topologyKey: zone, whenUnsatisfiable: B, maxSkew: 2}]}")},
	    {"finalizers are a set", DEPLOY "spec: {}\n---\n",
	     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, finalizers: [b, a]}\n",
	     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, finalizers: [b, a]}\n"
	     "spec: {}\n"},
	    {"finalizers merged, patch first, duplicates once",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [a, b, a]}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [c, b]}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [c, b, a]}\n"},
	    {"ownerReferences by uid",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, ownerReferences: [{uid: u1, "
	     "name: "
	     "x}]}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, ownerReferences: [{uid: u2}, "
	     "{uid: "
	     "u1, kind: K}]}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, ownerReferences: [{uid: u2}, "
	     "{uid: "
	     "u1, name: x, kind: K}]}\n"},
	    {"webhooks by name",
	     "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"
	     "metadata: {name: w}\nwebhooks: [{name: a, sideEffects: None}, {name: b}]\n",
	     "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"
	     "metadata: {name: w}\nwebhooks: [{name: b, timeoutSeconds: 5}]\n",
	     "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n"
	     "metadata: {name: w}\nwebhooks: [{name: b, timeoutSeconds: 5}, {name: a, sideEffects: "
	     "None}]\n"},
	    {"CronJob pod template",
	     "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {spec: "
	     "{template: {spec: {containers: [{name: a, image: x}, {name: b}]}}}}}\n",
	     "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {spec: "
	     "{template: {spec: {containers: [{name: b, image: y}]}}}}}\n",
	     "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {spec: "
	     "{template: {spec: {containers: [{name: b, image: y}, {name: a, image: x}]}}}}}\n"},
	};
	run_smp_table(cases, SL_ARRAY_SIZE(cases));
}

static void smp_orders_patch_elements_first_then_untouched_originals(void **state)
{
	(void)state;
	static const struct smp_case cases[] = {
	    {"patch order, then the rest in their order",
	     POD_SPEC("{containers: [{name: a}, {name: b}, {name: c}, {name: d}]}"),
	     POD_SPEC("{containers: [{name: c, image: c}, {name: new}, {name: a, image: a}]}"),
	     POD_SPEC("{containers: [{name: c, image: c}, {name: new}, {name: a, image: a}, {name: "
	              "b}, {name: d}]}")},
	    {"an empty patch list changes nothing",
	     POD_SPEC("{containers: [{name: a}, {name: b}]}"), POD_SPEC("{containers: []}"),
	     POD_SPEC("{containers: [{name: a}, {name: b}]}")},
	    {"quirk: a list the patch does not touch loses duplicate keys (last wins)",
	     POD_SPEC("{containers: [{name: a}], volumes: [{name: v, emptyDir: {}}, {name: v, "
	              "hostPath: {path: /}}]}"),
	     POD_SPEC("{containers: [{name: a, image: y}]}"),
	     POD_SPEC("{containers: [{name: a, image: y}], volumes: [{name: v, hostPath: {path: "
	              "/}}]}")},
	    {"quirk: null and {} elements vanish from a merged list",
	     POD_SPEC("{containers: [{name: a}, {}, null]}"), POD_SPEC("{containers: [{name: b}]}"),
	     POD_SPEC("{containers: [{name: b}, {name: a}]}")},
	    {"quirk: an original element without its key replaces the whole list",
	     POD_SPEC("{containers: [{name: a, image: x}, {image: noname}]}"),
	     POD_SPEC("{containers: [{name: a, image: y}]}"),
	     POD_SPEC("{containers: [{image: noname}]}")},
	};
	run_smp_table(cases, SL_ARRAY_SIZE(cases));
}

static void smp_drops_elements_giving_part_of_a_multi_field_key(void **state)
{
	(void)state;
	static const struct smp_case cases[] = {
	    {"partial key matching an element: dropped",
	     POD_SPEC("{topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, "
	              "whenUnsatisfiable: ScheduleAnyway}, {maxSkew: 1, topologyKey: host, "
	              "whenUnsatisfiable: DoNotSchedule}]}"),
	     POD_SPEC("{topologySpreadConstraints: [{topologyKey: zone, maxSkew: 2}]}"),
	     POD_SPEC("{topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, "
	              "whenUnsatisfiable: ScheduleAnyway}, {maxSkew: 1, topologyKey: host, "
	              "whenUnsatisfiable: DoNotSchedule}]}")},
	    {"partial key matching nothing: added first",
	     POD_SPEC("{topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, "
	              "whenUnsatisfiable: ScheduleAnyway}]}"),
	     POD_SPEC("{topologySpreadConstraints: [{topologyKey: rack, maxSkew: 3}]}"),
	     POD_SPEC("{topologySpreadConstraints: [{topologyKey: rack, maxSkew: 3}, {maxSkew: 1, "
	              "topologyKey: zone, whenUnsatisfiable: ScheduleAnyway}]}")},
	    {"the same partial key on both sides merges",
	     POD_SPEC("{topologySpreadConstraints: [{topologyKey: zone, maxSkew: 1}]}"),
	     POD_SPEC("{topologySpreadConstraints: [{topologyKey: zone, maxSkew: 2}]}"),
	     POD_SPEC("{topologySpreadConstraints: [{topologyKey: zone, maxSkew: 2}]}")},
	};
	run_smp_table(cases, SL_ARRAY_SIZE(cases));
}

static void smp_replaces_lists_without_merge_strategy(void **state)
{
	(void)state;
	static const struct smp_case cases[] = {
	    {"tolerations, args, command, envFrom",
	     POD_SPEC(
	         "{tolerations: [{key: a}], containers: [{name: c, args: [x, y], command: [z], "
	         "envFrom: [{configMapRef: {name: m}}]}]}"),
	     POD_SPEC("{tolerations: [{key: b}], containers: [{name: c, args: [w], command: [v], "
	              "envFrom: [{secretRef: {name: s}}]}]}"),
	     POD_SPEC("{tolerations: [{key: b}], containers: [{name: c, args: [w], command: [v], "
	              "envFrom: [{secretRef: {name: s}}]}]}")},
	    {"StatefulSet volumeClaimTemplates",
	     "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: "
	     "{volumeClaimTemplates: [{metadata: {name: a}}, {metadata: {name: b}}]}\n",
	     "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: "
	     "{volumeClaimTemplates: [{metadata: {name: b}, spec: {x: 1}}]}\n",
	     "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: "
	     "{volumeClaimTemplates: [{metadata: {name: b}, spec: {x: 1}}]}\n"},
	    {"ephemeral container ports (no strategy in v1.21), env merged",
	     POD_SPEC(
	         "{ephemeralContainers: [{name: e, ports: [{containerPort: 1}], env: [{name: A, "
	         "value: a}]}]}"),
	     POD_SPEC(
	         "{ephemeralContainers: [{name: e, ports: [{containerPort: 2}], env: [{name: B, "
	         "value: b}]}]}"),
	     POD_SPEC(
	         "{ephemeralContainers: [{name: e, ports: [{containerPort: 2}], env: [{name: B, "
	         "value: b}, {name: A, value: a}]}]}")},
	    {"a field the schema does not know",
	     "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {args: [--verbose, --quiet]}\n",
	     "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {args: [--new]}\n",
	     "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {args: [--new]}\n"},
	};
	run_smp_table(cases, SL_ARRAY_SIZE(cases));
}

static void smp_merges_maps_and_replaces_lists_of_custom_resources(void **state)
{
	(void)state;
	static const struct smp_case cases[] = {
	    {"HelmRelease",
	     "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: r}\nspec: "
	     "{interval: 10m, dependsOn: [{name: a}], values: {replicas: 2, hosts: [{host: x}]}}\n",
	     "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: r}\nspec: "
	     "{dependsOn: [{name: b}], values: {hosts: [{host: y}]}}\n",
	     "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: r}\nspec: "
	     "{interval: 10m, dependsOn: [{name: b}], values: {replicas: 2, hosts: [{host: "
	     "y}]}}\n"},
	    {"a custom resource's finalizers are replaced too",
	     "apiVersion: x.io/v1\nkind: X\nmetadata: {name: x, finalizers: [a]}\n",
	     "apiVersion: x.io/v1\nkind: X\nmetadata: {name: x, finalizers: [b]}\n",
	     "apiVersion: x.io/v1\nkind: X\nmetadata: {name: x, finalizers: [b]}\n"},
	    {"a built-in object embedded with its apiVersion and kind merges by its schema",
	     "apiVersion: x.io/v1\nkind: Wrap\nmetadata: {name: w}\nspec: {manifest: {apiVersion: "
	     "apps/v1, kind: Deployment, spec: {template: {spec: {containers: [{name: a}]}}}}, "
	     "list: "
	     "[{name: a}]}\n",
	     "apiVersion: x.io/v1\nkind: Wrap\nmetadata: {name: w}\nspec: {manifest: {spec: "
	     "{template: {spec: {containers: [{name: b}]}}}}, list: [{name: b}]}\n",
	     "apiVersion: x.io/v1\nkind: Wrap\nmetadata: {name: w}\nspec: {manifest: {apiVersion: "
	     "apps/v1, kind: Deployment, spec: {template: {spec: {containers: [{name: b}, {name: "
	     "a}]}}}}, list: [{name: b}]}\n"},
	};
	run_smp_table(cases, SL_ARRAY_SIZE(cases));
}

static void smp_null_deletes(void **state)
{
	(void)state;
	static const struct smp_case cases[] = {
	    {"map keys",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {a: x, b: y}}\n"
	     "data: {a: '1', b: '2'}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {a: null}}\ndata: {a: "
	     "~, "
	     "c: '3'}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {b: y}}\ndata: {b: '2', "
	     "c: "
	     "'3'}\n"},
	    {"a whole list", POD_SPEC("{containers: [{name: a}], imagePullSecrets: [{name: x}]}"),
	     POD_SPEC("{imagePullSecrets: null}"), POD_SPEC("{containers: [{name: a}]}")},
	    {"a field of a list element",
	     POD_SPEC("{containers: [{name: a, env: [{name: X, value: v}]}]}"),
	     POD_SPEC("{containers: [{name: a, env: [{name: X, value: null, valueFrom: {fieldRef: "
	              "{fieldPath: p}}}]}]}"),
	     POD_SPEC("{containers: [{name: a, env: [{name: X, valueFrom: {fieldRef: {fieldPath: "
	              "p}}}]}]}")},
	    {"nulls the patch adds are not added", DEPLOY "spec: {}\n",
	     DEPLOY "spec: {strategy: {type: Recreate, rollingUpdate: null}, paused: null}\n",
	     DEPLOY "spec: {strategy: {type: Recreate}}\n"},
	    {"nulls of the object the patch does not mention stay", DEPLOY "spec: {paused: null}\n",
	     DEPLOY "spec: {replicas: 2}\n", DEPLOY "spec: {paused: null, replicas: 2}\n"},
	};
	run_smp_table(cases, SL_ARRAY_SIZE(cases));
}

static void smp_understands_patch_directives(void **state)
{
	(void)state;
	static const struct smp_case cases[] = {
	    {"$patch: delete on a list element",
	     POD_SPEC("{containers: [{name: a, env: [{name: K, value: '1'}, {name: D, value: "
	              "'2'}], volumeMounts: [{name: c, mountPath: /c}]}, {name: debug}]}"),
	     POD_SPEC("{containers: [{name: debug, $patch: delete}, {name: a, env: [{name: D, "
	              "$patch: delete}], volumeMounts: [{mountPath: /c, $patch: delete}]}]}"),
	     POD_SPEC("{containers: [{name: a, env: [{name: K, value: '1'}], volumeMounts: []}]}")},
	    {"$patch: delete on an element that is not there",
	     POD_SPEC("{containers: [{name: a}]}"),
	     POD_SPEC("{containers: [{name: zz, $patch: delete}]}"),
	     POD_SPEC("{containers: [{name: a}]}")},
	    {"$patch: delete on the whole document",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
	     "$patch: delete\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n", NULL},
	    {"$patch: delete on a map", POD_SPEC("{containers: [{name: a}]}"),
	     DEPLOY "spec: {template: {$patch: delete}}\n", DEPLOY "spec: {}\n"},
	    {"$patch: replace on a map", POD_SPEC("{nodeSelector: {disk: ssd, zone: a}}"),
	     POD_SPEC("{nodeSelector: {$patch: replace, gpu: 'true'}}"),
	     POD_SPEC("{nodeSelector: {gpu: 'true'}}")},
	    {"$patch: replace as a list element",
	     POD_SPEC("{volumes: [{name: cache, emptyDir: {}}, {name: old}]}"),
	     POD_SPEC("{volumes: [{$patch: replace}, {name: fresh, emptyDir: {sizeLimit: 1Gi}}]}"),
	     POD_SPEC("{volumes: [{name: fresh, emptyDir: {sizeLimit: 1Gi}}]}")},
	    {"$patch: delete as a list element",
	     POD_SPEC("{containers: [{name: a}], volumes: [{name: "
	              "v}]}"),
	     POD_SPEC("{volumes: [{$patch: delete}]}"), POD_SPEC("{containers: [{name: a}]}")},
	    {"$patch: merge is the default", POD_SPEC("{containers: [{name: a}]}"),
	     POD_SPEC("{$patch: merge, containers: [{name: b}]}"),
	     POD_SPEC("{containers: [{name: b}, {name: a}]}")},
	    {"$patch: replace in a list without strategy stays an element",
	     POD_SPEC("{containers: [{name: b, command: [/bin/b, --old]}]}"),
	     POD_SPEC("{containers: [{name: b, command: [{$patch: replace}, /bin/b, --fresh]}]}"),
	     POD_SPEC("{containers: [{name: b, command: [{$patch: replace}, /bin/b, --fresh]}]}")},
	    {"quirk: $patch: replace in a list the object lacks keeps only the directive",
	     POD_SPEC("{containers: [{name: a}]}"),
	     POD_SPEC("{imagePullSecrets: [{$patch: replace}, {name: x}]}"),
	     POD_SPEC("{containers: [{name: a}], imagePullSecrets: [{$patch: replace}]}")},
	    {"$retainKeys, $setElementOrder, $deleteFromPrimitiveList are plain fields",
	     DEPLOY "spec: {strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1}}}\n",
	     DEPLOY
	     "spec: {strategy: {$retainKeys: [type], type: Recreate}, "
	     "$setElementOrder/containers: [{name: b}], $deleteFromPrimitiveList/args: [x]}\n",
	     DEPLOY "spec: {strategy: {$retainKeys: [type], type: Recreate, rollingUpdate: "
	            "{maxSurge: 1}}, $setElementOrder/containers: [{name: b}], "
	            "$deleteFromPrimitiveList/args: [x]}\n"},
	    {"quirk: $patch: replace of the whole object changes nothing",
	     POD_SPEC("{containers: "
	              "[{name: a}]}"),
	     DEPLOY "$patch: replace\nspec: {replicas: 3}\n",
	     POD_SPEC("{containers: [{name: a}]}")},
	    {"an unknown directive fails", POD_SPEC("{containers: [{name: a}]}"),
	     POD_SPEC("{$patch: foo}"), NULL, .error = "unknown patch strategy 'foo'"},
	};
	run_smp_table(cases, SL_ARRAY_SIZE(cases));
}

static void smp_keeps_the_object_identity_unless_allowed(void **state)
{
	(void)state;
	static const struct smp_case cases[] = {
	    {"name, namespace, kind and apiVersion of the patch are not applied",
	     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: ns1}\n",
	     "apiVersion: v9\nkind: StatefulSet\nmetadata: {name: other, namespace: ns2, labels: "
	     "{a: "
	     "b}}\n",
	     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: ns1, labels: "
	     "{a: b}}\n"},
	    {"a namespace the object lacks is not added",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"},
	    {"allowNameChange", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: renamed}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: renamed}\n", .allow_name = true},
	    {"allowKindChange (apiVersion still kept)",
	     "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
	     "apiVersion: v1\nkind: StatefulSet\nmetadata: {name: x}\nspec: {serviceName: s}\n",
	     "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: d}\nspec: {serviceName: "
	     "s}\n",
	     .allow_kind = true},
	};
	run_smp_table(cases, SL_ARRAY_SIZE(cases));
}

static void smp_patch_scalar_over_a_quoted_string_becomes_a_string(void **state)
{
	(void)state;
	/* kyaml gives the new value the old one's quoting style */
	static const struct smp_case cases[] = {
	    {"numbers and bools over quoted values",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {num: \"1\", b: "
	     "\"true\", "
	     "plain: abc, n: 5}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {num: 2, b: false, "
	     "plain: "
	     "2, n: \"6\"}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {num: \"2\", b: "
	     "\"false\", "
	     "plain: 2, n: \"6\"}\n"},
	};
	run_smp_table(cases, SL_ARRAY_SIZE(cases));
}

static void smp_rejects_mismatched_kinds_naming_the_field(void **state)
{
	(void)state;
	static const struct smp_case cases[] = {
	    {"a map for a list", POD_SPEC("{containers: [{name: a}]}"),
	     POD_SPEC("{containers: {name: a}}"), NULL,
	     .error = "spec.template.spec.containers: wrong node kind: expected list but got map"},
	    {"a map in a list of scalars",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [a]}\n",
	     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [{x: 1}]}\n", NULL,
	     .error = "wrong node kind: expected scalar but got map"},
	};
	run_smp_table(cases, SL_ARRAY_SIZE(cases));
}

/* The reader marks a null read from `key:` (no value) with b = true. */
static void smp_drops_valueless_fields_of_the_object_and_keeps_written_nulls(void **state)
{
	(void)state;
	struct sl_error err = {0};
	struct sl_node *obj = parse_doc(
	    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x, written: null}\n"
	    "other: {f: 1}\n",
	    &err);
	struct sl_node *patch =
	    parse_doc("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {d: y}\n", &err);
	assert_non_null(obj);
	assert_non_null(patch);
	struct sl_node *empty = sl_node_new_null();
	empty->empty = true;
	sl_node_map_set(sl_node_map_get(obj, "data"), "valueless", empty);
	empty = sl_node_new_null();
	empty->empty = true;
	sl_node_map_set(sl_node_map_get(obj, "other"), "f", empty);
	empty = sl_node_new_null();
	empty->empty = true;
	sl_node_map_set(sl_node_map_get(obj, "metadata"), "creationTimestamp", empty);

	bool deleted;
	assert_int_equal(ks_smp_apply(obj, patch, false, false, &deleted, &err), 0);
	struct sl_node *want =
	    parse_doc("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: x, written: "
	              "null, d: y}\nother: {}\n",
	              &err);
	bool same = sl_node_equal(obj, want);
	sl_node_free(obj);
	sl_node_free(patch);
	sl_node_free(want);
	assert_false(deleted);
	assert_true(same);
}

static void smp_leaves_the_patch_untouched(void **state)
{
	(void)state;
	struct sl_error err = {0};
	const char *patch_text =
	    POD_SPEC("{containers: [{name: a, $patch: delete}], volumes: [{$patch: replace}]}");
	struct sl_node *patch = parse_doc(patch_text, &err);
	struct sl_node *copy = sl_node_copy(patch);
	for (int round = 0; round < 2; round++) {
		struct sl_node *obj =
		    parse_doc(POD_SPEC("{containers: [{name: a}, {name: b}]}"), &err);
		bool deleted;
		int r = ks_smp_apply(obj, patch, false, false, &deleted, &err);
		sl_node_free(obj);
		assert_int_equal(r, 0);
	}
	bool same = sl_node_equal(patch, copy);
	sl_node_free(patch);
	sl_node_free(copy);
	assert_true(same);
}

/* ---- JSON 6902 -------------------------------------------------------------- */

#define CM                                                                                         \
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, annotations: {a/b: x, c~d: y}}\n"   \
	"data: {a: '1', m: {x: '1', n: null}}\nlist: [1, 2, 3]\nobjs: [{k: v}, {k: w}]\n"

struct json_case {
	const char *name;
	const char *ops;
	const char *want_data; /* the expected `data`... */
	const char *want_list; /* ... and `list`, when not NULL */
	const char *error;     /* a substring of the expected error */
};

static void run_json_table(const char *obj_text, const struct json_case *cases, size_t n)
{
	struct report rep = {.rows = n};
	for (size_t i = 0; i < n; i++) {
		const struct json_case *c = &cases[i];
		struct sl_error err = {0};
		struct sl_node *obj = parse_doc(obj_text, &err);
		struct sl_node *ops = obj ? parse_doc(c->ops, &err) : NULL;
		struct sl_node *before = obj ? sl_node_copy(obj) : NULL;
		if (!ops) {
			report_add(&rep, c->name, "bad test YAML: %s", err.msg);
			goto next;
		}
		struct sl_node *addr = obj;
		int r = ks_json6902_apply(&obj, ops, &err);
		if (obj != addr)
			report_add(&rep, c->name, "object moved");
		if (c->error) {
			if (r >= 0)
				report_add(&rep, c->name, "succeeded, want an error");
			else if (!strstr(err.msg, c->error))
				report_add(&rep, c->name, "error \"%s\" lacks \"%s\"", err.msg,
				           c->error);
			else if (!sl_node_equal(obj, before))
				report_add(&rep, c->name, "failed but changed the object");
			goto next;
		}
		if (r < 0) {
			report_add(&rep, c->name, "failed: %s", err.msg);
			goto next;
		}
		struct sl_node *want = parse_doc(c->want_data, &err);
		if (!want || !sl_node_equal(sl_node_map_get(obj, "data"), want))
			report_add(&rep, c->name, "data differs");
		sl_node_free(want);
		if (c->want_list) {
			want = parse_doc(c->want_list, &err);
			const char *field = strstr(c->ops, "/objs") ? "objs" : "list";
			if (!want || !sl_node_equal(sl_node_map_get(obj, field), want))
				report_add(&rep, c->name, "%s differs", field);
			sl_node_free(want);
		}
	next:
		sl_node_free(obj);
		sl_node_free(ops);
		sl_node_free(before);
	}
	report_check(&rep);
}

#define DATA0 "{a: '1', m: {x: '1', n: null}}"

static void json6902_applies_every_op(void **state)
{
	(void)state;
	static const struct json_case cases[] = {
	    {"add a field", "[{op: add, path: /data/b, value: '2'}]",
	     "{a: '1', b: '2', m: {x: '1', n: null}}", NULL},
	    {"add replaces a field", "[{op: add, path: /data/a, value: z}]",
	     "{a: z, m: {x: '1', n: null}}", NULL},
	    {"add without value adds null", "[{op: add, path: /data/nv}]",
	     "{a: '1', nv: null, m: {x: '1', n: null}}", NULL},
	    {"add at an index", "[{op: add, path: /list/1, value: 9}]", DATA0, "[1, 9, 2, 3]"},
	    {"add at the end index", "[{op: add, path: /list/3, value: 9}]", DATA0, "[1, 2, 3, 9]"},
	    {"add with -", "[{op: add, path: /list/-, value: 9}]", DATA0, "[1, 2, 3, 9]"},
	    {"add at a negative index counts from the end", "[{op: add, path: /list/-1, value: 9}]",
	     DATA0, "[1, 2, 3, 9]"},
	    {"add through a list element", "[{op: add, path: /objs/1/k2, value: z}]", DATA0,
	     "[{k: v}, {k: w, k2: z}]"},
	    {"remove a field", "[{op: remove, path: /data/a}]", "{m: {x: '1', n: null}}", NULL},
	    {"remove an element", "[{op: remove, path: /list/0}]", DATA0, "[2, 3]"},
	    {"remove at a negative index", "[{op: remove, path: /list/-1}]", DATA0, "[1, 2]"},
	    {"replace a field", "[{op: replace, path: /data/a, value: {deep: [1]}}]",
	     "{a: {deep: [1]}, m: {x: '1', n: null}}", NULL},
	    {"quirk: replace of a missing field of a map adds it",
	     "[{op: replace, path: /data/new, value: 1}]", "{a: '1', new: 1, m: {x: '1', n: null}}",
	     NULL},
	    {"replace an element", "[{op: replace, path: /list/2, value: 7}]", DATA0, "[1, 2, 7]"},
	    {"replace at a negative index", "[{op: replace, path: /list/-1, value: 7}]", DATA0,
	     "[1, 2, 7]"},
	    {"copy from a negative index", "[{op: copy, from: /list/-1, path: /list/0}]", DATA0,
	     "[3, 1, 2, 3]"},
	    {"move a field", "[{op: move, from: /data/a, path: /data/b}]",
	     "{b: '1', m: {x: '1', n: null}}", NULL},
	    {"move an element to the end", "[{op: move, from: /list/0, path: /list/-}]", DATA0,
	     "[2, 3, 1]"},
	    {"copy an element", "[{op: copy, from: /objs/0, path: /objs/-}]", DATA0,
	     "[{k: v}, {k: w}, {k: v}]"},
	    {"copy into a map", "[{op: copy, from: /list, path: /data/l}]",
	     "{a: '1', l: [1, 2, 3], m: {x: '1', n: null}}", NULL},
	    {"quirk: copy of a missing field copies null",
	     "[{op: copy, from: /data/zz, path: /data/c}]",
	     "{a: '1', c: null, m: {x: '1', n: null}}", NULL},
	    {"test passes, later ops run",
	     "[{op: test, path: /data/m, value: {x: '1', n: null}}, {op: add, path: /data/t, "
	     "value: "
	     "1}]",
	     "{a: '1', t: 1, m: {x: '1', n: null}}", NULL},
	    {"test of null and of a missing field against null",
	     "[{op: test, path: /data/m/n, value: null}, {op: test, path: /data/zz, value: null}, "
	     "{op: "
	     "add, path: /data/t, value: 1}]",
	     "{a: '1', t: 1, m: {x: '1', n: null}}", NULL},
	    {"numbers compare by value",
	     "[{op: test, path: /list, value: [1, 2.0, 3]}, {op: add, "
	     "path: /data/t, value: 1}]",
	     "{a: '1', t: 1, m: {x: '1', n: null}}", NULL},
	    {"quirk: a path without leading slash names a root field",
	     "[{op: add, path: x/data, value: 1}]", "1", NULL},
	};
	run_json_table(CM, cases, SL_ARRAY_SIZE(cases));
}

static void json6902_decodes_pointer_escapes(void **state)
{
	(void)state;
	struct sl_error err = {0};
	struct sl_node *obj = parse_doc(CM, &err);
	struct sl_node *ops = parse_doc("[{op: add, path: /metadata/annotations/a~1b, value: X}, "
	                                "{op: remove, path: /metadata/annotations/c~0d}, {op: add, "
	                                "path: /data/~01, value: t}]",
	                                &err);
	int r = ks_json6902_apply(&obj, ops, &err);
	struct sl_node *want_ann = parse_doc("{a/b: X}", &err);
	bool ann_ok = sl_node_equal(sl_node_dig(obj, "metadata", "annotations", NULL), want_ann);
	const char *tilde = sl_node_dig_str(obj, "data", "~1", NULL);
	bool tilde_ok = tilde && strcmp(tilde, "t") == 0;
	sl_node_free(obj);
	sl_node_free(ops);
	sl_node_free(want_ann);
	assert_int_equal(r, 0);
	assert_true(ann_ok);
	assert_true(tilde_ok);
}

static void json6902_fails_like_kustomize(void **state)
{
	(void)state;
	static const struct json_case cases[] = {
	    {"test fails",
	     "[{op: test, path: /data/a, value: 1}, {op: add, path: /data/t, value: 1}]", NULL,
	     NULL, "testing value /data/a failed: test failed"},
	    {"test of a missing field", "[{op: test, path: /data/zz, value: 1}]", NULL, NULL,
	     "testing value /data/zz failed: test failed"},
	    {"test of maps compares every key", "[{op: test, path: /data/m, value: {x: '1'}}]",
	     NULL, NULL, "testing value /data/m failed"},
	    {"replace under a missing path", "[{op: replace, path: /data/nope/x, value: 1}]", NULL,
	     NULL,
	     "replace operation does not apply: doc is missing path: /data/nope/x: missing value"},
	    {"replace past the end", "[{op: replace, path: /list/3, value: 7}]", NULL, NULL,
	     "replace operation does not apply: doc is missing key: /list/3: missing value"},
	    {"add under a missing path", "[{op: add, path: /nope/x, value: 1}]", NULL, NULL,
	     "add operation does not apply: doc is missing path: \"/nope/x\": missing value"},
	    {"add through a scalar", "[{op: add, path: /data/a/x, value: 1}]", NULL, NULL,
	     "doc is missing path: \"/data/a/x\""},
	    {"add through a null", "[{op: add, path: /data/m/n/x, value: 1}]", NULL, NULL,
	     "doc is missing path: \"/data/m/n/x\""},
	    {"add past the end", "[{op: add, path: /list/4, value: 9}]", NULL, NULL,
	     "error in add for path: '/list/4': Unable to access invalid index: 4: invalid index "
	     "referenced"},
	    {"add at a bad index", "[{op: add, path: /list/x, value: 9}]", NULL, NULL,
	     "error in add for path: '/list/x': value was not a proper array index: 'x': "
	     "strconv.Atoi: parsing \"x\": invalid syntax"},
	    {"the root is not a target", "[{op: add, path: '', value: {}}]", NULL, NULL,
	     "add operation does not apply: doc is missing path: \"\": missing value"},
	    {"remove a missing field", "[{op: remove, path: /data/zz}]", NULL, NULL,
	     "error in remove for path: '/data/zz': Unable to remove nonexistent key: zz: missing "
	     "value"},
	    {"remove past the end", "[{op: remove, path: /list/3}]", NULL, NULL,
	     "error in remove for path: '/list/3': Unable to access invalid index: 3"},
	    {"move from a missing field", "[{op: move, from: /data/zz, path: /data/b}]", NULL, NULL,
	     "error in move for path: 'zz': Unable to remove nonexistent key: zz: missing value"},
	    {"copy from past the end", "[{op: copy, from: /list/9, path: /data/c}]", NULL, NULL,
	     "error in copy for from: '/list/9': Unable to access invalid index: 9"},
	    {"an unknown op", "[{op: frob, path: /data/a}]", NULL, NULL, "Unexpected kind: frob"},
	    {"no op", "[{path: /data/a}]", NULL, NULL, "Unexpected kind: unknown"},
	    {"no path", "[{op: add, value: 1}]", NULL, NULL,
	     "add operation failed to decode path: missing value"},
	    {"ops must be a list", "{op: add, path: /a, value: 1}", NULL, NULL, "cannot unmarshal"},
	};
	run_json_table(CM, cases, SL_ARRAY_SIZE(cases));
}

/* ---- selectors ---------------------------------------------------------------- */

struct label_case {
	const char *selector;
	const char *labels; /* a YAML map, or NULL for none */
	bool match;
};

static void label_selectors_match_like_kubernetes(void **state)
{
	(void)state;
	static const struct label_case cases[] = {
	    {"", NULL, true},
	    {"", "{a: b}", true},
	    {"tier=backend", "{tier: backend}", true},
	    {"tier==backend", "{tier: backend}", true},
	    {"tier=backend", "{tier: frontend}", false},
	    {"tier=backend", NULL, false},
	    {"tier!=prod", "{tier: dev}", true},
	    {"tier!=prod", "{}", true},
	    {"tier!=prod", "{tier: prod}", false},
	    {"tier in (a, b)", "{tier: b}", true},
	    {"tier in (a, b)", "{tier: c}", false},
	    {"tier in (a,b),env", "{tier: a, env: x}", true},
	    {"tier in (a,b),env", "{tier: a}", false},
	    {"tier notin (a)", "{tier: b}", true},
	    {"tier notin (a)", "{}", true},
	    {"tier notin (a)", "{tier: a}", false},
	    {"env", "{env: ''}", true},
	    {"!env", "{env: x}", false},
	    {"!env", "{other: x}", true},
	    {"tier=", "{tier: ''}", true},
	    {"tier in ()", "{tier: ''}", true},
	    {"env in (,dev)", "{env: dev}", true},
	    {"n>6", "{n: '12'}", true},
	    {"n>6", "{n: '5'}", false},
	    {"n<6", "{n: '5'}", true},
	    {"n<6", "{n: x}", false},
	    {"n=5", "{n: 5}", true}, /* non-string label values compare as text */
	    {"in=x", "{in: x}", true},
	    {"example.com/patch-me=yes", "{example.com/patch-me: 'yes'}", true},
	    {" a = b , c ", "{a: b, c: d}", true},
	};
	struct report rep = {.rows = SL_ARRAY_SIZE(cases)};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		const struct label_case *c = &cases[i];
		struct sl_error err = {0};
		struct ks_label_selector *s = NULL;
		struct sl_node *labels = c->labels ? parse_doc(c->labels, &err) : NULL;
		if (ks_label_selector_parse(c->selector, &s, &err) < 0) {
			report_add(&rep, c->selector, "parse failed: %s", err.msg);
		} else if (ks_label_selector_match(s, labels) != c->match) {
			report_add(&rep, c->selector, "labels %s: want %s",
			           c->labels ? c->labels : "none", c->match ? "match" : "no match");
		}
		ks_label_selector_free(s);
		sl_node_free(labels);
	}
	report_check(&rep);
}

static void label_selectors_reject_bad_syntax(void **state)
{
	(void)state;
	static const struct {
		const char *selector, *error;
	} cases[] = {
	    {"a b", "found 'b', expected: '=', '!=', '==', 'in', notin'"},
	    {"x=(a", "found '(', expected: identifier"},
	    {",a", "found ',', expected: !, identifier, or 'end of string'"},
	    {"a,", "found '', expected: identifier after ','"},
	    {"!a=b", "found '=', expected: ',' or 'end of string'"},
	    {"a in b", "found 'b' expected: '('"},
	    {"a in (b", "found '', expected: ',' or ')'"},
	    {"n>x", "for 'Gt', 'Lt' operators, the value must be an integer"},
	    {"Bad_Key-=1", "invalid label key \"Bad_Key-\""},
	    {"k=a b", "found 'b', expected: ',' or 'end of string'"},
	    {"k=-x", "invalid label value: \"-x\": at key: \"k\""},
	    {"UPPER.example.com/k=v", "invalid label key"},
	};
	struct report rep = {.rows = SL_ARRAY_SIZE(cases)};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct sl_error err = {0};
		struct ks_label_selector *s = NULL;
		if (ks_label_selector_parse(cases[i].selector, &s, &err) == 0)
			report_add(&rep, cases[i].selector, "parsed");
		else if (!strstr(err.msg, cases[i].error) || !strstr(err.msg, cases[i].selector))
			report_add(&rep, cases[i].selector, "error \"%s\" lacks \"%s\"", err.msg,
			           cases[i].error);
		ks_label_selector_free(s);
	}
	report_check(&rep);
}

#define OBJ_API_V1                                                                                 \
	"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api-v1, namespace: team-a, "      \
	"labels: "                                                                                 \
	"{tier: backend, env: dev}}\n"
#define OBJ_API_V2                                                                                 \
	"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api-v2, labels: {tier: "          \
	"backend}, "                                                                               \
	"annotations: {example.com/patch-me: 'yes'}}\n"
#define OBJ_LEGACY  "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: legacy-api}\n"
#define OBJ_CORE_CM "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: team-b}\n"
#define OBJ_CR_CM   "apiVersion: example.com/v1\nkind: ConfigMap\nmetadata: {name: cfg2}\n"
#define OBJ_CLUSTER                                                                                \
	"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cr, "       \
	"namespace: ignored}\n"

struct target_case {
	const char *target;
	const char *obj;
	const char *orig_name, *orig_namespace;
	bool match;
};

static void targets_select_like_resmap_select(void **state)
{
	(void)state;
	static const struct target_case cases[] = {
	    {"{}", OBJ_API_V1, NULL, NULL, true},
	    {"{kind: Deployment}", OBJ_API_V1, NULL, NULL, true},
	    {"{kind: Deployment}", OBJ_LEGACY, NULL, NULL, false},
	    {"{kind: (StatefulSet|ConfigMap)}", OBJ_LEGACY, NULL, NULL, true},
	    {"{kind: config.*}", OBJ_CORE_CM, NULL, NULL, false}, /* case-sensitive */
	    {"{name: api-.*}", OBJ_API_V2, NULL, NULL, true},
	    {"{name: api-.*}", OBJ_LEGACY, NULL, NULL, false}, /* anchored */
	    {"{name: api}", OBJ_API_V1, NULL, NULL, false},
	    {"{name: '(?:api)-v\\d'}", OBJ_API_V1, NULL, NULL, true},
	    {"{name: 'api-v[12]'}", OBJ_API_V2, NULL, NULL, true},
	    {"{name: old}", OBJ_API_V1, "old", NULL, true},    /* original name */
	    {"{name: api-v1}", OBJ_API_V1, "old", NULL, true}, /* current name */
	    {"{group: apps, version: v1}", OBJ_LEGACY, NULL, NULL, true},
	    {"{group: ''}", OBJ_CR_CM, NULL, NULL, true}, /* empty matches any group */
	    {"{version: v1, kind: ConfigMap}", OBJ_CR_CM, NULL, NULL, true},
	    {"{group: ex.*}", OBJ_CR_CM, NULL, NULL, true},
	    {"{group: ex}", OBJ_CR_CM, NULL, NULL, false},
	    {"{group: apps}", OBJ_CORE_CM, NULL, NULL, false},
	    {"{namespace: team-(a|b)}", OBJ_CORE_CM, NULL, NULL, true},
	    {"{namespace: default}", OBJ_API_V2, NULL, NULL, true}, /* none is default */
	    {"{namespace: team-a}", OBJ_API_V2, NULL, NULL, false},
	    {"{namespace: orig}", OBJ_CORE_CM, NULL, "orig", true},   /* original namespace */
	    {"{namespace: default}", OBJ_CORE_CM, NULL, "", true},    /* had none */
	    {"{namespace: ignored}", OBJ_CLUSTER, NULL, NULL, false}, /* cluster-scoped */
	    {"{namespace: _non_namespaceable_}", OBJ_CLUSTER, NULL, NULL, true},
	    {"{namespace: .*}", OBJ_CLUSTER, NULL, NULL, true},
	    {"{labelSelector: 'tier in (backend),env!=prod'}", OBJ_API_V1, NULL, NULL, true},
	    {"{labelSelector: 'tier in (backend),env!=dev'}", OBJ_API_V1, NULL, NULL, false},
	    {"{annotationSelector: example.com/patch-me=yes}", OBJ_API_V2, NULL, NULL, true},
	    {"{annotationSelector: example.com/patch-me=yes}", OBJ_API_V1, NULL, NULL, false},
	    {"{kind: Deployment, name: api-v.*, labelSelector: tier=backend}", OBJ_API_V2, NULL,
	     NULL, true},
	};
	struct report rep = {.rows = SL_ARRAY_SIZE(cases)};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		const struct target_case *c = &cases[i];
		struct sl_error err = {0};
		struct sl_node *tmap = parse_doc(c->target, &err);
		struct sl_node *obj = parse_doc(c->obj, &err);
		struct ks_target *t = NULL;
		if (!tmap || !obj)
			report_add(&rep, c->target, "bad test YAML: %s", err.msg);
		else if (ks_target_parse(tmap, &t, &err) < 0)
			report_add(&rep, c->target, "parse failed: %s", err.msg);
		else if (ks_target_match(t, obj, c->orig_name, c->orig_namespace) != c->match)
			report_add(&rep, c->target, "on %s: want %s",
			           sl_node_dig_str(obj, "metadata", "name", NULL),
			           c->match ? "match" : "no match");
		ks_target_free(t);
		sl_node_free(tmap);
		sl_node_free(obj);
	}
	report_check(&rep);
}

static void targets_reject_bad_fields(void **state)
{
	(void)state;
	static const struct {
		const char *target, *error;
	} cases[] = {
	    {"{name: 'a('}", "target name: invalid regular expression \"a(\""},
	    {"{version: 1}", "target version: expected a string"},
	    {"{labelSelector: 'a b'}", "target labelSelector"},
	    {"{annotationSelector: 'x=(a'}", "target annotationSelector"},
	    {"[kind]", "a patch target must be a map"},
	};
	struct report rep = {.rows = SL_ARRAY_SIZE(cases)};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct sl_error err = {0};
		struct sl_node *tmap = parse_doc(cases[i].target, &err);
		struct ks_target *t = NULL;
		if (!tmap)
			report_add(&rep, cases[i].target, "bad test YAML: %s", err.msg);
		else if (ks_target_parse(tmap, &t, &err) == 0)
			report_add(&rep, cases[i].target, "parsed");
		else if (!strstr(err.msg, cases[i].error))
			report_add(&rep, cases[i].target, "error \"%s\" lacks \"%s\"", err.msg,
			           cases[i].error);
		ks_target_free(t);
		sl_node_free(tmap);
	}
	report_check(&rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(smp_merges_lists_by_their_merge_keys),
	    cmocka_unit_test(smp_orders_patch_elements_first_then_untouched_originals),
	    cmocka_unit_test(smp_drops_elements_giving_part_of_a_multi_field_key),
	    cmocka_unit_test(smp_replaces_lists_without_merge_strategy),
	    cmocka_unit_test(smp_merges_maps_and_replaces_lists_of_custom_resources),
	    cmocka_unit_test(smp_null_deletes),
	    cmocka_unit_test(smp_understands_patch_directives),
	    cmocka_unit_test(smp_keeps_the_object_identity_unless_allowed),
	    cmocka_unit_test(smp_patch_scalar_over_a_quoted_string_becomes_a_string),
	    cmocka_unit_test(smp_rejects_mismatched_kinds_naming_the_field),
	    cmocka_unit_test(smp_drops_valueless_fields_of_the_object_and_keeps_written_nulls),
	    cmocka_unit_test(smp_leaves_the_patch_untouched),
	    cmocka_unit_test(json6902_applies_every_op),
	    cmocka_unit_test(json6902_decodes_pointer_escapes),
	    cmocka_unit_test(json6902_fails_like_kustomize),
	    cmocka_unit_test(label_selectors_match_like_kubernetes),
	    cmocka_unit_test(label_selectors_reject_bad_syntax),
	    cmocka_unit_test(targets_select_like_resmap_select),
	    cmocka_unit_test(targets_reject_bad_fields),
	};
	return cmocka_run_group_tests_name("smp", tests, NULL, NULL);
}
