/*
 * callback_contract.c: `harness --callback-contract <11 config numbers>` calls the driver's
 * read and write callbacks directly, as the VFIO core does, over a fixed set of positions,
 * counts and injected faults on every present BAR and the config space, and checks what each
 * call leaves behind that the read(2)/pread(2) view hides (the VFS writes *ppos back only on
 * success and compares no byte past the returned count):
 *   position   *ppos: advanced by exactly the result on success, unchanged on an error (R-BAR-4);
 *   buffer     a read writes no user byte past the bytes it returned, and on an error only bytes
 *              whose device load (or config piece) succeeded (R-READ-4); a write writes no user byte;
 *   user-read  a write reads each user byte at most once (no double fetch), all the bytes it
 *              reports written and none past them; a read reads no user byte.
 * `harness --callback-contract <11 numbers> <read|write> <file offset> <count> <fault>` makes that
 * one call only (a reproducer's replay; the fault as the CONTRACT line writes it), same output.
 * Output: one line per broken aspect of a call, then the totals:
 *   CONTRACT <aspect> <read|write> <file offset> <count> <fault> <result> <*ppos after> <message>
 *   ASPECTS <calls breaking position> <buffer> <user-read>
 *   CASES <calls> <violations>
 */
#include "harness_state.h"
#include "wire.h"

#include <stdlib.h>

#define ISMK_CONTRACT_MAX_LINES 200

static int lines, violations;
static int per_aspect[3]; /* position, buffer, user-read */

struct contract_case {
	bool write;
	int region;     /* BAR, -1 config, 99 an invalid index */
	u64 index;      /* region index in the file offset */
	u64 pos;
	u64 count;
	struct ismkit_fault fault;
};

static void fault_token(const struct ismkit_fault *f, char *out, size_t n)
{
	switch (f->kind) {
	case ISMKIT_FAULT_DEVICE: snprintf(out, n, "D%u:%d", (unsigned)f->nth, (int)f->err); break;
	case ISMKIT_FAULT_USER_BUFFER: snprintf(out, n, "U%lld", (long long)f->from); break;
	case ISMKIT_FAULT_ALLOCATION: snprintf(out, n, "A"); break;
	default: snprintf(out, n, "-"); break;
	}
}

/* The fault a CONTRACT line names (`-`, `A`, `U<from>`, `D<nth>:<errno>`); false if malformed. */
static bool parse_fault_token(const char *t, struct ismkit_fault *f)
{
	memset(f, 0, sizeof(*f));
	char *end = NULL;
	if (strcmp(t, "-") == 0)
		return true;
	if (strcmp(t, "A") == 0) {
		f->kind = ISMKIT_FAULT_ALLOCATION;
		return true;
	}
	if (t[0] == 'U' && t[1]) {
		f->kind = ISMKIT_FAULT_USER_BUFFER;
		f->from = strtoll(t + 1, &end, 10);
		return !*end && f->from >= 0;
	}
	if (t[0] == 'D' && t[1]) {
		f->kind = ISMKIT_FAULT_DEVICE;
		unsigned long nth = strtoul(t + 1, &end, 10);
		if (*end != ':' || nth > 0xffff)
			return false;
		f->nth = (uint32_t)nth;
		long err = strtol(end + 1, &end, 10);
		f->err = (int32_t)err;
		return !*end && err > 0 && err < 4096;
	}
	return false;
}

static void violation(const struct contract_case *c, u64 off, const char *aspect, long long r, long long after,
		      const char *fmt, long long a, long long b)
{
	violations++;
	per_aspect[aspect[0] == 'p' ? 0 : aspect[0] == 'b' ? 1 : 2]++;
	if (lines >= ISMK_CONTRACT_MAX_LINES)
		return;
	lines++;
	char ft[32];
	fault_token(&c->fault, ft, sizeof(ft));
	printf("CONTRACT %s %s %llu %llu %s %lld %lld ", aspect, c->write ? "write" : "read",
	       (unsigned long long)off, (unsigned long long)c->count, ft, r, after);
	printf(fmt, a, b);
	printf("\n");
}

