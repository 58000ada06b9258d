/*
 * standin.c: a stand-in for a VFIO device fd, so that a C program emitted by
 * `ismkit repro --emit-c` can run against a driver source built in user space (the
 * driver-source harness linked in) instead of a real device. Linked with
 *   -Wl,--wrap=open,--wrap=ioctl,--wrap=readlink,--wrap=pread,--wrap=pwrite,--wrap=read,--wrap=write,--wrap=lseek
 * it answers the program's group/container/device set-up itself and serves the device fd's
 * pread/pwrite/read/write/lseek and VFIO_DEVICE_GET_REGION_INFO through the harness's
 * ismkit_access.h functions. Everything else goes to the real calls.
 *
 * The device is configured like the wire protocol's CONFIG request, from the environment:
 *   ISMKIT_STANDIN_CONFIG="b0 b1 b2 b3 b4 b5 cfg maxstbl peer_maxstbl seed strict"
 * ISMKIT_STANDIN_TRACE=1 prints each device transfer on standard error ("standin: pwrite ...").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "ismkit_access.h"

enum { CONTAINER_FD = 1000, GROUP_FD = 1001, DEVICE_FD = 1002 };

int __real_open(const char *path, int flags, ...);
int __real_ioctl(int fd, unsigned long request, ...);
ssize_t __real_readlink(const char *path, char *buf, size_t size);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_write(int fd, const void *buf, size_t n);
off_t __real_lseek(int fd, off_t off, int whence);

static struct ismkit_access *device;
static const struct ismkit_fault no_fault;

static void open_device(void)
{
	struct ismkit_config c = { .bar_lengths = { 1ULL << 48, 0, 8192, 0, 0, 0 }, .config_size = 4096,
				   .maxstbl = 4096, .peer_maxstbl = 2048, .content_seed = 1 };
	const char *env = getenv("ISMKIT_STANDIN_CONFIG");
	if (env) {
		unsigned long long v[11];
		if (sscanf(env, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			   &v[6], &v[7], &v[8], &v[9], &v[10]) != 11) {
			fprintf(stderr, "standin: ISMKIT_STANDIN_CONFIG needs 11 numbers\n");
			exit(2);
		}
		for (int i = 0; i < 6; i++)
			c.bar_lengths[i] = v[i];
		c.config_size = v[6], c.maxstbl = v[7], c.peer_maxstbl = v[8], c.content_seed = v[9], c.strict_store_blocks = (int)v[10];
	}
	int err = 0;
	device = ismkit_open(&c, &err);
	if (!device) {
		fprintf(stderr, "standin: the driver did not open: errno %d\n", err);
		exit(2);
	}
}

static void trace(const char *call, size_t n, long long off)
{
	static int on = -1;
	if (on < 0)
		on = getenv("ISMKIT_STANDIN_TRACE") != NULL;
	if (on)
		fprintf(stderr, "standin: %s %zu bytes at 0x%llx\n", call, n, off);
}

static ssize_t result(int64_t r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (ssize_t)r;
}

int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	int mode = (flags & O_CREAT) ? va_arg(ap, int) : 0;
	va_end(ap);
	if (strcmp(path, "/dev/vfio/vfio") == 0)
		return CONTAINER_FD;
	if (strncmp(path, "/dev/vfio/", 10) == 0)
		return GROUP_FD;
	return __real_open(path, flags, mode);
}

ssize_t __wrap_readlink(const char *path, char *buf, size_t size)
{
	if (strstr(path, "/iommu_group")) {
		const char *g = "../../../kernel/iommu_groups/7";
		size_t n = strlen(g) < size ? strlen(g) : size;
		memcpy(buf, g, n);
		return (ssize_t)n;
	}
	return __real_readlink(path, buf, size);
}

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != CONTAINER_FD && fd != GROUP_FD && fd != DEVICE_FD)
		return __real_ioctl(fd, request, arg);
	switch (request) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return 1;
	case VFIO_SET_IOMMU:
	case VFIO_GROUP_SET_CONTAINER:
		return 0;
	case VFIO_GROUP_GET_STATUS:
		((struct vfio_group_status *)arg)->flags = VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET;
		return 0;
	case VFIO_GROUP_GET_DEVICE_FD:
		if (!device)
			open_device();
		return DEVICE_FD;
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info *info = arg;
		info->flags = VFIO_DEVICE_FLAGS_PCI;
		info->num_regions = VFIO_PCI_NUM_REGIONS;
		info->num_irqs = 0;
		return 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info *ri = arg;
		struct ismkit_region_info out;
		int r = ismkit_region_info(device, ri->index, ri->argsz, &out);
		if (r < 0) {
			errno = -r;
			return -1;
		}
		ri->offset = out.offset, ri->size = out.size, ri->flags = out.flags;
		return 0;
	}
	default:
		errno = ENOTTY;
		return -1;
	}
}

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
	if (fd == DEVICE_FD)
		trace("pread", n, (long long)off);
	return fd == DEVICE_FD ? result(ismkit_pread(device, buf, n, (uint64_t)off, &no_fault)) : __real_pread(fd, buf, n, off);
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (fd == DEVICE_FD)
		trace("pwrite", n, (long long)off);
	return fd == DEVICE_FD ? result(ismkit_pwrite(device, buf, n, (uint64_t)off, &no_fault)) : __real_pwrite(fd, buf, n, off);
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	if (fd == DEVICE_FD)
		trace("read", n, -1);
	return fd == DEVICE_FD ? result(ismkit_read(device, buf, n, &no_fault)) : __real_read(fd, buf, n);
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (fd == DEVICE_FD)
		trace("write", n, -1);
	return fd == DEVICE_FD ? result(ismkit_write(device, buf, n, &no_fault)) : __real_write(fd, buf, n);
}

off_t __wrap_lseek(int fd, off_t off, int whence)
{
	return fd == DEVICE_FD ? (off_t)result(ismkit_seek(device, off, whence)) : __real_lseek(fd, off, whence);
}
