/*
 * wire.c: the host side of ismkit's line-based wire protocol, version 1 (docs/wire-protocol.md).
 * One request line in, one response line out; traces ride along with every response. Answers
 * are kept in a buffer and written when input runs dry (or the buffer fills), and every way the
 * process can stop in the middle of a request writes the answers before it first (a fatal
 * signal, a sanitizer's death, a BROKEN exit, and a request that runs longer than
 * WATCHDOG_MS), so a client that sends many requests before reading knows which one a crash,
 * hang or sanitizer report cut off. Feature `carry`: CARRY and the `=` initial buffer.
 */
#include "wire.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* --- small parsing helpers ------------------------------------------------------------- */

static void out_flush(void) { fflush(stdout); }

/* strcmp(t, word) == 0, without a library call (under qemu-user each one is costly). */
static inline int is(const char *t, const char *word)
{
	while (*word && *t == *word)
		t++, word++;
	return *t == *word;
}

/* Splits `line` at runs of spaces in place, as strtok_r with " " does; the number of tokens
 * (at most max). */
static int split(char *line, char **tok, int max)
{
	int nt = 0;
	char *p = line;
	while (nt < max) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		tok[nt++] = p;
		while (*p && *p != ' ')
			p++;
		if (!*p)
			break;
		*p++ = 0;
	}
	return nt;
}

/* A decimal number (an optional '-' first), as strtoull / strtoll read it but without their
 * locale and base handling (under qemu-user they are a good part of a request's cost). */
static unsigned long long parse_dec(const char *t, char **end)
{
	int neg = *t == '-';
	unsigned long long v = 0;
	t += neg;
	while (*t >= '0' && *t <= '9')
		v = v * 10 + (unsigned long long)(*t++ - '0');
	if (end)
		*end = (char *)t;
	return neg ? (unsigned long long)-(long long)v : v;
}

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
int ismkit_wire_parse_bytes(const char *tok, unsigned char *buf, size_t n)
{
	if (tok[0] == '-' && tok[1] == 0) {
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

void ismk_config_from_args(char **args, struct ismkit_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (int i = 0; i < 6; i++)
		cfg->bar_lengths[i] = strtoull(args[i], NULL, 10);
	cfg->config_size = strtoull(args[6], NULL, 10);
	cfg->maxstbl = strtoull(args[7], NULL, 10);
	cfg->peer_maxstbl = strtoull(args[8], NULL, 10);
	cfg->content_seed = strtoull(args[9], NULL, 10);
	cfg->strict_store_blocks = atoi(args[10]);
}

int ismkit_wire_parse_config(char **args, int n, struct ismkit_config *cfg)
{
	if (n != ISMKIT_WIRE_CONFIG_NUMBERS && n != ISMKIT_WIRE_CONFIG_NUMBERS + 1 + ISMKIT_REGION_COUNT)
		return -1;
	ismk_config_from_args(args, cfg);
	if (n == ISMKIT_WIRE_CONFIG_NUMBERS)
		return 0;
	cfg->region_span = strtoull(args[ISMKIT_WIRE_CONFIG_NUMBERS], NULL, 10);
	for (int i = 0; i < ISMKIT_REGION_COUNT; i++)
		cfg->region_bases[i] = strtoull(args[ISMKIT_WIRE_CONFIG_NUMBERS + 1 + i], NULL, 10);
	return cfg->region_span ? 0 : -1;
}

int ismkit_wire_parse_fault(const char *tok, struct ismkit_fault *f)
{
	memset(f, 0, sizeof(*f));
	if (tok[0] == '-' && tok[1] == 0) {
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
		f->from = (int64_t)parse_dec(tok + 1, &end);
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
		f->nth = (uint32_t)parse_dec(tok + 1, &end);
		if (*end != ':')
			return -1;
		f->err = (int32_t)parse_dec(end + 1, &end);
		return *end ? -1 : 0;
	}
	return -1;
}

/* --- answers: buffered, and written before any way of stopping ------------------------------ */

/*
 * Responses are built in `out` after the `committed` bytes of earlier answers that are not
 * written yet. No printf on the hot path (under qemu-user every formatted character is
 * emulated), and one write(2) per batch of answers instead of one per answer.
 *
 * Who may write the committed answers: the main thread whenever it is not running a request
 * (state IDLE); while it runs one (RUNNING), the committed bytes stay put and whoever stops the
 * process (a fatal signal handler, the sanitizer's death callback, ismkit_wire_broken) or the
 * watchdog thread takes them (RUNNING -> TAKEN) and writes them exactly once; the main thread,
 * when the request returns, drops what was taken and goes on.
 */
struct out_buf {
	char *volatile p;
	size_t len, cap;
	volatile size_t committed;
};

static struct out_buf out;

enum { W_IDLE, W_RUNNING, W_TAKEN };
static _Atomic int wire_state = W_IDLE;
static _Atomic int taken_written;     /* set once the taker has written the taken bytes */
static _Atomic unsigned long wire_seq; /* requests started so far (the watchdog's clock) */

/* Answers kept back at most (bytes) before they are written without waiting for input to run dry. */
#define OUT_FLUSH_AT (64 * 1024)
/* A request that runs longer than this has the answers before it written (a hang names it). */
#define WATCHDOG_MS 50

/* write(2) all of it (async-signal-safe); gives up when the other side is gone. */
static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (!(w < 0 && errno == EINTR)) {
			return;
		}
	}
}

