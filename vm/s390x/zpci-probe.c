// SPDX-License-Identifier: GPL-2.0
/*
 * zpci-probe: the in-guest checks of the s390x VM job (vm/s390x/vm-test-s390x.sh).
 *
 * Opens a PCI function bound to a vfio driver through its IOMMU group and a
 * type1 (v2) container, prints every region's info and checks, on the QEMU
 * virtio-net-pci function the job attaches over zPCI:
 *   - region info (offsets taken from the kernel, SPEC R-OFF-2 / R-INFO-*);
 *   - 1/2/4/8-byte reads and unaligned multi-byte reads in the virtio device
 *     config area (the 8-byte MAC + status field; every access width is valid
 *     there and it reads back byte by byte), against the 8-byte read of the
 *     same place and against the MAC the host put on the QEMU command line;
 *   - writes: 1/2/4/8-byte writes into the MAC (a generic vfio-pci driver
 *     splits them into PCI stores) and 16..128-byte blocks into the MSI-X
 *     table (an ism driver issues one PCI Store Block per write).
 *
 * Why these registers are safe to write: the MAC bytes of virtio-net's
 * device config are plain storage in QEMU (written while no feature was
 * negotiated they only change the MAC QEMU reports; the NIC has no backend).
 * The MSI-X table is plain storage while MSI-X is disabled (nobody enables it
 * here: no VFIO_DEVICE_SET_IRQS), so no entry can fire.  The queue address
 * registers of the common config (0x20..0x37) only store values until a
 * queue is enabled, which this program never does.
 *
 * usage: zpci-probe --profile vfio-pci|ism|ism-v3|ism-v4 [--mac XX:..]
 *                   [--no-writes | --single-write] DEVICE
 * --no-writes: region info and reads only; --single-write: one 16-byte write into
 * the MSI-X table after region info (the v3-probe boot's last step).
 * Output: KTAP on stdout ("ok N - ..." / "not ok N - ..."; a known difference
 * that is not a driver bug is "not ok N - ... # TODO reason"), "# " lines with
 * data, "# timing ..." lines, and "# observe KEY VALUE" lines the host reads.
 * Exit 0 when no check failed (TODO lines do not count), 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

enum profile { P_VFIO_PCI, P_ISM, P_ISM_V3, P_ISM_V4 };
static enum profile prof;
static int ntest, nfail;
static int no_writes, single_write;

static void vcheck(int cond, const char *todo, const char *fmt, va_list ap)
{
	ntest++;
	printf("%s %d - ", cond ? "ok" : "not ok", ntest);
	vprintf(fmt, ap);
	if (!cond && todo)
		printf(" # TODO %s", todo);
	printf("\n");
	if (!cond && !todo)
		nfail++;
	fflush(stdout);
}

static int check(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcheck(cond, NULL, fmt, ap);
	va_end(ap);
	return cond;
}

/* A check whose failure is a known, explained difference (not counted). */
static int check_todo(int cond, const char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcheck(cond, why, fmt, ap);
	va_end(ap);
	return cond;
}

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 3 * i, "%02x%s", b[i], i + 1 < n ? " " : "");
	if (!n)
		out[0] = 0;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int dev = -1;
static uint64_t roff[10], rsize[10];
static uint32_t rflags[10];
static int rvalid[10];
static uint64_t bar_len[6];

/* pread/pwrite at a position inside a region, base offset from region info. */
static ssize_t rd(int reg, uint64_t pos, void *buf, size_t n)
{
	return pread(dev, buf, n, (off_t)(roff[reg] + pos));
}

static ssize_t wr(int reg, uint64_t pos, const void *buf, size_t n)
{
	return pwrite(dev, buf, n, (off_t)(roff[reg] + pos));
}

static const char *rcstr(ssize_t rc, int err)
{
	static char s[64];

	if (rc >= 0)
		snprintf(s, sizeof(s), "rc=%zd", rc);
	else
		snprintf(s, sizeof(s), "rc=-1 errno=%s", strerrorname_np(err) ? strerrorname_np(err) : "?");
	return s;
}

