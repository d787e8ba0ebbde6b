#include <locale.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"

const struct command cli_commands[] = {
    {"push", "artifact",
     "Push Kubernetes manifests as an OCI artifact (Flux's format) to a registry.",
     "sluice push artifact oci://<registry>/<repository>:<tag> --path=<dir|file|-> "
     "--source=<url> --revision=<rev> [flags]",
     "  # Push the manifests in ./deploy, recording where they came from\n"
     "  sluice push artifact oci://127.0.0.1:5000/manifests/app:$(git rev-parse --short HEAD) \\\n"
     "    --path=./deploy \\\n"
     "    --source=\"$(git config --get remote.origin.url)\" \\\n"
     "    --revision=\"$(git branch --show-current)@sha1:$(git rev-parse HEAD)\"\n\n"
     "  # Same content, same digest on every run, digest printed as JSON\n"
     "  sluice push artifact oci://ghcr.io/org/app:v1 -f ./deploy --source=x --revision=y \\\n"
     "    --reproducible -o json\n\n"
     "  # A single manifest from stdin\n"
     "  kubectl create cm demo --dry-run=client -o yaml | sluice push artifact \\\n"
     "    oci://127.0.0.1:5000/demo:latest -f - --source=cli --revision=v1",
     cmd_push_artifact},
    {"pull", "artifact", "Pull an OCI artifact and extract its content into a directory.",
     "sluice pull artifact oci://<registry>/<repository>[:<tag>|@<digest>] --output=<dir> [flags]",
     "  # Pull by tag into ./out (created if missing)\n"
     "  sluice pull artifact oci://127.0.0.1:5000/manifests/app:v1 --output ./out\n\n"
     "  # Pull by digest with credentials\n"
     "  sluice pull artifact oci://ghcr.io/org/app@sha256:<hex> -o ./out --creds user:token",
     cmd_pull_artifact},
    {"build", "artifact", "Build a Flux artifact tarball locally, exactly as push would upload it.",
     "sluice build artifact --path=<dir|file|-> [--output=artifact.tgz] [flags]",
     "  # The same bytes push would upload (same digest with --reproducible)\n"
     "  sluice build artifact --path ./deploy --output ./artifact.tgz",
     cmd_build_artifact},
    {"build", "kustomization",
     "Build a kustomization as kubectl kustomize does, with a Flux Kustomization's overlays.",
     "sluice build kustomization [NAME] --path=<dir> [--kustomization-file=<ks.yaml>] [flags]",
     "  # Print what kubectl kustomize ./deploy/overlays/prod prints\n"
     "  sluice build kustomization --path ./deploy/overlays/prod\n\n"
     "  # Apply a Flux Kustomization's targetNamespace, patches, images and postBuild too\n"
     "  sluice build kustomization podinfo --path ./deploy --kustomization-file ./podinfo.yaml",
     cmd_build_kustomization},
    {"tag", "artifact", "Add tags to an artifact in a registry, without moving any blob.",
     "sluice tag artifact oci://<registry>/<repository>:<tag> --tag=<new-tag> [--tag=...] [flags]",
     "  # Promote v1.2.0 to latest and stable\n"
     "  sluice tag artifact oci://ghcr.io/org/app:v1.2.0 --tag latest --tag stable",
     cmd_tag_artifact},
    {"diff", "artifact", "Compare an artifact in a registry with a local directory, by content.",
     "sluice diff artifact oci://<registry>/<repository>:<tag> --path=<dir|file> [flags]",
     "  # Exit 0 when the files (names, modes, bytes) are the same, 1 otherwise\n"
     "  sluice diff artifact oci://ghcr.io/org/app:v1 --path ./deploy\n\n"
     "  # Show what changed in each file\n"
     "  sluice diff artifact oci://ghcr.io/org/app:v1 --path ./deploy --unified",
     cmd_diff_artifact},
    {"diff", "kustomization",
     "Show what a Kustomization would change in the cluster if it built a local directory.",
     "sluice diff kustomization <name> --path=<dir> [--kustomization-file=<file>] [flags]",
     "  # Server-side dry run of ./deploy with flux-system/podinfo's overlays: created,\n"
     "  # drifted (with a unified diff) and pruned objects; exit 1 when anything changes\n"
     "  sluice diff kustomization podinfo --path ./deploy\n\n"
     "  # With a Kustomization not yet in the cluster\n"
     "  sluice diff kustomization podinfo --path ./deploy --kustomization-file ./podinfo.yaml",
     cmd_diff_kustomization, "ks"},
    {"list", "artifacts",
     "List the artifacts in a repository with their digest, source and revision.",
     "sluice list artifacts oci://<registry>/<repository> [--filter-semver=<c>] "
     "[--filter-regex=<re>] [-o json|yaml] [flags]",
     "  # Every artifact in the repository, newest tag names first\n"
     "  sluice list artifacts oci://ghcr.io/org/app\n\n"
     "  # Only releases from 1.0 on, as JSON for scripts\n"
     "  sluice list artifacts oci://ghcr.io/org/app --filter-semver '>=1.0.0' -o json",
     cmd_list_artifacts},
    {"copy", "artifact", "Copy an artifact between repositories and registries, digest unchanged.",
     "sluice copy artifact oci://<src>[:<tag>|@<digest>] oci://<dst>[:<tag>] [flags]",
     "  # Promote to production's registry, signatures included\n"
     "  sluice copy artifact oci://ghcr.io/org/app:v1.2.0 oci://registry.prod:5000/app \\\n"
     "    --with-signatures --dest-creds \"$PROD_USER:$PROD_TOKEN\"",
     cmd_copy_artifact},
    {"generate-key-pair", NULL,
     "Generate a cosign key pair: cosign.key (encrypted) and cosign.pub.",
     "sluice generate-key-pair [--output-key-prefix=cosign] [--force]",
     "  # Password from the environment, for scripts; without it sluice prompts\n"
     "  COSIGN_PASSWORD=\"$PASS\" sluice generate-key-pair\n\n"
     "  # Keep the key for production apart\n"
     "  sluice generate-key-pair --output-key-prefix=prod",
     cmd_generate_key_pair},
    {"sign", "artifact",
     "Sign an artifact in a registry with a cosign key, as cosign sign --key does.",
     "sluice sign artifact oci://<registry>/<repository>[:<tag>|@<digest>] --key=<cosign.key> "
     "[flags]",
     "  # Sign what the tag points to now (the signature names its digest)\n"
     "  COSIGN_PASSWORD=\"$PASS\" sluice sign artifact oci://ghcr.io/org/app:v1 --key "
     "cosign.key\n\n"
     "  # With annotations in the signed payload\n"
     "  sluice sign artifact oci://ghcr.io/org/app@sha256:<hex> --key cosign.key -a env=prod",
     cmd_sign_artifact},
    {"verify", "artifact",
     "Verify an artifact's cosign signature (legacy or v3 bundle) with a public key.",
     "sluice verify artifact oci://<registry>/<repository>[:<tag>|@<digest>] "
     "--key=<cosign.pub> [-o json|yaml] [flags]",
     "  # Exit status 0 only when a signature by the key names the artifact's digest\n"
     "  sluice verify artifact oci://ghcr.io/org/app:v1 --key cosign.pub\n\n"
     "  # Any of two keys, with what was verified as JSON\n"
     "  sluice verify artifact oci://ghcr.io/org/app:v1 --key old.pub --key new.pub -o json",
     cmd_verify_artifact},
    {"create", "secret oci",
     "Create or update the image pull Secret an OCIRepository's secretRef names, or print it.",
     "sluice create secret oci <name> --url=<registry> --username=<user> --password=<pass> "
     "[--namespace=flux-system] [--export]",
     "  # Create it in the cluster\n"
     "  sluice create secret oci podinfo-auth --url=ghcr.io --username=username \\\n"
     "    --password=password\n\n"
     "  # Write it to a file and encrypt it with SOPS\n"
     "  sluice create secret oci podinfo-auth --url=ghcr.io --username=username \\\n"
     "    --password=password --export > repo-auth.yaml",
     cmd_create_secret_oci},
    {"create", "source oci", "Create or update an OCIRepository and wait for its artifact.",
     "sluice create source oci <name> --url=oci://<registry>/<repository> "
     "--tag=<tag>|--tag-semver=<range>|--digest=<digest> [flags]",
     "  # Create an OCIRepository for a public artifact and wait until it is Ready\n"
     "  sluice create source oci podinfo \\\n"
     "    --url=oci://ghcr.io/stefanprodan/manifests/podinfo \\\n"
     "    --tag=6.6.2 \\\n"
     "    --interval=10m\n\n"
     "  # Print it instead, with an image pull secret, to keep it in Git\n"
     "  sluice create source oci podinfo --url=oci://ghcr.io/org/app --tag-semver='>=1.0.0' \\\n"
     "    --secret-ref=podinfo-auth --export > podinfo-source.yaml",
     cmd_create_source_oci},
    {"get", "sources oci", "Print the status of OCIRepositories as Flux's table.",
     "sluice get sources oci [name] [-A] [--status-selector=<type>=<status>] [-o json|yaml] "
     "[flags]",
     "  # List the OCIRepositories of flux-system and their status\n"
     "  sluice get sources oci\n\n"
     "  # Those that are not Ready, in every namespace\n"
     "  sluice get sources oci -A --status-selector ready=false\n\n"
     "  # One object, whole, for scripts\n"
     "  sluice get sources oci podinfo -o json",
     cmd_get_sources_oci},
    {"reconcile", "source oci",
     "Ask for an OCIRepository's reconciliation now and wait for its outcome.",
     "sluice reconcile source oci <name> [flags]",
     "  # Fetch the latest revision of the artifact now\n"
     "  sluice reconcile source oci podinfo",
     cmd_reconcile_source_oci},
    {"suspend", "source oci", "Suspend the reconciliation of OCIRepositories.",
     "sluice suspend source oci <name>... [flags]",
     "  # Stop following the registry for podinfo\n"
     "  sluice suspend source oci podinfo",
     cmd_suspend_source_oci},
    {"resume", "source oci", "Resume suspended OCIRepositories and wait for their reconciliation.",
     "sluice resume source oci <name>... [flags]",
     "  # Follow the registry again and fetch what changed meanwhile\n"
     "  sluice resume source oci podinfo",
     cmd_resume_source_oci},
    {"delete", "source oci", "Delete an OCIRepository and wait until it is gone.",
     "sluice delete source oci <name> [--silent] [flags]",
     "  # Delete without the confirmation prompt (needed when stdin is not a terminal)\n"
     "  sluice delete source oci podinfo --silent",
     cmd_delete_source_oci},
    {"get", "kustomizations", "Print the status of Kustomizations as Flux's table.",
     "sluice get kustomizations [name] [-A] [--status-selector=<type>=<status>] "
     "[-o json|yaml] [flags]",
     "  # List the Kustomizations of flux-system and the revision each applied\n"
     "  sluice get kustomizations\n\n"
     "  # Those that are not Ready, in every namespace\n"
     "  sluice get ks -A --status-selector ready=false\n\n"
     "  # One object, whole, for scripts\n"
     "  sluice get kustomizations podinfo -o yaml",
     cmd_get_kustomizations, "ks,kustomization"},
    {"reconcile", "kustomization",
     "Ask for a Kustomization's reconciliation now and wait for its outcome.",
     "sluice reconcile kustomization <name> [--with-source] [flags]",
     "  # Apply the manifests again outside of the reconciliation interval\n"
     "  sluice reconcile kustomization podinfo\n\n"
     "  # Fetch the source's latest revision first, then apply it\n"
     "  sluice reconcile kustomization podinfo --with-source",
     cmd_reconcile_kustomization, "ks"},
    {"suspend", "kustomization", "Suspend the reconciliation of Kustomizations.",
     "sluice suspend kustomization <name>... [flags]",
     "  # Stop applying podinfo's manifests, e.g. while debugging in the cluster\n"
     "  sluice suspend kustomization podinfo",
     cmd_suspend_kustomization, "ks"},
    {"resume", "kustomization",
     "Resume suspended Kustomizations and wait for their reconciliation.",
     "sluice resume kustomization <name>... [flags]",
     "  # Apply the manifests again and report the revision applied\n"
     "  sluice resume kustomization podinfo",
     cmd_resume_kustomization, "ks"},
    {"trace", NULL, "Show which Kustomization and source manage an object, and their status.",
     "sluice trace <resource> <name>... | <resource>/<name>... [-n <namespace>] [flags]",
     "  # Trace a Deployment (-n, else the kubeconfig context's namespace)\n"
     "  sluice trace -n apps deployment podinfo\n\n"
     "  # Trace a ConfigMap and a Service at once, short names allowed\n"
     "  sluice trace -n apps cm/podinfo-config svc/podinfo\n\n"
     "  # A cluster-scoped object\n"
     "  sluice trace namespace apps\n\n"
     "  # Kind and API version explicitly (both are required then)\n"
     "  sluice trace podinfo --kind=deployment --api-version=apps/v1 -n apps",
     cmd_trace},
    {"install", NULL,
     "Install the sluice controller and its CRDs in a cluster, or print their manifests.",
     "sluice install [--export] [--namespace=flux-system] [flags]",
     "  # Install in flux-system and wait for the controller\n"
     "  sluice install\n\n"
     "  # Print the manifests instead, e.g. for kubectl or to keep them in Git\n"
     "  sluice install --export | kubectl apply --server-side -f -\n"
     "  sluice install --export --namespace=gitops > clusters/prod/sluice-system.yaml\n\n"
     "  # From a private mirror of the image, watching only its own namespace\n"
     "  sluice install --export --registry=registry.internal:5000/mirror \\\n"
     "    --watch-all-namespaces=false",
     cmd_install},
    {"uninstall", NULL,
     "Delete the sluice controller, its CRDs (with every object of theirs) and its namespace.",
     "sluice uninstall [--silent] [--keep-namespace] [--dry-run] [flags]",
     "  # Uninstall from flux-system without the confirmation prompt\n"
     "  sluice uninstall --silent\n\n"
     "  # Keep the namespace and whatever else lives in it\n"
     "  sluice uninstall --namespace=gitops --keep-namespace --silent",
     cmd_uninstall},
    {"controller", NULL,
     "Run the controller: Flux's source- and kustomize-controller (OCIRepository, "
     "Kustomization), in or out of a cluster.",
     "sluice controller [--kubeconfig=<path>] [--storage-path=/data] [flags]",
     "  # Out of the cluster, against the current kubeconfig context\n"
     "  sluice controller --storage-path=/tmp/sluice --storage-addr=127.0.0.1:9090 \\\n"
     "    --metrics-addr=127.0.0.1:8080 --health-addr=127.0.0.1:9440 --log-encoding=console\n\n"
     "  # In the cluster (the Deployment `sluice install --export` prints)\n"
     "  sluice controller --storage-path=/data --enable-leader-election",
     cmd_controller},
    {0},
};

