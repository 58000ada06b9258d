/*
 * concurrency.c: the PAIR request of the wire protocol (docs/wire-protocol.md): two operations
 * on device A at once, each on its own thread, through one fd or through two fds of the device.
 *
 * Operation A starts on thread 1 and is held at its k-th boundary (a boundary is the start of a
 * device instruction or of a non-empty user copy, where the stand-ins in kernel_stubs.c call
 * ismk_boundary_hook, or the moment just after an instruction took effect, where the driver's
 * calls of them do: include/vfio_pci_priv.h). While A waits, operation B runs to its end on thread 2; then A is
 * released and finishes. Only one thread runs at any time, so the interleaving is forced and
 * replays exactly. The state of the operation in progress (its fault, instruction count, user
 * buffer, current slot) lives in `ismk`: the held thread saves it and restores it on release.
 * When A finishes before its k-th boundary, B runs after it (the reply says the hold did not happen).
 * When B finds a lock busy while A is held (A owns it), A is released and finishes first, then B
 * goes on: that is the order A, B, and the reply says so as if the hold had not happened.
 *
 * HOLD -1 runs the pair free: both threads wait at a start line and are released together,
 * nothing holds either, and both run at once. To reach what lies between two boundaries (where
 * no hold can stop a thread), each thread, at every boundary and at every stand-in it calls in
 * between (ismk_yield_hook: resource queries, allocations, frees), now and then yields or
 * sleeps a few microseconds, so the other thread runs there. Each thread traces into its own
 * buffer; the device, the trace and the allocation registry are behind the stand-ins' locks
 * (harness_state.h). Such a run is not replayable: the check repeats it.
 */
#include "harness_state.h"
#include "wire.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One operation of a pair, parsed from its tokens. */
struct pair_op {
	int fd;          /* 1 or 2 */
	char kind;       /* 'r' pread, 'R' read, 'w' pwrite, 'W' write, 'i' info */
	uint64_t offset; /* pread/pwrite */
	uint64_t count;  /* transfers */
	uint32_t index, argsz;
	struct ismkit_fault fault;
	unsigned char *buf; /* count + 1 bytes */
	/* the outcome */
	int64_t rc;
	struct ismkit_region_info info;
};

