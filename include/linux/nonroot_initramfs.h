/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nonroot_initramfs: unpack the initramfs into a tmpfs mounted on top of
 * rootfs, so that pivot_root(2) works from it. The logic is in Rust, in
 * fs/nonroot_initramfs.rs; the VFS calls it needs are thin wrappers in
 * fs/namespace.c. See Documentation/admin-guide/nonroot-initramfs.rst.
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

/* For fs/nonroot_initramfs.rs only: the init-time VFS helpers it uses. */
bool __init nonroot_initramfs_root_is_tmpfs(void);
int __init nonroot_initramfs_mkdir(const char *path, umode_t mode);
int __init nonroot_initramfs_rmdir(const char *path);
int __init nonroot_initramfs_mount_tmpfs(const char *path, char *data);
int __init nonroot_initramfs_umount(const char *path);
int __init nonroot_initramfs_chdir(const char *path);
int __init nonroot_initramfs_move_root(void);

#ifdef CONFIG_NONROOT_INITRAMFS_KUNIT_TEST
/* The mount tree as the boot task sees it, once the initramfs is unpacked. */
struct nonroot_initramfs_root {
	const char *fstype;		/* file system type of the root */
	bool is_rootfs;			/* the root is rootfs itself */
	bool parent_is_rootfs;		/* the root is mounted on rootfs */
	unsigned int root_entries;	/* entries in the root directory */
	unsigned int rootfs_entries;	/* entries in rootfs's root directory */
	bool rootfs_root_empty;		/* one of them is "root", an empty directory */
};

/* What the calling task sees of the VFS, to compare before and after. */
struct nonroot_initramfs_vfs_state {
	unsigned int nr_mounts;		/* mounts in its mount namespace */
	u64 mounts_hash;		/* of their ids, parents, mount points */
	int root_mnt_id;		/* its root: mount, parent mount, inode */
	int root_parent_id;
	unsigned long root_ino;
	int pwd_mnt_id;			/* its working directory */
	unsigned long pwd_ino;
	bool has_root_dir;		/* "/root" exists */
};

void __init nonroot_initramfs_describe_root(struct nonroot_initramfs_root *info);
void __init nonroot_initramfs_vfs_state(struct nonroot_initramfs_vfs_state *s);
int __init nonroot_initramfs_test_enter_scratch(void);
const void *__init nonroot_initramfs_test_find_setup(const char *name,
						     bool early);
#endif
#else
static inline void nonroot_initramfs_save_options(const char *options) { }
static inline void nonroot_initramfs_init(void) { }
#endif

#endif /* _LINUX_NONROOT_INITRAMFS_H */