static void read_bar_sizes(const char *bdf)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(p, "r");
	if (!f)
		return;
	for (int i = 0; i < 6; i++) {
		unsigned long long s, e, fl;

		if (fscanf(f, "%llx %llx %llx", &s, &e, &fl) != 3)
			break;
		bar_len[i] = (s || e) ? e - s + 1 : 0;
	}
	fclose(f);
}

static int open_device(const char *bdf)
{
	char p[256], link[256];
	struct vfio_group_status st = { .argsz = sizeof(st) };
	int container, group;
	ssize_t n;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(p, link, sizeof(link) - 1);
	if (!check(n > 0, "IOMMU group of %s found", bdf))
		return -1;
	link[n] = 0;
	snprintf(p, sizeof(p), "/dev/vfio/%s", basename(link));
	printf("# group node %s\n", p);
	container = open("/dev/vfio/vfio", O_RDWR);
	if (!check(container >= 0, "open /dev/vfio/vfio"))
		return -1;
	if (!check(ioctl(container, VFIO_GET_API_VERSION) == VFIO_API_VERSION, "VFIO_GET_API_VERSION"))
		return -1;
	if (!check(ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0,
		   "container supports VFIO_TYPE1v2_IOMMU"))
		return -1;
	group = open(p, O_RDWR);
	if (!check(group >= 0, "open %s (%s)", p, group < 0 ? strerror(errno) : "ok"))
		return -1;
	if (!check(ioctl(group, VFIO_GROUP_GET_STATUS, &st) == 0 && (st.flags & VFIO_GROUP_FLAGS_VIABLE),
		   "group is viable"))
		return -1;
	if (!check(ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) == 0, "VFIO_GROUP_SET_CONTAINER"))
		return -1;
	if (!check(ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0, "VFIO_SET_IOMMU type1v2 (%s)",
		   strerror(errno)))
		return -1;
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (!check(dev >= 0, "VFIO_GROUP_GET_DEVICE_FD %s (%s)", bdf, dev < 0 ? strerror(errno) : "ok"))
		return -1;
	return 0;
}

static void region_info(void)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	int shift = prof == P_VFIO_PCI ? 40 : 48;

	if (ioctl(dev, VFIO_DEVICE_GET_INFO, &di) == 0)
		printf("# device info: flags=0x%x num_regions=%u num_irqs=%u\n", di.flags, di.num_regions,
		       di.num_irqs);
	for (int i = 0; i < 10; i++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = i };
		int rc = ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri), err = errno;

		rvalid[i] = rc == 0;
		if (rc == 0) {
			roff[i] = ri.offset;
			rsize[i] = ri.size;
			rflags[i] = ri.flags;
			printf("# region %d: offset=0x%" PRIx64 " size=0x%" PRIx64 " flags=0x%x\n", i,
			       (uint64_t)ri.offset, (uint64_t)ri.size, ri.flags);
		} else {
			printf("# region %d: %s\n", i, rcstr(-1, err));
		}
		if (i <= 5) {
			uint32_t want = bar_len[i] ? (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE) : 0;

			check(rc == 0 && ri.offset == (uint64_t)i << shift && ri.size == bar_len[i] &&
				      (ri.flags & ~(uint32_t)VFIO_REGION_INFO_FLAG_MMAP) == want &&
				      !(prof != P_VFIO_PCI && (ri.flags & VFIO_REGION_INFO_FLAG_MMAP)),
			      "region info BAR%d: offset %d<<%d, size = BAR length 0x%" PRIx64 ", flags %s (R-INFO-2)",
			      i, i, shift, bar_len[i], want ? "READ|WRITE" : "0");
		} else if (i == 7) {
			check(rc == 0 && ri.offset == 7ULL << shift && (ri.size == 256 || ri.size == 4096) &&
				      ri.flags == (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE),
			      "region info config: offset 7<<%d, size 256 or 4096, READ|WRITE (R-INFO-1)", shift);
		} else if (i == 6 && prof == P_VFIO_PCI) {
			check(rc == 0 && ri.offset == 6ULL << 40 && ri.size == 0 && ri.flags == 0,
			      "region info ROM (generic vfio-pci, SPEC section 9): offset 6<<40, size 0, flags 0");
		} else {
			check(rc < 0 && err == EINVAL, "region info index %d: EINVAL (R-INFO-3 / R-OFF-3)", i);
		}
	}
	struct vfio_region_info shortinfo = { .argsz = 8, .index = 0 };
	int rc = ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &shortinfo);
	check(rc < 0 && errno == EINVAL, "region info with argsz 8: EINVAL (R-INFO-4)");
}

