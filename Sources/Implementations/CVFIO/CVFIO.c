// The CVFIO target is header-only (include/CVFIO.h); a C target needs one source file.
#include "CVFIO.h"
