/*
 * concurrency.c: the PAIR request of the wire protocol (docs/wire-protocol.md): two operations
 * on device A at once, through one fd or through two fds of the device.
 *
 * Operation A starts on a stack of its own (a coroutine: ucontext) and is held at its k-th
 * boundary (a boundary is the start of a device instruction or of a non-empty user copy, where
 * the stand-ins in kernel_stubs.c call ismk_boundary_hook, or the moment just after an
 * instruction took effect, where the driver's calls of them do: include/vfio_pci_priv.h): it
 * switches back to the request's stack, where operation B runs to its end; then A is released
 * (switched to) and finishes. Only one of them runs at any time, so the interleaving is forced
 * and replays exactly, and a forced pair needs no second thread (a thread hand-off costs more
 * than the operations, most of all under qemu-user). A lock A holds is busy for B as for
 * another thread (the stand-ins' locks are not recursive). The state of the operation in
 * progress (its fault, instruction count, user buffer, current slot) lives in `ismk_op`: the
 * held operation saves it and restores it on release.
 * When A finishes before its k-th boundary, B runs after it (the reply says the hold did not happen).
 * When B finds a lock busy while A is held (A owns it), A is released and finishes first, then B
 * goes on: that is the order A, B, and the reply says so as if the hold had not happened.
 *
 * HOLD -1 runs the pair free, on two threads: both wait at a start line and are released together,
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
#include <sys/prctl.h>
#include <ucontext.h>
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

/* --- the forced pair's first operation, on a stack of its own --------------------------- */

enum { A_RUNNING, A_HELD, A_RELEASED, A_DONE };
static int a_state;
static __thread bool is_a; /* the running code is A's */
static ucontext_t a_context;
static ucontext_t *a_caller; /* where A goes when it stops at its hold or ends */
#define A_STACK_SIZE (1u << 20)
static void *a_stack;
static struct pair_op *a_op;

static void run_op(struct pair_op *op);
static size_t a_done_trace; /* trace length when A finished */

static void a_main(void)
{
	is_a = true;
	run_op(a_op);
	a_done_trace = ismk.trace_len;
	a_state = A_DONE;
	is_a = false;
	setcontext(a_caller);
}

/* Runs A from its start until it stops at its hold or ends. */
static void start_a(struct pair_op *op)
{
	static ucontext_t back;
	if (!a_stack && !(a_stack = malloc(A_STACK_SIZE)))
		ismkit_wire_broken(ISMKIT_BROKEN_HARNESS, "no memory for a stack");
	a_op = op;
	getcontext(&a_context);
	a_context.uc_stack.ss_sp = a_stack;
	a_context.uc_stack.ss_size = A_STACK_SIZE;
	a_context.uc_link = NULL;
	makecontext(&a_context, a_main, 0);
	a_caller = &back;
	swapcontext(&back, &a_context);
}

/* Releases A, held at its hold, and runs it to its end. */
static void release_a(void)
{
	ucontext_t back;
	a_state = A_RELEASED;
	a_caller = &back;
	swapcontext(&back, &a_context);
}
static long hold_at;     /* A's boundary to stop at */
static long a_events;    /* boundaries A has reached */
static size_t hold_trace; /* trace length when A stopped */
static bool b_serialized; /* B waited for a lock A held: A ran to its end first */

static void hold(int where)
{
	(void)where;
	if (!is_a || a_events++ != hold_at)
		return;
	struct op_context saved = { ismk_op.fault, ismk_op.instructions, ismk_op.alloc_fault_pending, ismk_op.ubuf, ismk_op.ulen, ismk_op.current };
	hold_trace = ismk.trace_len;
	a_state = A_HELD;
	is_a = false;
	swapcontext(&a_context, a_caller);
	is_a = true;
	ismk_op.fault = saved.fault;
	ismk_op.instructions = saved.instructions;
	ismk_op.alloc_fault_pending = saved.alloc_fault_pending;
	ismk_op.ubuf = saved.ubuf;
	ismk_op.ulen = saved.ulen;
	ismk_op.current = saved.current;
}

/* B found a lock busy (phase 0): if A is held, it owns the lock; A is released and runs to its
 * end (it unlocks), then B takes the lock (phase 1) and goes on. B's op context is kept across
 * A's run, as hold() keeps A's. */
static void contended(int phase)
{
	static struct op_context b_saved;
	if (is_a)
		return;
	if (phase == 0 && a_state == A_HELD) {
		b_saved = (struct op_context){ ismk_op.fault, ismk_op.instructions, ismk_op.alloc_fault_pending, ismk_op.ubuf, ismk_op.ulen, ismk_op.current };
		b_serialized = true;
		release_a();
	} else if (phase == 1 && b_serialized) {
		ismk_op.fault = b_saved.fault;
		ismk_op.instructions = b_saved.instructions;
		ismk_op.alloc_fault_pending = b_saved.alloc_fault_pending;
		ismk_op.ubuf = b_saved.ubuf;
		ismk_op.ulen = b_saved.ulen;
		ismk_op.current = b_saved.current;
	}
}

