/*
 * wire.c: the host side of ismkit's line-based wire protocol, version 1 (docs/wire-protocol.md).
 * One request line in, one response line out, each response written out before the next request
 * runs (so a client that sends many requests before reading knows which one a crash cut off);
 * traces ride along with every response. Feature `carry`: CARRY and the `=` initial buffer.
 */
#include "wire.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void out_flush(void) { fflush(stdout); }

void ismkit_wire_broken(enum ismkit_broken_kind kind, const char *fmt, ...)
{
	va_list ap;
	char msg[512];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	printf("BROKEN %s %s\n", ismkit_broken_word(kind), msg);
	out_flush();
	_exit(3);
}

/* --- small parsing helpers ------------------------------------------------------------- */

/* Hex digit values, -1 for anything else. */
static signed char hex_table[256];

static void hex_table_init(void)
{
	for (int c = 0; c < 256; c++)
		hex_table[c] = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The value of a hex digit, or -1 (after hex_table_init). */
static inline int hexval(int c) { return hex_table[(unsigned char)c]; }

/* Decodes `tok` ('-' or hex) into buf of exactly n bytes; '-' means zeros. 0 on success. */
static int parse_bytes(const char *tok, unsigned char *buf, size_t n)
{
	if (strcmp(tok, "-") == 0) {
		memset(buf, 0, n);
		return 0;
	}
	if (strlen(tok) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int h = hexval(tok[2 * i]), l = hexval(tok[2 * i + 1]);
		if (h < 0 || l < 0)
			return -1;
		buf[i] = (unsigned char)(h << 4 | l);
	}
	return 0;
}

static int parse_fault(const char *tok, struct ismkit_fault *f)
{
	memset(f, 0, sizeof(*f));
	if (strcmp(tok, "-") == 0) {
		f->kind = ISMKIT_FAULT_NONE;
		return 0;
	}
	if (tok[0] == 'A' && tok[1] == 0) {
		f->kind = ISMKIT_FAULT_ALLOCATION;
		return 0;
	}
	if (tok[0] == 'U') {
		char *end;
		f->kind = ISMKIT_FAULT_USER_BUFFER;
		f->from = strtoll(tok + 1, &end, 10);
		return *end ? -1 : 0;
	}
	if (tok[0] == 'H') {
		char *end;
		f->kind = ISMKIT_FAULT_HANDLE_CHANGE;
		f->nth = (uint32_t)strtoul(tok + 1, &end, 10);
		return *end || end == tok + 1 ? -1 : 0;
	}
	if (tok[0] == 'D') {
		char *end;
		f->kind = ISMKIT_FAULT_DEVICE;
		f->nth = (uint32_t)strtoul(tok + 1, &end, 10);
		if (*end != ':')
			return -1;
		f->err = (int32_t)strtol(end + 1, &end, 10);
		return *end ? -1 : 0;
	}
	return -1;
}

/* A response is built here and written with one fwrite: no printf on the hot path (under
 * qemu-user every formatted character is emulated). */
struct out_buf {
	char *p;
	size_t len, cap;
};

static struct out_buf out;

static void out_reserve(size_t more)
{
	if (out.len + more <= out.cap)
		return;
	size_t cap = out.cap ? out.cap : 4096;
	while (cap < out.len + more)
		cap *= 2;
	char *p = realloc(out.p, cap);
	if (!p)
		ismkit_wire_broken(ISMKIT_BROKEN_HARNESS, "out of memory for a response of %zu bytes", out.len + more);
	out.p = p;
	out.cap = cap;
}

static void out_char(char c)
{
	out_reserve(1);
	out.p[out.len++] = c;
}

static void out_text(const char *t)
{
	size_t n = strlen(t);
	out_reserve(n);
	memcpy(out.p + out.len, t, n);
	out.len += n;
}

static void out_u64(unsigned long long v)
{
	char d[24];
	int n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_reserve((size_t)n);
	while (n)
		out.p[out.len++] = d[--n];
}

static void put_hex(const unsigned char *buf, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	if (n == 0) {
		out_char('-');
		return;
	}
	out_reserve(2 * n);
	char *o = out.p + out.len;
	for (size_t i = 0; i < n; i++) {
		o[2 * i] = digits[buf[i] >> 4];
		o[2 * i + 1] = digits[buf[i] & 15];
	}
	out.len += 2 * n;
}

static void put_trace(const struct ismkit_api *api, struct ismkit_access *a)
{
	struct ismkit_event ev[256];
	int first = 1;
	size_t n;
	if (!a) {
		out_char('-');
		return;
	}
	while ((n = api->take_trace(a, ev, 256)) > 0) {
		for (size_t i = 0; i < n; i++) {
			char kind = ev[i].kind == ISMKIT_EVENT_LOAD ? 'L'
				    : ev[i].kind == ISMKIT_EVENT_STORE_BLOCK ? 'B' : 'S';
			if (!first)
				out_char(',');
			out_char(kind);
			out_u64(ev[i].bar);
			out_char('.');
			out_u64(ev[i].position);
			out_char('.');
			out_u64(ev[i].size);
			out_char('.');
			out_u64(ev[i].handle);
			first = 0;
		}
		if (n < 256)
			break;
	}
	if (first)
		out_char('-');
}

/* Writes one response: status value data trace, and flushes it before the next request runs.
 * A negative rc is an errno. */
static void respond(const struct ismkit_api *api, struct ismkit_access *a, int64_t rc,
		    const unsigned char *data, size_t n, const char *text)
{
	out.len = 0;
	if (rc < 0) {
		out_text("ERR ");
		out_u64((unsigned long long)-rc);
	} else {
		out_text("OK ");
		out_u64((unsigned long long)rc);
	}
	out_char(' ');
	if (text)
		out_text(text);
	else
		put_hex(data, n);
	out_char(' ');
	put_trace(api, a);
	out_char('\n');
	fwrite(out.p, 1, out.len, stdout);
	out_flush();
}

static void protocol_error(const char *what)
{
	printf("BAD %s\n", what);
	out_flush();
}

/* Reads one line of any length; NULL at end of input. */
static char *read_line(char **buf, size_t *cap)
{
	ssize_t n = getline(buf, cap, stdin);
	if (n < 0)
		return NULL;
	while (n > 0 && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r'))
		(*buf)[--n] = 0;
	return *buf;
}

#define MAX_TOKENS 16

/* PAIR (docs/wire-protocol.md): defined by the driver-source harness's concurrency.c only. */
extern void ismkit_wire_pair(const struct ismkit_api *api, struct ismkit_access *a, char **tok, int nt) __attribute__((weak));

/* The client's read buffer as a client that reuses one buffer for its reads sees it (feature
 * `carry`): CARRY sets it; a read whose initial buffer is `=` starts from its first `count`
 * bytes after the 16 bytes behind them are set to the guard value 0xe7, and leaves its buffer in it. */
struct carry {
	unsigned char *bytes;
	size_t len;
};

#define CARRY_GUARD_SIZE 16
#define CARRY_GUARD_BYTE 0xe7

/* Makes the carry at least `need` bytes long (new bytes zero); 0 when memory ran out. */
static int carry_reserve(struct carry *c, size_t need)
{
	if (need <= c->len)
		return 1;
	unsigned char *p = realloc(c->bytes, need);
	if (!p)
		return 0;
	memset(p + c->len, 0, need - c->len);
	c->bytes = p;
	c->len = need;
	return 1;
}

/* Grows the transfer buffer to at least `need` bytes; 0 when memory ran out (buffer freed). */
static int ensure_capacity(unsigned char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 1;
	free(*buf);
	*buf = malloc(need);
	*cap = *buf ? need : 0;
	return *buf != NULL;
}

/* --- the benchmark loop (ISMKIT_WIRE_LOOP=FILE) ------------------------------------------ */

/* One request of a loop script, parsed before the loop starts. */
struct loop_op {
	enum { L_PREAD, L_READ, L_PWRITE, L_WRITE, L_SEEK, L_INFO, L_RECOVER, L_ATTACH, L_DETACH, L_RESOURCES, L_RESET } kind;
	uint64_t off;
	size_t count;
	int arg;
	struct ismkit_fault fault;
	unsigned char *data;
};

/*
 * The baseline of `ismkit bench driver-source`: runs the requests of FILE (a CONFIG line, then
 * request lines of this protocol, RESET between sequences) through the same functions the
 * protocol calls, with no parsing, encoding or checking inside the timed loop (the trace is
 * drained, as every response drains it). The script runs again and again until at least
 * ISMKIT_WIRE_LOOP_SECONDS (default 1) have passed; prints `LOOP <operations> <nanoseconds>`
 * (RESET lines are not counted as operations) and returns 0, or 2 on a bad script.
 */
static int run_loop(const struct ismkit_api *api, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	struct ismkit_config config;
	struct loop_op *ops = NULL;
	size_t n = 0, ops_cap = 0, counted = 0, xfer_cap = 16;
	int have_config = 0;
	if (!f) {
		fprintf(stderr, "loop: cannot open %s\n", path);
		return 2;
	}
	for (ssize_t len; (len = getline(&line, &cap, f)) >= 0;) {
		char *tok[MAX_TOKENS];
		int nt = 0;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		for (char *save = NULL, *t = strtok_r(line, " ", &save); t && nt < MAX_TOKENS; t = strtok_r(NULL, " ", &save))
			tok[nt++] = t;
		if (nt == 0)
			continue;
		if (strcmp(tok[0], "CONFIG") == 0 && nt == 12 && !have_config) {
			memset(&config, 0, sizeof(config));
			for (int i = 0; i < 6; i++)
				config.bar_lengths[i] = strtoull(tok[1 + i], NULL, 10);
			config.config_size = strtoull(tok[7], NULL, 10);
			config.maxstbl = strtoull(tok[8], NULL, 10);
			config.peer_maxstbl = strtoull(tok[9], NULL, 10);
			config.content_seed = strtoull(tok[10], NULL, 10);
			config.strict_store_blocks = atoi(tok[11]);
			have_config = 1;
			continue;
		}
		if (n == ops_cap) {
			ops_cap = ops_cap ? 2 * ops_cap : 1024;
			ops = realloc(ops, ops_cap * sizeof(*ops));
			if (!ops) {
				fprintf(stderr, "loop: out of memory\n");
				return 2;
			}
		}
		struct loop_op *o = &ops[n];
		memset(o, 0, sizeof(*o));
		const char *c = tok[0];
		int ok = have_config;
		if ((strcmp(c, "PREAD") == 0 && nt == 5) || (strcmp(c, "READ") == 0 && nt == 4)) {
			int p = c[0] == 'P';
			o->kind = p ? L_PREAD : L_READ;
			o->off = p ? strtoull(tok[1], NULL, 10) : 0;
			o->count = strtoull(tok[p ? 2 : 1], NULL, 10);
			ok = ok && parse_fault(tok[p ? 3 : 2], &o->fault) == 0;
		} else if ((strcmp(c, "PWRITE") == 0 && nt == 4) || (strcmp(c, "WRITE") == 0 && nt == 3)) {
			int p = c[0] == 'P';
			const char *hex = tok[p ? 3 : 2];
			o->kind = p ? L_PWRITE : L_WRITE;
			o->off = p ? strtoull(tok[1], NULL, 10) : 0;
			o->count = strcmp(hex, "-") == 0 ? 0 : strlen(hex) / 2;
			o->data = malloc(o->count + 1);
			ok = ok && o->data && parse_fault(tok[p ? 2 : 1], &o->fault) == 0 && parse_bytes(hex, o->data, o->count) == 0;
		} else if (strcmp(c, "SEEK") == 0 && nt == 3) {
			o->kind = L_SEEK;
			o->off = (uint64_t)strtoll(tok[1], NULL, 10);
			o->arg = strcmp(tok[2], "cur") == 0;
		} else if (strcmp(c, "INFO") == 0 && nt == 3) {
			o->kind = L_INFO;
			o->off = strtoul(tok[1], NULL, 10);
			o->count = strtoul(tok[2], NULL, 10);
		} else if (strcmp(c, "RECOVER") == 0) {
			o->kind = L_RECOVER;
		} else if (strcmp(c, "ATTACH") == 0 && nt == 2) {
			o->kind = L_ATTACH;
			o->arg = atoi(tok[1]);
		} else if (strcmp(c, "DETACH") == 0) {
			o->kind = L_DETACH;
		} else if (strcmp(c, "RESOURCES") == 0) {
			o->kind = L_RESOURCES;
		} else if (strcmp(c, "RESET") == 0) {
			o->kind = L_RESET;
		} else {
			ok = 0;
		}
		if (!ok) {
			fprintf(stderr, "loop: %s: bad line %zu (CONFIG first, then requests)\n", path, n + 1);
			return 2;
		}
		if (o->count + 1 > xfer_cap)
			xfer_cap = o->count + 1;
		counted += o->kind != L_RESET;
		n++;
	}
	fclose(f);
	free(line);
	if (!have_config || counted == 0) {
		fprintf(stderr, "loop: %s: no CONFIG or no operations\n", path);
		return 2;
	}
	const char *secs = getenv("ISMKIT_WIRE_LOOP_SECONDS");
	double min_seconds = secs ? atof(secs) : 1.0;
	unsigned char *xfer = calloc(1, xfer_cap);
	struct ismkit_event ev[256];
	struct ismkit_region_info ri;
	struct ismkit_resources r;
	int err = 0;
	uint64_t total = 0, sink = 0;
	struct timespec t0, t1;
	struct ismkit_access *a = api->open(&config, &err);
	if (!a || !xfer) {
		fprintf(stderr, "loop: cannot open the device (errno %d)\n", err);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double elapsed = 0;
	do {
		for (size_t i = 0; i < n; i++) {
			struct loop_op *o = &ops[i];
			int64_t rc = 0;
			switch (o->kind) {
			case L_PREAD: rc = api->pread(a, xfer, o->count, o->off, &o->fault); break;
			case L_READ: rc = api->read(a, xfer, o->count, &o->fault); break;
			case L_PWRITE: rc = api->pwrite(a, o->data, o->count, o->off, &o->fault); break;
			case L_WRITE: rc = api->write(a, o->data, o->count, &o->fault); break;
			case L_SEEK: rc = api->seek(a, (int64_t)o->off, o->arg); break;
			case L_INFO: rc = api->region_info(a, (uint32_t)o->off, (uint32_t)o->count, &ri); break;
			case L_RECOVER: rc = api->recover_handle(a); break;
			case L_ATTACH: rc = api->attach_peer(a, o->arg); break;
			case L_DETACH: rc = api->detach_peer(a); break;
			case L_RESOURCES: rc = api->resources(a, &r); break;
			case L_RESET:
				api->close(a);
				a = api->open(&config, &err);
				if (!a) {
					fprintf(stderr, "loop: cannot open the device again (errno %d)\n", err);
					return 2;
				}
				continue;
			}
			sink += (uint64_t)rc;
			while (api->take_trace(a, ev, 256) == 256)
				;
		}
		total += counted;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	} while (elapsed < min_seconds);
	api->close(a);
	printf("LOOP %llu %.0f %llu\n", (unsigned long long)total, elapsed * 1e9, (unsigned long long)(sink & 1));
	out_flush();
	for (size_t i = 0; i < n; i++)
		free(ops[i].data);
	free(ops);
	free(xfer);
	return 0;
}

int ismkit_wire_main(const struct ismkit_api *api, const char *impl_name)
{
	const union { uint16_t v; unsigned char b[2]; } probe = { .v = 1 };
	const char *order = probe.b[0] == 1 ? "little" : "big";
	struct ismkit_access *a = NULL;
	struct ismkit_config config; /* the CONFIG request's device, for RESET */
	char *line = NULL;
	size_t cap = 0;
	unsigned char *xfer = NULL;
	size_t xfer_cap = 0;

	if (api->abi_version() != ISMKIT_ABI_VERSION) {
		printf("BROKEN harness ABI version %d, expected %d\n", api->abi_version(), ISMKIT_ABI_VERSION);
		out_flush();
		return 3;
	}
	struct carry carry = { NULL, 0 };

	hex_table_init();
	const char *loop = getenv("ISMKIT_WIRE_LOOP");
	if (loop && *loop)
		return run_loop(api, loop);
	printf("ISMKIT-WIRE %d %s %u %s carry,pattern\n", ISMKIT_WIRE_VERSION, order, (unsigned)api->capabilities(),
	       impl_name);
	out_flush();

	while (read_line(&line, &cap)) {
		char *tok[MAX_TOKENS];
		int nt = 0;
		for (char *save = NULL, *t = strtok_r(line, " ", &save); t && nt < MAX_TOKENS;
		     t = strtok_r(NULL, " ", &save))
			tok[nt++] = t;
		if (nt == 0)
			continue;
		const char *cmd = tok[0];
		struct ismkit_fault fault;

		if (strcmp(cmd, "QUIT") == 0) {
			struct ismkit_resources r = { 0, 0 };
			char text[64];
			int rc = 0;
			if (a) {
				api->close(a);
				a = NULL;
			}
			snprintf(text, sizeof(text), "-");
			(void)r;
			respond(api, NULL, rc, NULL, 0, text);
			break;
		}
		if (strcmp(cmd, "CONFIG") == 0) {
			struct ismkit_config c;
			int err = 0;
			if (nt != 12 || a) {
				protocol_error("CONFIG takes 11 numbers and comes once");
				continue;
			}
			memset(&c, 0, sizeof(c));
			for (int i = 0; i < 6; i++)
				c.bar_lengths[i] = strtoull(tok[1 + i], NULL, 10);
			c.config_size = strtoull(tok[7], NULL, 10);
			c.maxstbl = strtoull(tok[8], NULL, 10);
			c.peer_maxstbl = strtoull(tok[9], NULL, 10);
			c.content_seed = strtoull(tok[10], NULL, 10);
			c.strict_store_blocks = atoi(tok[11]);
			config = c;
			a = api->open(&c, &err);
			respond(api, a, a ? 0 : -(err ? err : EIO), NULL, 0, "-");
			continue;
		}
		if (strcmp(cmd, "RESET") == 0) {
			/* The device as a fresh process would have it after the same CONFIG: close, then
			 * open again. The answer carries the resource counts from just before (what
			 * RESOURCES would have said), so a leak found before the reset is not lost. */
			struct ismkit_resources r = { 0, 0 };
			char text[64];
			int err = 0;
			if (!a) {
				protocol_error("RESET needs an open device (CONFIG first)");
				continue;
			}
			if (api->resources(a, &r) == 0)
				snprintf(text, sizeof(text), "%lld.%lld", (long long)r.live_pools,
					 (long long)r.leaked_objects);
			else
				snprintf(text, sizeof(text), "-");
			api->close(a);
			a = api->open(&config, &err);
			respond(api, a, a ? 0 : -(err ? err : EIO), NULL, 0, text);
			continue;
		}
		if (strcmp(cmd, "CARRY") == 0) {
			const char *hex = nt == 2 ? tok[1] : "";
			size_t n = strcmp(hex, "-") == 0 ? 0 : strlen(hex) / 2;
			if (nt != 2 || !carry_reserve(&carry, n) || parse_bytes(hex, carry.bytes, n)) {
				protocol_error("CARRY data");
				continue;
			}
			if (carry.len > n)
				memset(carry.bytes + n, 0, carry.len - n);
			respond(api, a, 0, NULL, 0, "-");
			continue;
		}
		if (!a) {
			protocol_error("CONFIG first");
			continue;
		}
		if (strcmp(cmd, "PREAD") == 0 || strcmp(cmd, "READ") == 0) {
			int positional = cmd[0] == 'P';
			int need = positional ? 5 : 4;
			if (nt != need) {
				protocol_error("PREAD offset count fault init | READ count fault init");
				continue;
			}
			uint64_t off = positional ? strtoull(tok[1], NULL, 10) : 0;
			uint64_t count = strtoull(tok[positional ? 2 : 1], NULL, 10);
			if (parse_fault(tok[positional ? 3 : 2], &fault)) {
				protocol_error("fault");
				continue;
			}
			if (!ensure_capacity(&xfer, &xfer_cap, count + 1)) {
				protocol_error("count too large for this host");
				continue;
			}
			const char *init = tok[positional ? 4 : 3];
			int carried = strcmp(init, "=") == 0;
			if (carried) {
				if (!carry_reserve(&carry, count + CARRY_GUARD_SIZE)) {
					protocol_error("count too large for this host");
					continue;
				}
				memset(carry.bytes + count, CARRY_GUARD_BYTE, CARRY_GUARD_SIZE);
				memcpy(xfer, carry.bytes, count);
			} else if (parse_bytes(init, xfer, count)) {
				protocol_error("init bytes");
				continue;
			}
			int64_t rc = positional ? api->pread(a, xfer, count, off, &fault)
						: api->read(a, xfer, count, &fault);
			if (carried)
				memcpy(carry.bytes, xfer, count);
			respond(api, a, rc, xfer, count, NULL);
			continue;
		}
		if (strcmp(cmd, "PWRITE") == 0 || strcmp(cmd, "WRITE") == 0) {
			int positional = cmd[0] == 'P';
			int need = positional ? 4 : 3;
			if (nt != need) {
				protocol_error("PWRITE offset fault data | WRITE fault data");
				continue;
			}
			uint64_t off = positional ? strtoull(tok[1], NULL, 10) : 0;
			const char *hex = tok[positional ? 3 : 2];
			size_t count = strcmp(hex, "-") == 0 ? 0 : strlen(hex) / 2;
			unsigned pattern = 0;
			int patterned = hex[0] == '*';
			if (patterned) {
				char *end;
				pattern = (unsigned)strtoul(hex + 1, &end, 10);
				count = *end == '.' ? strtoull(end + 1, &end, 10) : 0;
				if (*end || pattern > 255 || hex[1] == '.') {
					protocol_error("pattern data *pattern.count");
					continue;
				}
			}
			if (parse_fault(tok[positional ? 2 : 1], &fault)) {
				protocol_error("fault");
				continue;
			}
			if (!ensure_capacity(&xfer, &xfer_cap, count + 1)) {
				protocol_error("count too large for this host");
				continue;
			}
			if (patterned) {
				for (size_t i = 0; i < count; i++)
					xfer[i] = (unsigned char)((unsigned char)(pattern + (unsigned char)(i * 37)) ^ (unsigned char)(i >> 8));
			} else if (parse_bytes(hex, xfer, count)) {
				protocol_error("data bytes");
				continue;
			}
			int64_t rc = positional ? api->pwrite(a, xfer, count, off, &fault)
						: api->write(a, xfer, count, &fault);
			respond(api, a, rc, NULL, 0, "-");
			continue;
		}
		if (strcmp(cmd, "SEEK") == 0 && nt == 3) {
			int whence = strcmp(tok[2], "cur") == 0 ? 1 : 0;
			int64_t rc = api->seek(a, strtoll(tok[1], NULL, 10), whence);
			respond(api, a, rc, NULL, 0, "-");
			continue;
		}
		if (strcmp(cmd, "INFO") == 0 && nt == 3) {
			struct ismkit_region_info ri;
			char text[96];
			memset(&ri, 0, sizeof(ri));
			int rc = api->region_info(a, (uint32_t)strtoul(tok[1], NULL, 10),
						  (uint32_t)strtoul(tok[2], NULL, 10), &ri);
			snprintf(text, sizeof(text), "%llu.%llu.%u", (unsigned long long)ri.offset,
				 (unsigned long long)ri.size, (unsigned)ri.flags);
			respond(api, a, rc, NULL, 0, text);
			continue;
		}
		if (strcmp(cmd, "RECOVER") == 0) {
			respond(api, a, api->recover_handle(a), NULL, 0, "-");
			continue;
		}
		if (strcmp(cmd, "ATTACH") == 0 && nt == 2) {
			respond(api, a, api->attach_peer(a, atoi(tok[1])), NULL, 0, "-");
			continue;
		}
		if (strcmp(cmd, "DETACH") == 0) {
			respond(api, a, api->detach_peer(a), NULL, 0, "-");
			continue;
		}
		if (strcmp(cmd, "RESOURCES") == 0) {
			struct ismkit_resources r = { 0, 0 };
			char text[64];
			int rc = api->resources(a, &r);
			snprintf(text, sizeof(text), "%lld.%lld", (long long)r.live_pools,
				 (long long)r.leaked_objects);
			respond(api, a, rc, NULL, 0, text);
			continue;
		}
		if (strcmp(cmd, "PAIR") == 0 && ismkit_wire_pair) {
			ismkit_wire_pair(api, a, tok, nt);
			continue;
		}
		protocol_error("unknown request");
	}
	if (a)
		api->close(a);
	free(line);
	free(xfer);
	free(carry.bytes);
	return 0;
}
