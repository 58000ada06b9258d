/* compact.c: the compact framing (README "Compact frames"): binary requests and answers, fixed-width
 * little-endian fields, the same system calls and write guard as the text requests. */
#include "serve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>

enum {
	C_END = 0x00,
	C_PREAD = 0x01,
	C_PWRITE = 0x02,
	C_READ = 0x03,
	C_WRITE = 0x04,
	C_SEEK = 0x05,
	C_INFO = 0x06,
	C_REOPEN = 0x07,
	C_CARRY = 0x08,
	C_INIT = 0x80,     /* PREAD/READ: the initial buffer follows (else it is all zeros) */
	C_FROM = 0x40,     /* PREAD/READ: the read starts from the carry buffer and leaves its buffer there */
};

#define GUARD_SIZE 16   /* a client's guard bytes after its read buffer (BatchBuffers.guardSize) */
#define GUARD_BYTE 0xe7 /* their value (BatchBuffers.guardByte) */

enum { A_OK = 0, A_ERR = 1, A_BAD = 2 };

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* Reserves n answer bytes, with `slack` more writable room after them, and returns where they go
 * (NULL when out of memory: oom is set). */
static inline unsigned char *answer_room(struct server *s, size_t n, size_t slack)
{
	if (s->olen + n + slack > s->ocap && out_reserve(s, n + slack))
		return NULL;
	unsigned char *a = (unsigned char *)s->ob + s->olen;
	s->olen += n;
	return a;
}

/* Reserves n answer bytes and returns where they go (NULL when out of memory: oom is set). */
static unsigned char *answer(struct server *s, size_t n)
{
	if (out_reserve(s, n))
		return NULL;
	unsigned char *a = (unsigned char *)s->ob + s->olen;
	s->olen += n;
	return a;
}

/* Status byte and a 32-bit value: the count for OK, the errno for ERR. */
static unsigned char *status32(struct server *s, long long rc, int err, size_t extra)
{
	unsigned char *a = answer(s, 5 + extra);
	if (a) {
		a[0] = rc < 0 ? A_ERR : A_OK;
		put32(a + 1, rc < 0 ? (uint32_t)(err > 0 ? err : EIO) : (uint32_t)rc);
	}
	return a;
}

/* A malformed frame: BAD, a reason line, and back to text requests (the stream cannot be followed). */
static size_t bad_frame(struct server *s, const char *what, size_t avail)
{
	unsigned char *a = answer(s, 1);
	if (a)
		a[0] = A_BAD;
	out_str(s, what);
	out_mem(s, "\n", 1);
	s->compact = 0;
	return avail ? avail : 1; /* everything buffered is dropped */
}

/* Makes the carry buffer at least n bytes long (new bytes zero); -1 (oom) if it cannot grow. */
static int carry_reserve(struct server *s, size_t n)
{
	if (n <= s->carry_len)
		return 0;
	unsigned char *p = realloc(s->carry, n);
	if (!p) {
		s->oom = 1;
		return -1;
	}
	memset(p + s->carry_len, 0, n - s->carry_len);
	s->carry = p;
	s->carry_len = n;
	return 0;
}

static size_t do_read(struct server *s, const unsigned char *p, size_t avail, int positional)
{
	size_t head = positional ? 13 : 5;
	if (avail < head)
		return 0;
	uint64_t off = positional ? get64(p + 1) : 0;
	uint32_t count = get32(p + head - 4);
	if (count > MAX_COUNT)
		return bad_frame(s, "count too large for the agent", avail);
	int init = p[0] & C_INIT, from = p[0] & C_FROM;
	size_t need = head + (init ? count : 0);
	if (avail < need)
		return 0;
	if (from && carry_reserve(s, (size_t)count + GUARD_SIZE))
		return need;
	/* 8 bytes of room after the answer, so a short zero buffer is one fixed-size store. */
	unsigned char *a = answer_room(s, 5 + (size_t)count, 8);
	if (!a)
		return need;
	unsigned char *buf = a + 5; /* the call reads straight into the answer */
	if (init)
		memcpy(buf, p + head, count);
	else if (from) {
		memset(s->carry + count, GUARD_BYTE, GUARD_SIZE);
		memcpy(buf, s->carry, count);
	} else if (count <= 8) {
		static const unsigned char zeros[8];
		memcpy(buf, zeros, 8); /* bytes past count are room, not answer (olen ends before them) */
	} else
		memset(buf, 0, count);
	call_begin(s, (size_t)((char *)a - s->ob)); /* the answer being filled is not settled yet */
	if (positional)
		fake_hang(off);
	long long rc = positional ? dev_pread(s->h->device, buf, count, off) : dev_read(s->h->device, buf, count);
	int err = errno;
	call_end(s);
	if (!positional && rc > 0)
		s->pos += (uint64_t)rc;
	a[0] = rc < 0 ? A_ERR : A_OK;
	put32(a + 1, rc < 0 ? (uint32_t)(err > 0 ? err : EIO) : (uint32_t)rc);
	if (from)
		memcpy(s->carry, buf, count);
	return need;
}

