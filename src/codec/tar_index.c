/* A tarball's table of contents with a digest of every file, for comparing
 * two artifacts by what they hold rather than by their gzip bytes. */
#include <string.h>

#include "codec/codec.h"

void sl_tar_index_free(struct sl_tar_index *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->n; i++)
		free(idx->entries[i].name);
	free(idx->entries);
	free(idx);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct sl_tar_entry *)a)->name,
	              ((const struct sl_tar_entry *)b)->name);
}

/* "./a/b/" -> "a/b"; "." and "./" -> "." */
static char *normalise(const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	size_t n = strlen(name);
	while (n > 1 && name[n - 1] == '/')
		n--;
	return n ? sl_strndup(name, n) : sl_strdup(".");
}

int sl_tar_index_read(int tgz_fd, const struct sl_extract_limits *limits, struct sl_tar_index **ret,
                      struct sl_error *err)
{
	_cleanup_(sl_tar_reader_freep) struct sl_tar_reader *t = NULL;
	int rc = sl_tar_reader_new(tgz_fd, &t, err);
	if (rc < 0)
		return rc;
	struct sl_tar_index *idx = sl_xcalloc(1, sizeof(*idx));
	uint64_t total = 0;
	/* On the heap, not thread-local: 128 KiB of static TLS per module made
	 * every thread of the controller carry it, and broke small stacks. */
	enum { CHUNK = 128 * 1024 };
	_cleanup_free_ char *chunk = sl_xmalloc(CHUNK);
	for (;;) {
		const struct sl_tar_header *h;
		rc = sl_tar_next(t, &h, err);
		if (rc <= 0)
			break;
		if (limits && limits->max_entries && idx->n >= limits->max_entries) {
			rc = sl_error_set(err, SL_ELIMIT, "tarball has more than %llu entries",
			                  (unsigned long long)limits->max_entries);
			break;
		}
		struct sl_tar_entry e = {
		    .name = normalise(h->name),
		    .type = h->hardlink ? S_IFREG : h->type,
		    .mode = h->mode,
		};
		if (h->type == S_IFREG) {
			_cleanup_(sl_sha256_freep) struct sl_sha256 *hash = sl_sha256_new();
			ssize_t n;
			while ((n = sl_tar_read(t, chunk, CHUNK, err)) > 0) {
				sl_sha256_update(hash, chunk, (size_t)n);
				e.size += (uint64_t)n;
				total += (uint64_t)n;
				if (limits && limits->max_total_bytes &&
				    total > limits->max_total_bytes) {
					n = -2;
					break;
				}
			}
			if (n < 0) {
				free(e.name);
				rc = n == -2
				         ? sl_error_set(err, SL_ELIMIT,
				                        "content exceeds the limit of %llu bytes",
				                        (unsigned long long)limits->max_total_bytes)
				         : SL_EINVAL;
				break;
			}
			sl_sha256_final(hash, e.digest);
		}
		idx->entries = sl_xrealloc(idx->entries, (idx->n + 1) * sizeof(*idx->entries));
		idx->entries[idx->n++] = e;
	}
	if (rc < 0) {
		sl_tar_index_free(idx);
		return rc;
	}
	if (idx->n)
		qsort(idx->entries, idx->n, sizeof(*idx->entries), cmp_entry);
	*ret = idx;
	return 0;
}
