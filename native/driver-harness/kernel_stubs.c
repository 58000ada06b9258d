/*
 * kernel_stubs.c: definitions of the kernel stand-ins declared in ismk_kernel.h.
 *
 * - PCI load / store block over a sparse simulated BAR set, in HOST byte order: a load of n bytes
 *   returns the device's n bytes as an n-byte host-order integer, zero-extended into the u64,
 *   so that storing it as an n-byte host integer reproduces the device bytes (SPEC R-READ-3).
 * - Every instruction is traced with width/length, position, BAR and handle generation; the
 *   nth instruction of an operation fails when a device fault says so (it is still traced).
 * - copy_to_user / copy_from_user over the operation's exact-size user buffer with the
 *   user-buffer fault (a copy touching index >= from fails); any access outside the buffer, a
 *   slab overflow, a use of a destroyed pool ends the process with a BROKEN report.
 * - slab caches with injectable ENOMEM and an allocation registry for leak accounting.
 * - the vfio / pci core calls the driver makes.
 */
#include "harness_state.h"
#include "callback_contract.h"
#include "pair_ledger.h"
#include "wire.h"

#include <stdlib.h>

struct ismk_state ismk;
__thread struct ismk_op ismk_op;
pthread_mutex_t ismk_device_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t ismk_registry_lock = PTHREAD_MUTEX_INITIALIZER;
struct pci_driver *ismk_driver;
void (*ismk_boundary_hook)(int where);
void (*ismk_yield_hook)(void);
void (*ismk_contended_hook)(int phase);

#define ISMK_MASK ((uintptr_t)0xA5C3A5C3A5C3A5C3ull)
uintptr_t ismk_mask(const void *p) { return (uintptr_t)p ^ ISMK_MASK; }

/* --- function handles ------------------------------------------------------------------ */

u32 ismk_fh(int slot, u32 generation)
{
	return (u32)(0x40 + slot) << 24 | (generation & 0xfffff) << 4 | 1;
}

/* The slot a handle belongs to (or -1), and the generation it names. */
int ismk_slot_of_fh(u32 fh, u32 *generation)
{
	int slot = (int)(fh >> 24) - 0x40;
	if ((fh & 0xf) != 1 || slot < 0 || slot >= ISMK_SLOTS)
		return -1;
	*generation = (fh >> 4) & 0xfffff;
	return slot;
}

/* --- sparse device memory -------------------------------------------------------------- */

static u64 page_hash(u64 key) { return (key * 0x9E3779B97F4A7C15ull) >> 17; }

static struct ismk_page *mem_lookup(struct ismk_mem *m, u64 key, bool create)
{
	if (create && (m->used + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		struct ismk_page *np = calloc(ncap, sizeof(*np));
		if (!np)
			ismkit_wire_broken(ISMKIT_BROKEN_HARNESS, "harness out of memory (device pages)");
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->pages[i].key)
				continue;
			size_t j = page_hash(m->pages[i].key) & (ncap - 1);
			while (np[j].key)
				j = (j + 1) & (ncap - 1);
			np[j] = m->pages[i];
		}
		free(m->pages);
		m->pages = np;
		m->cap = ncap;
	}
	if (!m->cap)
		return NULL;
	size_t j = page_hash(key) & (m->cap - 1);
	while (m->pages[j].key) {
		if (m->pages[j].key == key)
			return &m->pages[j];
		j = (j + 1) & (m->cap - 1);
	}
	if (!create)
		return NULL;
	m->pages[j].key = key;
	m->pages[j].bytes = NULL;
	m->used++;
	return &m->pages[j];
}

void ismk_mem_free(struct ismk_mem *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->pages[i].bytes);
	free(m->pages);
	memset(m, 0, sizeof(*m));
}

static u64 page_key(int bar, u64 pos) { return ((u64)bar << 48 | (pos >> 12)) + 1; }

static unsigned char dev_byte(struct ismk_slot *s, int bar, u64 pos)
{
	struct ismk_page *p = mem_lookup(&s->mem, page_key(bar, pos), false);
	if (p && p->bytes)
		return p->bytes[pos & 4095];
	return ismkit_initial_byte(ismk.config.content_seed, bar, pos);
}

