/* The merge strategies of the built-in Kubernetes types, as the v1.21.2
 * OpenAPI schema kustomize v5.5.0 embeds declares them. Only the paths that
 * lead to a merging list are listed: every other field of a known type is
 * ks_schema_plain (lists replaced, maps merged). Definitions go from the
 * leaves up; a type shared by several kinds is written once. */
#include <string.h>

#include "kustomize/smp_internal.h"

#define END                                                                                        \
	{                                                                                          \
		NULL, NULL                                                                         \
	}

const struct ks_schema ks_schema_plain = {0};

/* ---- lists ---------------------------------------------------------- */

/* x-kubernetes-patch-strategy: merge without a key: a set of scalars */
static const struct ks_schema set_list = {.merge = true};
static const struct ks_schema by_name = {.merge = true, .keys = {"name"}};
static const struct ks_schema by_type = {.merge = true, .keys = {"type"}};
static const struct ks_schema by_ip = {.merge = true, .keys = {"ip"}};
static const struct ks_schema by_uid = {.merge = true, .keys = {"uid"}};
static const struct ks_schema by_mount_path = {.merge = true, .keys = {"mountPath"}};
static const struct ks_schema by_device_path = {.merge = true, .keys = {"devicePath"}};
/* x-kubernetes-list-map-keys take over from the single patch merge key */
static const struct ks_schema container_ports = {.merge = true,
                                                 .keys = {"containerPort", "protocol"}};
static const struct ks_schema service_ports = {.merge = true, .keys = {"port", "protocol"}};
static const struct ks_schema topology_spread = {.merge = true,
                                                 .keys = {"topologyKey", "whenUnsatisfiable"}};

/* ---- metadata and status -------------------------------------------- */

static const struct ks_schema_field object_meta_fields[] = {
    {"finalizers", &set_list},
    {"ownerReferences", &by_uid},
    END,
};
static const struct ks_schema object_meta = {.fields = object_meta_fields};

/* Most kinds: only metadata holds merging lists. */
static const struct ks_schema_field meta_only_fields[] = {{"metadata", &object_meta}, END};
static const struct ks_schema meta_only = {.fields = meta_only_fields};

static const struct ks_schema_field conditions_fields[] = {{"conditions", &by_type}, END};
static const struct ks_schema conditions_status = {.fields = conditions_fields};

/* Namespace, PersistentVolumeClaim, PodDisruptionBudget, APIService */
static const struct ks_schema_field meta_status_fields[] = {
    {"metadata", &object_meta},
    {"status", &conditions_status},
    END,
};
static const struct ks_schema meta_status = {.fields = meta_status_fields};

static const struct ks_schema_field component_status_fields[] = {
    {"conditions", &by_type},
    {"metadata", &object_meta},
    END,
};
static const struct ks_schema component_status = {.fields = component_status_fields};

/* ---- pods ------------------------------------------------------------- */

static const struct ks_schema_field container_fields[] = {
    {"env", &by_name},
    {"ports", &container_ports},
    {"volumeDevices", &by_device_path},
    {"volumeMounts", &by_mount_path},
    END,
};
static const struct ks_schema container = {.fields = container_fields};
static const struct ks_schema containers = {.merge = true, .keys = {"name"}, .items = &container};

/* An ephemeral container's ports have no patch strategy in v1.21. */
static const struct ks_schema_field ephemeral_container_fields[] = {
    {"env", &by_name},
    {"volumeDevices", &by_device_path},
    {"volumeMounts", &by_mount_path},
    END,
};
static const struct ks_schema ephemeral_container = {.fields = ephemeral_container_fields};
static const struct ks_schema ephemeral_containers = {
    .merge = true, .keys = {"name"}, .items = &ephemeral_container};

