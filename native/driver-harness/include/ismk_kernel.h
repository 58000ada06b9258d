/*
 * ismk_kernel.h: user-space stand-ins for the kernel APIs an ism-vfio-pci driver uses.
 *
 * Promise: a driver main.c of the ism-vfio-pci family compiles UNMODIFIED against these
 * declarations (gcc/clang, GNU C11, little- or big-endian), and links against kernel_stubs.c,
 * which simulates the device (sparse BARs, PCI load / store block in host byte order, trace,
 * injected faults), the user buffer, the slab allocator and the vfio/pci core the driver calls.
 * Signatures follow the kernel's; where the kernel accepts several forms (kmem_cache_create)
 * so do these.
 */
#ifndef ISMK_KERNEL_H
#define ISMK_KERNEL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

/* --- types ------------------------------------------------------------------------------ */
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
typedef u64 resource_size_t;
typedef unsigned int gfp_t;
typedef unsigned int slab_flags_t;
typedef struct { u8 b[16]; } uuid_t;

#define __user
#define __iomem
#define __must_check
#define __init
#define __exit
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#ifndef KBUILD_MODNAME
#define KBUILD_MODNAME "ism_vfio_pci"
#endif

/* --- helpers ---------------------------------------------------------------------------- */
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define MAX_RW_COUNT 0x7ffff000L
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define ALIGN(x, a) (((x) + ((__typeof__(x))(a) - 1)) & ~((__typeof__(x))(a) - 1))
#define min(a, b) ({ __typeof__(a) _ismk_a = (a); __typeof__(b) _ismk_b = (b); _ismk_a < _ismk_b ? _ismk_a : _ismk_b; })
#define max(a, b) ({ __typeof__(a) _ismk_a = (a); __typeof__(b) _ismk_b = (b); _ismk_a > _ismk_b ? _ismk_a : _ismk_b; })
#define min_t(t, a, b) min((t)(a), (t)(b))
#define max_t(t, a, b) max((t)(a), (t)(b))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define BUILD_BUG_ON_ZERO(e) ((int)(sizeof(struct { int : (-!!(e)); })))
#define BUILD_BUG_ON(e) ((void)BUILD_BUG_ON_ZERO(e))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WARN_ON(c) ({ int _ismk_c = !!(c); if (_ismk_c) fprintf(stderr, "WARN_ON(%s) at %s:%d\n", #c, __FILE__, __LINE__); _ismk_c; })
#define WARN_ON_ONCE(c) WARN_ON(c)
#define pr_err(...) fprintf(stderr, __VA_ARGS__)
#define pr_warn(...) fprintf(stderr, __VA_ARGS__)
#define pr_info(...) ((void)0)
#define pr_debug(...) ((void)0)

#include "ismk_helpers.h"

#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR(ptr); }

/* --- module ----------------------------------------------------------------------------- */
#define MODULE_LICENSE(x) extern int ismk_module_info_unused
#define MODULE_DESCRIPTION(x) extern int ismk_module_info_unused
#define MODULE_AUTHOR(x) extern int ismk_module_info_unused
#define MODULE_DEVICE_TABLE(type, name) extern int ismk_module_info_unused
#define MODULE_IMPORT_NS(x) extern int ismk_module_info_unused
#define MODULE_SOFTDEP(x) extern int ismk_module_info_unused
#define MODULE_VERSION(x) extern int ismk_module_info_unused
#define MODULE_ALIAS(x) extern int ismk_module_info_unused
#define MODULE_PARM_DESC(n, x) extern int ismk_module_info_unused
#define MODULE_FIRMWARE(x) extern int ismk_module_info_unused
#define EXPORT_SYMBOL(x) extern int ismk_module_info_unused
#define EXPORT_SYMBOL_GPL(x) extern int ismk_module_info_unused
#define module_param(name, type, perm) extern int ismk_module_info_unused
#define module_param_named(name, var, type, perm) extern int ismk_module_info_unused
#define THIS_MODULE ((struct module *)0)
struct module;
/* module_init(fn) runs fn at program start (it registers the driver); module_exit is not run. */
#define module_init(fn) \
	static void __attribute__((constructor)) ismk_module_init_fn_##fn(void) { (void)fn(); } \
	extern int ismk_module_info_unused