static void dev_store(struct ismk_slot *s, int bar, u64 pos, unsigned char v)
{
	struct ismk_page *p = mem_lookup(&s->mem, page_key(bar, pos), true);
	if (!p->bytes) {
		p->bytes = malloc(4096);
		if (!p->bytes)
			ismkit_wire_broken(ISMKIT_BROKEN_HARNESS, "harness out of memory (device page)");
		u64 base = pos & ~(u64)4095;
		for (u64 i = 0; i < 4096; i++)
			p->bytes[i] = ismkit_initial_byte(ismk.config.content_seed, bar, base + i);
	}
	p->bytes[pos & 4095] = v;
}

/* --- trace and device faults ----------------------------------------------------------- */

/* Appends to the calling thread's own trace when it has one, else to ismk.trace (the device
 * lock is held: two threads' instructions are traced one at a time). */
static void trace_add(int kind, int bar, u64 pos, u32 size, u32 handle)
{
	struct ismk_trace_buf global = { ismk.trace, ismk.trace_len, ismk.trace_cap };
	struct ismk_trace_buf *t = ismk_op.trace ? ismk_op.trace : &global;
	if (t->len == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 256;
		struct ismkit_event *nt = realloc(t->e, ncap * sizeof(*nt));
		if (!nt)
			ismkit_wire_broken(ISMKIT_BROKEN_HARNESS, "harness out of memory (trace)");
		t->e = nt;
		t->cap = ncap;
	}
	struct ismkit_event *e = &t->e[t->len++];
	if (t == &global) {
		ismk.trace = global.e;
		ismk.trace_len = global.len;
		ismk.trace_cap = global.cap;
	}
	memset(e, 0, sizeof(*e));
	e->kind = (uint8_t)kind;
	e->bar = (uint8_t)bar;
	e->position = pos;
	e->size = size;
	e->handle = handle;
}

/* A handle-change fault: device A's function handle changes now (zPCI recovery, R-FH-1). */
static void handle_change(void)
{
	struct ismk_slot *sl = &ismk.slot[0];
	sl->generation++;
	WRITE_ONCE(sl->zdev.fh, ismk_fh(0, sl->generation));
	ismk_op.fault.kind = ISMKIT_FAULT_NONE;
}

/* Set while the config-space stand-in copies user bytes (no store block follows). */
static __thread bool config_copy;

/* Traces one instruction and says which device it addresses; returns 0 or a negative errno. */
static int instruction(int kind, u64 req, u64 offset, struct ismk_slot **out, int *bar, u32 *len)
{
	u32 fh = (u32)(req >> 32), generation = 0;
	int slot = ismk_slot_of_fh(fh, &generation);
	*bar = (int)((req >> 16) & 0xffff);
	*len = (u32)(req & 0xffff);
	/* Instructions for the peer are marked so they never match device A's expected trace. */
	u32 handle = slot < 0 ? 0xffffffffu : slot == 0 ? generation : (0x80000000u | generation);
	trace_add(kind, *bar, offset, *len, handle);
	u32 n = ismk_op.instructions++;
	/* A handle change after instruction n+1 of the operation: this one already has its handle. */
	if (ismk_op.fault.kind == ISMKIT_FAULT_HANDLE_CHANGE && ismk_op.fault.nth == n + 1)
		handle_change();
	/* An injected fault always fails the instruction, even when asked for errno 0 (then EIO). */
	if (ismk_op.fault.kind == ISMKIT_FAULT_DEVICE && ismk_op.fault.nth == n)
		return ismk_op.fault.err > 0 ? -ismk_op.fault.err : -EIO;
	if (slot < 0 || !ismk.slot[slot].bound)
		return -ENODEV; /* no such function */
	if (*bar > 5)
		return -EINVAL;
	*out = &ismk.slot[slot];
	return 0;
}

/* Each instruction: its boundary (where a PAIR may hold the thread), then its effect with the
 * device lock held. */
#define ISMK_INSTRUCTION(name, params, args)             \
	static int name##_locked params;                 \
	int name params                                  \
	{                                                \
		if (ismk_boundary_hook)                  \
			ismk_boundary_hook(ISMK_AT_INSTRUCTION); \
		pthread_mutex_lock(&ismk_device_lock);   \
		int rc = name##_locked args;             \
		pthread_mutex_unlock(&ismk_device_lock); \
		return rc;                               \
	}
ISMK_INSTRUCTION(__zpci_load, (u64 *data, u64 req, u64 offset), (data, req, offset))
ISMK_INSTRUCTION(__zpci_store_block, (const u64 *data, u64 req, u64 offset), (data, req, offset))
ISMK_INSTRUCTION(__zpci_store, (u64 data, u64 req, u64 offset), (data, req, offset))