/* The op context kernel_stubs.c keeps in `ismk` for the operation in progress. */
struct op_context {
	struct ismkit_fault fault;
	u32 instructions;
	bool alloc_fault_pending;
	unsigned char *ubuf;
	size_t ulen;
	int current;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static enum { A_RUNNING, A_HELD, A_RELEASED, A_DONE } a_state;
static long hold_at;     /* A's boundary to stop at */
static long a_events;    /* boundaries A has reached */
static size_t hold_trace; /* trace length when A stopped */
static __thread bool is_a;
static bool b_serialized; /* B waited for a lock A held: A ran to its end first */
static size_t a_done_trace; /* trace length when A finished */

static void hold(int where)
{
	(void)where;
	if (!is_a || a_events++ != hold_at)
		return;
	struct op_context saved = { ismk_op.fault, ismk_op.instructions, ismk_op.alloc_fault_pending, ismk_op.ubuf, ismk_op.ulen, ismk_op.current };
	pthread_mutex_lock(&lock);
	hold_trace = ismk.trace_len;
	a_state = A_HELD;
	pthread_cond_broadcast(&changed);
	while (a_state != A_RELEASED)
		pthread_cond_wait(&changed, &lock);
	pthread_mutex_unlock(&lock);
	ismk_op.fault = saved.fault;
	ismk_op.instructions = saved.instructions;
	ismk_op.alloc_fault_pending = saved.alloc_fault_pending;
	ismk_op.ubuf = saved.ubuf;
	ismk_op.ulen = saved.ulen;
	ismk_op.current = saved.current;
}

/* B found a lock busy (phase 0): if A is held, it owns the lock; release A and, once B has
 * the lock (phase 1), wait until A has finished, so still only one thread runs at a time.
 * B's op context is kept across A's run, as hold() keeps A's. */
static void contended(int phase)
{
	static struct op_context b_saved;
	if (is_a)
		return;
	pthread_mutex_lock(&lock);
	if (phase == 0 && a_state == A_HELD) {
		b_saved = (struct op_context){ ismk_op.fault, ismk_op.instructions, ismk_op.alloc_fault_pending, ismk_op.ubuf, ismk_op.ulen, ismk_op.current };
		b_serialized = true;
		a_state = A_RELEASED;
		pthread_cond_broadcast(&changed);
	} else if (phase == 1 && b_serialized) {
		while (a_state != A_DONE)
			pthread_cond_wait(&changed, &lock);
		ismk_op.fault = b_saved.fault;
		ismk_op.instructions = b_saved.instructions;
		ismk_op.alloc_fault_pending = b_saved.alloc_fault_pending;
		ismk_op.ubuf = b_saved.ubuf;
		ismk_op.ulen = b_saved.ulen;
		ismk_op.current = b_saved.current;
	}
	pthread_mutex_unlock(&lock);
}

static const struct ismkit_api *the_api;
static struct ismkit_access *fds[3];

static void run_op(struct pair_op *op)
{
	struct ismkit_access *a = fds[op->fd];
	switch (op->kind) {
	case 'r': op->rc = the_api->pread(a, op->buf, op->count, op->offset, &op->fault); break;
	case 'R': op->rc = the_api->read(a, op->buf, op->count, &op->fault); break;
	case 'w': op->rc = the_api->pwrite(a, op->buf, op->count, op->offset, &op->fault); break;
	case 'W': op->rc = the_api->write(a, op->buf, op->count, &op->fault); break;
	default: op->rc = the_api->region_info(a, op->index, op->argsz, &op->info); break;
	}
}

static void *thread_a(void *arg)
{
	is_a = true;
	run_op(arg);
	pthread_mutex_lock(&lock);
	a_done_trace = ismk.trace_len;
	a_state = A_DONE;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *thread_b(void *arg)
{
	is_a = false;
	run_op(arg);
	return NULL;
}

/* --- free-running pairs --------------------------------------------------------------- */

struct free_thread {
	struct pair_op *op;
	struct ismk_trace_buf trace;
	uint64_t rng;
};

static atomic_int free_ready, free_go;
static __thread uint64_t jitter_rng;

/* One in two calls does nothing; otherwise yield the processor or sleep 1..32 µs. */
static void jitter(void)
{
	uint64_t x = jitter_rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	jitter_rng = x;
	switch (x & 3) {
	case 0:
	case 1: return;
	case 2: sched_yield(); return;
	default: usleep((useconds_t)(1 + ((x >> 8) & 31))); return;
	}
}

static void jitter_at(int where)
{
	(void)where;
	jitter();
}

static void *free_thread_main(void *arg)
{
	struct free_thread *t = arg;
	ismk_op.trace = &t->trace;
	jitter_rng = t->rng;
	atomic_fetch_add(&free_ready, 1);
	while (!atomic_load(&free_go))
		sched_yield();
	run_op(t->op);
	ismk_op.trace = NULL;
	return NULL;
}

static void put_result(const struct pair_op *op);
static void put_events(const struct ismkit_event *trace, size_t from, size_t to, int *first);

/* Both operations released together; the reply has the PAIR form with HELD 0 and BOUNDARIES 0. */
static void run_free(const struct ismkit_api *api, struct pair_op ops[2])
{
	static uint64_t runs;
	runs++;
	struct free_thread th[2] = {
		{ &ops[0], { 0 }, 0x9E3779B97F4A7C15ull * (2 * runs + 1) },
		{ &ops[1], { 0 }, 0xD1B54A32D192ED03ull * (2 * runs + 2) },
	};
	atomic_store(&free_ready, 0);
	atomic_store(&free_go, 0);
	ismk_boundary_hook = jitter_at;
	ismk_yield_hook = jitter;
	pthread_t tid[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&tid[i], NULL, free_thread_main, &th[i]))
			ismkit_wire_broken(ISMKIT_BROKEN_HARNESS, "cannot start a thread");
	while (atomic_load(&free_ready) < 2)
		sched_yield();
	atomic_store(&free_go, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(tid[i], NULL);
	ismk_boundary_hook = NULL;
	ismk_yield_hook = NULL;
	printf("PAIR 0 0 %lld %lld", (long long)api->seek(fds[1], 0, 1), (long long)(fds[2] ? api->seek(fds[2], 0, 1) : -1));
	for (int i = 0; i < 2; i++) {
		put_result(&ops[i]);
		int first = 1;
		put_events(th[i].trace.e, 0, th[i].trace.len, &first);
		if (first)
			fputs("-", stdout);
		free(th[i].trace.e);
	}
	fputc('\n', stdout);
	fflush(stdout);
}

#define PAIR_MAX_COUNT (1u << 20)

/* Parses `fd OP args…` (tok[0..n)); 0 on success. */
static int parse_op(char **tok, int n, struct pair_op *op)
{
	memset(op, 0, sizeof(*op));
	if (n < 2)
		return -1;
	op->fd = atoi(tok[0]);
	if (op->fd != 1 && op->fd != 2)
		return -1;
	const char *c = tok[1];
	const char *data = NULL;
	if (strcmp(c, "PREAD") == 0 && n == 6) {
		op->kind = 'r';
		op->offset = strtoull(tok[2], NULL, 10);
		op->count = strtoull(tok[3], NULL, 10);
		if (ismkit_wire_parse_fault(tok[4], &op->fault))
			return -1;
		data = tok[5];
	} else if (strcmp(c, "READ") == 0 && n == 5) {
		op->kind = 'R';
		op->count = strtoull(tok[2], NULL, 10);
		if (ismkit_wire_parse_fault(tok[3], &op->fault))
			return -1;
		data = tok[4];
	} else if (strcmp(c, "PWRITE") == 0 && n == 5) {
		op->kind = 'w';
		op->offset = strtoull(tok[2], NULL, 10);
		if (ismkit_wire_parse_fault(tok[3], &op->fault))
			return -1;
		data = tok[4];
		op->count = strcmp(data, "-") == 0 ? 0 : strlen(data) / 2;
	} else if (strcmp(c, "WRITE") == 0 && n == 4) {
		op->kind = 'W';
		if (ismkit_wire_parse_fault(tok[2], &op->fault))
			return -1;
		data = tok[3];
		op->count = strcmp(data, "-") == 0 ? 0 : strlen(data) / 2;
	} else if (strcmp(c, "INFO") == 0 && n == 4) {
		op->kind = 'i';
		op->index = (uint32_t)strtoul(tok[2], NULL, 10);
		op->argsz = (uint32_t)strtoul(tok[3], NULL, 10);
		return 0;
	} else {
		return -1;
	}
	if (op->count > PAIR_MAX_COUNT)
		return -1;
	op->buf = malloc(op->count + 1);
	if (!op->buf)
		return -1;
	return ismkit_wire_parse_bytes(data, op->buf, op->count);
}

static void put_events(const struct ismkit_event *trace, size_t from, size_t to, int *first)
{
	for (size_t i = from; i < to; i++) {
		const struct ismkit_event *e = &trace[i];
		char kind = e->kind == ISMKIT_EVENT_LOAD ? 'L' : e->kind == ISMKIT_EVENT_STORE_BLOCK ? 'B' : 'S';
		printf("%s%c%u.%llu.%u.%u", *first ? "" : ",", kind, (unsigned)e->bar, (unsigned long long)e->position,
		       (unsigned)e->size, (unsigned)e->handle);
		*first = 0;
	}
}

/* ` STATUS VALUE DATA ` for one operation. */
static void put_result(const struct pair_op *op)
{
	printf(" %s %lld ", op->rc < 0 ? "ERR" : "OK", (long long)(op->rc < 0 ? -op->rc : op->rc));
	if (op->kind == 'i') {
		printf("%llu.%llu.%u", (unsigned long long)op->info.offset, (unsigned long long)op->info.size,
		       (unsigned)op->info.flags);
	} else if ((op->kind == 'r' || op->kind == 'R') && op->count > 0) {
		for (uint64_t i = 0; i < op->count; i++)
			printf("%02x", op->buf[i]);
	} else {
		fputs("-", stdout);
	}
	fputc(' ', stdout);
}

/* ` STATUS VALUE DATA TRACE` for one operation; its trace is the events in [t0,t1) and [t2,t3). */
static void put_outcome(const struct pair_op *op, size_t t0, size_t t1, size_t t2, size_t t3)
{
	put_result(op);
	int first = 1;
	put_events(ismk.trace, t0, t1, &first);
	put_events(ismk.trace, t2, t3, &first);
	if (first)
		fputs("-", stdout);
}

/* PAIR HOLD fdA OPA… | fdB OPB…  →  PAIR HELD EVENTS POS1 POS2 <A: STATUS VALUE DATA TRACE> <B: …> */
void ismkit_wire_pair(const struct ismkit_api *api, struct ismkit_access *a, char **tok, int nt)
{
	int bar = -1;
	for (int i = 2; i < nt; i++)
		if (strcmp(tok[i], "|") == 0)
			bar = i;
	struct pair_op ops[2];
	memset(ops, 0, sizeof(ops));
	if (nt < 3 || bar < 0 || parse_op(tok + 2, bar - 2, &ops[0]) || parse_op(tok + bar + 1, nt - bar - 1, &ops[1])) {
		free(ops[0].buf);
		free(ops[1].buf);
		printf("BAD PAIR HOLD fd OP args | fd OP args (HOLD a boundary or -1 free-running; OP: PREAD READ PWRITE WRITE INFO, fd 1 or 2)\n");
		fflush(stdout);
		return;
	}
	the_api = api;
	fds[1] = a;
	fds[2] = ismk_second_fd();
	hold_at = strtol(tok[1], NULL, 10);
	if (hold_at == -1) {
		run_free(api, ops);
		free(ops[0].buf);
		free(ops[1].buf);
		return;
	}
	a_events = 0;
	a_state = A_RUNNING;
	hold_trace = 0;
	b_serialized = false;
	size_t t0 = ismk.trace_len;
	pthread_t ta, tb;
	ismk_boundary_hook = hold;
	ismk_contended_hook = contended;
	if (pthread_create(&ta, NULL, thread_a, &ops[0]))
		ismkit_wire_broken(ISMKIT_BROKEN_HARNESS, "cannot start a thread");
	pthread_mutex_lock(&lock);
	while (a_state == A_RUNNING)
		pthread_cond_wait(&changed, &lock);
	bool held = a_state == A_HELD;
	pthread_mutex_unlock(&lock);
	size_t t1 = held ? hold_trace : ismk.trace_len;
	if (pthread_create(&tb, NULL, thread_b, &ops[1]))
		ismkit_wire_broken(ISMKIT_BROKEN_HARNESS, "cannot start a thread");
	pthread_join(tb, NULL);
	size_t t2 = ismk.trace_len;
	if (b_serialized) {
		/* A ran [t0,a_done) whole, then B [a_done,t2): reported as a pair without a hold. */
		held = false;
		t1 = a_done_trace;
	} else if (held) {
		pthread_mutex_lock(&lock);
		a_state = A_RELEASED;
		pthread_cond_broadcast(&changed);
		pthread_mutex_unlock(&lock);
	}
	pthread_join(ta, NULL);
	ismk_boundary_hook = NULL;
	ismk_contended_hook = NULL;
	size_t t3 = ismk.trace_len;
	/* A's events: [t0,t1) before the hold and [t2,t3) after; B's: [t1,t2). Without a hold, A ran
	 * [t0,t1) whole and B [t1,t2). */
	printf("PAIR %d %ld %lld %lld", held ? 1 : 0, a_events, (long long)api->seek(fds[1], 0, 1),
	       (long long)(fds[2] ? api->seek(fds[2], 0, 1) : -1));
	put_outcome(&ops[0], t0, t1, t2, t3);
	put_outcome(&ops[1], t1, t2, t2, t2);
	fputc('\n', stdout);
	fflush(stdout);
	ismk.trace_len = ismk.trace_head = 0;
	free(ops[0].buf);
	free(ops[1].buf);
}