#define module_exit(fn) extern int ismk_module_info_unused

/* --- devices and PCI -------------------------------------------------------------------- */
struct device_driver;
struct device {
	void *driver_data;
	const struct device_driver *driver;
};
static inline void dev_set_drvdata(struct device *dev, void *data) { dev->driver_data = data; }
static inline void *dev_get_drvdata(const struct device *dev) { return dev->driver_data; }

#define PCI_STD_NUM_BARS 6
struct pci_dev {
	struct device dev;
	void *sysdata;            /* the struct zpci_dev */
	unsigned short vendor;
	unsigned short device;
	int cfg_size;
	resource_size_t ismk_start[PCI_STD_NUM_BARS];
	resource_size_t ismk_len[PCI_STD_NUM_BARS];
};
#define to_pci_dev(d) container_of(d, struct pci_dev, dev)
static inline void pci_set_drvdata(struct pci_dev *pdev, void *data) { dev_set_drvdata(&pdev->dev, data); }
static inline void *pci_get_drvdata(struct pci_dev *pdev) { return dev_get_drvdata(&pdev->dev); }
#define pci_name(pdev) "0000:00:00.0"
resource_size_t pci_resource_start(struct pci_dev *pdev, int bar);
resource_size_t pci_resource_len(struct pci_dev *pdev, int bar);

#define PCI_ANY_ID (~0u)
#define PCI_ID_F_VFIO_DRIVER_OVERRIDE 1
#define PCI_VENDOR_ID_IBM 0x1014
#define PCI_DEVICE_ID_IBM_ISM 0x04ed
struct pci_device_id {
	u32 vendor, device;
	u32 subvendor, subdevice;
	u32 class, class_mask;
	unsigned long driver_data;
	u32 override_only;
};
#define PCI_DEVICE(vend, dev) .vendor = (vend), .device = (dev), .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID
#define PCI_DRIVER_OVERRIDE_DEVICE_VFIO(vend, dev) \
	PCI_DEVICE(vend, dev), .override_only = PCI_ID_F_VFIO_DRIVER_OVERRIDE

/* PCI error recovery (AER / EEH / zPCI), as include/linux/pci.h defines it. */
typedef unsigned int pci_ers_result_t;
enum pci_ers_result {
	PCI_ERS_RESULT_NONE = 1,
	PCI_ERS_RESULT_CAN_RECOVER = 2,
	PCI_ERS_RESULT_NEED_RESET = 3,
	PCI_ERS_RESULT_DISCONNECT = 4,
	PCI_ERS_RESULT_RECOVERED = 5,
	PCI_ERS_RESULT_NO_AER_DRIVER = 6,
};
typedef unsigned int pci_channel_state_t;
enum pci_channel_state {
	pci_channel_io_normal = 1,
	pci_channel_io_frozen = 2,
	pci_channel_io_perm_failure = 3,
};
struct pci_error_handlers {
	pci_ers_result_t (*error_detected)(struct pci_dev *dev, pci_channel_state_t error);
	pci_ers_result_t (*mmio_enabled)(struct pci_dev *dev);
	pci_ers_result_t (*slot_reset)(struct pci_dev *dev);
	void (*reset_prepare)(struct pci_dev *dev);
	void (*reset_done)(struct pci_dev *dev);
	void (*resume)(struct pci_dev *dev);
	void (*cor_error_detected)(struct pci_dev *dev);
};