static void run_case(const struct contract_case *c)
{
	struct vfio_device *v = &ismk.slot[0].core->vdev;
	ssize_t (*fn)(struct vfio_device *, char __user *, size_t, loff_t *) =
		c->write ? (ssize_t (*)(struct vfio_device *, char __user *, size_t, loff_t *))v->ops->write : v->ops->read;
	if (!fn)
		return;
	size_t n = (size_t)c->count;
	unsigned char *ubuf = malloc(n ? n : 1), *orig = malloc(n ? n : 1);
	unsigned char *written = calloc(n ? n : 1, 1), *read = calloc(n ? n : 1, 1), *covered = calloc(n ? n : 1, 1);
	if (!ubuf || !orig || !written || !read || !covered)
		ismkit_wire_broken(ISMKIT_BROKEN_HARNESS, "harness out of memory (contract buffers)");
	for (size_t i = 0; i < n; i++)
		ubuf[i] = orig[i] = (unsigned char)(0xC3 ^ (i * 29));
	u64 off = c->index << 48 | c->pos;
	ismk.contract = (struct ismk_contract){ true, c->region, c->pos, n, written, read, covered };
	ismk_op.fault = c->fault;
	ismk_op.instructions = 0;
	ismk_op.alloc_fault_pending = c->fault.kind == ISMKIT_FAULT_ALLOCATION;
	ismk_op.ubuf = ubuf;
	ismk_op.ulen = n;
	ismk_op.current = 0;
	loff_t p = (loff_t)off;
	ssize_t r = fn(v, (char __user *)ubuf, n, &p);
	ismk_op.current = -1;
	ismk.contract.active = false;
	memset(&ismk_op.fault, 0, sizeof(ismk_op.fault));
	ismk_op.alloc_fault_pending = false;
	ismk_op.ubuf = NULL;
	ismk_op.ulen = 0;
	ismk.trace_len = ismk.trace_head = 0;

	long long expect = r >= 0 ? (long long)off + r : (long long)off;
	if ((long long)p != expect)
		violation(c, off, "position", r, (long long)p,
			  r >= 0 ? "*ppos moved by %lld, not by the %lld bytes returned"
				 : "*ppos moved by %lld on an error (errno %lld); the VFS hides it from read(2)/write(2)",
			  (long long)p - (long long)off, r >= 0 ? r : -r);
	bool bad_buffer = false, bad_read = false;
	for (size_t i = 0; i < n; i++) {
		bool changed = ubuf[i] != orig[i] || written[i];
		if (c->write) {
			if (changed && !bad_buffer) {
				bad_buffer = true;
				violation(c, off, "buffer", r, (long long)p, "the write callback wrote user byte %lld (%lld times)",
					  (long long)i, written[i]);
			}
			if (read[i] > 1 && !bad_read) {
				bad_read = true;
				violation(c, off, "user-read", r, (long long)p, "user byte %lld read %lld times (a double fetch)",
					  (long long)i, read[i]);
			}
			if (r >= 0 && (long long)i < r && !read[i] && !bad_read) {
				bad_read = true;
				violation(c, off, "user-read", r, (long long)p, "user byte %lld never read, yet %lld bytes reported written",
					  (long long)i, r);
			}
			if (r >= 0 && (long long)i >= r && read[i] && !bad_read) {
				bad_read = true;
				violation(c, off, "user-read", r, (long long)p, "user byte %lld read past the %lld bytes transferred",
					  (long long)i, r);
			}
		} else {
			if (read[i] && !bad_read) {
				bad_read = true;
				violation(c, off, "user-read", r, (long long)p, "the read callback read user byte %lld (%lld times)",
					  (long long)i, read[i]);
			}
			if (!changed || bad_buffer)
				continue;
			if (ubuf[i] != orig[i] && !written[i]) {
				bad_buffer = true;
				violation(c, off, "buffer", r, (long long)p, "user byte %lld changed without a copy_to_user (of %lld)",
					  (long long)i, (long long)n);
			} else if (r >= 0 && (long long)i >= r) {
				bad_buffer = true;
				violation(c, off, "buffer", r, (long long)p, "user byte %lld written past the %lld bytes returned",
					  (long long)i, r);
			} else if (r < 0 && !covered[i]) {
				bad_buffer = true;
				violation(c, off, "buffer", r, (long long)p,
					  "user byte %lld written on an error (errno %lld) though no device load for it succeeded",
					  (long long)i, -r);
			}
		}
	}
	free(ubuf);
	free(orig);
	free(written);
	free(read);
	free(covered);
}