static const struct ks_schema_field pvc_template_fields[] = {{"metadata", &object_meta}, END};
static const struct ks_schema pvc_template = {.fields = pvc_template_fields};
static const struct ks_schema_field ephemeral_volume_fields[] = {
    {"volumeClaimTemplate", &pvc_template},
    END,
};
static const struct ks_schema ephemeral_volume = {.fields = ephemeral_volume_fields};
static const struct ks_schema_field volume_fields[] = {{"ephemeral", &ephemeral_volume}, END};
static const struct ks_schema volume = {.fields = volume_fields};
/* patch strategy "merge,retainKeys": merged (retainKeys is not applied) */
static const struct ks_schema volumes = {.merge = true, .keys = {"name"}, .items = &volume};

static const struct ks_schema_field pod_spec_fields[] = {
    {"containers", &containers},     {"ephemeralContainers", &ephemeral_containers},
    {"hostAliases", &by_ip},         {"imagePullSecrets", &by_name},
    {"initContainers", &containers}, {"topologySpreadConstraints", &topology_spread},
    {"volumes", &volumes},           END,
};
static const struct ks_schema pod_spec = {.fields = pod_spec_fields};

static const struct ks_schema_field pod_status_fields[] = {
    {"conditions", &by_type},
    {"podIPs", &by_ip},
    END,
};
static const struct ks_schema pod_status = {.fields = pod_status_fields};

static const struct ks_schema_field pod_fields[] = {
    {"metadata", &object_meta},
    {"spec", &pod_spec},
    {"status", &pod_status},
    END,
};
static const struct ks_schema pod = {.fields = pod_fields};

static const struct ks_schema_field pod_template_spec_fields[] = {
    {"metadata", &object_meta},
    {"spec", &pod_spec},
    END,
};
static const struct ks_schema pod_template_spec = {.fields = pod_template_spec_fields};

static const struct ks_schema_field pod_template_fields[] = {
    {"metadata", &object_meta},
    {"template", &pod_template_spec},
    END,
};
static const struct ks_schema pod_template = {.fields = pod_template_fields};

/* ---- workloads ---------------------------------------------------------- */

/* The spec of Deployment, DaemonSet, ReplicaSet, StatefulSet,
 * ReplicationController and Job: the pod template is what merges. */
static const struct ks_schema_field templated_spec_fields[] = {
    {"template", &pod_template_spec},
    END,
};
static const struct ks_schema templated_spec = {.fields = templated_spec_fields};

static const struct ks_schema_field workload_fields[] = {
    {"metadata", &object_meta},
    {"spec", &templated_spec},
    {"status", &conditions_status},
    END,
};
static const struct ks_schema workload = {.fields = workload_fields};

static const struct ks_schema_field job_template_fields[] = {
    {"metadata", &object_meta},
    {"spec", &templated_spec},
    END,
};
static const struct ks_schema job_template = {.fields = job_template_fields};
static const struct ks_schema_field cron_job_spec_fields[] = {{"jobTemplate", &job_template}, END};
static const struct ks_schema cron_job_spec = {.fields = cron_job_spec_fields};
static const struct ks_schema_field cron_job_fields[] = {
    {"metadata", &object_meta},
    {"spec", &cron_job_spec},
    END,
};
static const struct ks_schema cron_job = {.fields = cron_job_fields};

/* ---- services, accounts, webhooks, nodes ------------------------------ */

static const struct ks_schema_field service_spec_fields[] = {{"ports", &service_ports}, END};
static const struct ks_schema service_spec = {.fields = service_spec_fields};
static const struct ks_schema_field service_fields[] = {
    {"metadata", &object_meta},
    {"spec", &service_spec},
    {"status", &conditions_status},
    END,
};
static const struct ks_schema service = {.fields = service_fields};

static const struct ks_schema_field service_account_fields[] = {
    {"metadata", &object_meta},
    {"secrets", &by_name},
    END,
};
static const struct ks_schema service_account = {.fields = service_account_fields};

static const struct ks_schema_field webhook_configuration_fields[] = {
    {"metadata", &object_meta},
    {"webhooks", &by_name},
    END,
};
static const struct ks_schema webhook_configuration = {.fields = webhook_configuration_fields};

