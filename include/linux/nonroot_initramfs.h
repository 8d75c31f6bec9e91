/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nonroot_initramfs: unpack the initramfs into a second rootfs mounted on
 * top of the first, so that pivot_root(2) works from it. The logic is in
 * Rust, in fs/nonroot_initramfs.rs; the VFS calls it needs are thin wrappers
 * in fs/namespace.c. See Documentation/admin-guide/nonroot-initramfs.rst.
 */
#ifndef _LINUX_NONROOT_INITRAMFS_H
#define _LINUX_NONROOT_INITRAMFS_H

#include <linux/init.h>
#include <linux/types.h>

#ifdef CONFIG_NONROOT_INITRAMFS
/*
 * Called by mnt_init(): with the value of initramfs_options= before the
 * rootfs mount parses it in place, then after init_mount_tree().
 */
void __init nonroot_initramfs_save_options(const char *options);
void __init nonroot_initramfs_init(void);

/* For fs/nonroot_initramfs.rs only: the init-time VFS calls it makes. */
bool __init nonroot_initramfs_root_is_tmpfs(void);
int __init nonroot_initramfs_mkdir(const char *path, umode_t mode);
int __init nonroot_initramfs_rmdir(const char *path);
int __init nonroot_initramfs_mount_rootfs(const char *path, char *data);
int __init nonroot_initramfs_umount(const char *path);
int __init nonroot_initramfs_chdir(const char *path);
int __init nonroot_initramfs_move_mount(const char *from, const char *to);
int __init nonroot_initramfs_chroot(const char *path);
#else
static inline void nonroot_initramfs_save_options(const char *options) { }
static inline void nonroot_initramfs_init(void) { }
#endif

#endif /* _LINUX_NONROOT_INITRAMFS_H */
