/*
 * driver_access.c: the ismkit_access.h functions implemented by a driver main.c linked into
 * this program, plus the VFS and VFIO-core parts the driver does not do itself:
 *   - offsets with bit 63 set -> EINVAL before anything else, even for count 0 (R-OFF-4);
 *   - counts cut to MAX_RW_COUNT; read/write use and advance the file position (the driver
 *     moves *ppos; the VFS writes it back on success only);
 *   - seek: SEEK_SET o < 0 -> EINVAL, SEEK_CUR new < 0 -> EINVAL;
 *   - region info: argsz < 32 -> EINVAL (R-INFO-4), then the driver's get_region_info_caps.
 * Lifecycle: device A is probed and opened by ismkit_open; the peer is probed by attach_peer
 * and removed by detach_peer. main() runs the wire protocol.
 */
#include "harness_state.h"
#include "wire.h"

#include <stdlib.h>

#define REGION_INFO_FIXED 32

struct ismkit_access {
	loff_t pos; /* the file position */
	bool open;
};
static struct ismkit_access the_access;
static struct ismkit_access second_access; /* a second fd of device A: shares the device, not the position */

struct ismkit_access *ismk_second_fd(void) { return the_access.open ? &second_access : NULL; }

static void slot_init(int s, u64 maxstbl)
{
	struct ismk_slot *sl = &ismk.slot[s];
	ismk_mem_free(&sl->mem);
	u32 epoch = sl->epoch;
	memset(sl, 0, sizeof(*sl));
	sl->epoch = epoch;
	sl->zdev.fid = 0x0a00u + (u32)s;
	sl->zdev.maxstbl = (u16)maxstbl;
	sl->zdev.fh = ismk_fh(s, 0);
	sl->pdev.sysdata = &sl->zdev;
	sl->pdev.vendor = PCI_VENDOR_ID_IBM;
	sl->pdev.device = PCI_DEVICE_ID_IBM_ISM;
	sl->pdev.cfg_size = (int)ismk.config.config_size;
	for (int b = 0; b < PCI_STD_NUM_BARS; b++) {
		u64 len = ismk.config.bar_lengths[b];
		sl->pdev.ismk_len[b] = len;
		sl->pdev.ismk_start[b] = len ? (u64)(b + 1) << 56 : 0;
	}
	sl->config[0] = 0x14; /* vendor 0x1014, device 0x04ed, little-endian as PCI stores them */
	sl->config[1] = 0x10;
	sl->config[2] = 0xed;
	sl->config[3] = 0x04;
}

/* Probes slot s; returns 0 or a negative errno. */
static int probe(int s, bool fail_pool)
{
	struct ismk_slot *sl = &ismk.slot[s];
	sl->epoch++;
	sl->fail_pool = fail_pool;
	ismk_op.current = s;
	int rc = ismk_driver->probe(&sl->pdev, &ismk_driver->id_table[0]);
	ismk_op.current = -1;
	sl->fail_pool = false;
	if (rc)
		return rc < 0 ? rc : -EIO;
	if (!sl->core)
		ismkit_wire_broken(ISMKIT_BROKEN_MISUSE, "probe succeeded without registering a vfio_pci_core_device");
	sl->bound = true;
	return 0;
}

static void remove_slot(int s)
{
	struct ismk_slot *sl = &ismk.slot[s];
	ismk_op.current = s;
	ismk_driver->remove(&sl->pdev);
	ismk_op.current = -1;
	sl->bound = false;
	sl->core = NULL;
}

int ismkit_abi_version(void) { return ISMKIT_ABI_VERSION; }

uint32_t ismkit_capabilities(void)
{
	return ISMKIT_CAP_TRACE | ISMKIT_CAP_FAULTS | ISMKIT_CAP_LIFECYCLE |
	       ISMKIT_CAP_HANDLE_RECOVERY | ISMKIT_CAP_SEEK | ISMKIT_CAP_HANDLE_CHANGE;
}

static struct vfio_device *vdev_of(int s) { return &ismk.slot[s].core->vdev; }

struct ismkit_access *ismkit_open(const struct ismkit_config *config, int *err)
{
	if (the_access.open || !ismk_driver) {
		*err = ismk_driver ? EBUSY : ENODEV;
		return NULL;
	}
	ismk.config = *config;
	if (ismk.config.config_size > 4096)
		ismk.config.config_size = 4096;
	ismk_op.current = -1;
	slot_init(0, config->maxstbl);
	int rc = probe(0, false);
	if (rc) {
		*err = -rc;
		return NULL;
	}
	struct vfio_device *v = vdev_of(0);
	if (v->ops->open_device && (rc = v->ops->open_device(v)) != 0) {
		remove_slot(0);
		*err = -rc;
		return NULL;
	}
	ismk.slot[0].opened = true;
	the_access.open = true;
	the_access.pos = 0;
	second_access.open = true;
	second_access.pos = 0;
	return &the_access;
}