static int __zpci_load_locked(u64 *data, u64 req, u64 offset)
{
	struct ismk_slot *s = NULL;
	int bar;
	u32 len;
	int rc = instruction(ISMKIT_EVENT_LOAD, req, offset, &s, &bar, &len);
	if (rc)
		return rc;
	unsigned char b[8];
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	for (u32 i = 0; i < len; i++)
		b[i] = dev_byte(s, bar, offset + i);
	switch (len) { /* the n bus bytes as an n-byte host-order integer, zero-extended */
	case 1: { u8 v; memcpy(&v, b, 1); *data = v; break; }
	case 2: { u16 v; memcpy(&v, b, 2); *data = v; break; }
	case 4: { u32 v; memcpy(&v, b, 4); *data = v; break; }
	default: { u64 v; memcpy(&v, b, 8); *data = v; break; }
	}
	ismk_contract_source(bar, offset, len);
	return 0;
}

static void check_kernel_range(const void *p, size_t n, const char *what);

static int __zpci_store_block_locked(const u64 *data, u64 req, u64 offset)
{
	struct ismk_slot *s = NULL;
	int bar;
	u32 len;
	int rc = instruction(ISMKIT_EVENT_STORE_BLOCK, req, offset, &s, &bar, &len);
	if (rc)
		return rc;
	check_kernel_range(data, len, "store block source");
	if (len == 0 || len > s->zdev.maxstbl)
		return -EIO;
	if (ismk.config.strict_store_blocks &&
	    ((offset % 8) || (len % 8) || len <= 8 || (offset % 4096) + len > 4096))
		return -EIO;
	const unsigned char *src = (const unsigned char *)data;
	for (u32 i = 0; i < len; i++)
		dev_store(s, bar, offset + i, src[i]);
	return 0;
}

static int __zpci_store_locked(u64 data, u64 req, u64 offset)
{
	struct ismk_slot *s = NULL;
	int bar;
	u32 len;
	int rc = instruction(ISMKIT_EVENT_STORE, req, offset, &s, &bar, &len);
	if (rc)
		return rc;
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return -EINVAL;
	unsigned char b[8];
	switch (len) {
	case 1: { u8 v = (u8)data; memcpy(b, &v, 1); break; }
	case 2: { u16 v = (u16)data; memcpy(b, &v, 2); break; }
	case 4: { u32 v = (u32)data; memcpy(b, &v, 4); break; }
	default: memcpy(b, &data, 8); break;
	}
	for (u32 i = 0; i < len; i++)
		dev_store(s, bar, offset + i, b[i]);
	return 0;
}

/* --- allocation registry ---------------------------------------------------------------- */

static struct ismk_record *rec_add(const void *p, int kind, size_t size, const char *name)
{
	/* `name` may point into the registry itself (a cache's record): copy it before a realloc moves it. */
	char name_copy[sizeof(((struct ismk_record *)0)->name)] = "";
	if (name)
		snprintf(name_copy, sizeof(name_copy), "%s", name);
	if (ismk.nrec == ismk.caprec) {
		size_t ncap = ismk.caprec ? ismk.caprec * 2 : 64;
		struct ismk_record *nr = realloc(ismk.rec, ncap * sizeof(*nr));
		if (!nr)
			ismkit_wire_broken(ISMKIT_BROKEN_HARNESS, "harness out of memory (registry)");
		ismk.rec = nr;
		ismk.caprec = ncap;
	}
	struct ismk_record *r = &ismk.rec[ismk.nrec++];
	memset(r, 0, sizeof(*r));
	r->masked = ismk_mask(p);
	r->kind = kind;
	r->size = size;
	r->owner = ismk_op.current;
	r->epoch = ismk_op.current >= 0 ? ismk.slot[ismk_op.current].epoch : 0;
	if (name)
		snprintf(r->name, sizeof(r->name), "%s", name_copy);
	return r;
}

/* The newest record of `kind` for pointer p (live or dead), or NULL. */
struct ismk_record *ismk_find(const void *p, int kind)
{
	uintptr_t m = ismk_mask(p);
	for (size_t i = ismk.nrec; i-- > 0;)
		if (ismk.rec[i].masked == m && ismk.rec[i].kind == kind)
			return &ismk.rec[i];
	return NULL;
}

