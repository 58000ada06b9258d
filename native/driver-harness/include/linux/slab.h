/* Stand-in for <linux/slab.h>: the slab API lives in ismk_kernel.h. */
#ifndef ISMK_LINUX_SLAB_H
#define ISMK_LINUX_SLAB_H
#include "../ismk_kernel.h"
#endif
