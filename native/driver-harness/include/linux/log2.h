/* Stand-in for <linux/log2.h>: what it gives a driver lives in ismk_kernel.h. */
#include "../ismk_kernel.h"
