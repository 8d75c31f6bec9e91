// SPDX-License-Identifier: GPL-2.0
/*
 * A C module for the MODVERSIONS test of the fleet kernel: it uses versioned
 * exports (kernel_kobj, _printk), so loading it checks their CRCs.
 */
#include <linux/kobject.h>
#include <linux/module.h>

static int __init nri_modver_init(void)
{
	pr_info("nri_modver: loaded, kernel_kobj is %s\n",
		kernel_kobj ? kobject_name(kernel_kobj) : "(null)");
	return 0;
}
module_init(nri_modver_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("nonroot_initramfs test: a C module with symbol versions");
