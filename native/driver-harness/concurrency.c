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
 */
#include "harness_state.h"
#include "wire.h"

#include <errno.h>
#include <pthread.h>
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
	struct op_context saved = { ismk.fault, ismk.instructions, ismk.alloc_fault_pending, ismk.ubuf, ismk.ulen, ismk.current };
	pthread_mutex_lock(&lock);
	hold_trace = ismk.trace_len;
	a_state = A_HELD;
	pthread_cond_broadcast(&changed);
	while (a_state != A_RELEASED)
		pthread_cond_wait(&changed, &lock);
	pthread_mutex_unlock(&lock);
	ismk.fault = saved.fault;
	ismk.instructions = saved.instructions;
	ismk.alloc_fault_pending = saved.alloc_fault_pending;
	ismk.ubuf = saved.ubuf;
	ismk.ulen = saved.ulen;
	ismk.current = saved.current;
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
		b_saved = (struct op_context){ ismk.fault, ismk.instructions, ismk.alloc_fault_pending, ismk.ubuf, ismk.ulen, ismk.current };
		b_serialized = true;
		a_state = A_RELEASED;
		pthread_cond_broadcast(&changed);
	} else if (phase == 1 && b_serialized) {
		while (a_state != A_DONE)
			pthread_cond_wait(&changed, &lock);
		ismk.fault = b_saved.fault;
		ismk.instructions = b_saved.instructions;
		ismk.alloc_fault_pending = b_saved.alloc_fault_pending;
		ismk.ubuf = b_saved.ubuf;
		ismk.ulen = b_saved.ulen;
		ismk.current = b_saved.current;
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

static void put_trace(size_t from, size_t to, int *first)
{
	for (size_t i = from; i < to; i++) {
		const struct ismkit_event *e = &ismk.trace[i];
		char kind = e->kind == ISMKIT_EVENT_LOAD ? 'L' : e->kind == ISMKIT_EVENT_STORE_BLOCK ? 'B' : 'S';
		printf("%s%c%u.%llu.%u.%u", *first ? "" : ",", kind, (unsigned)e->bar, (unsigned long long)e->position,
		       (unsigned)e->size, (unsigned)e->handle);
		*first = 0;
	}
}

/* ` STATUS VALUE DATA TRACE` for one operation; its trace is the events in [t0,t1) and [t2,t3). */
static void put_outcome(const struct pair_op *op, size_t t0, size_t t1, size_t t2, size_t t3)
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
	int first = 1;
	put_trace(t0, t1, &first);
	put_trace(t2, t3, &first);
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
		printf("BAD PAIR HOLD fd OP args | fd OP args (OP: PREAD READ PWRITE WRITE INFO, fd 1 or 2)\n");
		fflush(stdout);
		return;
	}
	the_api = api;
	fds[1] = a;
	fds[2] = ismk_second_fd();
	hold_at = strtol(tok[1], NULL, 10);
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