/* Where things are on the virtio-pci function (from its config space). */
static int dev_bar = 4, com_bar = 4, msix_bar = 1;
static uint64_t dev_off = 0x2000, com_off = 0, msix_off = 0, msix_len = 0;

static void find_caps(void)
{
	uint8_t cfg[256];
	ssize_t n = rd(7, 0, cfg, sizeof(cfg));

	if (!check(n == 256, "read 256 bytes of config space (%s)", rcstr(n, errno)))
		return;
	printf("# config: vendor=%02x%02x device=%02x%02x\n", cfg[1], cfg[0], cfg[3], cfg[2]);
	for (int p = cfg[0x34], guard = 0; p >= 0x40 && p < 0xff && guard < 48; p = cfg[p + 1], guard++) {
		uint8_t id = cfg[p];

		if (id == 0x09) { /* virtio vendor capability */
			uint8_t type = cfg[p + 3], bar = cfg[p + 4];
			uint32_t off, len;

			memcpy(&off, cfg + p + 8, 4);
			memcpy(&len, cfg + p + 12, 4);
			off = __builtin_bswap32(off); /* little-endian in config space */
			len = __builtin_bswap32(len);
			printf("# virtio cap type %u: bar %u offset 0x%x length 0x%x\n", type, bar, off, len);
			if (type == 1) {
				com_bar = bar;
				com_off = off;
			} else if (type == 4) {
				dev_bar = bar;
				dev_off = off;
			}
		} else if (id == 0x11) { /* MSI-X */
			uint16_t ctrl = cfg[p + 2] | cfg[p + 3] << 8;
			uint32_t tbl = cfg[p + 4] | cfg[p + 5] << 8 | cfg[p + 6] << 16 | (uint32_t)cfg[p + 7] << 24;

			msix_bar = tbl & 7;
			msix_off = tbl & ~7u;
			msix_len = ((ctrl & 0x7ff) + 1) * 16;
			printf("# MSI-X: %u vectors, table in BAR%d at 0x%" PRIx64 ", %" PRIu64 " bytes\n",
			       (ctrl & 0x7ff) + 1, msix_bar, msix_off, msix_len);
		}
	}
}

static void timing_read(const char *what, int reg, uint64_t pos, size_t n, int iters)
{
	uint8_t b[256];
	double t0 = now_ns();
	int okc = 0;

	for (int i = 0; i < iters; i++)
		okc += rd(reg, pos, b, n) == (ssize_t)n;
	printf("# timing read %s n=%zu ops=%d ok=%d ns/op=%.0f\n", what, n, iters, okc, (now_ns() - t0) / iters);
}

static void timing_write(const char *what, int reg, uint64_t pos, size_t n, int iters)
{
	uint8_t b[256] __attribute__((aligned(8)));
	double t0 = now_ns();
	int okc = 0;

	for (size_t i = 0; i < n; i++)
		b[i] = 0x40 + i;
	for (int i = 0; i < iters; i++)
		okc += wr(reg, pos, b, n) == (ssize_t)n;
	printf("# timing write %s n=%zu ops=%d ok=%d ns/op=%.0f\n", what, n, iters, okc, (now_ns() - t0) / iters);
}

static int all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

