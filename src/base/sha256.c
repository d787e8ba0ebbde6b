/* SHA-256 twice over: OpenSSL (loaded on first use, crypto_loader.h) for the
 * streaming hasher that digests multi-GB layers at SHA-NI speed, and portable
 * FIPS 180-4 code for one-shot digests of small inputs (manifests, configs,
 * kustomize generator hashes), so the commands that only ever hash those never
 * map libcrypto. */
#include <ctype.h>
#include <openssl/evp.h>
#include <string.h>

#include "base.h"
#include "base/crypto_loader.h"

static void format_digest(const unsigned char md[32], char out[SL_DIGEST_STR_LEN])
{
	static const char hex[] = "0123456789abcdef";
	memcpy(out, "sha256:", 7);
	for (unsigned i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[7 + SL_DIGEST_HEX_LEN] = '\0';
}

/* ---- portable: FIPS 180-4 §6.2 ------------------------------------------ */

/* §4.2.2: the first 32 bits of the fractional parts of the cube roots of the
 * first 64 primes. */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, unsigned n)
{
	return x >> n | x << (32 - n);
}

/* One 64-byte block into the hash value h (§6.2.2 steps 1-4). */
static void compress(uint32_t h[8], const unsigned char *block)
{
	uint32_t w[64];
	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 |
		       (uint32_t)block[4 * t + 2] << 8 | (uint32_t)block[4 * t + 3];
	for (int t = 16; t < 64; t++) {
		uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ w[t - 15] >> 3;
		uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ w[t - 2] >> 10;
		w[t] = w[t - 16] + s0 + w[t - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
	for (int t = 0; t < 64; t++) {
		uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
		              K[t] + w[t];
		uint32_t t2 =
		    (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

void sl_sha256_portable(const void *data, size_t len, char out[SL_DIGEST_STR_LEN])
{
	/* §5.3.3: the first 32 bits of the fractional parts of the square roots
	 * of the first 8 primes. */
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	const unsigned char *p = data;
	size_t left = len;
	for (; left >= 64; p += 64, left -= 64)
		compress(h, p);
	/* §5.1.1 padding: 0x80, zeros, then the length in bits as a big-endian
	 * 64-bit number ending a block; one block when 9 more bytes fit. */
	unsigned char tail[128] = {0};
	if (left)
		memcpy(tail, p, left);
	tail[left] = 0x80;
	size_t tail_len = left < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		tail[tail_len - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (size_t off = 0; off < tail_len; off += 64)
		compress(h, tail + off);
	unsigned char md[32];
	for (int i = 0; i < 8; i++) {
		md[4 * i] = (unsigned char)(h[i] >> 24);
		md[4 * i + 1] = (unsigned char)(h[i] >> 16);
		md[4 * i + 2] = (unsigned char)(h[i] >> 8);
		md[4 * i + 3] = (unsigned char)h[i];
	}
	format_digest(md, out);
}

/* ---- streaming: OpenSSL ------------------------------------------------- */

struct sl_sha256 {
	EVP_MD_CTX *ctx;
};

/* No error to return through: tell the user which library is missing rather
 * than leave them with a bare abort. Callers that can return an error check
 * sl_crypto_available() first and never get here. */
static _Noreturn void no_libcrypto(void)
{
	struct sl_error err = {0};
	if (sl_crypto_available(&err) < 0)
		fprintf(stderr, "sluice: %s\n", err.msg);
	else
		fputs("sluice: initialising SHA-256 in " SL_LIBCRYPTO_SONAME " failed\n", stderr);
	abort();
}

struct sl_sha256 *sl_sha256_new(void)
{
	struct sl_sha256 *h = sl_xcalloc(1, sizeof(*h));
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		no_libcrypto();
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
	format_digest(md, out);
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
	if (len <= SL_SHA256_PORTABLE_MAX) {
		sl_sha256_portable(data, len, out);
		return;
	}
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