/* CARRY: the carry buffer becomes these bytes (zeros beyond them). */
static size_t do_carry(struct server *s, const unsigned char *p, size_t avail)
{
	if (avail < 5)
		return 0;
	uint32_t n = get32(p + 1);
	if (n > MAX_COUNT)
		return bad_frame(s, "count too large for the agent", avail);
	if (avail < 5 + (size_t)n)
		return 0;
	if (carry_reserve(s, n) == 0) {
		memcpy(s->carry, p + 5, n);
		memset(s->carry + n, 0, s->carry_len - n);
		status32(s, 0, 0, 0);
	}
	return 5 + (size_t)n;
}

static size_t do_write(struct server *s, const unsigned char *p, size_t avail, int positional)
{
	size_t head = positional ? 13 : 5;
	if (avail < head)
		return 0;
	uint64_t off = positional ? get64(p + 1) : s->pos;
	uint32_t count = get32(p + head - 4);
	if (count > MAX_COUNT)
		return bad_frame(s, "count too large for the agent", avail);
	if (avail < head + count)
		return 0;
	const unsigned char *data = p + head;
	if (!permits_write(&s->h->map, s->allow, off, count)) {
		s->refused++;
		status32(s, -1, EPERM, 0);
		return head + count;
	}
	call_begin(s, s->olen);
	long long rc = positional ? dev_pwrite(s->h->device, data, count, off) : dev_write(s->h->device, data, count);
	int err = errno;
	call_end(s);
	if (rc > 0) {
		uint64_t pos = off;
		const struct region *r = region_locate(&s->h->map, off, &pos);
		journal_record(s->journal, r ? r->index : UINT32_MAX, pos, data, (size_t)rc);
		if (!positional)
			s->pos += (uint64_t)rc;
	}
	status32(s, rc, err, 0);
	return head + count;
}

static size_t do_seek(struct server *s, const unsigned char *p, size_t avail)
{
	if (avail < 10)
		return 0;
	if (p[9] > 1)
		return bad_frame(s, "SEEK whence (0 set, 1 cur)", avail);
	call_begin(s, s->olen);
	off_t rc = lseek(s->h->device, (off_t)(int64_t)get64(p + 1), p[9] ? SEEK_CUR : SEEK_SET);
	int err = errno;
	call_end(s);
	if (rc >= 0)
		s->pos = (uint64_t)rc;
	unsigned char *a = answer(s, 9);
	if (a) {
		a[0] = rc < 0 ? A_ERR : A_OK;
		put64(a + 1, rc < 0 ? (uint64_t)(err > 0 ? err : EIO) : (uint64_t)rc);
	}
	return 10;
}

static size_t do_info(struct server *s, const unsigned char *p, size_t avail)
{
	if (avail < 9)
		return 0;
	uint32_t index = get32(p + 1), argsz = get32(p + 5);
	size_t cap = argsz < sizeof(struct vfio_region_info) ? sizeof(struct vfio_region_info)
			 : argsz > (1u << 16) ? (1u << 16) : argsz;
	if (ensure_xfer(s, cap))
		return 9;
	memset(s->xfer, 0, cap);
	struct vfio_region_info *ri = (struct vfio_region_info *)(void *)s->xfer;
	ri->argsz = argsz;
	ri->index = index;
	call_begin(s, s->olen);
	int rc = ioctl(s->h->device, VFIO_DEVICE_GET_REGION_INFO, s->xfer);
	int err = errno;
	call_end(s);
	unsigned char *a = status32(s, rc < 0 ? -1 : 0, err, 20);
	if (a) {
		put64(a + 5, ri->offset);
		put64(a + 13, ri->size);
		put32(a + 21, ri->flags);
	}
	return 9;
}

size_t compact_frame(struct server *s, const unsigned char *p, size_t avail)
{
	if (avail == 0)
		return 0;
	switch (p[0]) {
	case C_END:
		out_str(s, "OK 0 - -\n");
		s->compact = 0;
		return 1;
	case C_PREAD:
	case C_PREAD | C_INIT:
	case C_PREAD | C_FROM:
		return do_read(s, p, avail, 1);
	case C_READ:
	case C_READ | C_INIT:
	case C_READ | C_FROM:
		return do_read(s, p, avail, 0);
	case C_CARRY:
		return do_carry(s, p, avail);
	case C_PWRITE:
		return do_write(s, p, avail, 1);
	case C_WRITE:
		return do_write(s, p, avail, 0);
	case C_SEEK:
		return do_seek(s, p, avail);
	case C_INFO:
		return do_info(s, p, avail);
	case C_REOPEN: {
		call_begin(s, s->olen);
		int rc = vfio_reopen_device(s->h);
		int err = errno;
		call_end(s);
		s->pos = 0;
		status32(s, rc, err, 0);
		return 1;
	}
	default:
		return bad_frame(s, "unknown compact frame", avail);
	}
}