/* Main thread, not running a request: writes the committed answers and drops them. */
static void out_write_committed(void)
{
	size_t c = out.committed;
	if (c == 0)
		return;
	write_all(1, out.p, c);
	out.committed = 0;
	if (out.len > c)
		memmove(out.p, out.p + c, out.len - c);
	out.len -= c;
}

/* Main thread, before an answer: what the implementation printed to stdout while it ran (stray
 * output, a protocol error the client must see in its place) goes out after the answers before
 * it and before this one, as it would with every answer written at once. */
static void out_stray_output(void)
{
	if (__fpending(stdout) == 0)
		return;
	out_write_committed();
	fflush(stdout);
}

/* The main thread starts running a request: from here the committed answers may be taken. */
static void run_begin(void)
{
	atomic_fetch_add(&wire_seq, 1);
	atomic_store(&wire_state, W_RUNNING);
}

/* The main thread is done running a request and owns the buffer again. */
static void run_end(void)
{
	int expected = W_RUNNING;
	if (atomic_compare_exchange_strong(&wire_state, &expected, W_IDLE) || expected == W_IDLE) {
		out_stray_output();
		return;
	}
	while (!atomic_load(&taken_written))
		sched_yield();
	/* The taker wrote the committed bytes: drop them. */
	size_t c = out.committed;
	out.committed = 0;
	if (out.len > c)
		memmove(out.p, out.p + c, out.len - c);
	out.len -= c;
	atomic_store(&taken_written, 0);
	atomic_store(&wire_state, W_IDLE);
	out_stray_output();
}

/*
 * Writes the committed answers from any thread or a signal handler, once: while a request runs,
 * or (`stopping`: the process ends right after) while the main thread builds an answer. When
 * another taker got there first, waits (at most about a second) until it wrote them.
 */
static void take_committed(int stopping)
{
	int expected = W_RUNNING;
	if (atomic_compare_exchange_strong(&wire_state, &expected, W_TAKEN) ||
	    (stopping && expected == W_IDLE && atomic_compare_exchange_strong(&wire_state, &expected, W_TAKEN))) {
		int saved = errno;
		write_all(1, out.p, out.committed);
		errno = saved;
		atomic_store(&taken_written, 1);
		return;
	}
	if (stopping && expected == W_TAKEN)
		for (int i = 0; i < 1000 && !atomic_load(&taken_written); i++) {
			struct timespec ms = { 0, 1000000 };
			nanosleep(&ms, NULL);
		}
}

/* Takes the answers of a request that has run longer than WATCHDOG_MS (so a hang names it). */
static void *watchdog(void *unused)
{
	(void)unused;
	unsigned long seen = 0;
	int ticks = 0;
	for (;;) {
		struct timespec tick = { 0, 10 * 1000000 };
		nanosleep(&tick, NULL);
		unsigned long seq = atomic_load(&wire_seq);
		if (seq != seen || atomic_load(&wire_state) != W_RUNNING) {
			seen = seq;
			ticks = 0;
		} else if (++ticks * 10 >= WATCHDOG_MS) {
			take_committed(0);
			ticks = 0;
		}
	}
	return NULL;
}

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS };
static struct sigaction previous_action[NSIG];