static void rec_remove(struct ismk_record *r)
{
	*r = ismk.rec[--ismk.nrec];
}

/* A kernel-side range that starts inside a live slab object must end inside it. */
static void check_kernel_range(const void *p, size_t n, const char *what)
{
	uintptr_t a = (uintptr_t)p;
	pthread_mutex_lock(&ismk_registry_lock);
	for (size_t i = 0; i < ismk.nrec; i++) {
		struct ismk_record *r = &ismk.rec[i];
		if (r->kind != ISMK_REC_OBJECT || r->dead)
			continue;
		uintptr_t base = r->masked ^ ISMK_MASK;
		if (a >= base && a < base + r->size && a + n > base + r->size)
			ismkit_wire_broken(ISMKIT_BROKEN_OVERRUN, "slab overflow: %s of %zu bytes at +%zu in a %zu-byte object "
					   "of pool %s", what, n, (size_t)(a - base), r->size, r->name);
	}
	pthread_mutex_unlock(&ismk_registry_lock);
}

struct kmem_cache {
	char name[32];
	unsigned int size;
	unsigned int align;
	long objects;
};

static struct kmem_cache *cache_create(const char *name, unsigned int size, unsigned int align)
{
	int s = ismk_op.current;
	if (s >= 0 && ismk.slot[s].fail_pool) {
		ismk.slot[s].fail_pool = false; /* injected pool-creation failure */
		return NULL;
	}
	if (ismk_acquire_fails(ISMK_PAIR_POOL, "kmem_cache_create"))
		return NULL;
	struct kmem_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	snprintf(c->name, sizeof(c->name), "%s", name ? name : "?");
	c->size = size;
	c->align = align;
	rec_add(c, ISMK_REC_CACHE, size, c->name);
	char what[48];
	snprintf(what, sizeof(what), "pool %s", c->name);
	ismk_acquired(ISMK_PAIR_POOL, c, what);
	return c;
}

struct kmem_cache *__kmem_cache_create_args(const char *name, unsigned int object_size,
					    struct kmem_cache_args *args, slab_flags_t flags)
{
	(void)flags;
	return cache_create(name, object_size, args ? args->align : 0);
}

struct kmem_cache *__kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				       slab_flags_t flags, void (*ctor)(void *))
{
	(void)flags;
	(void)ctor;
	return cache_create(name, size, align);
}

static struct ismk_record *live_cache(struct kmem_cache *c, const char *op)
{
	if (!c)
		ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "%s on a NULL pool (kernel oops)", op);
	struct ismk_record *r = ismk_find(c, ISMK_REC_CACHE);
	if (!r)
		ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "%s on a pointer that is no pool", op);
	if (r->dead)
		ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "use after free: %s on destroyed pool %s", op, r->name);
	return r;
}

static void *kmem_cache_alloc_locked(struct kmem_cache *c, gfp_t flags);
void *kmem_cache_alloc(struct kmem_cache *c, gfp_t flags)
{
	ismk_may_yield();
	pthread_mutex_lock(&ismk_registry_lock);
	void *p = kmem_cache_alloc_locked(c, flags);
	pthread_mutex_unlock(&ismk_registry_lock);
	return p;
}

static void *kmem_cache_alloc_locked(struct kmem_cache *c, gfp_t flags)
{
	if (c && !ismk_use(ISMK_PAIR_POOL, c, "kmem_cache_alloc"))
		return NULL;
	struct ismk_record *cr = live_cache(c, "kmem_cache_alloc");
	if (ismk_op.alloc_fault_pending) {
		ismk_op.alloc_fault_pending = false;
		return NULL;
	}
	if (ismk_acquire_fails(ISMK_PAIR_ALLOC, "kmem_cache_alloc"))
		return NULL;
	void *p = malloc(c->size ? c->size : 1);
	if (!p)
		return NULL;
	if (flags & __GFP_ZERO)
		memset(p, 0, c->size);
	struct ismk_record *r = rec_add(p, ISMK_REC_OBJECT, c->size, cr->name);
	r->masked_cache = ismk_mask(c);
	c->objects++;
	char what[48];
	snprintf(what, sizeof(what), "an object of pool %s", c->name);
	ismk_acquired(ISMK_PAIR_ALLOC, p, what);
	return p;
}

void *kmem_cache_zalloc(struct kmem_cache *c, gfp_t flags) { return kmem_cache_alloc(c, flags | __GFP_ZERO); }