static const struct ks_schema_field node_spec_fields[] = {{"podCIDRs", &set_list}, END};
static const struct ks_schema node_spec = {.fields = node_spec_fields};
static const struct ks_schema_field node_status_fields[] = {
    {"addresses", &by_type},
    {"conditions", &by_type},
    END,
};
static const struct ks_schema node_status = {.fields = node_status_fields};
static const struct ks_schema_field node_fields[] = {
    {"metadata", &object_meta},
    {"spec", &node_spec},
    {"status", &node_status},
    END,
};
static const struct ks_schema node = {.fields = node_fields};

static const struct ks_schema_field csi_node_spec_fields[] = {{"drivers", &by_name}, END};
static const struct ks_schema csi_node_spec = {.fields = csi_node_spec_fields};
static const struct ks_schema_field csi_node_fields[] = {
    {"metadata", &object_meta},
    {"spec", &csi_node_spec},
    END,
};
static const struct ks_schema csi_node = {.fields = csi_node_fields};

/* ---- the types ------------------------------------------------------------ */

static const struct {
	const char *api_version;
	const char *kind;
	const struct ks_schema *schema;
} types[] = {
    {"admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", &webhook_configuration},
    {"admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", &webhook_configuration},
    {"admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration",
     &webhook_configuration},
    {"admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration",
     &webhook_configuration},
    {"apiextensions.k8s.io/v1", "CustomResourceDefinition", &meta_only},
    {"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", &meta_only},
    {"apiregistration.k8s.io/v1", "APIService", &meta_status},
    {"apiregistration.k8s.io/v1beta1", "APIService", &meta_status},
    {"apps/v1", "ControllerRevision", &meta_only},
    {"apps/v1", "DaemonSet", &workload},
    {"apps/v1", "Deployment", &workload},
    {"apps/v1", "ReplicaSet", &workload},
    {"apps/v1", "StatefulSet", &workload},
    {"authentication.k8s.io/v1", "TokenRequest", &meta_only},
    {"authentication.k8s.io/v1", "TokenReview", &meta_only},
    {"authentication.k8s.io/v1beta1", "TokenReview", &meta_only},
    {"authorization.k8s.io/v1", "LocalSubjectAccessReview", &meta_only},
    {"authorization.k8s.io/v1", "SelfSubjectAccessReview", &meta_only},
    {"authorization.k8s.io/v1", "SelfSubjectRulesReview", &meta_only},
    {"authorization.k8s.io/v1", "SubjectAccessReview", &meta_only},
    {"authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", &meta_only},
    {"authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", &meta_only},
    {"authorization.k8s.io/v1beta1", "SelfSubjectRulesReview", &meta_only},
    {"authorization.k8s.io/v1beta1", "SubjectAccessReview", &meta_only},
    {"autoscaling/v1", "HorizontalPodAutoscaler", &meta_only},
    {"autoscaling/v1", "Scale", &meta_only},
    {"autoscaling/v2beta1", "HorizontalPodAutoscaler", &meta_only},
    {"autoscaling/v2beta2", "HorizontalPodAutoscaler", &meta_only},
    {"batch/v1", "CronJob", &cron_job},
    {"batch/v1", "Job", &workload},
    {"batch/v1beta1", "CronJob", &cron_job},
    {"certificates.k8s.io/v1", "CertificateSigningRequest", &meta_only},
    {"certificates.k8s.io/v1beta1", "CertificateSigningRequest", &meta_only},
    {"coordination.k8s.io/v1", "Lease", &meta_only},
    {"coordination.k8s.io/v1beta1", "Lease", &meta_only},
    {"discovery.k8s.io/v1", "EndpointSlice", &meta_only},
    {"discovery.k8s.io/v1beta1", "EndpointSlice", &meta_only},
    {"events.k8s.io/v1", "Event", &meta_only},
    {"events.k8s.io/v1beta1", "Event", &meta_only},
    {"extensions/v1beta1", "Ingress", &meta_only},
    {"flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", &meta_only},
    {"flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", &meta_only},
    {"networking.k8s.io/v1", "Ingress", &meta_only},
    {"networking.k8s.io/v1", "IngressClass", &meta_only},
    {"networking.k8s.io/v1", "NetworkPolicy", &meta_only},
    {"networking.k8s.io/v1beta1", "Ingress", &meta_only},
    {"networking.k8s.io/v1beta1", "IngressClass", &meta_only},
    {"node.k8s.io/v1", "RuntimeClass", &meta_only},
    {"node.k8s.io/v1beta1", "RuntimeClass", &meta_only},
    {"policy/v1", "PodDisruptionBudget", &meta_status},
    {"policy/v1beta1", "Eviction", &meta_only},
    {"policy/v1beta1", "PodDisruptionBudget", &meta_status},
    {"policy/v1beta1", "PodSecurityPolicy", &meta_only},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", &meta_only},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &meta_only},
    {"rbac.authorization.k8s.io/v1", "Role", &meta_only},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", &meta_only},
    {"rbac.authorization.k8s.io/v1beta1", "ClusterRole", &meta_only},
    {"rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", &meta_only},
    {"rbac.authorization.k8s.io/v1beta1", "Role", &meta_only},
    {"rbac.authorization.k8s.io/v1beta1", "RoleBinding", &meta_only},
    {"scheduling.k8s.io/v1", "PriorityClass", &meta_only},
    {"scheduling.k8s.io/v1beta1", "PriorityClass", &meta_only},
    {"storage.k8s.io/v1", "CSIDriver", &meta_only},
    {"storage.k8s.io/v1", "CSINode", &csi_node},
    {"storage.k8s.io/v1", "StorageClass", &meta_only},
    {"storage.k8s.io/v1", "VolumeAttachment", &meta_only},
    {"storage.k8s.io/v1beta1", "CSIDriver", &meta_only},
    {"storage.k8s.io/v1beta1", "CSINode", &csi_node},
    {"storage.k8s.io/v1beta1", "CSIStorageCapacity", &meta_only},
    {"storage.k8s.io/v1beta1", "StorageClass", &meta_only},
    {"storage.k8s.io/v1beta1", "VolumeAttachment", &meta_only},
    {"v1", "Binding", &meta_only},
    {"v1", "ComponentStatus", &component_status},
    {"v1", "ConfigMap", &meta_only},
    {"v1", "Endpoints", &meta_only},
    {"v1", "Event", &meta_only},
    {"v1", "LimitRange", &meta_only},
    {"v1", "Namespace", &meta_status},
    {"v1", "Node", &node},
    {"v1", "PersistentVolume", &meta_only},
    {"v1", "PersistentVolumeClaim", &meta_status},
    {"v1", "Pod", &pod},
    {"v1", "PodTemplate", &pod_template},
    {"v1", "ReplicationController", &workload},
    {"v1", "ResourceQuota", &meta_only},
    {"v1", "Secret", &meta_only},
    {"v1", "Service", &service},
    {"v1", "ServiceAccount", &service_account},
};

const struct ks_schema *ks_schema_for_type(const char *api_version, const char *kind)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].kind, kind) == 0 &&
		    strcmp(types[i].api_version, api_version) == 0)
			return types[i].schema;
	return NULL;
}

const struct ks_schema *ks_schema_field(const struct ks_schema *s, const char *name)
{
	if (s->fields)
		for (const struct ks_schema_field *f = s->fields; f->name; f++)
			if (strcmp(f->name, name) == 0)
				return f->schema;
	return &ks_schema_plain;
}

const struct ks_schema *ks_schema_items(const struct ks_schema *s)
{
	return s->items ? s->items : &ks_schema_plain;
}