/* Power management, as include/linux/pm.h defines it (CONFIG_PM and CONFIG_PM_SLEEP set). */
struct dev_pm_ops {
	int (*prepare)(struct device *dev);
	void (*complete)(struct device *dev);
	int (*suspend)(struct device *dev);
	int (*resume)(struct device *dev);
	int (*freeze)(struct device *dev);
	int (*thaw)(struct device *dev);
	int (*poweroff)(struct device *dev);
	int (*restore)(struct device *dev);
	int (*suspend_noirq)(struct device *dev);
	int (*resume_noirq)(struct device *dev);
	int (*runtime_suspend)(struct device *dev);
	int (*runtime_resume)(struct device *dev);
	int (*runtime_idle)(struct device *dev);
};
#define SYSTEM_SLEEP_PM_OPS(s, r) .suspend = (s), .resume = (r), .freeze = (s), .thaw = (r), .poweroff = (s), .restore = (r),
#define SET_SYSTEM_SLEEP_PM_OPS(s, r) SYSTEM_SLEEP_PM_OPS(s, r)
#define RUNTIME_PM_OPS(s, r, i) .runtime_suspend = (s), .runtime_resume = (r), .runtime_idle = (i),
#define SET_RUNTIME_PM_OPS(s, r, i) RUNTIME_PM_OPS(s, r, i)
#define NOIRQ_SYSTEM_SLEEP_PM_OPS(s, r) .suspend_noirq = (s), .resume_noirq = (r),
#define DEFINE_SIMPLE_DEV_PM_OPS(name, s, r) const struct dev_pm_ops name = { SYSTEM_SLEEP_PM_OPS(s, r) }
#define SIMPLE_DEV_PM_OPS(name, s, r) const struct dev_pm_ops __maybe_unused name = { SYSTEM_SLEEP_PM_OPS(s, r) }
#define DEFINE_RUNTIME_DEV_PM_OPS(name, s, r, i) \
	const struct dev_pm_ops name = { SYSTEM_SLEEP_PM_OPS(s, r) RUNTIME_PM_OPS(s, r, i) }
#define pm_ptr(p) (p)
#define pm_sleep_ptr(p) (p)
struct device_driver {
	const char *name;
	const struct dev_pm_ops *pm;
	struct module *owner;
};

struct pci_driver {
	const char *name;
	const struct pci_device_id *id_table;
	int (*probe)(struct pci_dev *dev, const struct pci_device_id *id);
	void (*remove)(struct pci_dev *dev);
	void (*shutdown)(struct pci_dev *dev);
	int (*sriov_configure)(struct pci_dev *dev, int num_vfs);
	const struct pci_error_handlers *err_handler;
	struct device_driver driver;
	bool driver_managed_dma;
};
/* Called by module_pci_driver at program start: the harness keeps the driver to call probe/remove. */
void ismk_register_pci_driver(struct pci_driver *drv);
static inline int pci_register_driver(struct pci_driver *drv) { ismk_register_pci_driver(drv); return 0; }
static inline void pci_unregister_driver(struct pci_driver *drv) { (void)drv; }
#define module_pci_driver(drv) \
	static void __attribute__((constructor)) ismk_module_init_##drv(void) { ismk_register_pci_driver(&(drv)); } \
	extern int ismk_module_info_unused

/* --- s390 zPCI -------------------------------------------------------------------------- */
struct zpci_dev {
	u32 fh;        /* function handle: changes on recovery */
	u32 fid;       /* function id */
	u16 maxstbl;   /* maximum store block length */
	u8 pfgid;
	bool rtr_avail;
	bool tid_avail;
};
#define to_zpci(pdev) ((struct zpci_dev *)(pdev)->sysdata)
#define ZPCI_CREATE_REQ(handle, space, len) ((u64)(handle) << 32 | (space) << 16 | (len))
int __zpci_load(u64 *data, u64 req, u64 offset);
int __zpci_store_block(const u64 *data, u64 req, u64 offset);
int __zpci_store(u64 data, u64 req, u64 offset);

/* --- user memory ------------------------------------------------------------------------ */
unsigned long copy_to_user(void __user *to, const void *from, unsigned long n);
unsigned long copy_from_user(void *to, const void __user *from, unsigned long n);

/* --- slab ------------------------------------------------------------------------------- */
#define GFP_KERNEL 0xcc0u
#define GFP_ATOMIC 0x820u
#define __GFP_ZERO 0x100u
#define SLAB_HWCACHE_ALIGN 0x00002000u
#define SLAB_RECLAIM_ACCOUNT 0x00020000u
#define SLAB_ACCOUNT 0x04000000u
#define SLAB_PANIC 0x00040000u

struct kmem_cache;
struct kmem_cache_args {
	unsigned int align;
	unsigned int useroffset;
	unsigned int usersize;
	unsigned int freeptr_offset;
	bool use_freeptr_offset;
	void (*ctor)(void *);
};
struct kmem_cache *__kmem_cache_create_args(const char *name, unsigned int object_size,
					    struct kmem_cache_args *args, slab_flags_t flags);