/* Reads in the device config area: 1/2/4/8 bytes at every alignment of the 8-byte field. */
static void read_checks(void)
{
	uint8_t ref[8], b[16];
	char h1[64], h2[64];
	ssize_t n = rd(dev_bar, dev_off, ref, 8);
	int e = errno;

	hex(h1, ref, 8);
	printf("# 8-byte read of the device config (MAC + status): %s\n", h1);
	if (!check(n == 8, "8-byte read at devcfg+0 (%s)", rcstr(n, e)))
		return;
	hex(h2, mac, 6);
	check(memcmp(ref, mac, 6) == 0,
	      "8-byte read returns the MAC the host configured, in order (%s): loads are byte-transparent (R-READ-3)", h2);

	for (size_t w = 1; w <= 4; w *= 2) {
		for (size_t k = 0; k < 8; k += w) {
			memset(b, 0xee, sizeof(b));
			n = rd(dev_bar, dev_off + k, b, w);
			e = errno;
			hex(h1, b, w);
			hex(h2, ref + k, w);
			if (prof == P_ISM_V4) {
				check(n < 0 && e == EINVAL, "%zu-byte read at devcfg+%zu refused with EINVAL (v4: R-READ-2 violated as predicted) (%s)",
				      w, k, rcstr(n, e));
			} else if (prof == P_ISM_V3) {
				int differs = memcmp(b, ref + k, w) != 0;

				check(n == (ssize_t)w && all_zero(b, w) && (differs || all_zero(ref + k, w)),
				      "%zu-byte read at devcfg+%zu returns the zero high-order bytes [%s], not the device's [%s] (v3 big-endian bug, R-READ-3 violated as predicted)",
				      w, k, h1, h2);
			} else {
				check(n == (ssize_t)w && memcmp(b, ref + k, w) == 0,
				      "%zu-byte read at devcfg+%zu equals the same bytes of the 8-byte read [%s] (R-READ-2/3) got [%s] %s",
				      w, k, h2, h1, rcstr(n, e));
			}
		}
	}
	/* Unaligned multi-byte reads: split into 1/2/4 pieces (R-READ-1). */
	static const struct { size_t pos, cnt; } un[] = { { 1, 3 }, { 1, 7 }, { 3, 5 }, { 2, 6 }, { 6, 2 } };
	for (size_t i = 0; i < sizeof(un) / sizeof(un[0]); i++) {
		memset(b, 0xee, sizeof(b));
		n = rd(dev_bar, dev_off + un[i].pos, b, un[i].cnt);
		e = errno;
		hex(h1, b, un[i].cnt);
		hex(h2, ref + un[i].pos, un[i].cnt);
		if (prof == P_ISM_V4)
			check(n < 0 && e == EINVAL, "%zu-byte read at devcfg+%zu refused with EINVAL (v4)", un[i].cnt,
			      un[i].pos);
		else if (prof == P_ISM_V3)
			check(n == (ssize_t)un[i].cnt && memcmp(b, ref + un[i].pos, un[i].cnt) != 0,
			      "%zu-byte read at devcfg+%zu differs from the device bytes [%s] (v3) got [%s]", un[i].cnt,
			      un[i].pos, h2, h1);
		else
			check(n == (ssize_t)un[i].cnt && memcmp(b, ref + un[i].pos, un[i].cnt) == 0,
			      "%zu-byte read at devcfg+%zu (split into aligned pieces) equals the device bytes [%s] got [%s] %s",
			      un[i].cnt, un[i].pos, h2, h1, rcstr(n, e));
		/* Guard bytes behind the buffer stay untouched (R-READ-5). */
		check(b[un[i].cnt] == 0xee, "%zu-byte read at devcfg+%zu writes nothing behind the buffer", un[i].cnt,
		      un[i].pos);
	}

	/* Bounds and zero counts (R-BAR-2, R-BAR-3, R-ZERO-1), on the device config BAR. */
	uint64_t len = rsize[dev_bar];
	n = rd(dev_bar, len, b, 1);
	check(n < 0 && errno == EINVAL, "read at pos = BAR length: EINVAL (R-BAR-2)");
	n = rd(dev_bar, len - 8, b, 16);
	check(n == 8, "16-byte read at BAR length - 8 is cut to 8 (R-BAR-3) (%s)", rcstr(n, errno));
	n = rd(dev_bar, dev_off, b, 0);
	check(n == 0, "zero-byte read returns 0 (R-ZERO-1)");
	if (prof != P_VFIO_PCI) {
		n = pread(dev, b, 4, (off_t)(6ULL << 48));
		check(n < 0 && errno == EINVAL, "read at region index 6 (ROM): EINVAL (R-OFF-3)");
		n = pread(dev, b, 4, (off_t)(8ULL << 48));
		check(n < 0 && errno == EINVAL, "read at region index 8: EINVAL (R-OFF-3)");
	}
	n = pread(dev, b, 0, (off_t)(9ULL << 48));
	check(n == 0, "zero-byte read at an invalid index returns 0 (R-ZERO-1)");

	/* Config space through the driver: vendor/device as 2-byte reads. */
	uint8_t cfg[4];
	n = rd(7, 0, cfg, 4);
	check(n == 4 && cfg[0] == 0xf4 && cfg[1] == 0x1a, "config read: vendor 0x1af4 (R-CFG-1)");
	n = rd(7, rsize[7] - 2, cfg, 4);
	check(n < 0, "config read past the end of config space fails (R-CFG-1) (%s)", rcstr(n, errno));

	/* Timings. */
	if (prof != P_ISM_V4) {
		timing_read("devcfg", dev_bar, dev_off, 1, 300);
		timing_read("devcfg", dev_bar, dev_off, 2, 300);
		timing_read("devcfg", dev_bar, dev_off, 4, 300);
	}
	timing_read("devcfg", dev_bar, dev_off, 8, 300);
	timing_read("common-cfg", com_bar, com_off, 64, 100);
}

