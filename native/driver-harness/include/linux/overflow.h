/* Stand-in for <linux/overflow.h>: what it gives a driver lives in ismk_kernel.h. */
#include "../ismk_kernel.h"
