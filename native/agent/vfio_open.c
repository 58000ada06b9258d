/* vfio_open.c: pre-flight from sysfs and the open path (group + type1 container), VFIOError wording. */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

const char *errno_name(int e)
{
	static char buf[32];
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EBADF: return "EBADF";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case ENOSPC: return "ENOSPC";
	case ESPIPE: return "ESPIPE";
	case EROFS: return "EROFS";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	}
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

/* The last path component of a symbolic link's target, or NULL. */
static const char *link_name(const char *path, char *buf, size_t len)
{
	ssize_t n = readlink(path, buf, len - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = 0;
	const char *slash = strrchr(buf, '/');
	return slash ? slash + 1 : buf;
}

static unsigned read_hex_file(const char *path)
{
	char text[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0xffff;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0xffff;
	text[n] = 0;
	char *end;
	unsigned long v = strtoul(text, &end, 16);
	return end == text ? 0xffff : (unsigned)(v & 0xffff);
}

/* Opens a VFIO node read-write, turning the errnos a person can act on into VFIOError lines. */
static int open_node(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	int e = errno;
	if (e == ENOENT || e == ENXIO || e == ENODEV)
		snprintf(err, errlen, "%s does not exist: is the vfio module loaded and the device bound to vfio-pci?", path);
	else if (e == EACCES || e == EPERM)
		snprintf(err, errlen, "no permission to open %s: run as root or give this user access to the VFIO group", path);
	else if (e == EBUSY)
		snprintf(err, errlen, "%s is busy: another process (a VM or another tool) is using the device", path);
	else
		snprintf(err, errlen, "open on %s failed: %s (%s)", path, errno_name(e), strerror(e));
	return -1;
}

static int sys_fail(char *err, size_t errlen, const char *call, const char *path)
{
	int e = errno;
	snprintf(err, errlen, "%s on %s failed: %s (%s)", call, path, errno_name(e), strerror(e));
	return -1;
}

/* "a=drv, b=drv": the group members bound to a driver that is not a vfio driver, sorted. */
static void group_blockers(const char *sysfs, int group, char *out, size_t outlen)
{
	char dir[4096], link[4400], buf[4096];
	char *names[64];
	int n = 0;
	snprintf(dir, sizeof(dir), "%s/kernel/iommu_groups/%d/devices", sysfs, group);
	DIR *d = opendir(dir);
	out[0] = 0;
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) && n < 64) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(link, sizeof(link), "%s/%s/driver", dir, e->d_name);
			const char *drv = link_name(link, buf, sizeof(buf));
			if (!drv || strstr(drv, "vfio"))
				continue;
			size_t len = strlen(e->d_name) + strlen(drv) + 2;
			names[n] = malloc(len);
			if (names[n])
				snprintf(names[n++], len, "%s=%s", e->d_name, drv);
		}
		closedir(d);
	}
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	for (int i = 0; i < n; i++) {
		size_t used = strlen(out);
		snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", names[i]);
		free(names[i]);
	}
	if (n == 0)
		snprintf(out, outlen, "unknown");
}

#ifdef ISMKIT_AGENT_TEST
/* Test builds only: ISMKIT_AGENT_FAKE_DEVICE=FILE serves a regular file as the device, with region i
 * at i * 0x10000 (BAR2 0x4000 bytes, config 0x100, the others empty), so that the protocol loop can
 * be checked without VFIO (and as an s390x program under qemu-user). */
static int fake_open(const char *file, struct vfio_handle *h, char *err, size_t errlen)
{
	static const uint64_t sizes[9] = { 0x100, 0, 0x4000, 0, 0, 0, 0, 0x100, 0 };
	h->device = open(file, O_RDWR | O_CLOEXEC);
	if (h->device < 0)
		return sys_fail(err, errlen, "open", file);
	h->vendor = 0x1af4;
	h->device_id = 0x1110;
	h->num_regions = 9;
	h->flags = VFIO_DEVICE_FLAGS_PCI;
	for (uint32_t i = 0; i < 9; i++)
		h->map.r[h->map.n++] = (struct region){ .index = i, .offset = i * 0x10000ull, .size = sizes[i], .flags = 3 };
	region_map_finish(&h->map);
	return 0;
}

static const char *fake_file;

void fake_hang(uint64_t offset)
{
	const char *at = getenv("ISMKIT_AGENT_FAKE_HANG");
	if (at && strtoull(at, NULL, 0) == offset)
		for (;;)
			pause();
}
#endif

