/* CVFIO: the VFIO and iommufd ioctl numbers and structures from <linux/vfio.h>, made
 * importable from Swift. Swift cannot import function-like macros (_IO) or call the variadic
 * ioctl(2), so this header turns the request numbers into constants and the calls into
 * fixed-signature inline functions that return -errno on failure instead of setting errno.
 *
 * The vfio cdev + iommufd requests (Linux 6.6 and later) are defined here under cvfio_ names
 * so that the header also builds against older kernel headers that lack them.
 */
#ifndef CVFIO_H
#define CVFIO_H

#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <linux/types.h>
#include <linux/vfio.h>

/* Container and group (the type1 path). */
static const unsigned long CVFIO_GET_API_VERSION = VFIO_GET_API_VERSION;
static const unsigned long CVFIO_CHECK_EXTENSION = VFIO_CHECK_EXTENSION;
static const unsigned long CVFIO_SET_IOMMU = VFIO_SET_IOMMU;
static const unsigned long CVFIO_GROUP_GET_STATUS = VFIO_GROUP_GET_STATUS;
static const unsigned long CVFIO_GROUP_SET_CONTAINER = VFIO_GROUP_SET_CONTAINER;
static const unsigned long CVFIO_GROUP_UNSET_CONTAINER = VFIO_GROUP_UNSET_CONTAINER;
static const unsigned long CVFIO_GROUP_GET_DEVICE_FD = VFIO_GROUP_GET_DEVICE_FD;
/* Device. */
static const unsigned long CVFIO_DEVICE_GET_INFO = VFIO_DEVICE_GET_INFO;
static const unsigned long CVFIO_DEVICE_GET_REGION_INFO = VFIO_DEVICE_GET_REGION_INFO;

static const int CVFIO_API_VERSION = VFIO_API_VERSION;
static const int CVFIO_TYPE1_IOMMU = VFIO_TYPE1_IOMMU;
static const int CVFIO_TYPE1v2_IOMMU = VFIO_TYPE1v2_IOMMU;
static const uint32_t CVFIO_GROUP_FLAGS_VIABLE = VFIO_GROUP_FLAGS_VIABLE;
static const uint32_t CVFIO_GROUP_FLAGS_CONTAINER_SET = VFIO_GROUP_FLAGS_CONTAINER_SET;
static const uint32_t CVFIO_DEVICE_FLAGS_PCI = VFIO_DEVICE_FLAGS_PCI;
static const uint32_t CVFIO_REGION_INFO_FIXED_SIZE = (uint32_t)sizeof(struct vfio_region_info);

/* vfio cdev + iommufd (Linux 6.6+): the layouts of include/uapi/linux/{vfio,iommufd}.h. */
struct cvfio_device_bind_iommufd {
    __u32 argsz;
    __u32 flags;
    __s32 iommufd;
    __u32 out_devid;
};
struct cvfio_device_attach_iommufd_pt {
    __u32 argsz;
    __u32 flags;
    __u32 pt_id;
};
struct cvfio_iommu_ioas_alloc {
    __u32 size;
    __u32 flags;
    __u32 out_ioas_id;
};
static const unsigned long CVFIO_DEVICE_BIND_IOMMUFD = _IO(VFIO_TYPE, VFIO_BASE + 18);
static const unsigned long CVFIO_DEVICE_ATTACH_IOMMUFD_PT = _IO(VFIO_TYPE, VFIO_BASE + 19);
static const unsigned long CVFIO_IOMMU_IOAS_ALLOC = _IO(';', 0x81);

/* ioctl(2) with no argument, an integer argument or a pointer: the result, or -errno. */
static inline int cvfio_ioctl_none(int fd, unsigned long request) {
    int r = ioctl(fd, request);
    return r < 0 ? -errno : r;
}
static inline int cvfio_ioctl_int(int fd, unsigned long request, long argument) {
    int r = ioctl(fd, request, argument);
    return r < 0 ? -errno : r;
}
static inline int cvfio_ioctl_ptr(int fd, unsigned long request, void *argument) {
    int r = ioctl(fd, request, argument);
    return r < 0 ? -errno : r;
}

#endif
