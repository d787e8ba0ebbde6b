/* cli/fluxout — pure helpers behind the commands that talk to a cluster:
 * Flux's output formats (tablewriter tables and get rows, utils.TruncateHex,
 * Go's time.Duration, time.Time and RFC 3339 nano strings, flux trace's
 * report), the YAML of a JSON object as kubectl prints it, and what a Flux
 * object's status says (Ready for the current generation, a reconcile
 * request handled, a status selector).
 *
 * Nothing here touches the network, the flags or the terminal, so the unit
 * tests (tests/unit/test_cli_source.c, test_cli_kustomization.c) build this
 * file on its own. json_t arguments are borrowed; returned strings and
 * nodes belong to the caller. */
#ifndef SLUICE_CLI_FLUXOUT_H
#define SLUICE_CLI_FLUXOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/base.h"
#include "codec/yaml.h"

/* Terminal columns, as go-runewidth counts them; bytes when the text is
 * not valid in the locale. */
size_t cli_display_width(const char *s);

/* flux2 internal/utils.TruncateHex: every run of 40 to 128 lowercase hex
 * digits that is a whole word (regexp \b[a-f0-9]{40,128}\b) is cut to its
 * first 8 characters. "6.3.5@sha256:6c959c51..." -> "6.3.5@sha256:6c959c51". */
char *cli_truncate_hex(const char *s);

/* A table as Flux prints it (olekukonko/tablewriter v0.0.5, no borders, tab
 * padding): upper-cased headers, every cell left-aligned and space-padded to
 * its column's display width and followed by a tab, but the last header cell
 * by a space. header NULL: no header line. cells holds n_rows * n_cols
 * strings, row after row. */
void cli_table_print(struct sl_buf *out, const char *const *header, size_t n_cols,
                     const char *const *cells, size_t n_rows);

/* Go's time.Duration.String() of a whole number of milliseconds: "0s",
 * "500ms", "1m0s", "1h30m0s", "1.5s". */
void cli_go_duration(int64_t ms, char out[64]);

/* Go's time.Time.Format(time.RFC3339Nano) of t in the local time zone:
 * "2026-05-01T10:04:05.123456789Z" (trailing zeros of the fraction and the
 * dot dropped; "Z" for UTC, else "+02:00"). What Flux writes in
 * reconcile.fluxcd.io/requestedAt. */
void cli_rfc3339_nano(const struct timespec *t, char out[64]);

/* RFC 1123: a label (dots false: namespaces) or a subdomain (names). */
bool cli_dns1123(const char *s, size_t max, bool dots);

/* A JSON value as a YAML/JSON document tree (sl_yaml_emit prints it as
 * kubectl -o yaml does). Never NULL for a non-NULL value. */
struct sl_node *cli_node_from_json(const json_t *v);

/* A string under a path of object keys ("status", "url", NULL), or NULL. */
const char *cli_json_str(const json_t *obj, ...) __attribute__((sentinel));

/* The condition of this type in status.conditions, or NULL. */
const json_t *cli_condition(const json_t *obj, const char *type);

/* Where a Flux object stands after a change or a reconcile request. */
enum cli_readiness {
	CLI_PENDING, /* not yet handled, or still reconciling */
	CLI_READY,   /* Ready=True for the current generation */
	CLI_FAILED,  /* Ready=False for the current generation */
};

/* requested_at, when not NULL, must equal status.lastHandledReconcileAt.
 * The Ready condition counts only for the object's generation (its own
 * observedGeneration, else status.observedGeneration). *ret_message (may
 * be NULL) gets the Ready message, or a word about what is awaited. */
enum cli_readiness cli_flux_readiness(const json_t *obj, const char *requested_at,
                                      const char **ret_message);

/* A Deployment's rollout as kstatus judges it: the generation observed,
 * every replica updated, ready and available, no old one left; failed when
 * Progressing says ProgressDeadlineExceeded. msg says what is awaited. */
enum cli_readiness cli_deployment_readiness(const json_t *obj, char msg[160]);

/* Flux's `get` columns of one object: READY and MESSAGE from the Ready
 * condition ("False" and "waiting to be reconciled" without one). */
void cli_ready_columns(const json_t *obj, const char **ret_status, const char **ret_message);

/* --status-selector TYPE=STATUS: Flux compares both case-insensitively with
 * the last condition of that type; no such condition never matches. */
bool cli_status_matches(const json_t *obj, const char *type, const char *status);

/* Appends the cells of one row of Flux's `get` table of sources and
 * Kustomizations to cells: [NAMESPACE] NAME REVISION SUSPENDED READY
 * MESSAGE, revision (may be NULL) and message through cli_truncate_hex. */
void cli_flux_row(const json_t *obj, const char *revision, bool with_namespace,
                  struct sl_strv *cells);

/* Go's time.Time.String() of an RFC 3339 timestamp in the local time zone,
 * as metav1.Time prints in a template: "2021-07-16 15:42:20 +0000 UTC".
 * NULL or unparsable: Go's zero time, "0001-01-01 00:00:00 +0000 UTC". */
void cli_go_time(const char *rfc3339, char out[96]);

/* `flux trace`'s report (flux2 cmd/flux/trace.go, traceKustomization) for
 * obj, managed by the Kustomization ks, whose source is source (NULL: no
 * source block, as for a Bucket; an OCIRepository or a GitRepository
 * otherwise). object_kind names obj's kind on the Object line. Byte for
 * byte Flux's text/template output: a blank line first, 17-column labels,
 * lines that Flux's template leaves empty left empty. */
void cli_trace_report(struct sl_buf *out, const char *object_kind, const json_t *obj,
                      const json_t *ks, const json_t *source);

#endif