static void restore_mac(void)
{
	/* 4 + 2 bytes (a generic driver's write path). */
	wr(dev_bar, dev_off, mac, 4);
	wr(dev_bar, dev_off + 4, mac + 4, 2);
}

static void write_checks_generic(void)
{
	uint8_t b[32], p[32];
	char h[2][128];
	ssize_t n;
	static const size_t widths[] = { 1, 2, 4, 8 };

	for (size_t i = 0; i < 4; i++) {
		size_t w = widths[i], pos = w == 2 ? 2 : 0, cmp = w == 8 ? 6 : w;

		for (size_t j = 0; j < w; j++)
			p[j] = 0xa0 + 0x10 * i + j;
		n = wr(dev_bar, dev_off + pos, p, w);
		check(n == (ssize_t)w, "%zu-byte write at devcfg+%zu (MAC) (%s)", w, pos, rcstr(n, errno));
		memset(b, 0, sizeof(b));
		n = rd(dev_bar, dev_off + pos, b, w);
		hex(h[0], p, cmp);
		hex(h[1], b, cmp);
		check(n == (ssize_t)w && memcmp(b, p, cmp) == 0, "%zu-byte write at devcfg+%zu reads back [%s] got [%s]",
		      w, pos, h[0], h[1]);
	}
	restore_mac();
	n = rd(dev_bar, dev_off, b, 6);
	check(n == 6 && memcmp(b, mac, 6) == 0, "MAC restored");

	for (size_t sz = 16; sz <= 24; sz += 8) {
		for (size_t j = 0; j < sz; j++)
			p[j] = 0x10 + sz + j;
		n = wr(com_bar, com_off + 0x20, p, sz);
		check(n == (ssize_t)sz, "%zu-byte block write at common-cfg+0x20 (queue addresses) (%s)", sz, rcstr(n, errno));
		memset(b, 0, sizeof(b));
		n = rd(com_bar, com_off + 0x20, b, sz);
		hex(h[0], p, sz);
		hex(h[1], b, sz);
		check(n == (ssize_t)sz && memcmp(b, p, sz) == 0, "%zu-byte block at common-cfg+0x20 reads back [%s] got [%s]",
		      sz, h[0], h[1]);
	}
	memset(p, 0, 24);
	wr(com_bar, com_off + 0x20, p, 24);

	/* The MSI-X table is hidden by generic vfio-pci (SPEC section 9). */
	n = rd(msix_bar, msix_off, b, 16);
	check(n == 16 && b[0] == 0xff && b[15] == 0xff, "read of the MSI-X table returns 0xff (generic vfio-pci hides it)");
	memset(p, 0x5a, 16);
	n = wr(msix_bar, msix_off, p, 16);
	check(n == 16, "write to the MSI-X table is accepted and dropped (%s)", rcstr(n, errno));

	timing_write("devcfg", dev_bar, dev_off, 4, 300);
	timing_write("common-cfg+0x20", com_bar, com_off + 0x20, 16, 200);
	restore_mac();
	memset(p, 0, 24);
	wr(com_bar, com_off + 0x20, p, 24);

	/* Leave a known MAC written with PCI stores (4 + 2 bytes) for the host's QEMU monitor. */
	static const uint8_t last[6] = { 0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f };
	n = wr(dev_bar, dev_off, last, 4);
	check(n == 4 && wr(dev_bar, dev_off + 4, last + 4, 2) == 2, "MAC 0a:1b:2c:3d:4e:5f written with a 4- and a 2-byte write");
	n = rd(dev_bar, dev_off, b, 6);
	printf("# observe mac-after-pcistg %02x:%02x:%02x:%02x:%02x:%02x\n", b[0], b[1], b[2], b[3], b[4], b[5]);
}

