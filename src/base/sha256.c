#include <ctype.h>
#include <openssl/evp.h>
#include <string.h>

#include "base.h"

struct sl_sha256 {
	EVP_MD_CTX *ctx;
};

struct sl_sha256 *sl_sha256_new(void)
{
	struct sl_sha256 *h = sl_xcalloc(1, sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		abort();
	return h;
}

void sl_sha256_update(struct sl_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void sl_sha256_final(struct sl_sha256 *h, char out[SL_DIGEST_STR_LEN])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_DigestFinal_ex(h->ctx, md, &n);
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

void sl_sha256_reset(struct sl_sha256 *h)
{
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void sl_sha256_free(struct sl_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void sl_sha256_digest(const void *data, size_t len, char out[SL_DIGEST_STR_LEN])
{
	_cleanup_(sl_sha256_freep) struct sl_sha256 *h = sl_sha256_new();
	sl_sha256_update(h, data, len);
	sl_sha256_final(h, out);
}

bool sl_digest_valid(const char *digest)
{
	if (!sl_startswith(digest, "sha256:") || strlen(digest) != 7 + SL_DIGEST_HEX_LEN)
		return false;
	for (const char *p = digest + 7; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return false;
	return true;
}
