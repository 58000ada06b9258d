/*
 * harness_state.h: the state the kernel stand-ins share with the driver-source access layer:
 * device slots (device A and its peer), sparse BAR memory, the instruction trace, the fault of
 * the current operation, the user buffer, and the allocation registry used for leak accounting.
 */
#ifndef ISMK_HARNESS_STATE_H
#define ISMK_HARNESS_STATE_H

#include "ismk_kernel.h"
#include "ismkit_access.h"

#define ISMK_SLOTS 2 /* slot 0: device A, slot 1: the peer */

struct ismk_page {
	u64 key; /* bar << 48 | page number, +1 so 0 marks an empty slot */
	unsigned char *bytes;
};

struct ismk_mem {
	struct ismk_page *pages;
	size_t cap, used;
};

struct ismk_slot {
	struct pci_dev pdev;
	struct zpci_dev zdev;
	u32 generation;            /* function-handle generation (R-FH-1) */
	u32 epoch;                 /* incremented by every probe of this slot */
	bool bound;                /* probe succeeded and remove not yet called */
	bool opened;
	bool fail_pool;            /* the next kmem_cache_create for this slot fails */
	struct vfio_pci_core_device *core; /* what the driver registered */
	struct ismk_mem mem;
	unsigned char config[4096];
};

enum ismk_record_kind { ISMK_REC_DEVICE, ISMK_REC_CACHE, ISMK_REC_OBJECT };

/* One allocation the harness keeps account of. Pointers are stored XOR-masked so that
 * LeakSanitizer does not count the registry as a reference. */
struct ismk_record {
	uintptr_t masked;
	uintptr_t masked_cache; /* objects: their pool */
	size_t size;
	int kind;
	int owner;   /* slot whose probe/init/operation made it, -1 none */
	u32 epoch;   /* owner's epoch then */
	bool dead;   /* freed / destroyed */
	char name[32];
};

/* The acquire/release pairs of the vfio/pci core and the slab allocator a driver must balance
 * (R-LIFE-2); pair_ledger.h keeps account of them. */
enum ismk_pair {
	ISMK_PAIR_DEVICE,    /* vfio_alloc_device / the last vfio_put_device */
	ISMK_PAIR_CORE_INIT, /* vfio_pci_core_init_dev / vfio_pci_core_release_dev */
	ISMK_PAIR_REGISTER,  /* vfio_pci_core_register_device / vfio_pci_core_unregister_device */
	ISMK_PAIR_ENABLE,    /* vfio_pci_core_enable / vfio_pci_core_disable or vfio_pci_core_close_device */
	ISMK_PAIR_POOL,      /* kmem_cache_create / kmem_cache_destroy */
	ISMK_PAIR_ALLOC,     /* kmem_cache_alloc, kmalloc / kmem_cache_free, kfree */
	ISMK_PAIRS
};

/* One acquire the lifecycle walk keeps (pointer masked like the registry's). */
struct ismk_ledger_entry {
	uintptr_t masked;
	int pair;
	bool released;
	char what[48];
};

struct ismk_ledger {
	long acquired[ISMK_PAIRS], released[ISMK_PAIRS]; /* always counted */
	bool walking;          /* the lifecycle walk runs: entries kept, violations reported, frees quarantined */
	int walk_point;        /* the acquire (0-based, in call order) that fails; -1 none */
	int acquires;          /* acquires made so far in this walk point */
	const char *phase;     /* the lifecycle step now running */
	struct ismk_ledger_entry *e;
	size_t n, cap;
};

/* What the callback-contract check records about one read/write callback call. */
struct ismk_contract {
	bool active;
	int region;            /* BAR 0..5, or -1 for config space */
	u64 start;             /* position inside the region where the call starts */
	size_t len;            /* the user buffer's length */
	unsigned char *written;/* per user byte: times copy_to_user wrote it */
	unsigned char *read;   /* per user byte: times copy_from_user read it */
	unsigned char *covered;/* per user byte: a device load (or config piece) for it succeeded */
};

struct ismk_state {
	struct ismkit_config config;
	struct ismk_slot slot[ISMK_SLOTS];
	struct ismkit_event *trace;
	size_t trace_len, trace_cap, trace_head;
	struct ismk_record *rec;
	size_t nrec, caprec;
	struct ismk_ledger ledger;
	struct ismk_contract contract;
};

extern struct ismk_state ismk;

/* An instruction trace of its own (a free-running PAIR thread's: concurrency.c). */
struct ismk_trace_buf {
	struct ismkit_event *e;
	size_t len, cap;
};

/* The operation in progress on the calling thread: each thread that runs a driver callback
 * (the PAIR request's two threads, or the main thread) has its own. */
struct ismk_op {
	struct ismkit_fault fault;
	u32 instructions;            /* device instructions issued by this operation */
	bool alloc_fault_pending;
	unsigned char *ubuf;
	size_t ulen;
	int current;                 /* slot whose driver callback runs now */
	struct ismk_trace_buf *trace;/* where this thread's instructions are traced; NULL: ismk.trace */
};
extern __thread struct ismk_op ismk_op;

/* What two threads running driver callbacks at once share, each behind its own lock: the
 * device (its memory, function handles and trace: one instruction at a time, as on the bus) and
 * the allocation registry with the ledger's counts. Neither is held across a boundary hook. */
extern pthread_mutex_t ismk_device_lock, ismk_registry_lock;
extern struct pci_driver *ismk_driver;

uintptr_t ismk_mask(const void *p);
struct ismk_record *ismk_find(const void *p, int kind);
int ismk_slot_of_fh(u32 fh, u32 *generation);
u32 ismk_fh(int slot, u32 generation);
void ismk_mem_free(struct ismk_mem *m);

/* Called at every boundary of a driver callback where another thread may run (concurrency.c):
 * before each device instruction, before each non-empty user copy, and (from the driver's own
 * calls, include/vfio_pci_priv.h) just after each instruction. NULL when no PAIR runs. */
enum ismk_boundary { ISMK_AT_INSTRUCTION, ISMK_AT_COPY_TO_USER, ISMK_AT_COPY_FROM_USER, ISMK_AFTER_INSTRUCTION };
extern void (*ismk_boundary_hook)(int where);

/* Called on entry to the stand-ins a driver callback calls between its boundaries (resource
 * queries, allocations and frees): the free-running PAIR (concurrency.c) lets the thread yield
 * or sleep there so the other thread runs inside what lies between two boundaries. NULL otherwise. */
extern void (*ismk_yield_hook)(void);
static inline void ismk_may_yield(void)
{
	if (ismk_yield_hook)
		ismk_yield_hook();
}

/* The second open file of device A (its own file position), for two-fd concurrency. */
struct ismkit_access *ismk_second_fd(void);

#endif
