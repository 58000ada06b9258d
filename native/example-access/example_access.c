/*
 * example_access.c: a small user-space access layer for an ism-vfio-pci device, written
 * against include/ismkit_access.h. It keeps the device in memory (pages written so far, the
 * rest from ismkit_initial_byte) and follows the access rules of SPEC.md: 48-bit region
 * offsets (or, when ismkit passes a region table, the table's bases and span), aligned 8/4/2/1 loads copied byte-transparently, one store block per write,
 * config space in 4/2/1 pieces, injected faults, a second device with its own pool.
 *
 * Build: cc -shared -fPIC -I include native/example-access/example_access.c -o libexample.so
 * Check: ismkit conform --library ./libexample.so
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ismkit_access.h"

#define SHIFT 48
#define POS_MASK ((1ull << SHIFT) - 1)
#define CONFIG_INDEX 7
#define PAGE 4096ull
#define MAX_RW 0x7ffff000ull

struct page {
	struct page *next;
	uint64_t key; /* bar << 48 | page number */
	unsigned char bytes[PAGE];
};

struct ismkit_access {
	struct ismkit_config cfg;
	struct page *pages;
	unsigned char config[4096];
	uint64_t pos;
	uint32_t handle;
	bool peer;
	struct ismkit_event *trace;
	size_t ntrace, captrace, head;
	const struct ismkit_fault *fault; /* of the call in progress */
	uint32_t issued;                  /* device instructions of the call in progress */
};

int ismkit_abi_version(void) { return ISMKIT_ABI_VERSION; }

uint32_t ismkit_capabilities(void)
{
	return ISMKIT_CAP_TRACE | ISMKIT_CAP_FAULTS | ISMKIT_CAP_LIFECYCLE |
	       ISMKIT_CAP_HANDLE_RECOVERY | ISMKIT_CAP_SEEK | ISMKIT_CAP_HANDLE_CHANGE |
	       ISMKIT_CAP_REGION_TABLE;
}

struct ismkit_access *ismkit_open(const struct ismkit_config *config, int *err)
{
	struct ismkit_access *a = calloc(1, sizeof(*a));
	if (!a) {
		*err = ENOMEM;
		return NULL;
	}
	a->cfg = *config;
	if (a->cfg.config_size > sizeof(a->config))
		a->cfg.config_size = sizeof(a->config);
	return a;
}

void ismkit_close(struct ismkit_access *a)
{
	while (a->pages) {
		struct page *p = a->pages;
		a->pages = p->next;
		free(p);
	}
	free(a->trace);
	free(a);
}

static struct page *find_page(struct ismkit_access *a, int bar, uint64_t pos, bool create)
{
	uint64_t key = (uint64_t)bar << 48 | pos / PAGE;
	for (struct page *p = a->pages; p; p = p->next)
		if (p->key == key)
			return p;
	if (!create)
		return NULL;
	struct page *p = malloc(sizeof(*p));
	if (!p)
		return NULL;
	p->key = key;
	for (uint64_t i = 0; i < PAGE; i++)
		p->bytes[i] = ismkit_initial_byte(a->cfg.content_seed, bar, (pos & ~(PAGE - 1)) + i);
	p->next = a->pages;
	a->pages = p;
	return p;
}

static unsigned char device_byte(struct ismkit_access *a, int bar, uint64_t pos)
{
	struct page *p = find_page(a, bar, pos, false);
	return p ? p->bytes[pos % PAGE] : ismkit_initial_byte(a->cfg.content_seed, bar, pos);
}