static void kmem_cache_free_locked(struct kmem_cache *c, void *obj);
void kmem_cache_free(struct kmem_cache *c, void *obj)
{
	ismk_may_yield();
	pthread_mutex_lock(&ismk_registry_lock);
	kmem_cache_free_locked(c, obj);
	pthread_mutex_unlock(&ismk_registry_lock);
}

static void kmem_cache_free_locked(struct kmem_cache *c, void *obj)
{
	if (c && !ismk_use(ISMK_PAIR_POOL, c, "kmem_cache_free"))
		return;
	live_cache(c, "kmem_cache_free");
	if (!obj)
		return;
	if (!ismk_release(ISMK_PAIR_ALLOC, obj, "kmem_cache_free"))
		return;
	struct ismk_record *r = ismk_find(obj, ISMK_REC_OBJECT);
	if (!r)
		ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "kmem_cache_free of a pointer that is no live object of pool %s", c->name);
	if (r->masked_cache != ismk_mask(c))
		ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "object of pool %s freed to pool %s", r->name, c->name);
	c->objects--;
	rec_remove(r);
	free(obj);
}

void kmem_cache_destroy(struct kmem_cache *c)
{
	if (!c)
		return;
	if (!ismk_release(ISMK_PAIR_POOL, c, "kmem_cache_destroy"))
		return;
	struct ismk_record *r = live_cache(c, "kmem_cache_destroy");
	if (c->objects)
		ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "pool %s destroyed with %ld objects in use", c->name, c->objects);
	r->dead = true;
	if (!ismk.ledger.walking)
		free(c); /* quarantined while walking, so a use after release is observed */
}

static void *kmalloc_locked(size_t size, gfp_t flags);
void *kmalloc(size_t size, gfp_t flags)
{
	ismk_may_yield();
	pthread_mutex_lock(&ismk_registry_lock);
	void *p = kmalloc_locked(size, flags);
	pthread_mutex_unlock(&ismk_registry_lock);
	return p;
}

static void *kmalloc_locked(size_t size, gfp_t flags)
{
	if (ismk_op.alloc_fault_pending) {
		ismk_op.alloc_fault_pending = false;
		return NULL;
	}
	if (ismk_acquire_fails(ISMK_PAIR_ALLOC, "kmalloc"))
		return NULL;
	void *p = malloc(size ? size : 1);
	if (p) {
		if (flags & __GFP_ZERO)
			memset(p, 0, size);
		rec_add(p, ISMK_REC_OBJECT, size, "kmalloc");
		ismk_acquired(ISMK_PAIR_ALLOC, p, "a kmalloc object");
	}
	return p;
}

void *kzalloc(size_t size, gfp_t flags) { return kmalloc(size, flags | __GFP_ZERO); }

static void kfree_locked(const void *obj);
void kfree(const void *obj)
{
	ismk_may_yield();
	pthread_mutex_lock(&ismk_registry_lock);
	kfree_locked(obj);
	pthread_mutex_unlock(&ismk_registry_lock);
}

static void kfree_locked(const void *obj)
{
	if (!obj)
		return;
	if (!ismk_release(ISMK_PAIR_ALLOC, obj, "kfree"))
		return;
	struct ismk_record *r = ismk_find(obj, ISMK_REC_OBJECT);
	if (!r)
		ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "kfree of a pointer that is no live allocation");
	rec_remove(r);
	free((void *)obj);
}

/* --- user buffer ------------------------------------------------------------------------ */

/* How many of the n bytes at user index idx may be copied before the user-buffer fault. */
static unsigned long user_span(long long idx, unsigned long n, const char *op)
{
	if (idx < 0 || (unsigned long long)idx + n > ismk_op.ulen)
		ismkit_wire_broken(ISMKIT_BROKEN_OVERRUN, "%s of %lu bytes at user-buffer index %lld, outside the %zu-byte "
				   "buffer (R-READ-5)", op, n, idx, ismk_op.ulen);
	if (ismk_op.fault.kind == ISMKIT_FAULT_USER_BUFFER && idx + (long long)n > ismk_op.fault.from)
		return ismk_op.fault.from > idx ? (unsigned long)(ismk_op.fault.from - idx) : 0;
	return n;
}