/* Whether noun is one of the comma-separated aliases. */
static bool is_alias(const char *aliases, const char *noun)
{
	size_t n = strlen(noun);
	for (const char *p = aliases; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, noun, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

const struct command *cli_find_command(const char *verb, const char *noun)
{
	for (const struct command *c = cli_commands; c->verb; c++)
		if (strcmp(c->verb, verb) == 0 &&
		    (!c->noun ||
		     (noun && (strcmp(c->noun, noun) == 0 || is_alias(c->aliases, noun)))))
			return c;
	return NULL;
}

/* The noun of the first command with this verb. */
static const char *example_noun(const char *verb)
{
	for (const struct command *c = cli_commands; c->verb; c++)
		if (strcmp(c->verb, verb) == 0 && c->noun)
			return c->noun;
	return "artifact";
}

static void print_usage(FILE *out)
{
	fprintf(out,
	        "sluice %s — GitOps from OCI registries, compatible with Flux.\n\n"
	        "Usage:\n  sluice <command> [flags]\n\nCommands:\n",
	        SLUICE_VERSION);
	for (const struct command *c = cli_commands; c->verb; c++) {
		char name[48];
		snprintf(name, sizeof(name), "%s %s", c->verb, c->noun ? c->noun : "");
		fprintf(out, "  %-24s %s\n", name, c->summary);
	}
	fprintf(out, "  %-24s %s\n", "version", "Print the version.");
	fprintf(out, "\nRun 'sluice <command> --help' for a command's flags and examples.\n");
}

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		print_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("sluice %s\n", SLUICE_VERSION);
		return 0;
	}
	const char *verb = argv[1];
	const char *noun = argc > 2 ? argv[2] : NULL;
	/* Three-word commands ("create secret oci") name their noun with a space. */
	_cleanup_free_ char *two = argc > 3 ? sl_asprintf("%s %s", argv[2], argv[3]) : NULL;
	const struct command *cmd = two ? cli_find_command(verb, two) : NULL;
	/* A single-word command matches any noun: its argv starts at argv[2]. */
	if (cmd && !cmd->noun)
		cmd = NULL;
	int skip = cmd ? 4 : 0;
	if (!cmd) {
		cmd = cli_find_command(verb, noun);
		skip = cmd && cmd->noun ? 3 : 2;
	}
	struct sl_error err = {0};
	if (!cmd) {
		bool known_verb = false;
		for (const struct command *c = cli_commands; c->verb; c++)
			known_verb |= strcmp(c->verb, verb) == 0;
		if (known_verb && noun && strcmp(noun, "--help") && strcmp(noun, "-h"))
			sl_log_failure("unknown command \"%s %s\" for \"sluice\"", verb, noun);
		else if (known_verb)
			sl_log_failure("\"sluice %s\" needs a subcommand, e.g. \"sluice %s %s\"",
			               verb, verb, example_noun(verb));
		else
			sl_log_failure("unknown command \"%s\" for \"sluice\"", verb);
		fprintf(stderr, "Run 'sluice --help' for usage.\n");
		return 1;
	}
	int r = cmd->run(argc - skip, argv + skip, &err);
	fflush(stdout);
	if (r < 0) {
		cli_progress_done();
		sl_log_failure("%s", err.msg[0] ? err.msg : "failed");
		return 1;
	}
	return 0;
}
