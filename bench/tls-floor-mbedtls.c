/* bench/tls-floor.c's measurement with mbedTLS instead of OpenSSL: the RSS
 * of a process that does nothing but one TLS handshake, for the library
 * decision bench/README.md ("What bounds each target") describes.
 *
 *   apt-get install libmbedtls-dev
 *   cc -O2 bench/tls-floor-mbedtls.c -o /tmp/tls-floor-mbedtls \
 *     -lmbedtls -lmbedx509 -lmbedcrypto
 *   /tmp/tls-floor-mbedtls 127.0.0.1 PORT
 *
 * Certificates are not verified: only the memory matters. */
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <stdio.h>
#include <string.h>

static void rss(const char *when)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS", 5) || !strncmp(line, "RssAnon", 7) ||
		    !strncmp(line, "RssFile", 7))
			printf("%-10s %s", when, line);
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
		return 2;
	}
	rss("start");
	mbedtls_net_context fd;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_net_init(&fd);
	mbedtls_ssl_init(&ssl);
	mbedtls_ssl_config_init(&conf);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_entropy_init(&entropy);
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0 ||
	    mbedtls_net_connect(&fd, argv[1], argv[2], MBEDTLS_NET_PROTO_TCP) != 0 ||
	    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
	                                MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
		fprintf(stderr, "set-up failed\n");
		return 1;
	}
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	if (mbedtls_ssl_setup(&ssl, &conf) != 0) {
		fprintf(stderr, "set-up failed\n");
		return 1;
	}
	mbedtls_ssl_set_bio(&ssl, &fd, mbedtls_net_send, mbedtls_net_recv, NULL);
	if (mbedtls_ssl_handshake(&ssl) != 0) {
		fprintf(stderr, "handshake failed\n");
		return 1;
	}
	rss("handshake");
	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	mbedtls_net_free(&fd);
	return 0;
}