unsigned long copy_to_user(void __user *to, const void *from, unsigned long n)
{
	if (n == 0)
		return 0;
	if (ismk_boundary_hook)
		ismk_boundary_hook(ISMK_AT_COPY_TO_USER);
	long long idx = (long long)((uintptr_t)to - (uintptr_t)ismk_op.ubuf);
	unsigned long ok = user_span(idx, n, "copy_to_user");
	check_kernel_range(from, n, "copy_to_user source");
	memcpy(to, from, ok);
	ismk_contract_mark(ismk.contract.written, idx, ok);
	return n - ok;
}

unsigned long copy_from_user(void *to, const void __user *from, unsigned long n)
{
	if (n == 0)
		return 0;
	if (ismk_boundary_hook)
		ismk_boundary_hook(ISMK_AT_COPY_FROM_USER);
	long long idx = (long long)((uintptr_t)from - (uintptr_t)ismk_op.ubuf);
	unsigned long ok = user_span(idx, n, "copy_from_user");
	check_kernel_range(to, n, "copy_from_user destination");
	memcpy(to, from, ok);
	ismk_contract_mark(ismk.contract.read, idx, ok);
	if (ok < n)
		memset((char *)to + ok, 0, n - ok); /* the kernel zeroes the rest */
	/* The bytes are in the bounce buffer: the store block comes next (handle-change@0). */
	if (ismk_op.fault.kind == ISMKIT_FAULT_HANDLE_CHANGE && ismk_op.fault.nth == 0 && !config_copy) {
		pthread_mutex_lock(&ismk_device_lock);
		handle_change();
		pthread_mutex_unlock(&ismk_device_lock);
	}
	return n - ok;
}

/* --- pci -------------------------------------------------------------------------------- */

resource_size_t pci_resource_start(struct pci_dev *pdev, int bar)
{
	ismk_may_yield();
	return bar >= 0 && bar < PCI_STD_NUM_BARS ? pdev->ismk_start[bar] : 0;
}

resource_size_t pci_resource_len(struct pci_dev *pdev, int bar)
{
	ismk_may_yield();
	return bar >= 0 && bar < PCI_STD_NUM_BARS ? pdev->ismk_len[bar] : 0;
}

void ismk_register_pci_driver(struct pci_driver *drv) { ismk_driver = drv; }

/* --- vfio core -------------------------------------------------------------------------- */

/* Every core call on a device checks, while walking, that the device was not released yet. */
#define ISMK_USE_DEVICE(vdevp, fn) ismk_use(ISMK_PAIR_DEVICE, (vdevp), (fn))

pci_ers_result_t vfio_pci_core_aer_err_detected(struct pci_dev *pdev, pci_channel_state_t state)
{
	(void)pdev;
	(void)state;
	return PCI_ERS_RESULT_CAN_RECOVER; /* the core signals the error eventfd and lets user space recover */
}

const struct pci_error_handlers vfio_pci_core_err_handlers = {
	.error_detected = vfio_pci_core_aer_err_detected,
};

struct vfio_device *_vfio_alloc_device(size_t size, struct device *dev,
				       const struct vfio_device_ops *ops)
{
	if (size < sizeof(struct vfio_device))
		return ERR_PTR(-EINVAL);
	if (ismk_acquire_fails(ISMK_PAIR_DEVICE, "vfio_alloc_device"))
		return ERR_PTR(-ENOMEM);
	struct vfio_device *d = calloc(1, size);
	if (!d)
		return ERR_PTR(-ENOMEM);
	rec_add(d, ISMK_REC_DEVICE, size, ops && ops->name ? ops->name : "vfio_device");
	char what[48];
	snprintf(what, sizeof(what), "device %s", ops && ops->name ? ops->name : "vfio_device");
	ismk_acquired(ISMK_PAIR_DEVICE, d, what);
	d->dev = dev;
	d->ops = ops;
	d->ismk_refcount = 1;
	if (ops->init) {
		int ret = ops->init(d);
		if (ret) {
			/* The core frees the device itself when init fails (release is not called). */
			ismk_release(ISMK_PAIR_DEVICE, d, "vfio_alloc_device");
			ismk_find(d, ISMK_REC_DEVICE)->dead = true;
			if (!ismk.ledger.walking)
				free(d);
			return ERR_PTR(ret);
		}
	}
	return d;
}