void ismkit_close(struct ismkit_access *a)
{
	(void)a;
	if (ismk.slot[0].bound) {
		struct vfio_device *v = vdev_of(0);
		if (ismk.slot[0].opened && v->ops->close_device)
			v->ops->close_device(v);
		ismk.slot[0].opened = false;
		remove_slot(0);
	}
	if (ismk.slot[1].bound)
		remove_slot(1);
	for (int s = 0; s < ISMK_SLOTS; s++)
		ismk_mem_free(&ismk.slot[s].mem);
	free(ismk.trace);
	ismk.trace = NULL;
	ismk.trace_len = ismk.trace_cap = ismk.trace_head = 0;
	free(ismk.rec);
	ismk.rec = NULL;
	ismk.nrec = ismk.caprec = 0;
	/* Back to the state of a fresh process, so that a later open (the wire protocol's RESET)
	 * starts exactly as the first one did: slots (handle generations, probe epochs, config
	 * space) zeroed, no fault pending, no user buffer. */
	memset(ismk.slot, 0, sizeof(ismk.slot));
	memset(&ismk_op.fault, 0, sizeof(ismk_op.fault));
	ismk_op.instructions = 0;
	ismk_op.alloc_fault_pending = false;
	ismk_op.ubuf = NULL;
	ismk_op.ulen = 0;
	ismk_op.current = 0;
	the_access.open = false;
	the_access.pos = 0;
	second_access.open = false;
	second_access.pos = 0;
}

static void begin_op(void *buf, uint64_t len, const struct ismkit_fault *fault)
{
	ismk_op.fault = *fault;
	ismk_op.instructions = 0;
	ismk_op.alloc_fault_pending = fault->kind == ISMKIT_FAULT_ALLOCATION;
	ismk_op.ubuf = buf;
	ismk_op.ulen = (size_t)len;
}

static void end_op(void)
{
	memset(&ismk_op.fault, 0, sizeof(ismk_op.fault));
	ismk_op.alloc_fault_pending = false;
	ismk_op.ubuf = NULL;
	ismk_op.ulen = 0;
}

static int64_t transfer(struct ismkit_access *a, bool positional, bool iswrite, void *buf, uint64_t count, uint64_t offset,
			const struct ismkit_fault *fault)
{
	loff_t pos = positional ? (loff_t)offset : a->pos;
	if (pos < 0)
		return -EINVAL; /* R-OFF-4: before anything else, even for count 0 */
	uint64_t n = count > (uint64_t)MAX_RW_COUNT ? (uint64_t)MAX_RW_COUNT : count;
	struct vfio_device *v = vdev_of(0);
	ssize_t (*fn)(struct vfio_device *, char __user *, size_t, loff_t *) =
		iswrite ? (ssize_t (*)(struct vfio_device *, char __user *, size_t, loff_t *))v->ops->write
			: v->ops->read;
	if (!fn)
		return -EINVAL;
	begin_op(buf, count, fault);
	ismk_op.current = 0;
	ssize_t r = fn(v, buf, (size_t)n, &pos);
	ismk_op.current = -1;
	end_op();
	if (!positional && r >= 0)
		a->pos = pos;
	return r;
}

int64_t ismkit_pread(struct ismkit_access *a, void *buf, uint64_t count, uint64_t offset,
		     const struct ismkit_fault *fault)
{
	return transfer(a, true, false, buf, count, offset, fault);
}

int64_t ismkit_pwrite(struct ismkit_access *a, const void *buf, uint64_t count, uint64_t offset,
		      const struct ismkit_fault *fault)
{
	return transfer(a, true, true, (void *)buf, count, offset, fault);
}

int64_t ismkit_read(struct ismkit_access *a, void *buf, uint64_t count, const struct ismkit_fault *fault)
{
	return transfer(a, false, false, buf, count, 0, fault);
}

int64_t ismkit_write(struct ismkit_access *a, const void *buf, uint64_t count,
		     const struct ismkit_fault *fault)
{
	return transfer(a, false, true, (void *)buf, count, 0, fault);
}

int64_t ismkit_seek(struct ismkit_access *a, int64_t offset, int whence)
{
	int64_t np;
	if (whence == 0) {
		np = offset;
	} else if (__builtin_add_overflow(a->pos, offset, &np)) {
		return -EINVAL;
	}
	if (np < 0)
		return -EINVAL;
	a->pos = np;
	return np;
}

