/*
 * Stand-in for drivers/vfio/pci/vfio_pci_priv.h (and everything it pulls in) so that an
 * unmodified ism-vfio-pci main.c compiles into a user-space program. The driver reaches it as
 * "../vfio_pci_priv.h": the build passes -I <this folder>/ism, whose parent is this folder.
 *
 * Only what the driver revisions use is declared; the definitions live in kernel_stubs.c.
 */
#ifndef ISMK_VFIO_PCI_PRIV_H
#define ISMK_VFIO_PCI_PRIV_H

#include "ismk_kernel.h"

/* The driver's own instruction calls also reach a boundary just after the instruction took
 * effect (concurrency.c's PAIR can hold a thread there); harness_state.h declares the hook. */
extern void (*ismk_boundary_hook)(int where);
static inline int ismk_after_instruction(int rc)
{
	if (ismk_boundary_hook)
		ismk_boundary_hook(3 /* ISMK_AFTER_INSTRUCTION */);
	return rc;
}
#define __zpci_load(data, req, offset) ismk_after_instruction(__zpci_load(data, req, offset))
#define __zpci_store_block(data, req, offset) ismk_after_instruction(__zpci_store_block(data, req, offset))
#define __zpci_store(data, req, offset) ismk_after_instruction(__zpci_store(data, req, offset))

#endif