/* A fatal signal: write the answers, then what was there before (a sanitizer's handler) or the default. */
static void on_fatal_signal(int sig, siginfo_t *info, void *ctx)
{
	take_committed(1);
	struct sigaction *old = &previous_action[sig];
	if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
		old->sa_sigaction(sig, info, ctx);
		return;
	}
	if (!(old->sa_flags & SA_SIGINFO) && old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
		return;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* AddressSanitizer / LeakSanitizer: called before the process dies of a report. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void on_sanitizer_death(void) { take_committed(1); }

/* Installs the fatal-signal handlers, the sanitizer death callback and the watchdog thread. */
static void guard_answers(void)
{
	static char altstack[1 << 16];
	stack_t old_stack;
	if (sigaltstack(NULL, &old_stack) == 0 && (old_stack.ss_flags & SS_DISABLE)) {
		stack_t st = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };
		sigaltstack(&st, NULL);
	}
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_fatal_signal;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
		sigemptyset(&sa.sa_mask);
		sigaction(fatal_signals[i], &sa, &previous_action[fatal_signals[i]]);
	}
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(on_sanitizer_death);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	if (pthread_create(&t, NULL, watchdog, NULL) == 0)
		pthread_detach(t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void ismkit_wire_broken(enum ismkit_broken_kind kind, const char *fmt, ...)
{
	va_list ap;
	char msg[512], line[600];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	take_committed(1);
	fflush(stdout);
	int n = snprintf(line, sizeof(line), "BROKEN %s %s\n", ismkit_broken_word(kind), msg);
	write_all(1, line, n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	_exit(3);
}

static void out_reserve(size_t more)
{
	if (out.len + more <= out.cap)
		return;
	out_write_committed(); /* nothing committed stays behind a pointer realloc may move */
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

static inline void out_char(char c)
{
	if (out.len + 1 > out.cap)
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

/* Writes v in decimal at o (room for 20 digits); returns the end. */
static inline char *put_dec(char *o, unsigned long long v)
{
	char d[20];
	int n = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*o++ = d[--n];
	return o;
}

static void out_u64(unsigned long long v)
{
	out_reserve(20);
	out.len = (size_t)(put_dec(out.p + out.len, v) - out.p);
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
		out_reserve(n * 88); /* per event: a comma, a kind, 4 numbers of up to 20 digits, 3 dots */
		char *o = out.p + out.len;
		for (size_t i = 0; i < n; i++) {
			char kind = ev[i].kind == ISMKIT_EVENT_LOAD ? 'L'
				    : ev[i].kind == ISMKIT_EVENT_STORE_BLOCK ? 'B' : 'S';
			if (!first)
				*o++ = ',';
			*o++ = kind;
			o = put_dec(o, ev[i].bar);
			*o++ = '.';
			o = put_dec(o, ev[i].position);
			*o++ = '.';
			o = put_dec(o, ev[i].size);
			*o++ = '.';
			o = put_dec(o, ev[i].handle);
			first = 0;
		}
		out.len = (size_t)(o - out.p);
		if (n < 256)
			break;
	}
	if (first)
		out_char('-');
}

/* The answer just built is complete: it joins the answers to write. */
static void out_commit(void)
{
	out.committed = out.len;
	if (out.committed >= OUT_FLUSH_AT)
		out_write_committed();
}

/* Appends one response: status value data trace. A negative rc is an errno. */
static void respond(const struct ismkit_api *api, struct ismkit_access *a, int64_t rc,
		    const unsigned char *data, size_t n, const char *text)
{
	run_end();
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
	out_commit();
}

static void protocol_error(const char *what)
{
	run_end();
	out_text("BAD ");
	out_text(what);
	out_char('\n');
	out_commit();
}

/* Requests read but not yet run: in.p[start, len). */
static struct {
	char *p;
	size_t start, len, cap;
} in;

/* Reads one line of any length; NULL at end of input. Before it waits for input (input ran
 * dry), the answers so far are written. */
static char *read_line(void)
{
	size_t scanned = in.start;
	for (;;) {
		char *nl = in.len > scanned ? memchr(in.p + scanned, '\n', in.len - scanned) : NULL;
		if (nl) {
			char *line = in.p + in.start;
			size_t n = (size_t)(nl - line);
			in.start += n + 1;
			while (n > 0 && (line[n - 1] == '\r'))
				n--;
			line[n] = 0;
			return line;
		}
		scanned = in.len;
		if (in.start > 0) {
			memmove(in.p, in.p + in.start, in.len - in.start);
			in.len -= in.start;
			scanned -= in.start;
			in.start = 0;
		}
		if (in.len + 1 >= in.cap) {
			size_t cap = in.cap ? 2 * in.cap : 1 << 16;
			char *p = realloc(in.p, cap);
			if (!p)
				ismkit_wire_broken(ISMKIT_BROKEN_HARNESS, "out of memory for a request of %zu bytes", in.len);
			in.p = p;
			in.cap = cap;
		}
		out_write_committed();
		ssize_t r = read(0, in.p + in.len, in.cap - 1 - in.len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (in.len == 0)
				return NULL;
			/* The last line without its newline. */
			in.p[in.len] = '\n';
			in.len++;
			continue;
		}
		in.len += (size_t)r;
	}
}

#define MAX_TOKENS 24

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
		nt = split(line, tok, MAX_TOKENS);
		if (nt == 0)
			continue;
		if (strcmp(tok[0], "CONFIG") == 0 && !have_config && ismkit_wire_parse_config(tok + 1, nt - 1, &config) == 0) {
			if (config.region_span && !(api->capabilities() & ISMKIT_CAP_REGION_TABLE)) {
				fprintf(stderr, "loop: %s: a region table needs ISMKIT_CAP_REGION_TABLE\n", path);
				return 2;
			}
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
			ok = ok && ismkit_wire_parse_fault(tok[p ? 3 : 2], &o->fault) == 0;
		} else if ((strcmp(c, "PWRITE") == 0 && nt == 4) || (strcmp(c, "WRITE") == 0 && nt == 3)) {
			int p = c[0] == 'P';
			const char *hex = tok[p ? 3 : 2];
			o->kind = p ? L_PWRITE : L_WRITE;
			o->off = p ? strtoull(tok[1], NULL, 10) : 0;
			o->count = strcmp(hex, "-") == 0 ? 0 : strlen(hex) / 2;
			o->data = malloc(o->count + 1);
			ok = ok && o->data && ismkit_wire_parse_fault(tok[p ? 2 : 1], &o->fault) == 0 && ismkit_wire_parse_bytes(hex, o->data, o->count) == 0;
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

/* CONFIG's numbers (of CONFIG, or of a reconfiguring RESET) into *c: NULL, or what is wrong. */
static const char *device_config(const struct ismkit_api *api, char **tok, int n, struct ismkit_config *c)
{
	if (ismkit_wire_parse_config(tok, n, c))
		return "a device takes 11 numbers (or 11, a region span and 8 bases)";
	if (c->region_span && !(api->capabilities() & ISMKIT_CAP_REGION_TABLE))
		return "a device with a region table needs ISMKIT_CAP_REGION_TABLE";
	return NULL;
}

int ismkit_wire_main(const struct ismkit_api *api, const char *impl_name)
{
	const union { uint16_t v; unsigned char b[2]; } probe = { .v = 1 };
	const char *order = probe.b[0] == 1 ? "little" : "big";
	struct ismkit_access *a = NULL;
	struct ismkit_config config; /* the CONFIG request's device, for RESET */
	char *line;
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
	printf("ISMKIT-WIRE %d %s %u %s carry,pattern,reconfig\n", ISMKIT_WIRE_VERSION, order, (unsigned)api->capabilities(),
	       impl_name);
	out_flush();
	guard_answers();

	while ((line = read_line())) {
		char *tok[MAX_TOKENS];
		int nt = 0;
		nt = split(line, tok, MAX_TOKENS);
		if (nt == 0)
			continue;
		const char *cmd = tok[0];
		struct ismkit_fault fault;
		run_begin();

		if (is(cmd, "QUIT")) {
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
		if (is(cmd, "CONFIG")) {
			struct ismkit_config c;
			int err = 0;
			const char *bad = a ? "CONFIG comes once" : device_config(api, tok + 1, nt - 1, &c);
			if (bad) {
				protocol_error(bad);
				continue;
			}
			config = c;
			a = api->open(&c, &err);
			respond(api, a, a ? 0 : -(err ? err : EIO), NULL, 0, "-");
			continue;
		}
		if (is(cmd, "RESET")) {
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
			/* Feature `reconfig`: RESET with CONFIG's numbers opens that device instead. */
			if (nt > 1) {
				struct ismkit_config c;
				const char *bad = device_config(api, tok + 1, nt - 1, &c);
				if (bad) {
					protocol_error(bad);
					continue;
				}
				config = c;
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
		if (is(cmd, "CARRY")) {
			const char *hex = nt == 2 ? tok[1] : "";
			size_t n = is(hex, "-") ? 0 : strlen(hex) / 2;
			if (nt != 2 || !carry_reserve(&carry, n) || ismkit_wire_parse_bytes(hex, carry.bytes, n)) {
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
		if (is(cmd, "PREAD") || is(cmd, "READ")) {
			int positional = cmd[0] == 'P';
			int need = positional ? 5 : 4;
			if (nt != need) {
				protocol_error("PREAD offset count fault init | READ count fault init");
				continue;
			}
			uint64_t off = positional ? parse_dec(tok[1], NULL) : 0;
			uint64_t count = parse_dec(tok[positional ? 2 : 1], NULL);
			if (ismkit_wire_parse_fault(tok[positional ? 3 : 2], &fault)) {
				protocol_error("fault");
				continue;
			}
			if (!ensure_capacity(&xfer, &xfer_cap, count + 1)) {
				protocol_error("count too large for this host");
				continue;
			}
			const char *init = tok[positional ? 4 : 3];
			int carried = is(init, "=");
			if (carried) {
				if (!carry_reserve(&carry, count + CARRY_GUARD_SIZE)) {
					protocol_error("count too large for this host");
					continue;
				}
				memset(carry.bytes + count, CARRY_GUARD_BYTE, CARRY_GUARD_SIZE);
				memcpy(xfer, carry.bytes, count);
			} else if (ismkit_wire_parse_bytes(init, xfer, count)) {
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
		if (is(cmd, "PWRITE") || is(cmd, "WRITE")) {
			int positional = cmd[0] == 'P';
			int need = positional ? 4 : 3;
			if (nt != need) {
				protocol_error("PWRITE offset fault data | WRITE fault data");
				continue;
			}
			uint64_t off = positional ? parse_dec(tok[1], NULL) : 0;
			const char *hex = tok[positional ? 3 : 2];
			size_t count = is(hex, "-") ? 0 : strlen(hex) / 2;
			unsigned pattern = 0;
			int patterned = hex[0] == '*';
			if (patterned) {
				char *end;
				pattern = (unsigned)parse_dec(hex + 1, &end);
				count = *end == '.' ? parse_dec(end + 1, &end) : 0;
				if (*end || pattern > 255 || hex[1] == '.') {
					protocol_error("pattern data *pattern.count");
					continue;
				}
			}
			if (ismkit_wire_parse_fault(tok[positional ? 2 : 1], &fault)) {
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
			} else if (ismkit_wire_parse_bytes(hex, xfer, count)) {
				protocol_error("data bytes");
				continue;
			}
			int64_t rc = positional ? api->pwrite(a, xfer, count, off, &fault)
						: api->write(a, xfer, count, &fault);
			respond(api, a, rc, NULL, 0, "-");
			continue;
		}
		if (is(cmd, "SEEK") && nt == 3) {
			int whence = is(tok[2], "cur") ? 1 : 0;
			int64_t rc = api->seek(a, (int64_t)parse_dec(tok[1], NULL), whence);
			respond(api, a, rc, NULL, 0, "-");
			continue;
		}
		if (is(cmd, "INFO") && nt == 3) {
			struct ismkit_region_info ri;
			char text[96];
			memset(&ri, 0, sizeof(ri));
			int rc = api->region_info(a, (uint32_t)parse_dec(tok[1], NULL),
						  (uint32_t)parse_dec(tok[2], NULL), &ri);
			snprintf(text, sizeof(text), "%llu.%llu.%u", (unsigned long long)ri.offset,
				 (unsigned long long)ri.size, (unsigned)ri.flags);
			respond(api, a, rc, NULL, 0, text);
			continue;
		}
		if (is(cmd, "RECOVER")) {
			respond(api, a, api->recover_handle(a), NULL, 0, "-");
			continue;
		}
		if (is(cmd, "ATTACH") && nt == 2) {
			respond(api, a, api->attach_peer(a, atoi(tok[1])), NULL, 0, "-");
			continue;
		}
		if (is(cmd, "DETACH")) {
			respond(api, a, api->detach_peer(a), NULL, 0, "-");
			continue;
		}
		if (is(cmd, "RESOURCES")) {
			struct ismkit_resources r = { 0, 0 };
			char text[64];
			int rc = api->resources(a, &r);
			snprintf(text, sizeof(text), "%lld.%lld", (long long)r.live_pools,
				 (long long)r.leaked_objects);
			respond(api, a, rc, NULL, 0, text);
			continue;
		}
		if (is(cmd, "PAIR") && ismkit_wire_pair) {
			/* PAIR answers through stdio itself: the answers before it go out first. */
			run_end();
			out_write_committed();
			ismkit_wire_pair(api, a, tok, nt);
			continue;
		}
		protocol_error("unknown request");
	}
	run_end();
	if (a)
		api->close(a);
	out_write_committed();
	free(xfer);
	free(carry.bytes);
	return 0;
}