struct kmem_cache *__kmem_cache_create(const char *name, unsigned int size, unsigned int align,
				       slab_flags_t flags, void (*ctor)(void *));
static inline struct kmem_cache *__kmem_cache_default_args(const char *name, unsigned int size,
							   struct kmem_cache_args *args,
							   slab_flags_t flags)
{
	struct kmem_cache_args kmem_default_args;
	(void)args;
	memset(&kmem_default_args, 0, sizeof(kmem_default_args));
	return __kmem_cache_create_args(name, size, &kmem_default_args, flags);
}
/* Both forms the kernel accepts: (name, size, struct kmem_cache_args *, flags) and the older
 * (name, size, align, flags, ctor); a NULL args pointer means defaults. */
#define kmem_cache_create(__name, __object_size, __args, ...)            \
	_Generic((__args),                                                 \
		struct kmem_cache_args *: __kmem_cache_create_args,        \
		void *: __kmem_cache_default_args,                         \
		default: __kmem_cache_create)(__name, __object_size, __args, __VA_ARGS__)
#define kmem_cache_create_usercopy(name, size, align, flags, useroffset, usersize, ctor) \
	__kmem_cache_create(name, size, align, flags, ctor)
void *kmem_cache_alloc(struct kmem_cache *cache, gfp_t flags);
void *kmem_cache_zalloc(struct kmem_cache *cache, gfp_t flags);
void kmem_cache_free(struct kmem_cache *cache, void *obj);
void kmem_cache_destroy(struct kmem_cache *cache);
void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void kfree(const void *obj);

/* --- vfio ------------------------------------------------------------------------------- */
enum {
	VFIO_PCI_BAR0_REGION_INDEX,
	VFIO_PCI_BAR1_REGION_INDEX,
	VFIO_PCI_BAR2_REGION_INDEX,
	VFIO_PCI_BAR3_REGION_INDEX,
	VFIO_PCI_BAR4_REGION_INDEX,
	VFIO_PCI_BAR5_REGION_INDEX,
	VFIO_PCI_ROM_REGION_INDEX,
	VFIO_PCI_CONFIG_REGION_INDEX,
	VFIO_PCI_VGA_REGION_INDEX,
	VFIO_PCI_NUM_REGIONS = 9
};
#define VFIO_PCI_OFFSET_SHIFT 40
#define VFIO_PCI_OFFSET_TO_INDEX(off) ((off) >> VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_INDEX_TO_OFFSET(index) ((u64)(index) << VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_OFFSET_MASK (((u64)(1) << VFIO_PCI_OFFSET_SHIFT) - 1)

#define VFIO_REGION_INFO_FLAG_READ (1 << 0)
#define VFIO_REGION_INFO_FLAG_WRITE (1 << 1)
#define VFIO_REGION_INFO_FLAG_MMAP (1 << 2)
#define VFIO_REGION_INFO_FLAG_CAPS (1 << 3)
struct vfio_region_info {
	u32 argsz;
	u32 flags;
	u32 index;
	u32 cap_offset;
	u64 size;
	u64 offset;
};
struct vfio_info_cap {
	void *buf;
	size_t size;
};

struct iommufd_ctx;
struct vm_area_struct;
struct vfio_device_ops;
struct vfio_device {
	struct device *dev;
	const struct vfio_device_ops *ops;
	int ismk_refcount;
};
struct vfio_device_ops {
	const char *name;
	int (*init)(struct vfio_device *vdev);
	void (*release)(struct vfio_device *vdev);
	int (*bind_iommufd)(struct vfio_device *vdev, struct iommufd_ctx *ictx, u32 *out_device_id);
	void (*unbind_iommufd)(struct vfio_device *vdev);
	int (*attach_ioas)(struct vfio_device *vdev, u32 *pt_id);
	void (*detach_ioas)(struct vfio_device *vdev);
	int (*open_device)(struct vfio_device *vdev);
	void (*close_device)(struct vfio_device *vdev);
	ssize_t (*read)(struct vfio_device *vdev, char __user *buf, size_t count, loff_t *ppos);
	ssize_t (*write)(struct vfio_device *vdev, const char __user *buf, size_t count, loff_t *size);
	long (*ioctl)(struct vfio_device *vdev, unsigned int cmd, unsigned long arg);
	int (*get_region_info_caps)(struct vfio_device *vdev, struct vfio_region_info *info,
				    struct vfio_info_cap *caps);
	int (*mmap)(struct vfio_device *vdev, struct vm_area_struct *vma);
	void (*request)(struct vfio_device *vdev, unsigned int count);
	int (*match)(struct vfio_device *vdev, char *buf);
	int (*match_token_uuid)(struct vfio_device *vdev, const uuid_t *uuid);
	int (*device_feature)(struct vfio_device *device, u32 flags, void __user *arg, size_t argsz);
};

