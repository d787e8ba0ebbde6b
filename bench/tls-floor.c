/* The memory floor of one TLS client with the OpenSSL sluice links: the
 * RSS of a process that does nothing but a handshake with a server.
 * bench/README.md ("What bounds each target") quotes it.
 *
 *   cc -O2 bench/tls-floor.c -o /tmp/tls-floor -lssl -lcrypto
 *   /tmp/tls-floor 127.0.0.1 PORT      # e.g. the test API server's port
 *
 * Prints VmRSS, RssAnon and RssFile before, after SSL_CTX_new and after
 * the handshake. Certificates are not verified: only the memory matters. */
#include <netdb.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	rss("ctx");
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) {
		fprintf(stderr, "cannot resolve %s:%s\n", argv[1], argv[2]);
		return 1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("connect");
		return 1;
	}
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		fprintf(stderr, "handshake failed\n");
		return 1;
	}
	rss("handshake");
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	freeaddrinfo(ai);
	return 0;
}
