#include "CDriverLoader.h"
#include "../../include/ismkit_access_load.h"

int ismkit_fuzz_load(const char *path, struct ismkit_api *api, char *err, size_t errlen)
{
	return ismkit_api_load(path, api, err, errlen);
}
