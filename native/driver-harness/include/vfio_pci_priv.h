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

#endif
