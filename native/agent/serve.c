/* serve.c: the wire protocol loop (version 1, device subset, and compact frames): pipelined requests, batched answers. */
#define _GNU_SOURCE /* ppoll */
#include "serve.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>

#define IN_START (1u << 20)         /* input buffer; grows for long lines */
#define MAX_LINE (160u << 20)       /* the longest request line accepted */
#define OUT_FLUSH (256u << 10)      /* answers are written out at least this often */
#define MAX_TOKENS 16

/* --- request fields ------------------------------------------------------------------------ */

static int parse_u64(const char *t, uint64_t *out)
{
	uint64_t v = 0;
	if (!*t)
		return -1;
	for (; *t; t++) {
		unsigned d = (unsigned)(*t - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_u32(const char *t, uint32_t *out)
{
	uint64_t v;
	if (parse_u64(t, &v) || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_i64(const char *t, int64_t *out)
{
	uint64_t v;
	int neg = *t == '-';
	if (parse_u64(t + neg, &v) || v > (uint64_t)INT64_MAX + (uint64_t)neg)
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int ensure_xfer(struct server *s, size_t n)
{
	if (n <= s->xcap)
		return 0;
	unsigned char *p = realloc(s->xfer, n);
	if (!p) {
		s->oom = 1;
		return -1;
	}
	s->xfer = p;
	s->xcap = n;
	return 0;
}

/* Decodes `-` (count zeros) or exactly 2*count hex digits into the transfer buffer. */
static int decode_exact(struct server *s, const char *t, size_t count)
{
	if (ensure_xfer(s, count + 1))
		return -1;
	if (t[0] == '-' && t[1] == 0) {
		memset(s->xfer, 0, count);
		return 0;
	}
	if (strlen(t) != 2 * count)
		return -1;
	for (size_t i = 0; i < count; i++) {
		int h = hex_value[(unsigned char)t[2 * i]], l = hex_value[(unsigned char)t[2 * i + 1]];
		if ((h | l) < 0)
			return -1;
		s->xfer[i] = (unsigned char)(h << 4 | l);
	}
	return 0;
}

/* Decodes write data (`-` = no bytes); its length is the count. */
static int decode_data(struct server *s, const char *t, size_t *count)
{
	size_t len = strcmp(t, "-") == 0 ? 0 : strlen(t);
	if (len % 2 || len / 2 > MAX_COUNT)
		return -1;
	*count = len / 2;
	return len ? decode_exact(s, t, len / 2) : 0;
}

static void bad(struct server *s, const char *what)
{
	out_str(s, "BAD ");
	out_str(s, what);
	out_mem(s, "\n", 1);
}

static void unsupported(struct server *s) { out_str(s, "ERR 95 - -\n"); }

/* --- requests ---------------------------------------------------------------------------- */

static void do_read(struct server *s, char **tok, int nt, int positional)
{
	uint64_t off = 0, count;
	int need = positional ? 5 : 4;
	if (nt != need || (positional && parse_u64(tok[1], &off)) || parse_u64(tok[need - 3], &count)) {
		bad(s, "PREAD offset count fault init | READ count fault init");
		return;
	}
	if (count > MAX_COUNT) {
		bad(s, "count too large for the agent");
		return;
	}
	if (decode_exact(s, tok[need - 1], (size_t)count)) {
		bad(s, "init bytes");
		return;
	}
	long long rc;
	int err = 0;
	if (strcmp(tok[need - 2], "-") != 0) {
		rc = -1;
		err = EOPNOTSUPP;
	} else {
		call_begin(s, s->olen);
		if (positional)
			fake_hang(off);
		rc = positional ? dev_pread(s->h->device, s->xfer, (size_t)count, off)
				: dev_read(s->h->device, s->xfer, (size_t)count);
		err = errno;
		call_end(s);
		if (!positional && rc > 0)
			s->pos += (uint64_t)rc;
	}
	out_status(s, rc, err);
	out_hex(s, s->xfer, (size_t)count);
	out_mem(s, " -\n", 3);
}

static void do_write(struct server *s, char **tok, int nt, int positional)
{
	uint64_t off = 0;
	size_t count;
	int need = positional ? 4 : 3;
	if (nt != need || (positional && parse_u64(tok[1], &off))) {
		bad(s, "PWRITE offset fault data | WRITE fault data");
		return;
	}
	if (decode_data(s, tok[need - 1], &count)) {
		bad(s, "data bytes");
		return;
	}
	if (strcmp(tok[need - 2], "-") != 0) {
		unsupported(s);
		return;
	}
	if (!positional)
		off = s->pos;
	if (!permits_write(&s->h->map, s->allow, off, count)) {
		s->refused++;
		out_str(s, "ERR 1 - -\n");
		return;
	}
	call_begin(s, s->olen);
	long long rc = positional ? dev_pwrite(s->h->device, s->xfer, count, off)
				  : dev_write(s->h->device, s->xfer, count);
	int err = errno;
	call_end(s);
	if (rc > 0) {
		uint64_t pos = off;
		const struct region *r = region_locate(&s->h->map, off, &pos);
		journal_record(s->journal, r ? r->index : UINT32_MAX, pos, s->xfer, (size_t)rc);
		if (!positional)
			s->pos += (uint64_t)rc;
	}
	out_status(s, rc, err);
	out_mem(s, "- -\n", 4);
}

static void do_seek(struct server *s, char **tok, int nt)
{
	int64_t off;
	int whence = nt == 3 && strcmp(tok[2], "set") == 0 ? SEEK_SET : nt == 3 && strcmp(tok[2], "cur") == 0 ? SEEK_CUR : -1;
	if (whence < 0 || parse_i64(tok[1], &off)) {
		bad(s, "SEEK offset set|cur");
		return;
	}
	call_begin(s, s->olen);
	off_t rc = lseek(s->h->device, (off_t)off, whence);
	int err = errno;
	call_end(s);
	if (rc >= 0)
		s->pos = (uint64_t)rc;
	out_status(s, rc, err);
	out_mem(s, "- -\n", 4);
}

static void do_info(struct server *s, char **tok, int nt)
{
	uint32_t index, argsz;
	if (nt != 3 || parse_u32(tok[1], &index) || parse_u32(tok[2], &argsz)) {
		bad(s, "INFO index argsz");
		return;
	}
	/* The kernel may write a capability chain after the fixed part, up to argsz. */
	size_t cap = argsz < sizeof(struct vfio_region_info) ? sizeof(struct vfio_region_info)
			 : argsz > (1u << 16) ? (1u << 16) : argsz;
	if (ensure_xfer(s, cap)) {
		bad(s, "out of memory");
		return;
	}
	memset(s->xfer, 0, cap);
	struct vfio_region_info *ri = (struct vfio_region_info *)(void *)s->xfer;
	ri->argsz = argsz;
	ri->index = index;
	call_begin(s, s->olen);
	int rc = ioctl(s->h->device, VFIO_DEVICE_GET_REGION_INFO, s->xfer);
	int err = errno;
	call_end(s);
	out_status(s, rc, err);
	out_u64(s, ri->offset);
	out_mem(s, ".", 1);
	out_u64(s, ri->size);
	out_mem(s, ".", 1);
	out_u64(s, ri->flags);
	out_mem(s, " -\n", 3);
}

static void do_regions(struct server *s)
{
	const struct region_map *m = &s->h->map;
	out_str(s, "OK ");
	out_u64(s, (uint64_t)m->n);
	out_mem(s, " ", 1);
	if (m->n == 0)
		out_mem(s, "-", 1);
	for (int i = 0; i < m->n; i++) {
		if (i)
			out_mem(s, ",", 1);
		out_u64(s, m->r[i].index);
		out_mem(s, ".", 1);
		out_u64(s, m->r[i].offset);
		out_mem(s, ".", 1);
		out_u64(s, m->r[i].size);
		out_mem(s, ".", 1);
		out_u64(s, m->r[i].flags);
	}
	out_mem(s, " -\n", 3);
}

static void do_device(struct server *s)
{
	char text[96];
	snprintf(text, sizeof(text), "OK 0 %04x.%04x.%u.%u -\n", s->h->vendor, s->h->device_id,
		 (unsigned)s->h->num_regions, (unsigned)s->h->flags);
	out_str(s, text);
}

/* Handles one request line (NUL-terminated, no newline). Returns 1 after QUIT. */
static int handle_line(struct server *s, char *line)
{
	char *tok[MAX_TOKENS];
	int nt = 0;
	for (char *p = line; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (nt == MAX_TOKENS) {
			nt++;
			break;
		}
		tok[nt++] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = 0;
	}
	if (nt == 0)
		return 0;
	if (nt > MAX_TOKENS) {
		bad(s, "too many fields");
		return 0;
	}
	const char *c = tok[0];
	if (strcmp(c, "PREAD") == 0)
		do_read(s, tok, nt, 1);
	else if (strcmp(c, "PWRITE") == 0)
		do_write(s, tok, nt, 1);
	else if (strcmp(c, "READ") == 0)
		do_read(s, tok, nt, 0);
	else if (strcmp(c, "WRITE") == 0)
		do_write(s, tok, nt, 0);
	else if (strcmp(c, "SEEK") == 0)
		do_seek(s, tok, nt);
	else if (strcmp(c, "INFO") == 0)
		do_info(s, tok, nt);
	else if (strcmp(c, "QUIT") == 0) {
		out_str(s, "OK 0 - -\n");
		return 1;
	} else if (strcmp(c, "JOURNAL") == 0) {
		out_str(s, "OK ");
		out_u64(s, s->journal->entries);
		out_mem(s, " ", 1);
		out_u64(s, s->journal->bytes);
		out_mem(s, " -\n", 3);
	} else if (strcmp(c, "REFUSED") == 0) {
		out_str(s, "OK ");
		out_u64(s, s->refused);
		out_mem(s, " - -\n", 5);
	} else if (strcmp(c, "REGIONS") == 0)
		do_regions(s);
	else if (strcmp(c, "DEVICE") == 0)
		do_device(s);
	else if (strcmp(c, "REOPEN") == 0) {
		call_begin(s, s->olen);
		int rc = vfio_reopen_device(s->h);
		int err = errno;
		call_end(s);
		s->pos = 0;
		out_status(s, rc, err);
		out_mem(s, "- -\n", 4);
	}
	else if (strcmp(c, "COMPACT") == 0) {
		if (nt != 2 || strcmp(tok[1], "1") != 0) {
			bad(s, "COMPACT 1");
		} else {
			out_str(s, "OK 1 - -\n");
			s->compact = 1;
		}
	}
	else if (strcmp(c, "RECOVER") == 0 || strcmp(c, "ATTACH") == 0 || strcmp(c, "DETACH") == 0 ||
		 strcmp(c, "RESOURCES") == 0 || strcmp(c, "RESET") == 0 || strcmp(c, "CONFIG") == 0)
		unsupported(s);
	else
		bad(s, "unknown request");
	return 0;
}

/* --- the loop ---------------------------------------------------------------------------- */

/* The watchdog thread: when one device system call has run for a tick or two (100 to 200 ms), it
 * writes out the answers of the requests before it, so a host whose batch hangs sees which request
 * hangs: the first one without an answer. */
static void *watchdog(void *arg)
{
	struct server *s = arg;
	uint64_t seen = 0;
	const struct timespec tick = { 0, 100 * 1000 * 1000 };
	for (;;) {
		nanosleep(&tick, NULL);
		uint64_t now = atomic_load_explicit(&s->state, memory_order_acquire);
		/* The same call as at the last tick, still running: claim it (fails if it just ended). */
		if ((now & CALL_IN) && now == seen &&
		    atomic_compare_exchange_strong_explicit(&s->state, &now, now | CALL_CLAIMED, memory_order_acq_rel,
							    memory_order_acquire)) {
			while (s->sent < s->settled) {
				ssize_t n = write(s->out, s->ob + s->sent, s->settled - s->sent);
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					break;
				s->sent += (size_t)n;
			}
			atomic_fetch_and_explicit(&s->state, ~(uint64_t)CALL_CLAIMED, memory_order_release);
		}
		seen = now;
	}
	return NULL;
}

static volatile sig_atomic_t stop_signal;
static void on_stop(int sig) { stop_signal = sig; }

int serve(struct server *s)
{
	const union { uint16_t v; unsigned char b[2]; } probe = { .v = 1 };
	sigset_t block, waitmask;
	struct sigaction sa;
	size_t icap = IN_START, ilen = 0;
	size_t seen = 0;    /* leading bytes of the buffer already known to hold no newline */
	int discarding = 0; /* inside a line longer than MAX_LINE */
	unsigned char *ib = malloc(icap);

	if (!ib)
		return -1;
	tables_init();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* SIGTERM/SIGINT are taken only while waiting for input, so a request is never cut in half. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);

	/* The watchdog starts with SIGTERM/SIGINT blocked, so they reach this thread's ppoll only. */
	pthread_t wd;
	atomic_store(&s->state, 0);
	s->watch = pthread_create(&wd, NULL, watchdog, s) == 0;
#ifdef ISMKIT_AGENT_MUTANT_NO_WATCHDOG
	s->watch = 0; /* calls are never marked as running: the answers wait for the hanging call */
#endif
	if (s->watch)
		pthread_detach(wd);

	s->seek_ok = lseek(s->h->device, 0, SEEK_CUR) >= 0;
	out_str(s, "ISMKIT-WIRE 1 ");
	out_str(s, probe.b[0] == 1 ? "little " : "big ");
	out_u64(s, s->seek_ok ? 16 : 0);
	out_str(s, " vfio-agent\n");

	for (;;) {
		size_t start = 0;
		unsigned char *nl;
		for (;;) {
			if (s->compact) {
				size_t used = compact_frame(s, ib + start, ilen - start);
				if (used == 0)
					break; /* an incomplete frame: wait for the rest */
				start += used;
				seen = 0;
			} else {
				nl = memchr(ib + start + seen, '\n', ilen - start - seen);
				if (!nl)
					break;
				char *line = (char *)ib + start;
				seen = 0;
				size_t len = (size_t)(nl - (ib + start));
				start += len + 1;
				if (discarding) {
					discarding = 0;
					bad(s, "line too long");
					continue;
				}
				if (len && line[len - 1] == '\r')
					len--;
				line[len] = 0;
				if (handle_line(s, line)) {
					out_flush(s);
					free(ib);
					return s->oom ? -1 : 0;
				}
			}
			if (s->oom) {
				out_flush(s);
				free(ib);
				return -1;
			}
			if (s->olen >= OUT_FLUSH && out_flush(s))
				goto gone;
		}
		memmove(ib, ib + start, ilen - start);
		ilen -= start;
		seen = s->compact ? 0 : ilen;
		if (ilen + 1 >= icap) {
			if (icap >= MAX_LINE) {
				discarding = 1;
				ilen = seen = 0;
			} else {
				unsigned char *p = realloc(ib, icap * 2);
				if (!p) {
					discarding = 1;
					ilen = seen = 0;
				} else {
					ib = p;
					icap *= 2;
				}
			}
		}
		/* Nothing complete is left. More input already waiting (a pipelining host) is taken first,
		 * so that the answers go out in fewer, larger writes; otherwise everything answered so far
		 * is written out before waiting for more. */
		struct pollfd pfd = { .fd = s->in, .events = POLLIN };
		const struct timespec now = { 0, 0 };
		int pr = ppoll(&pfd, 1, &now, &waitmask); /* with SIGTERM/SIGINT let in, as below */
		if (pr < 0 && errno == EINTR && stop_signal) {
			out_flush(s); /* the requests taken so far are answered */
			goto gone;
		}
		if (pr <= 0 || !(pfd.revents & POLLIN) || (pfd.revents & (POLLHUP | POLLERR))) {
			/* Nothing to read now, or a hang-up: a virtio port whose host end is not connected
			 * yet polls as readable and hung up and reads as end of input, while writing waits
			 * for the host; so the answers (the greeting) go out first, as before any wait. */
			if (out_flush(s))
				goto gone;
			pr = ppoll(&pfd, 1, NULL, &waitmask);
			if (pr < 0 && errno == EINTR && stop_signal)
				goto gone;
			if (pr < 0 && errno != EINTR)
				goto gone;
			if (pr <= 0)
				continue;
		}
		ssize_t n = read(s->in, ib + ilen, icap - ilen - 1); /* one byte stays free for a NUL */
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			/* End of input: a last line without a newline still counts; every answer goes out. */
			if (ilen && !discarding && !s->compact) {
				ib[ilen] = 0;
				if (ib[ilen - 1] == '\r')
					ib[ilen - 1] = 0;
				handle_line(s, (char *)ib);
			}
			out_flush(s);
			goto gone;
		}
		ilen += (size_t)n;
	}
gone:
	free(ib);
	return s->oom ? -1 : 0;
}
