/* answer.c: the answers not yet written (one growing buffer, written out in large chunks) and the hex tables. */
#include "serve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char hex_pairs[512];
signed char hex_value[256];

void tables_init(void)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 256; i++) {
		hex_pairs[2 * i] = digits[i >> 4];
		hex_pairs[2 * i + 1] = digits[i & 15];
		hex_value[i] = -1;
	}
	for (int i = 0; i < 10; i++)
		hex_value['0' + i] = (signed char)i;
	for (int i = 0; i < 6; i++) {
		hex_value['a' + i] = (signed char)(10 + i);
		hex_value['A' + i] = (signed char)(10 + i);
	}
}

/* --- output ------------------------------------------------------------------------------ */

int out_reserve(struct server *s, size_t n)
{
	if (s->olen + n <= s->ocap)
		return 0;
	size_t cap = s->ocap ? s->ocap : 1 << 16;
	while (cap < s->olen + n)
		cap *= 2;
	char *p = realloc(s->ob, cap);
	if (!p) {
		s->oom = 1; /* an answer would be lost: the session ends (serve returns -1) */
		return -1;
	}
	s->ob = p;
	s->ocap = cap;
	return 0;
}

void out_mem(struct server *s, const char *p, size_t n)
{
	if (out_reserve(s, n) == 0) {
		memcpy(s->ob + s->olen, p, n);
		s->olen += n;
	}
}

void out_str(struct server *s, const char *p) { out_mem(s, p, strlen(p)); }

void out_u64(struct server *s, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_mem(s, tmp + i, sizeof(tmp) - (size_t)i);
}

void out_hex(struct server *s, const unsigned char *b, size_t n)
{
	if (n == 0) {
		out_mem(s, "-", 1);
		return;
	}
	if (out_reserve(s, 2 * n))
		return;
	char *o = s->ob + s->olen;
	for (size_t i = 0; i < n; i++) {
		o[2 * i] = hex_pairs[2 * b[i]];
		o[2 * i + 1] = hex_pairs[2 * b[i] + 1];
	}
	s->olen += 2 * n;
}

/* `OK value ` or `ERR errno ` for a system call result (rc < 0: errno holds the error). */
void out_status(struct server *s, long long rc, int err)
{
	if (rc < 0) {
		out_mem(s, "ERR ", 4);
		out_u64(s, (uint64_t)(err > 0 ? err : 5));
	} else {
		out_mem(s, "OK ", 3);
		out_u64(s, (uint64_t)rc);
	}
	out_mem(s, " ", 1);
}

/* Writes every buffered answer; -1 when the other side is gone. */
int out_flush(struct server *s)
{
	size_t done = s->sent; /* the watchdog may have written the first answers already */
	while (done < s->olen) {
		ssize_t n = write(s->out, s->ob + done, s->olen - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	s->olen = s->sent = 0;
	return 0;
}