/* --- the free-running pair's second thread, kept from one PAIR request to the next ------ */

/* Starting a thread per PAIR cost more than the pair's operations (most of all under
 * qemu-user, where a thread start is a new emulated CPU): the free-running pair's second thread
 * is started at the first free-running PAIR and then waits for its next job. A job is fn(arg);
 * every job sets the thread-local state it relies on (ismk_op.trace, jitter_rng), and
 * begin_op/end_op in driver_access.c set the operation's context, so nothing carries from one
 * pair to the next. */
static struct {
	pthread_t tid;
	bool started;
	void *(*fn)(void *);
	void *arg;
	enum { W_IDLE, W_WORK, W_DONE } state;
	pthread_mutex_t lock;
	pthread_cond_t changed;
} worker = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER };

static void worker_set(int state)
{
	pthread_mutex_lock(&worker.lock);
	worker.state = state;
	pthread_cond_broadcast(&worker.changed);
	pthread_mutex_unlock(&worker.lock);
}

static void worker_wait(int state)
{
	pthread_mutex_lock(&worker.lock);
	while (worker.state != state)
		pthread_cond_wait(&worker.changed, &worker.lock);
	pthread_mutex_unlock(&worker.lock);
}

static void *worker_main(void *unused)
{
	(void)unused;
	/* The free-running jitter sleeps 1..8 µs: without this a sleep lasts at least the default
	 * timer slack (50 µs), which made the sleeps, not the operations, a free run's cost. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	for (;;) {
		worker_wait(W_WORK);
		worker.fn(worker.arg);
		worker_set(W_DONE);
	}
	return NULL;
}

/* Runs fn(arg) on the worker, starting its thread the first time. */
static void worker_start(void *(*fn)(void *), void *arg)
{
	if (!worker.started) {
		if (pthread_create(&worker.tid, NULL, worker_main, NULL))
			ismkit_wire_broken(ISMKIT_BROKEN_HARNESS, "cannot start a thread");
		worker.started = true;
	}
	worker.fn = fn;
	worker.arg = arg;
	worker_set(W_WORK);
}

/* Waits until the worker has finished its job. */
static void worker_join(void)
{
	worker_wait(W_DONE);
	worker_set(W_IDLE);
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

/* --- free-running pairs --------------------------------------------------------------- */

struct free_thread {
	struct pair_op *op;
	struct ismk_trace_buf trace;
	uint64_t rng;
};

static atomic_int free_ready, free_go;
static __thread uint64_t jitter_rng;

/* One in two calls does nothing; otherwise yield the processor or sleep 1..8 µs. */
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
	default: usleep((useconds_t)(1 + ((x >> 8) & 7))); return;
	}
}

static void jitter_at(int where)
{
	(void)where;
	jitter();
}

/* One side of a free pair. The worker's side waits at the start line; the request's own
 * thread (`starter`) waits until the worker is there, opens the line and runs at once. */
static void free_side(struct free_thread *t, bool starter)
{
	ismk_op.trace = &t->trace;
	jitter_rng = t->rng;
	if (starter) {
		while (atomic_load(&free_ready) < 1)
			sched_yield();
		atomic_store(&free_go, 1);
	} else {
		atomic_fetch_add(&free_ready, 1);
		while (!atomic_load(&free_go))
			sched_yield();
	}
	run_op(t->op);
	ismk_op.trace = NULL;
}

static void *free_worker_side(void *arg)
{
	free_side(arg, false);
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
	static bool slack_set;
	if (!slack_set) {
		prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* as on the worker: below */
		slack_set = true;
	}
	/* This thread runs one side, the worker the other (which one alternates); each thread a
	 * PAIR starts costs milliseconds under qemu-user, so only the one worker is ever started. */
	int mine = (int)(runs & 1);
	worker_start(free_worker_side, &th[1 - mine]);
	free_side(&th[mine], true);
	worker_join();
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
	ismk_boundary_hook = hold;
	ismk_contended_hook = contended;
	start_a(&ops[0]);
	bool held = a_state == A_HELD;
	size_t t1 = held ? hold_trace : ismk.trace_len;
	run_op(&ops[1]);
	size_t t2 = ismk.trace_len;
	if (b_serialized) {
		/* A ran [t0,a_done) whole, then B [a_done,t2): reported as a pair without a hold. */
		held = false;
		t1 = a_done_trace;
	} else if (held) {
		release_a();
	}
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