/* Read n bytes back with whole 8-byte loads (valid for every ism revision). */
static ssize_t rd8s(int reg, uint64_t pos, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i += 8)
		if (rd(reg, pos + i, b + i, 8) != 8)
			return -1;
	return n;
}

static const char *REVERSED_WHY =
	"emulator: QEMU 7.2 PCI Store Block on a little-endian host stores each 8-byte word byte-reversed";

/* One store block of sz bytes of a fresh pattern at pos; classify what the device got. */
static void store_block_check(int reg, uint64_t pos, size_t sz, int user_misalign)
{
	static uint8_t buf[512] __attribute__((aligned(4096)));
	uint8_t *p = buf + user_misalign, b[256], rev[256];
	char hp[800], hb[800];
	static int seed = 1;
	ssize_t n;

	for (size_t j = 0; j < sz; j++)
		p[j] = (uint8_t)(seed * 37 + j * 11 + 1);
	seed++;
	for (size_t j = 0; j < sz; j++)
		rev[j] = p[(j & ~7u) + 7 - (j & 7)];
	n = wr(reg, pos, p, sz);
	if (!check(n == (ssize_t)sz, "%zu-byte store block at BAR%d+0x%" PRIx64 "%s accepted (%s)", sz, reg, pos,
		   user_misalign ? " from a misaligned user buffer" : "", rcstr(n, errno)))
		return;
	memset(b, 0, sizeof(b));
	n = rd8s(reg, pos, b, sz);
	hex(hp, p, sz > 16 ? 16 : sz);
	hex(hb, b, sz > 16 ? 16 : sz);
	printf("# wrote [%s%s] read back with 8-byte loads [%s%s]\n", hp, sz > 16 ? " ..." : "", hb, sz > 16 ? " ..." : "");
	if (n == (ssize_t)sz && memcmp(b, p, sz) == 0) {
		check(1, "%zu-byte store block at BAR%d+0x%" PRIx64 " reads back byte-exact (R-WRITE-3)", sz, reg, pos);
		printf("# observe stb-order exact\n");
	} else if (n == (ssize_t)sz && memcmp(b, rev, sz) == 0) {
		check_todo(0, REVERSED_WHY, "%zu-byte store block at BAR%d+0x%" PRIx64 " reads back byte-exact (R-WRITE-3)",
			   sz, reg, pos);
		printf("# observe stb-order word-reversed\n");
	} else {
		check(0, "%zu-byte store block at BAR%d+0x%" PRIx64 " reads back as written or word-reversed", sz, reg, pos);
		printf("# observe stb-order other\n");
	}
	if (prof == P_ISM || prof == P_ISM_V3) {
		/* The same bytes through 4-byte loads (a second load width). */
		uint8_t c[256];
		int okc = 1;

		for (size_t i = 0; i < sz; i += 4)
			okc &= rd(reg, pos + i, c + i, 4) == 4;
		if (prof == P_ISM)
			check(okc && memcmp(c, b, sz) == 0, "4-byte loads of the block equal its 8-byte loads (R-READ-3a)");
		else
			check(okc && memcmp(c, b, sz) != 0, "4-byte loads of the block differ from its 8-byte loads (v3 bug)");
	}
}