int ismk_callback_contract_main(int argc, char **argv)
{
	if (argc != 13 && argc != 17)
		return 2;
	struct ismkit_config cfg;
	ismk_config_from_args(argv + 2, &cfg);
	struct contract_case only;
	if (argc == 17) {
		char *e1 = NULL, *e2 = NULL;
		unsigned long long off = strtoull(argv[14], &e1, 10), count = strtoull(argv[15], &e2, 10);
		bool w = strcmp(argv[13], "write") == 0;
		if ((!w && strcmp(argv[13], "read") != 0) || !*argv[14] || *e1 || !*argv[15] || *e2 || count > (1u << 20) ||
		    !parse_fault_token(argv[16], &only.fault))
			return 2;
		u64 index = off >> 48;
		only.write = w;
		only.region = index == 7 ? -1 : index < 6 ? (int)index : 99;
		only.index = index;
		only.pos = off & ((1ull << 48) - 1);
		only.count = count;
	}
	int err = 0;
	struct ismkit_access *a = ismkit_open(&cfg, &err);
	if (!a) {
		printf("OPEN-FAILED %d\n", err);
		return 1;
	}
	if (argc == 17) {
		run_case(&only);
		ismkit_close(a);
		printf("ASPECTS %d %d %d\n", per_aspect[0], per_aspect[1], per_aspect[2]);
		printf("CASES 1 %d\n", violations);
		fflush(stdout);
		return 0;
	}
	struct ismkit_fault faults[8];
	memset(faults, 0, sizeof(faults));
	faults[1].kind = ISMKIT_FAULT_DEVICE, faults[1].nth = 0, faults[1].err = EIO;
	faults[2].kind = ISMKIT_FAULT_DEVICE, faults[2].nth = 1, faults[2].err = EIO;
	faults[3].kind = ISMKIT_FAULT_DEVICE, faults[3].nth = 2, faults[3].err = ENODEV;
	faults[4].kind = ISMKIT_FAULT_USER_BUFFER, faults[4].from = 0;
	faults[5].kind = ISMKIT_FAULT_USER_BUFFER, faults[5].from = 5;
	faults[6].kind = ISMKIT_FAULT_ALLOCATION;
	const int nfaults = 7;
	u64 m = cfg.maxstbl;
	int calls = 0;
	for (int region = -1; region < 7; region++) {
		u64 len = region < 0 ? cfg.config_size : region < 6 ? cfg.bar_lengths[region] : 0;
		if (region >= 0 && region < 6 && !len)
			continue;
		u64 index = region < 0 ? 7 : region < 6 ? (u64)region : 9;
		u64 pos[6] = { 0, 3, 4094, len > 8 ? len - 3 : 1, len, len > 8 ? len - 4 : 2 };
		u64 rcount[3] = { 1, 13, 64 }, wcount[5] = { 1, 8, 100, m, m + 1 };
		for (int w = 0; w < 2; w++)
			for (int pi = 0; pi < 6; pi++)
				for (int ci = 0; ci < (w ? 5 : 3); ci++)
					for (int fi = 0; fi < nfaults; fi++) {
						struct contract_case c = { w == 1, region < 6 ? region : 99, index, pos[pi],
									   w ? wcount[ci] : rcount[ci], faults[fi] };
						if (c.pos >= (1ull << 48))
							continue;
						run_case(&c);
						calls++;
					}
	}
	ismkit_close(a);
	printf("ASPECTS %d %d %d\n", per_aspect[0], per_aspect[1], per_aspect[2]);
	printf("CASES %d %d\n", calls, violations);
	fflush(stdout);
	return 0;
}
