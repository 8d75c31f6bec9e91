/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Test helpers of fs/namespace.c for the KUnit tests in
 * fs/nonroot_initramfs.rs, which declares them again and mirrors the
 * structures field for field (all u64, so that the layout is plain). Private
 * to the feature: struct mount and namespace_sem are private to fs/.
 */
#ifndef _FS_NONROOT_INITRAMFS_H
#define _FS_NONROOT_INITRAMFS_H

#include <linux/init.h>
#include <linux/types.h>

/* The mount tree as the boot task sees it, once the initramfs is unpacked. */
struct nonroot_initramfs_root {
	u64 is_rootfs;		/* the root is rootfs itself */
	u64 parent_is_rootfs;	/* the root is mounted on rootfs's root */
	u64 root_entries;	/* entries in the root directory */
	u64 rootfs_entries;	/* entries in rootfs's root directory */
	u64 rootfs_root_empty;	/* one of them is "root", an empty directory */
	u64 root_magic;		/* statfs() of the root and of rootfs: type, */
	u64 rootfs_magic;
	u64 root_bytes;		/* size limit in bytes (0: none), */
	u64 rootfs_bytes;
	u64 root_files;		/* inode limit (0: none) */
	u64 rootfs_files;
};

/* What the calling task sees of the VFS, to compare before and after. */
struct nonroot_initramfs_vfs_state {
	u64 nr_mounts;		/* mounts in its mount namespace */
	u64 mounts_hash;	/* of their ids, parents, mount points */
	u64 root_mnt_id;	/* its root: mount, parent mount, inode */
	u64 root_parent_id;
	u64 root_ino;
	u64 pwd_mnt_id;		/* its working directory */
	u64 pwd_ino;
	u64 has_root;		/* something is at "/root" */
};

void __init nonroot_initramfs_describe_root(struct nonroot_initramfs_root *info);
void __init nonroot_initramfs_vfs_state(struct nonroot_initramfs_vfs_state *s);
int __init nonroot_initramfs_test_enter_scratch(void);
int __init nonroot_initramfs_test_symlink_root(bool create);
int __init nonroot_initramfs_test_share_root(bool shared);
int __init nonroot_initramfs_test_chroot_cap(bool drop);
const void *__init nonroot_initramfs_test_find_setup(const char *name,
						     bool early);

#endif /* _FS_NONROOT_INITRAMFS_H */
