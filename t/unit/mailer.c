/* Unit tests of lib/mailer.c that need no SMTP server: refused input
 * (header injection, bad addresses), configuration checks, and a failed
 * connection whose error never carries the URL's password. Delivery itself
 * is tested against an SMTP sink in t/fault/mail.t. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../lib/shush.h"
#include "tap.h"

#define PW "Sup3r-secret-pw"

/* A loopback port nobody listens on. */
static int
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return 1;
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int
main(void)
{
	char err[512], url[128];
	const char *from = "shush@example.test";
	int rc;

	snprintf(url, sizeof(url), "smtp://mailer:" PW "@127.0.0.1:%d", closed_port());

	/* Header injection and bad recipients: refused for good, nothing sent. */
	rc = mailer_send(url, from, "a@example.test", "Hi\r\nBcc: x@evil.test", "b", err,
			 sizeof(err));
	ok(rc == MAILER_PERMANENT && strstr(err, "CR or LF") != NULL, "CRLF in subject: %s", err);
	rc = mailer_send(url, from, "a@example.test", "Hi\nX: y", "b", err, sizeof(err));
	ok(rc == MAILER_PERMANENT, "bare LF in subject refused: %s", err);
	rc = mailer_send(url, from, "a@example.test", "Hi\rX: y", "b", err, sizeof(err));
	ok(rc == MAILER_PERMANENT, "bare CR in subject refused: %s", err);
	rc = mailer_send(url, from, "a@example.test\r\nRCPT TO:<x@evil.test>", "Hi", "b", err,
			 sizeof(err));
	ok(rc == MAILER_PERMANENT && strstr(err, "recipient") != NULL, "CRLF in to: %s", err);
	rc = mailer_send(url, from, "a@example.test>, <x@evil.test", "Hi", "b", err, sizeof(err));
	ok(rc == MAILER_PERMANENT, "two recipients refused: %s", err);
	rc = mailer_send(url, from, "not-an-address", "Hi", "b", err, sizeof(err));
	ok(rc == MAILER_PERMANENT, "no @ refused: %s", err);
	rc = mailer_send(url, from, "", "Hi", "b", err, sizeof(err));
	ok(rc == MAILER_PERMANENT, "empty recipient refused: %s", err);

	/* Connection refused: worth a retry, and the password stays out. */
	rc = mailer_send(url, from, "a@example.test", "Hi \xc3\xa9", "body", err, sizeof(err));
	ok(rc == -1, "connection refused is a temporary failure (%d): %s", rc, err);
	ok(err[0] != '\0' && strstr(err, PW) == NULL, "error without the password");

	/* Configuration. */
	ok(mailer_check_config("smtp://127.0.0.1:25", from, err, sizeof(err)) == 0,
	   "smtp:// accepted: %s", err);
	ok(mailer_check_config("smtps://u:" PW "@smtp.example.test:465",
			       "Shush <shush@example.test>", err, sizeof(err)) == 0,
	   "smtps:// and a display name accepted: %s", err);
	ok(mailer_check_config("http://u:" PW "@example.test/", from, err, sizeof(err)) < 0 &&
		   strstr(err, "smtp://") != NULL && strstr(err, PW) == NULL,
	   "http:// refused without echoing the URL: %s", err);
	ok(mailer_check_config("smtp://", from, err, sizeof(err)) < 0, "no host refused: %s", err);
	ok(mailer_check_config("smtp://h", "Shush <shush@example.test", err, sizeof(err)) < 0,
	   "unbalanced SMTP_FROM refused: %s", err);
	ok(mailer_check_config("smtp://h", "a@b\r\nBcc: x@y", err, sizeof(err)) < 0,
	   "CRLF in SMTP_FROM refused: %s", err);
	rc = mailer_send("ftp://h/", from, "a@example.test", "Hi", "b", err, sizeof(err));
	ok(rc == -1, "a bad SMTP_URL is a temporary failure (fixed config sends later): %s", err);
	return done_testing();
}
