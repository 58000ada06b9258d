/* serve.h: the state of one wire protocol session. */
#ifndef ISMKIT_AGENT_SERVE_H
#define ISMKIT_AGENT_SERVE_H

#include "agent.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct server {
	int in, out;                 /* request and answer fds (the same one for --port) */
	struct vfio_handle *h;
	const struct allow_list *allow;
	struct journal *journal;
	uint64_t pos;                /* the device fd's file position, from read/write/lseek results */
	uint64_t refused;            /* writes the guard refused */
	int seek_ok;                 /* lseek works on the device fd */
	char *ob;                    /* answers not yet written */
	size_t olen, ocap;
	unsigned char *xfer;         /* transfer buffer */
	size_t xcap;
	int oom;                     /* a buffer could not grow: the session ends */
	int compact;                 /* requests and answers are compact frames (compact.c) */
	unsigned char *carry;        /* compact frames: the carry buffer (a client's reused read buffer) */
	size_t carry_len;
	/* The watchdog (serve.c). `state` is (calls << 2) | CALL_IN while device system call number
	 * `calls` runs, (calls << 2) between calls, and gets CALL_CLAIMED added while the watchdog thread
	 * writes out the answers before a call that runs long (ob[sent, settled)). The loop leaves a
	 * call only once the watchdog has let go, so ob, sent and olen change only outside a claim. */
	_Atomic uint64_t state;
	int watch;                   /* the watchdog thread runs */
	uint64_t calls;              /* device system calls begun */
	size_t settled;              /* answers before the current call end here in ob */
	size_t sent;                 /* ob[0, sent) is already written out */
};

enum { CALL_IN = 1, CALL_CLAIMED = 2 };

/* Around every device system call: `settled` is where the answers before it end in ob. One store
 * and one compare-and-swap per call (a mutex pair cost several times that on the agent's hot path). */
static inline void call_begin(struct server *s, size_t settled)
{
	s->settled = settled;
	s->calls++;
	if (s->watch)
		atomic_store_explicit(&s->state, s->calls << 2 | CALL_IN, memory_order_release);
}

static inline void call_end(struct server *s)
{
	if (!s->watch)
		return;
	uint64_t expect = s->calls << 2 | CALL_IN;
	if (atomic_compare_exchange_strong_explicit(&s->state, &expect, s->calls << 2, memory_order_acq_rel,
						    memory_order_acquire))
		return;
	/* The watchdog is writing out the answers before this call: wait until it lets go. */
	int e = errno;
	const struct timespec ms = { 0, 1000 * 1000 };
	for (;;) {
		expect = s->calls << 2 | CALL_IN;
		if (atomic_compare_exchange_strong_explicit(&s->state, &expect, s->calls << 2, memory_order_acq_rel,
							    memory_order_acquire))
			break;
		nanosleep(&ms, NULL);
	}
	errno = e;
}

/* The device's transfers as raw system calls: glibc's pread, pwrite, read and write are
 * cancellation points, which in a process with a second thread (the watchdog) costs two atomic
 * updates around every call. The system calls are the same. */
static inline long dev_pread(int fd, void *buf, size_t n, uint64_t off)
{
	return syscall(SYS_pread64, fd, buf, n, (off_t)off);
}
static inline long dev_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
	return syscall(SYS_pwrite64, fd, buf, n, (off_t)off);
}
static inline long dev_read(int fd, void *buf, size_t n) { return syscall(SYS_read, fd, buf, n); }
static inline long dev_write(int fd, const void *buf, size_t n) { return syscall(SYS_write, fd, buf, n); }

/* Test builds: ISMKIT_AGENT_FAKE_HANG=OFFSET makes a pread at that kernel offset hang (vfio_open.c). */
#ifdef ISMKIT_AGENT_TEST
void fake_hang(uint64_t offset);
#else
static inline void fake_hang(uint64_t offset) { (void)offset; }
#endif

#define MAX_COUNT (64u << 20) /* the largest transfer count accepted */

/* answer.c: the answer buffer. A failed allocation sets oom and drops the bytes. */
extern char hex_pairs[512];
extern signed char hex_value[256];
void tables_init(void);
int out_reserve(struct server *s, size_t n);
void out_mem(struct server *s, const char *p, size_t n);
void out_str(struct server *s, const char *p);
void out_u64(struct server *s, uint64_t v);
void out_hex(struct server *s, const unsigned char *b, size_t n);
void out_status(struct server *s, long long rc, int err); /* `OK value ` or `ERR errno ` */
int out_flush(struct server *s);                          /* -1 when the other side is gone */

/* serve.c */
int ensure_xfer(struct server *s, size_t n); /* the transfer buffer holds n bytes; -1 (oom) if not */

/* compact.c: one compact frame at p (avail bytes): the bytes it took, or 0 while incomplete. An END
 * frame or a malformed one ends compact mode (s->compact = 0). */
size_t compact_frame(struct server *s, const unsigned char *p, size_t avail);

/* Serves until QUIT, end of input, a gone peer or SIGTERM/SIGINT. 0, or -1 when out of memory. */
int serve(struct server *s);

#endif