static void write_checks_ism(void)
{
	uint8_t p[256] __attribute__((aligned(8))), b[16];
	char h[64];
	ssize_t n;
	static const size_t widths[] = { 1, 2, 4, 8 };

	printf("# MSI-X table: BAR%d+0x%" PRIx64 ", %" PRIu64 " bytes\n", msix_bar, msix_off, msix_len);
	if (prof != P_ISM_V4) {
		n = rd(msix_bar, msix_off, b, 1);
		printf("# observe msix-1-byte-load %s\n", rcstr(n, errno));
		check(n < 0, "1-byte load in the MSI-X table refused by the emulated device (it takes only 4/8-byte accesses there) (%s)",
		      rcstr(n, errno));
	}
	/* 1/2/4/8-byte writes: one store block each, which QEMU's strict PCISTB refuses (len <= 8). */
	for (size_t i = 0; i < 4; i++) {
		size_t w = widths[i];
		int e;

		memset(p, 0xc0 + i, w);
		n = wr(dev_bar, dev_off, p, w);
		e = errno;
		printf("# observe small-write-%zu %s\n", w, rcstr(n, e));
		check(n < 0, "%zu-byte write (one %zu-byte store block) refused by the emulated strict PCISTB (R-WRITE-4) (%s)",
		      w, w, rcstr(n, e));
		check_todo(n < 0 && e == EIO, "SPEC: QEMU answers a PCISTB it refuses with a program check, the kernel returns ENXIO",
			   "the refused %zu-byte store block fails with EIO, as SPEC R-WRITE-4 predicts for strict devices (%s)",
			   w, rcstr(n, e));
	}
	n = rd(dev_bar, dev_off, b, 8);
	check(n == 8 && memcmp(b, mac, 6) == 0, "refused small writes left the MAC unchanged");

	/* Blocks of 16..128 bytes into the MSI-X table. */
	store_block_check(msix_bar, msix_off, 16, 0);
	store_block_check(msix_bar, msix_off, 24, 0);
	store_block_check(msix_bar, msix_off, 32, 0);
	store_block_check(msix_bar, msix_off + 0x40, 64, 0);
	store_block_check(msix_bar, msix_off, 128, 0);
	if (msix_len >= 0x100)
		store_block_check(msix_bar, msix_off + 0x80, 128, 0);
	store_block_check(msix_bar, msix_off + 0x20, 16, 1);

	/* Driver-side refusals (before any store). */
	memset(p, 0x33, sizeof(p));
	n = wr(msix_bar, msix_off, p, 136);
	check(n < 0 && errno == EINVAL, "136-byte write (> maxstbl 128): EINVAL (R-WRITE-1) (%s)", rcstr(n, errno));
	n = wr(com_bar, com_off + 0xff8, p, 16);
	check(n < 0 && errno == EINVAL, "16-byte write crossing a 4 KiB boundary: EINVAL (R-WRITE-2) (%s)", rcstr(n, errno));
	n = wr(dev_bar, dev_off, p, 0);
	check(n == 0, "zero-byte write returns 0 (R-ZERO-1)");
	/* Device-side refusals: misaligned offset, length not a multiple of 8. */
	n = wr(msix_bar, msix_off + 4, p, 16);
	printf("# observe stb-misaligned-offset %s\n", rcstr(n, errno));
	check(n < 0, "16-byte store block at offset 4 refused by the strict emulated device (R-WRITE-4) (%s)", rcstr(n, errno));
	n = wr(msix_bar, msix_off, p, 20);
	printf("# observe stb-length-20 %s\n", rcstr(n, errno));
	check(n < 0, "20-byte store block refused by the strict emulated device (R-WRITE-4) (%s)", rcstr(n, errno));

	/* MAC experiment: a 16-byte store block at the device config, read back byte by byte. */
	static const uint8_t pat[16] __attribute__((aligned(8))) = { 0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71,
								     0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9 };
	n = wr(dev_bar, dev_off, pat, 16);
	check(n == 16, "16-byte store block at devcfg+0 (MAC) accepted (%s)", rcstr(n, errno));
	uint8_t got[8] = { 0 };
	int okc = 1;
	if (prof == P_ISM) {
		for (int i = 0; i < 6; i++)
			okc &= rd(dev_bar, dev_off + i, got + i, 1) == 1;
	} else {
		okc = rd(dev_bar, dev_off, got, 8) == 8;
	}
	hex(h, got, 6);
	printf("# observe mac-after-store-block %02x:%02x:%02x:%02x:%02x:%02x (read with %s loads)\n", got[0], got[1],
	       got[2], got[3], got[4], got[5], prof == P_ISM ? "1-byte" : "8-byte");
	if (okc && memcmp(got, pat, 6) == 0)
		check(1, "MAC after the store block equals the first 6 bytes written (R-WRITE-3)");
	else if (okc && got[0] == pat[7] && got[1] == pat[6] && got[2] == pat[5] && got[3] == pat[4] && got[4] == pat[3] &&
		 got[5] == pat[2])
		check_todo(0, REVERSED_WHY, "MAC after the store block equals the first 6 bytes written (R-WRITE-3) [%s]", h);
	else
		check(0, "MAC after the store block is the pattern or its word-reversal [%s]", h);

	timing_write("msix-table stb", msix_bar, msix_off + 0x100 < msix_len ? msix_off + 0x100 : msix_off, 16, 200);
	timing_write("msix-table stb", msix_bar, msix_off, 128, 100);
	timing_read("msix-table", msix_bar, msix_off, 128, 100);
	/* The table keeps test patterns: harmless, MSI-X stays disabled until power-off. */
}