void vfio_put_device(struct vfio_device *device)
{
	if (ismk.ledger.walking) {
		struct ismk_ledger_entry *e = ismk_ledger_find(ISMK_PAIR_DEVICE, device);
		if (e && e->released) {
			ismk_ledger_violation("double-release", ISMK_PAIR_DEVICE, "%s of %s, already released",
					      "vfio_put_device", e->what);
			return;
		}
	}
	struct ismk_record *r = ismk_find(device, ISMK_REC_DEVICE);
	if (!r)
		ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "vfio_put_device on a pointer that is no device");
	if (r->dead)
		ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "use after free: vfio_put_device on a released device");
	if (--device->ismk_refcount > 0)
		return;
	if (device->ops->release)
		device->ops->release(device);
	ismk_release(ISMK_PAIR_DEVICE, device, "vfio_put_device");
	r = ismk_find(device, ISMK_REC_DEVICE);
	r->dead = true;
	if (!ismk.ledger.walking)
		free(device); /* quarantined while walking, so a use after release is observed */
}

int vfio_pci_core_register_device(struct vfio_pci_core_device *vdev)
{
	if (!ISMK_USE_DEVICE(&vdev->vdev, "vfio_pci_core_register_device"))
		return -EINVAL;
	if (ismk_op.current < 0)
		return -EINVAL;
	if (ismk_acquire_fails(ISMK_PAIR_REGISTER, "vfio_pci_core_register_device"))
		return -EBUSY;
	ismk.slot[ismk_op.current].core = vdev;
	ismk_acquired(ISMK_PAIR_REGISTER, vdev, "the registration");
	return 0;
}

void vfio_pci_core_unregister_device(struct vfio_pci_core_device *vdev)
{
	if (!ISMK_USE_DEVICE(&vdev->vdev, "vfio_pci_core_unregister_device"))
		return;
	if (!ismk_release(ISMK_PAIR_REGISTER, vdev, "vfio_pci_core_unregister_device"))
		return;
	for (int s = 0; s < ISMK_SLOTS; s++)
		if (ismk.slot[s].core == vdev)
			ismk.slot[s].core = NULL;
}

int vfio_pci_core_init_dev(struct vfio_device *core_vdev)
{
	if (!ISMK_USE_DEVICE(core_vdev, "vfio_pci_core_init_dev"))
		return -EINVAL;
	if (ismk_acquire_fails(ISMK_PAIR_CORE_INIT, "vfio_pci_core_init_dev"))
		return -ENOMEM;
	struct vfio_pci_core_device *vdev = container_of(core_vdev, struct vfio_pci_core_device, vdev);
	vdev->pdev = to_pci_dev(core_vdev->dev);
	ismk_acquired(ISMK_PAIR_CORE_INIT, core_vdev, "the core state");
	return 0;
}

void vfio_pci_core_release_dev(struct vfio_device *core_vdev)
{
	if (ISMK_USE_DEVICE(core_vdev, "vfio_pci_core_release_dev"))
		ismk_release(ISMK_PAIR_CORE_INIT, core_vdev, "vfio_pci_core_release_dev");
}

int vfio_pci_core_enable(struct vfio_pci_core_device *vdev)
{
	if (!ISMK_USE_DEVICE(&vdev->vdev, "vfio_pci_core_enable"))
		return -EINVAL;
	if (ismk_acquire_fails(ISMK_PAIR_ENABLE, "vfio_pci_core_enable"))
		return -EIO;
	ismk_acquired(ISMK_PAIR_ENABLE, vdev, "the enabled device");
	return 0;
}

void vfio_pci_core_disable(struct vfio_pci_core_device *vdev)
{
	if (ISMK_USE_DEVICE(&vdev->vdev, "vfio_pci_core_disable"))
		ismk_release(ISMK_PAIR_ENABLE, vdev, "vfio_pci_core_disable");
}

void vfio_pci_core_finish_enable(struct vfio_pci_core_device *vdev)
{
	(void)ISMK_USE_DEVICE(&vdev->vdev, "vfio_pci_core_finish_enable");
}

void vfio_pci_core_close_device(struct vfio_device *core_vdev)
{
	struct vfio_pci_core_device *vdev = container_of(core_vdev, struct vfio_pci_core_device, vdev);
	if (ISMK_USE_DEVICE(core_vdev, "vfio_pci_core_close_device"))
		ismk_release(ISMK_PAIR_ENABLE, vdev, "vfio_pci_core_close_device");
}