struct vfio_pci_core_device {
	struct vfio_device vdev;
	struct pci_dev *pdev;
};

struct vfio_device *_vfio_alloc_device(size_t size, struct device *dev,
				       const struct vfio_device_ops *ops);
#define vfio_alloc_device(dev_struct, member, dev, ops)                                     \
	container_of(_vfio_alloc_device(sizeof(struct dev_struct) +                           \
						BUILD_BUG_ON_ZERO(offsetof(struct dev_struct, member)), \
					dev, ops),                                             \
		     struct dev_struct, member)
void vfio_put_device(struct vfio_device *device);

int vfio_pci_core_register_device(struct vfio_pci_core_device *vdev);
void vfio_pci_core_unregister_device(struct vfio_pci_core_device *vdev);
int vfio_pci_core_init_dev(struct vfio_device *core_vdev);
void vfio_pci_core_release_dev(struct vfio_device *core_vdev);
int vfio_pci_core_enable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_disable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_finish_enable(struct vfio_pci_core_device *vdev);
void vfio_pci_core_close_device(struct vfio_device *core_vdev);
long vfio_pci_core_ioctl(struct vfio_device *core_vdev, unsigned int cmd, unsigned long arg);
int vfio_pci_core_ioctl_feature(struct vfio_device *device, u32 flags, void __user *arg,
				size_t argsz);
void vfio_pci_core_request(struct vfio_device *core_vdev, unsigned int count);
int vfio_pci_core_match(struct vfio_device *core_vdev, char *buf);
int vfio_pci_core_match_token_uuid(struct vfio_device *core_vdev, const uuid_t *uuid);
int vfio_pci_core_mmap(struct vfio_device *core_vdev, struct vm_area_struct *vma);
ssize_t vfio_pci_core_read(struct vfio_device *core_vdev, char __user *buf, size_t count,
			   loff_t *ppos);
ssize_t vfio_pci_core_write(struct vfio_device *core_vdev, const char __user *buf, size_t count,
			    loff_t *ppos);
int vfio_iommufd_physical_bind(struct vfio_device *vdev, struct iommufd_ctx *ictx,
			       u32 *out_device_id);
void vfio_iommufd_physical_unbind(struct vfio_device *vdev);
int vfio_iommufd_physical_attach_ioas(struct vfio_device *vdev, u32 *pt_id);
void vfio_iommufd_physical_detach_ioas(struct vfio_device *vdev);
extern const struct pci_error_handlers vfio_pci_core_err_handlers;
/* The core's AER error_detected handler, for a variant's own pci_error_handlers. */
pci_ers_result_t vfio_pci_core_aer_err_detected(struct pci_dev *pdev, pci_channel_state_t state);
/* The core's region info (index << VFIO_PCI_OFFSET_SHIFT, BAR/config sizes), a default get_region_info_caps. */
int vfio_pci_ioctl_get_region_info(struct vfio_device *core_vdev, struct vfio_region_info *info,
				   struct vfio_info_cap *caps);
int vfio_pci_core_sriov_configure(struct vfio_pci_core_device *vdev, int nr_virtfn);

/* The common config-space emulation: one aligned 4/2/1-byte piece, EFAULT beyond the config
 * size (R-CFG-1). Returns the bytes done; does not move *ppos. */
ssize_t vfio_pci_config_rw_single(struct vfio_pci_core_device *vdev, char __user *buf,
				  size_t count, loff_t *ppos, bool iswrite);

#endif /* ISMK_KERNEL_H */