int main(int argc, char **argv)
{
	const char *bdf = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
			const char *p = argv[++i];

			prof = !strcmp(p, "ism") ? P_ISM : !strcmp(p, "ism-v3") ? P_ISM_V3 : !strcmp(p, "ism-v4") ? P_ISM_V4 : P_VFIO_PCI;
		} else if (!strcmp(argv[i], "--no-writes")) {
			no_writes = 1;
		} else if (!strcmp(argv[i], "--single-write")) {
			single_write = 1;
		} else if (!strcmp(argv[i], "--mac") && i + 1 < argc) {
			unsigned int m[6];

			if (sscanf(argv[++i], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6)
				for (int j = 0; j < 6; j++)
					mac[j] = m[j];
		} else {
			bdf = argv[i];
		}
	}
	printf("KTAP version 1\n");
	if (!bdf) {
		printf("not ok 1 - usage: zpci-probe --profile P [--mac M] DEVICE\n1..1\n");
		return 2;
	}
	printf("# zpci-probe %s profile %s\n", bdf,
	       prof == P_ISM ? "ism" : prof == P_ISM_V3 ? "ism-v3" : prof == P_ISM_V4 ? "ism-v4" : "vfio-pci");
	read_bar_sizes(bdf);
	if (open_device(bdf) == 0) {
		region_info();
		find_caps();
		if (single_write) {
			/* One 16-byte write into the MSI-X table, nothing else. */
			static const uint8_t p[16] __attribute__((aligned(8))) = { 1, 2, 3, 4, 5, 6, 7, 8,
										9, 10, 11, 12, 13, 14, 15, 16 };
			ssize_t n;

			printf("# single 16-byte write at BAR%d+0x%" PRIx64 "\n", msix_bar, msix_off);
			fflush(stdout);
			n = wr(msix_bar, msix_off, p, 16);
			check(n == 16, "single 16-byte write returned (%s)", rcstr(n, errno));
		} else {
			read_checks();
			if (no_writes)
				printf("# writes skipped (--no-writes)\n");
			else if (prof == P_VFIO_PCI)
				write_checks_generic();
			else
				write_checks_ism();
		}
	}
	printf("1..%d\n", ntest);
	printf("# zpci-probe: %d checks, %d failed\n", ntest, nfail);
	return nfail ? 1 : 0;
}