int vfio_open_device(const struct pci_address *addr, struct vfio_handle *h, char *err, size_t errlen)
{
	const char *sysfs = env_or("ISMKIT_AGENT_SYSFS", "/sys");
	const char *dev = env_or("ISMKIT_AGENT_DEV", "/dev");
	char path[4096], sub[4200], buf[4096], group_path[4200], container_path[4200];
	const char *drv;

	memset(h, 0, sizeof(*h));
	h->container = h->group = h->device = -1;
#ifdef ISMKIT_AGENT_TEST
	if (getenv("ISMKIT_AGENT_FAKE_DEVICE")) {
		fake_file = getenv("ISMKIT_AGENT_FAKE_DEVICE");
		snprintf(h->name, sizeof(h->name), "%s", addr->text);
		return fake_open(fake_file, h, err, errlen);
	}
#endif

	/* Pre-flight: what sysfs alone says (VFIOConnection.preflight). */
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sysfs, addr->text);
	if (access(path, F_OK) != 0) {
		snprintf(err, errlen, "no PCI device %s: %s does not exist", addr->text, path);
		return -1;
	}
	snprintf(sub, sizeof(sub), "%s/driver", path);
	drv = link_name(sub, buf, sizeof(buf));
	if (!drv) {
		snprintf(err, errlen,
			 "device %s is not bound to any driver; bind it to vfio-pci first (driver_override + drivers_probe)",
			 addr->text);
		return -1;
	}
	if (!strstr(drv, "vfio")) {
		snprintf(err, errlen,
			 "device %s is bound to '%s', not to a vfio driver; unbind it and bind vfio-pci (driver_override + drivers_probe)",
			 addr->text, drv);
		return -1;
	}
	snprintf(sub, sizeof(sub), "%s/iommu_group", path);
	const char *gname = link_name(sub, buf, sizeof(buf));
	char *end = NULL;
	long group = gname ? strtol(gname, &end, 10) : -1;
	if (!gname || !*gname || *end || group < 0) {
		snprintf(err, errlen, "device %s has no IOMMU group: enable the IOMMU (for example intel_iommu=on) to use VFIO",
			 addr->text);
		return -1;
	}
	snprintf(sub, sizeof(sub), "%s/vendor", path);
	h->vendor = read_hex_file(sub);
	snprintf(sub, sizeof(sub), "%s/device", path);
	h->device_id = read_hex_file(sub);

	/* The group and its status. */
	snprintf(group_path, sizeof(group_path), "%s/vfio/%ld", dev, group);
	if ((h->group = open_node(group_path, err, errlen)) < 0)
		return -1;
	struct vfio_group_status status = { .argsz = sizeof(status) };
	if (ioctl(h->group, VFIO_GROUP_GET_STATUS, &status) < 0)
		return sys_fail(err, errlen, "VFIO_GROUP_GET_STATUS", group_path);
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		char blockers[2048];
		group_blockers(sysfs, (int)group, blockers, sizeof(blockers));
		snprintf(err, errlen, "IOMMU group %ld is not viable: bind every device in it to vfio-pci (blocking: %s)",
			 group, blockers);
		return -1;
	}
	if (status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET) {
		snprintf(err, errlen, "%s is busy: another process (a VM or another tool) is using the device", group_path);
		return -1;
	}

	/* The type1 container. */
	snprintf(container_path, sizeof(container_path), "%s/vfio/vfio", dev);
	if ((h->container = open_node(container_path, err, errlen)) < 0)
		return -1;
	int version = ioctl(h->container, VFIO_GET_API_VERSION);
	if (version < 0)
		return sys_fail(err, errlen, "VFIO_GET_API_VERSION", container_path);
	if (version != VFIO_API_VERSION) {
		snprintf(err, errlen, "the kernel does not support VFIO API version %d (it reports %d)", VFIO_API_VERSION,
			 version);
		return -1;
	}
	int type;
	int r = ioctl(h->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	if (r < 0)
		return sys_fail(err, errlen, "VFIO_CHECK_EXTENSION", container_path);
	if (r > 0) {
		type = VFIO_TYPE1v2_IOMMU;
	} else {
		r = ioctl(h->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU);
		if (r < 0)
			return sys_fail(err, errlen, "VFIO_CHECK_EXTENSION", container_path);
		if (r == 0) {
			snprintf(err, errlen, "the kernel does not support the type1 IOMMU (load vfio_iommu_type1)");
			return -1;
		}
		type = VFIO_TYPE1_IOMMU;
	}
	if (ioctl(h->group, VFIO_GROUP_SET_CONTAINER, &h->container) < 0) {
		if (errno == EBUSY) {
			snprintf(err, errlen, "%s is busy: another process (a VM or another tool) is using the device",
				 group_path);
			return -1;
		}
		return sys_fail(err, errlen, "VFIO_GROUP_SET_CONTAINER", group_path);
	}
	if (ioctl(h->container, VFIO_SET_IOMMU, type) < 0)
		return sys_fail(err, errlen, "VFIO_SET_IOMMU", container_path);

	/* The device fd, its info and every region's info. */
	snprintf(h->name, sizeof(h->name), "%s", addr->text);
	h->device = ioctl(h->group, VFIO_GROUP_GET_DEVICE_FD, addr->text);
	if (h->device < 0) {
		if (errno == EBUSY) {
			snprintf(err, errlen,
				 "device %s in %s is busy: another process (a VM or another tool) is using the device",
				 addr->text, group_path);
			return -1;
		}
		return sys_fail(err, errlen, "VFIO_GROUP_GET_DEVICE_FD", group_path);
	}
	struct vfio_device_info info = { .argsz = sizeof(info) };
	if (ioctl(h->device, VFIO_DEVICE_GET_INFO, &info) < 0)
		return sys_fail(err, errlen, "VFIO_DEVICE_GET_INFO", addr->text);
	h->num_regions = info.num_regions;
	h->flags = info.flags;
	for (uint32_t i = 0; i < info.num_regions && i < AGENT_MAX_REGIONS; i++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = i };
		if (ioctl(h->device, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0)
			continue;
		struct region *g = &h->map.r[h->map.n++];
		g->index = i;
		g->offset = ri.offset;
		g->size = ri.size;
		g->flags = ri.flags;
	}
	region_map_finish(&h->map);
	return 0;
}

int vfio_reopen_device(struct vfio_handle *h)
{
	int fd;
#ifdef ISMKIT_AGENT_TEST
	if (fake_file) {
		close(h->device);
		h->device = open(fake_file, O_RDWR | O_CLOEXEC);
		return h->device < 0 ? -1 : 0;
	}
#endif
	/* The old fd goes first, so that the device passes through its last close (vfio-pci
	 * disables it) and the new fd starts like the first one did: file position 0. */
	close(h->device);
	h->device = -1;
	fd = ioctl(h->group, VFIO_GROUP_GET_DEVICE_FD, h->name);
	if (fd < 0)
		return -1;
	h->device = fd;
	return 0;
}