long vfio_pci_core_ioctl(struct vfio_device *v, unsigned int cmd, unsigned long arg)
{
	(void)v; (void)cmd; (void)arg;
	return -ENOTTY;
}
int vfio_pci_core_ioctl_feature(struct vfio_device *d, u32 flags, void __user *arg, size_t argsz)
{
	(void)d; (void)flags; (void)arg; (void)argsz;
	return -ENOTTY;
}
void vfio_pci_core_request(struct vfio_device *v, unsigned int count) { (void)v; (void)count; }
int vfio_pci_core_match(struct vfio_device *v, char *buf) { (void)v; (void)buf; return 0; }
int vfio_pci_core_match_token_uuid(struct vfio_device *v, const uuid_t *u) { (void)v; (void)u; return 0; }
int vfio_pci_core_mmap(struct vfio_device *v, struct vm_area_struct *vma) { (void)v; (void)vma; return -EINVAL; }
ssize_t vfio_pci_core_read(struct vfio_device *v, char __user *b, size_t c, loff_t *p)
{
	(void)v; (void)b; (void)c; (void)p;
	return -EINVAL;
}
ssize_t vfio_pci_core_write(struct vfio_device *v, const char __user *b, size_t c, loff_t *p)
{
	(void)v; (void)b; (void)c; (void)p;
	return -EINVAL;
}
int vfio_iommufd_physical_bind(struct vfio_device *v, struct iommufd_ctx *i, u32 *o) { (void)v; (void)i; (void)o; return 0; }
void vfio_iommufd_physical_unbind(struct vfio_device *v) { (void)v; }
int vfio_iommufd_physical_attach_ioas(struct vfio_device *v, u32 *p) { (void)v; (void)p; return 0; }
void vfio_iommufd_physical_detach_ioas(struct vfio_device *v) { (void)v; }

ssize_t vfio_pci_config_rw_single(struct vfio_pci_core_device *vdev, char __user *buf,
				  size_t count, loff_t *ppos, bool iswrite)
{
	struct pci_dev *pdev = vdev->pdev;
	loff_t pos = *ppos;
	if (!pdev)
		ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "config access before vfio_pci_core_init_dev set pdev");
	if (pos < 0 || pos >= pdev->cfg_size || pos + (loff_t)count > pdev->cfg_size)
		return -EFAULT;
	size_t piece = (count >= 4 && !(pos % 4)) ? 4 : (count >= 2 && !(pos % 2)) ? 2 : 1;
	struct ismk_slot *s = container_of(pdev, struct ismk_slot, pdev);
	if (iswrite) {
		unsigned char tmp[4];
		config_copy = true;
		unsigned long left = copy_from_user(tmp, buf, piece);
		config_copy = false;
		if (left)
			return -EFAULT;
		memcpy(s->config + pos, tmp, piece);
	} else {
		ismk_contract_source(-1, (u64)pos, piece); /* the piece is fetched; the copy may still fault */
		if (copy_to_user(buf, s->config + pos, piece))
			return -EFAULT;
	}
	return (ssize_t)piece;
}

int vfio_pci_ioctl_get_region_info(struct vfio_device *core_vdev, struct vfio_region_info *info,
				   struct vfio_info_cap *caps)
{
	struct vfio_pci_core_device *vdev = container_of(core_vdev, struct vfio_pci_core_device, vdev);
	struct pci_dev *pdev = vdev->pdev;
	(void)caps;
	if (!pdev)
		ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "region info before vfio_pci_core_init_dev set pdev");
	info->offset = VFIO_PCI_INDEX_TO_OFFSET(info->index);
	info->flags = 0;
	info->size = 0;
	if (info->index == VFIO_PCI_CONFIG_REGION_INDEX) {
		info->size = pdev->cfg_size;
		info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	} else if (info->index <= VFIO_PCI_BAR5_REGION_INDEX) {
		info->size = pci_resource_len(pdev, info->index);
		if (info->size)
			info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	} else if (info->index >= VFIO_PCI_NUM_REGIONS) {
		info->offset = 0;
		return -EINVAL;
	}
	return 0;
}

int vfio_pci_core_sriov_configure(struct vfio_pci_core_device *vdev, int nr_virtfn)
{
	(void)vdev;
	return nr_virtfn ? -ENODEV : 0; /* an ISM function has no virtual functions */
}

void ismk_bug(const char *cond, const char *file, int line)
{
	ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "kernel BUG: %s at %s:%d", cond, file, line);
}
