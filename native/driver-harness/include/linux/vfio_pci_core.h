/* Stand-in for <linux/vfio_pci_core.h>: what it gives a driver lives in ismk_kernel.h. */
#include "../ismk_kernel.h"
