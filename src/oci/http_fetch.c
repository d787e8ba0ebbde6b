/* A verified download of one URL: what a Kustomization does with an
 * artifact another controller stores (Flux's pkg/http/fetch), with a size
 * cap Flux does not have. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "oci/curl_loader.h"
#include "oci/oci.h"

#define FETCH_ATTEMPTS 3

struct sink {
	int fd;
	struct sl_sha256 *hash;
	uint64_t written, max;
	bool too_big;
	int write_errno;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t n = size * nmemb;
	if (s->max && s->written + n > s->max) {
		s->too_big = true;
		return 0;
	}
	for (size_t done = 0; done < n;) {
		ssize_t w = write(s->fd, data + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			s->write_errno = errno;
			return 0;
		}
		done += (size_t)w;
	}
	sl_sha256_update(s->hash, data, n);
	s->written += n;
	return n;
}

static void curl_cleanupp(CURL **c)
{
	if (*c)
		curl_easy_cleanup(*c);
}

int sl_http_fetch_verified(const char *url, const char *digest, uint64_t max_bytes,
                           int64_t timeout_ms, int fd, struct sl_error *err)
{
	if (!digest || !sl_digest_valid(digest))
		return sl_error_set(err, digest && *digest ? SL_EUNSUPPORTED : SL_EINVAL,
		                    "%s digest '%s': sha256:<hex> is supported",
		                    digest && *digest ? "unsupported" : "empty",
		                    digest ? digest : "");
	int r = sl_http_init(err);
	if (r < 0)
		return r;
	_cleanup_(curl_cleanupp) CURL *c = curl_easy_init();
	if (!c)
		return sl_error_set(err, SL_ENOMEM, "initialising libcurl");
	struct sink s = {.fd = fd, .hash = sl_sha256_new(), .max = max_bytes};
	int64_t deadline = timeout_ms > 0 ? sl_now_ms() + timeout_ms : 0;
	char errbuf[CURL_ERROR_SIZE];
	for (int attempt = 1;; attempt++) {
		if (lseek(fd, 0, SEEK_SET) < 0 || ftruncate(fd, 0) < 0) {
			r = sl_error_errno(err, errno, SL_EIO, "preparing the download of %s", url);
			break;
		}
		sl_sha256_reset(s.hash);
		s.written = 0;
		s.too_big = false;
		s.write_errno = 0;
		errbuf[0] = '\0';
		curl_easy_reset(c);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(c, CURLOPT_USERAGENT, "sluice/" SLUICE_VERSION);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
		if (deadline) {
			int64_t left = deadline - sl_now_ms();
			curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(left > 1 ? left : 1));
		}
		CURLcode code = curl_easy_perform(c);
		long status = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (s.too_big) {
			r = sl_error_set(err, SL_ELIMIT, "%s is larger than %llu bytes", url,
			                 (unsigned long long)max_bytes);
			break;
		}
		if (s.write_errno) {
			r = sl_error_errno(err, s.write_errno, SL_EIO, "writing the download of %s",
			                   url);
			break;
		}
		bool retry = code != CURLE_OK || status >= 500;
		if (code == CURLE_OK && status == 200) {
			char got[SL_DIGEST_STR_LEN];
			sl_sha256_final(s.hash, got);
			r = strcmp(got, digest) == 0
			        ? 0
			        : sl_error_set(err, SL_EDIGEST,
			                       "computed digest doesn't match provided '%s' (%s)",
			                       digest, got);
			if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
				r = sl_error_errno(err, errno, SL_EIO, "rewinding %s", url);
			break;
		}
		if (code == CURLE_OK && status == 404) {
			r = sl_error_set(err, SL_ENOTFOUND, "%s: 404 Not Found", url);
			break;
		}
		if (!retry || attempt == FETCH_ATTEMPTS || (deadline && sl_now_ms() >= deadline)) {
			r = code != CURLE_OK
			        ? sl_error_set(err, SL_ENET, "GET %s: %s", url,
			                       *errbuf ? errbuf : curl_easy_strerror(code))
			        : sl_error_set(err, SL_EHTTP,
			                       "failed to download archive from %s (status: "
			                       "%ld)",
			                       url, status);
			if (status)
				err->http_status = (int)status;
			break;
		}
		usleep((useconds_t)(250000 * attempt * attempt));
	}
	sl_sha256_free(s.hash);
	return r;
}
