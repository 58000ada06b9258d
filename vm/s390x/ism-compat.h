/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Forced-include header (-include) for building the ism-vfio-pci driver
 * sources, unmodified, against Debian's Linux 6.1 headers.  It supplies the
 * two kernel interfaces the driver uses that 6.1 does not have and that need
 * no change of the vfio core (the core ones are in vfio-core-backport.patch):
 *
 *  - PCI_DEVICE_ID_IBM_ISM, which later kernels have in <linux/pci_ids.h>;
 *  - kmem_cache_create(name, size, struct kmem_cache_args *, flags), the
 *    four-argument form of later kernels.  The five-argument form
 *    (name, size, align, flags, ctor) keeps working: the macro below picks
 *    the form by the number of arguments, as later kernels also accept both.
 */
#ifndef ISMKIT_S390X_COMPAT_H
#define ISMKIT_S390X_COMPAT_H

#include <linux/slab.h>
#include <linux/pci.h>

#ifndef PCI_DEVICE_ID_IBM_ISM
#define PCI_DEVICE_ID_IBM_ISM 0x04ed
#endif

/* The fields of the later kernels' structure that 6.1 can honour. */
struct kmem_cache_args {
	unsigned int align;
	unsigned int useroffset;
	unsigned int usersize;
	unsigned int freeptr_offset;
	bool use_freeptr_offset;
	void (*ctor)(void *);
};

static inline struct kmem_cache *
ismkit_kmem_cache_create_with_args(const char *name, unsigned int size,
				   struct kmem_cache_args *args,
				   slab_flags_t flags)
{
	/* 6.1 has no free-pointer offset; everything else maps one to one. */
	return kmem_cache_create_usercopy(name, size, args->align, flags,
					  args->useroffset, args->usersize,
					  args->ctor);
}

static inline struct kmem_cache *
ismkit_kmem_cache_create_5(const char *name, unsigned int size,
			   unsigned int align, slab_flags_t flags,
			   void (*ctor)(void *))
{
	return kmem_cache_create(name, size, align, flags, ctor);
}

#define ISMKIT_PICK_BY_ARGC(_1, _2, _3, _4, _5, which, ...) which
#define kmem_cache_create(...)                                               \
	ISMKIT_PICK_BY_ARGC(__VA_ARGS__, ismkit_kmem_cache_create_5,          \
			    ismkit_kmem_cache_create_with_args, , , )          \
	(__VA_ARGS__)

#endif