int ismkit_region_info(struct ismkit_access *a, uint32_t index, uint32_t argsz,
		       struct ismkit_region_info *out)
{
	(void)a;
	memset(out, 0, sizeof(*out));
	if (argsz < REGION_INFO_FIXED)
		return -EINVAL; /* R-INFO-4: the VFIO core checks argsz */
	struct vfio_device *v = vdev_of(0);
	if (!v->ops->get_region_info_caps)
		return -ENOTTY;
	struct vfio_region_info info = { .argsz = argsz, .index = index };
	struct vfio_info_cap caps = { NULL, 0 };
	ismk_op.current = 0;
	int rc = v->ops->get_region_info_caps(v, &info, &caps);
	ismk_op.current = -1;
	free(caps.buf);
	out->offset = info.offset;
	out->size = info.size;
	out->flags = info.flags;
	return rc;
}

int ismkit_recover_handle(struct ismkit_access *a)
{
	(void)a;
	struct ismk_slot *sl = &ismk.slot[0];
	sl->generation++;
	WRITE_ONCE(sl->zdev.fh, ismk_fh(0, sl->generation));
	return 0;
}

int ismkit_attach_peer(struct ismkit_access *a, int fail_pool)
{
	(void)a;
	if (ismk.slot[1].bound)
		return -EBUSY;
	slot_init(1, ismk.config.peer_maxstbl);
	return probe(1, fail_pool != 0);
}

int ismkit_detach_peer(struct ismkit_access *a)
{
	(void)a;
	if (!ismk.slot[1].bound)
		return -ENODEV;
	remove_slot(1);
	return 0;
}

/* livePools: pools created and not destroyed. leakedObjects: device structures and pools not
 * freed whose device is no longer bound (or was re-probed since), plus slab objects still
 * allocated between operations. */
int ismkit_resources(struct ismkit_access *a, struct ismkit_resources *out)
{
	(void)a;
	int64_t pools = 0, leaked = 0;
	for (size_t i = 0; i < ismk.nrec; i++) {
		struct ismk_record *r = &ismk.rec[i];
		if (r->dead)
			continue;
		if (r->kind == ISMK_REC_CACHE)
			pools++;
		if (r->kind == ISMK_REC_OBJECT) {
			leaked++;
			continue;
		}
		bool owned = r->owner >= 0 && ismk.slot[r->owner].bound &&
			     ismk.slot[r->owner].epoch == r->epoch;
		if (!owned)
			leaked++;
	}
	out->live_pools = pools;
	out->leaked_objects = leaked;
	return 0;
}

size_t ismkit_take_trace(struct ismkit_access *a, struct ismkit_event *events, size_t capacity)
{
	(void)a;
	size_t n = ismk.trace_len - ismk.trace_head;
	if (n > capacity)
		n = capacity;
	memcpy(events, ismk.trace + ismk.trace_head, n * sizeof(*events));
	ismk.trace_head += n;
	if (ismk.trace_head == ismk.trace_len)
		ismk.trace_head = ismk.trace_len = 0;
	return n;
}

static const struct ismkit_api driver_api = {
	ismkit_abi_version, ismkit_capabilities, ismkit_open, ismkit_close,
	ismkit_pread, ismkit_pwrite, ismkit_read, ismkit_write, ismkit_seek,
	ismkit_region_info, ismkit_recover_handle, ismkit_attach_peer, ismkit_detach_peer,
	ismkit_resources, ismkit_take_trace,
};

/* The checks that drive the driver directly, outside the wire protocol (lifecycle_walk.c,
 * callback_contract.c); weak, so builds without them (the fuzz library) still link. */
int ismk_lifecycle_walk_main(int argc, char **argv) __attribute__((weak));
int ismk_callback_contract_main(int argc, char **argv) __attribute__((weak));

/* `--initial-bytes SEED BAR POS N`: prints N initial device bytes in hex (agreement test).
 * `--lifecycle-walk CONFIG…`, `--callback-contract CONFIG…`: the checks above. */
int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--lifecycle-walk") == 0 && ismk_lifecycle_walk_main)
		return ismk_lifecycle_walk_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], "--callback-contract") == 0 && ismk_callback_contract_main)
		return ismk_callback_contract_main(argc, argv);
	if (argc == 6 && strcmp(argv[1], "--initial-bytes") == 0) {
		u64 seed = strtoull(argv[2], NULL, 10), pos = strtoull(argv[4], NULL, 10);
		int bar = atoi(argv[3]);
		long n = atol(argv[5]);
		for (long i = 0; i < n; i++)
			printf("%02x", ismkit_initial_byte(seed, bar, pos + (u64)i));
		printf("\n");
		return 0;
	}
	return ismkit_wire_main(&driver_api, "driver-source");
}
