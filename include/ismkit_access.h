/*
 * ismkit_access.h: the C ABI of an ismkit access layer (ABI version 1).
 *
 * A user-space access layer for an ism-vfio-pci device (written in C, or in anything that can
 * export C functions) implements the functions below and is built as a shared object. ismkit
 * loads it into a separate "library host" process (`ismkit conform --library PATH`), which
 * speaks the wire protocol of docs/wire-protocol.md, so a crash or hang of the library is a
 * finding, never a crash of ismkit.
 *
 * The functions mirror the Swift protocol `ISMAccess` one to one. Each behaves like the system
 * call it is named for on an ISM device fd:
 *   - return values >= 0 are results (bytes transferred, new file position, 0 for success);
 *   - failures return a NEGATIVE errno (-EINVAL, -EFAULT, ...), exactly the errno the system
 *     call would set.
 * Buffers are exact-size: an implementation must not touch a byte outside [buf, buf+count).
 * Offsets are 64-bit file offsets as the caller passes them (bit 63 set = negative offset).
 * Every function is called from one thread; no function is called after ismkit_close.
 *
 * Additions within version 1 are appended to the structs and announced by a capability bit: a
 * library built against an older copy of this header reads only the fields it knows and never
 * announces the newer bits, so ismkit drives it as before (the library host is always built
 * from this header, so it passes every field).
 */
#ifndef ISMKIT_ACCESS_H
#define ISMKIT_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ISMKIT_ABI_VERSION 1

/* Capability bits returned by ismkit_capabilities(). */
#define ISMKIT_CAP_TRACE 0x01u           /* ismkit_take_trace reports PCI loads and store blocks */
#define ISMKIT_CAP_FAULTS 0x02u          /* honours struct ismkit_fault */
#define ISMKIT_CAP_LIFECYCLE 0x04u       /* attach_peer, detach_peer, resources */
#define ISMKIT_CAP_HANDLE_RECOVERY 0x08u /* recover_handle */
#define ISMKIT_CAP_SEEK 0x10u            /* read, write and seek at a file position */
#define ISMKIT_CAP_HANDLE_CHANGE 0x20u   /* honours ISMKIT_FAULT_HANDLE_CHANGE */
#define ISMKIT_CAP_REGION_TABLE 0x40u    /* takes region bases from struct ismkit_config's table */

/* How many regions a region table lists: BAR0..BAR5, the ROM (index 6) and config space (7). */
#define ISMKIT_REGION_COUNT 8

/* The device the access layer drives (ismkit's DeviceConfig, ism profile). */
struct ismkit_config {
	uint64_t bar_lengths[6];   /* BAR0..BAR5 lengths in bytes, 0 = absent (BAR0 may be 2^48) */
	uint64_t config_size;      /* 256 or 4096 */
	uint64_t maxstbl;          /* maximum store block length of the device */
	uint64_t peer_maxstbl;     /* maxstbl of the second ("peer") device of attach_peer */
	uint64_t content_seed;     /* seeds the initial device bytes (see ismkit_initial_byte) */
	int32_t strict_store_blocks; /* 0 relaxed (default), 1 strict PCISTB rules (R-WRITE-4) */
	int32_t reserved;
	/*
	 * The region layout (appended in ABI version 1, so the fields above keep their offsets).
	 * region_span 0: region `index` starts at offset index << 48 (SPEC R-OFF-1). Otherwise the
	 * bases come from the table: region i owns [region_bases[i], region_bases[i] + region_span)
	 * and answers region info with offset region_bases[i]; an offset in no listed range names
	 * no region (-EINVAL, R-OFF-3). region_span is a power of two >= every BAR and the config
	 * space, the ranges do not overlap, and the bases need not be in index order. ismkit sets
	 * region_span only for an implementation announcing ISMKIT_CAP_REGION_TABLE; one without
	 * the bit always sees 0 and zero bases. An implementation that announces it must take every
	 * base from the table, never from a shift, whenever region_span != 0.
	 */
	uint64_t region_span;
	uint64_t region_bases[ISMKIT_REGION_COUNT];
};

/* A fault injected into one call (ismkit's Fault). */
enum ismkit_fault_kind {
	ISMKIT_FAULT_NONE = 0,
	ISMKIT_FAULT_DEVICE = 1,      /* instruction `nth` (0-based) of this call fails with -err */
	ISMKIT_FAULT_USER_BUFFER = 2, /* a copy touching buffer byte index >= from fails (EFAULT) */
	ISMKIT_FAULT_ALLOCATION = 3,  /* the next bounce-buffer allocation fails (ENOMEM) */
	ISMKIT_FAULT_HANDLE_CHANGE = 4, /* the function handle changes after instruction `nth`
					 * (1-based) completes; nth 0: once a write's bytes are
					 * copied, just before its store block (R-FH-1) */
};

struct ismkit_fault {
	int32_t kind;  /* enum ismkit_fault_kind */
	uint32_t nth;  /* ISMKIT_FAULT_DEVICE, ISMKIT_FAULT_HANDLE_CHANGE */
	int32_t err;   /* ISMKIT_FAULT_DEVICE: positive errno */
	int32_t reserved;
	int64_t from;  /* ISMKIT_FAULT_USER_BUFFER */
};