/* Records one instruction; returns the injected error for it, or 0. */
static int instruction(struct ismkit_access *a, int kind, int bar, uint64_t pos, uint32_t size)
{
	if (a->ntrace == a->captrace) {
		size_t n = a->captrace ? 2 * a->captrace : 64;
		struct ismkit_event *t = realloc(a->trace, n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		a->trace = t;
		a->captrace = n;
	}
	struct ismkit_event *e = &a->trace[a->ntrace++];
	memset(e, 0, sizeof(*e));
	e->kind = (uint8_t)kind;
	e->bar = (uint8_t)bar;
	e->position = pos;
	e->size = size;
	e->handle = a->handle;
	uint32_t n = a->issued++;
	if (a->fault->kind == ISMKIT_FAULT_HANDLE_CHANGE && a->fault->nth == n + 1)
		a->handle++; /* the handle changes once this instruction completes */
	if (a->fault->kind == ISMKIT_FAULT_DEVICE && a->fault->nth == n)
		return -a->fault->err;
	return 0;
}

/* Whether a copy of n bytes at user-buffer index i runs into the injected user-buffer fault. */
static bool user_fault(struct ismkit_access *a, uint64_t i, uint64_t n)
{
	return a->fault->kind == ISMKIT_FAULT_USER_BUFFER && (int64_t)(i + n) > a->fault->from;
}

static int64_t config_rw(struct ismkit_access *a, unsigned char *buf, uint64_t count, uint64_t pos, bool wr)
{
	uint64_t size = a->cfg.config_size;
	if (pos >= size || pos + count > size)
		return -EFAULT;
	for (uint64_t done = 0; done < count;) {
		uint64_t p = pos + done, left = count - done;
		uint64_t n = (left >= 4 && p % 4 == 0) ? 4 : (left >= 2 && p % 2 == 0) ? 2 : 1;
		if (user_fault(a, done, n))
			return -EFAULT;
		if (wr)
			memcpy(a->config + p, buf + done, n);
		else
			memcpy(buf + done, a->config + p, n);
		done += n;
	}
	return (int64_t)count;
}

static int64_t bar_read(struct ismkit_access *a, int bar, unsigned char *buf, uint64_t count, uint64_t pos)
{
	for (uint64_t done = 0; done < count;) {
		uint64_t p = pos + done, left = count - done;
		uint64_t n = (left >= 8 && p % 8 == 0) ? 8 : (left >= 4 && p % 4 == 0) ? 4
			   : (left >= 2 && p % 2 == 0) ? 2 : 1;
		int rc = instruction(a, ISMKIT_EVENT_LOAD, bar, p, (uint32_t)n);
		if (rc)
			return rc;
		if (user_fault(a, done, n))
			return -EFAULT;
		for (uint64_t i = 0; i < n; i++)
			buf[done + i] = device_byte(a, bar, p + i); /* byte-transparent */
		done += n;
	}
	return (int64_t)count;
}

static int64_t bar_write(struct ismkit_access *a, int bar, const unsigned char *buf, uint64_t count, uint64_t pos)
{
	if (count > a->cfg.maxstbl || pos % PAGE + count > PAGE)
		return -EINVAL;
	if (a->fault->kind == ISMKIT_FAULT_ALLOCATION)
		return -ENOMEM;
	if (user_fault(a, 0, count))
		return -EFAULT;
	if (a->fault->kind == ISMKIT_FAULT_HANDLE_CHANGE && a->fault->nth == 0)
		a->handle++; /* the bytes are copied: the handle changes just before the store block */
	int rc = instruction(a, ISMKIT_EVENT_STORE_BLOCK, bar, pos, (uint32_t)count);
	if (rc)
		return rc;
	if (a->cfg.strict_store_blocks && (pos % 8 || count % 8 || count <= 8))
		return -EIO;
	for (uint64_t i = 0; i < count; i++) {
		struct page *p = find_page(a, bar, pos + i, true);
		if (!p)
			return -ENOMEM;
		p->bytes[(pos + i) % PAGE] = buf[i];
	}
	return (int64_t)count;
}

/* The region index and position of a non-negative offset: from the table when the config has
 * one (an offset in no listed range gives an index no region has), else index << SHIFT. */
static void decode(const struct ismkit_access *a, uint64_t off, uint64_t *index, uint64_t *pos)
{
	if (a->cfg.region_span == 0) {
		*index = off >> SHIFT;
		*pos = off & POS_MASK;
		return;
	}
	for (int i = 0; i < ISMKIT_REGION_COUNT; i++) {
		uint64_t b = a->cfg.region_bases[i];
		if (off >= b && off - b < a->cfg.region_span) {
			*index = (uint64_t)i;
			*pos = off - b;
			return;
		}
	}
	*index = UINT64_MAX;
	*pos = 0;
}

/* Where region `index` starts (region info's offset). */
static uint64_t region_base(const struct ismkit_access *a, uint32_t index)
{
	return a->cfg.region_span ? a->cfg.region_bases[index] : (uint64_t)index << SHIFT;
}

static int64_t transfer(struct ismkit_access *a, unsigned char *buf, uint64_t count, uint64_t off,
			bool wr, const struct ismkit_fault *fault)
{
	if (off >> 63)
		return -EINVAL;
	if (count > MAX_RW)
		count = MAX_RW;
	if (count == 0)
		return 0;
	a->fault = fault;
	a->issued = 0;
	uint64_t index, pos;
	decode(a, off, &index, &pos);
	if (index == CONFIG_INDEX)
		return config_rw(a, buf, count, pos, wr);
	if (index > 5 || a->cfg.bar_lengths[index] == 0)
		return -EINVAL;
	uint64_t len = a->cfg.bar_lengths[index];
	if (pos >= len)
		return -EINVAL;
	if (count > len - pos)
		count = len - pos;
	return wr ? bar_write(a, (int)index, buf, count, pos) : bar_read(a, (int)index, buf, count, pos);
}

int64_t ismkit_pread(struct ismkit_access *a, void *buf, uint64_t count, uint64_t offset,
		     const struct ismkit_fault *fault)
{
	return transfer(a, buf, count, offset, false, fault);
}

int64_t ismkit_pwrite(struct ismkit_access *a, const void *buf, uint64_t count, uint64_t offset,
		      const struct ismkit_fault *fault)
{
	return transfer(a, (unsigned char *)buf, count, offset, true, fault);
}

int64_t ismkit_read(struct ismkit_access *a, void *buf, uint64_t count, const struct ismkit_fault *fault)
{
	int64_t r = transfer(a, buf, count, a->pos, false, fault);
	if (r > 0)
		a->pos += (uint64_t)r;
	return r;
}

int64_t ismkit_write(struct ismkit_access *a, const void *buf, uint64_t count,
		     const struct ismkit_fault *fault)
{
	int64_t r = transfer(a, (unsigned char *)buf, count, a->pos, true, fault);
	if (r > 0)
		a->pos += (uint64_t)r;
	return r;
}

int64_t ismkit_seek(struct ismkit_access *a, int64_t offset, int whence)
{
	int64_t base = whence == 0 ? 0 : (int64_t)a->pos, np;
	if (__builtin_add_overflow(base, offset, &np) || np < 0)
		return -EINVAL;
	a->pos = (uint64_t)np;
	return np;
}

int ismkit_region_info(struct ismkit_access *a, uint32_t index, uint32_t argsz,
		       struct ismkit_region_info *out)
{
	memset(out, 0, sizeof(*out));
	if (argsz < 32)
		return -EINVAL;
	if (index == CONFIG_INDEX) {
		out->offset = region_base(a, index);
		out->size = a->cfg.config_size;
		out->flags = 3;
		return 0;
	}
	if (index > 5)
		return -EINVAL;
	out->offset = region_base(a, index);
	out->size = a->cfg.bar_lengths[index];
	out->flags = out->size ? 3 : 0;
	return 0;
}

int ismkit_recover_handle(struct ismkit_access *a)
{
	a->handle++;
	return 0;
}

int ismkit_attach_peer(struct ismkit_access *a, int fail_pool)
{
	if (a->peer)
		return -EBUSY;
	if (fail_pool)
		return -ENOMEM;
	a->peer = true;
	return 0;
}

int ismkit_detach_peer(struct ismkit_access *a)
{
	if (!a->peer)
		return -ENODEV;
	a->peer = false;
	return 0;
}

int ismkit_resources(struct ismkit_access *a, struct ismkit_resources *out)
{
	out->live_pools = a->peer ? 2 : 1;
	out->leaked_objects = 0;
	return 0;
}

size_t ismkit_take_trace(struct ismkit_access *a, struct ismkit_event *events, size_t capacity)
{
	size_t n = a->ntrace - a->head;
	if (n > capacity)
		n = capacity;
	memcpy(events, a->trace + a->head, n * sizeof(*events));
	a->head += n;
	if (a->head == a->ntrace)
		a->head = a->ntrace = 0;
	return n;
}