/* One device instruction (ismkit's TraceEvent). */
enum ismkit_event_kind {
	ISMKIT_EVENT_LOAD = 0,        /* PCI load of `size` bytes (1, 2, 4, 8) */
	ISMKIT_EVENT_STORE_BLOCK = 1, /* PCI store block of `size` bytes */
	ISMKIT_EVENT_STORE = 2,       /* single split store (vfio-pci profile only) */
};

struct ismkit_event {
	uint8_t kind;      /* enum ismkit_event_kind */
	uint8_t bar;
	uint16_t reserved;
	uint32_t size;
	uint64_t position; /* position inside the BAR */
	uint32_t handle;   /* function-handle generation: 0 at start, +1 per recover_handle */
	uint32_t reserved2;
};

struct ismkit_region_info {
	uint64_t offset;
	uint64_t size;
	uint32_t flags; /* VFIO_REGION_INFO_FLAG_READ 1, WRITE 2, MMAP 4, CAPS 8 */
	uint32_t reserved;
};

struct ismkit_resources {
	int64_t live_pools;     /* store-block pools that exist now */
	int64_t leaked_objects; /* objects allocated and no longer reachable */
};

struct ismkit_access; /* opaque, owned by the implementation */

/* Must return ISMKIT_ABI_VERSION. */
int ismkit_abi_version(void);
/* ISMKIT_CAP_* bits. */
uint32_t ismkit_capabilities(void);
/* Creates the device and its driver state; NULL with *err set to a positive errno on failure. */
struct ismkit_access *ismkit_open(const struct ismkit_config *config, int *err);
/* Releases everything ismkit_open took. */
void ismkit_close(struct ismkit_access *a);

int64_t ismkit_pread(struct ismkit_access *a, void *buf, uint64_t count, uint64_t offset,
		     const struct ismkit_fault *fault);
int64_t ismkit_pwrite(struct ismkit_access *a, const void *buf, uint64_t count, uint64_t offset,
		      const struct ismkit_fault *fault);
int64_t ismkit_read(struct ismkit_access *a, void *buf, uint64_t count,
		    const struct ismkit_fault *fault);
int64_t ismkit_write(struct ismkit_access *a, const void *buf, uint64_t count,
		     const struct ismkit_fault *fault);
/* whence: 0 = SEEK_SET, 1 = SEEK_CUR. Returns the new position or a negative errno. */
int64_t ismkit_seek(struct ismkit_access *a, int64_t offset, int whence);
/* VFIO_DEVICE_GET_REGION_INFO; 0 or a negative errno (out is filled either way). */
int ismkit_region_info(struct ismkit_access *a, uint32_t index, uint32_t argsz,
		       struct ismkit_region_info *out);
/* Optional (return -EOPNOTSUPP when the capability bit is clear). */
int ismkit_recover_handle(struct ismkit_access *a);
int ismkit_attach_peer(struct ismkit_access *a, int fail_pool);
int ismkit_detach_peer(struct ismkit_access *a);
int ismkit_resources(struct ismkit_access *a, struct ismkit_resources *out);
/* Moves up to `capacity` of the oldest pending events into `events`; returns how many. */
size_t ismkit_take_trace(struct ismkit_access *a, struct ismkit_event *events, size_t capacity);

/*
 * The initial byte at `position` of BAR `bar` of a device seeded with `seed`, before anything
 * was written: every implementation starts from these bytes. Identical to ismkit's
 * DeviceContents.initialByte. Never zero.
 */
static inline uint8_t ismkit_initial_byte(uint64_t seed, int bar, uint64_t position)
{
	uint64_t x = (position + (uint64_t)bar * 0x9E3779B97F4A7C15ull) ^ seed;
	x = (x ^ (x >> 31)) * 0xBF58476D1CE4E5B9ull;
	x ^= x >> 29;
	uint8_t b = (uint8_t)(x >> 24);
	return b == 0 ? 0xA5 : b;
}

/*
 * The functions above as one table, as a host (the library host, an in-process fuzz target)
 * holds them after loading an implementation; see ismkit_access_load.h.
 */
struct ismkit_api {
	int (*abi_version)(void);
	uint32_t (*capabilities)(void);
	struct ismkit_access *(*open)(const struct ismkit_config *, int *);
	void (*close)(struct ismkit_access *);
	int64_t (*pread)(struct ismkit_access *, void *, uint64_t, uint64_t, const struct ismkit_fault *);
	int64_t (*pwrite)(struct ismkit_access *, const void *, uint64_t, uint64_t, const struct ismkit_fault *);
	int64_t (*read)(struct ismkit_access *, void *, uint64_t, const struct ismkit_fault *);
	int64_t (*write)(struct ismkit_access *, const void *, uint64_t, const struct ismkit_fault *);
	int64_t (*seek)(struct ismkit_access *, int64_t, int);
	int (*region_info)(struct ismkit_access *, uint32_t, uint32_t, struct ismkit_region_info *);
	int (*recover_handle)(struct ismkit_access *);
	int (*attach_peer)(struct ismkit_access *, int);
	int (*detach_peer)(struct ismkit_access *);
	int (*resources)(struct ismkit_access *, struct ismkit_resources *);
	size_t (*take_trace)(struct ismkit_access *, struct ismkit_event *, size_t);
};

#ifdef __cplusplus
}
#endif
#endif /* ISMKIT_ACCESS_H */
