// SPDX-License-Identifier: GPL-2.0

//! Unpack the initramfs into a second rootfs, mounted on top of the first.
//!
//! rootfs is the root of the mount tree and can be neither unmounted nor pivoted away from, so
//! a system whose final root is the initramfs cannot use pivot_root(2): container runtimes fail
//! with `EINVAL`. With the boot parameter `nonroot_initramfs`, [`nonroot_initramfs_init`],
//! called by `mnt_init()` right after the initial mount tree exists, does what
//! `prepare_namespace()` does for a root device, but before the initramfs is unpacked:
//!
//! 1. `mkdir /root 0700` in rootfs,
//! 2. mount a new instance of rootfs there: the same file system type (`rootfs_fs_type`, a
//!    tmpfs or a ramfs as `init_rootfs()` chose) with the same options (`initramfs_options=`),
//!    so that the initramfs lands in a file system that behaves exactly as rootfs would have,
//! 3. `chdir /root`,
//! 4. move it onto `/` (`mount --move . /`),
//! 5. `chroot .`, with the checks `init_chroot()` makes.
//!
//! Every task shares the boot task's `fs_struct` at this point, so all of them, PID 1
//! included, now have the new rootfs as their root, and `populate_rootfs()` unpacks the
//! initramfs into it. The first rootfs only holds the empty `/root` under it. To user space the
//! root looks as it does in mainline since nullfs: a `rootfs` mount with a parent.
//!
//! If a step fails, the steps already done are undone in reverse order and the machine boots as
//! if the parameter had not been given, with one warning naming the step and the error. Every
//! undo step is tried; should one fail (none is known to), a second warning names the first
//! that did. The boot task's root only changes in the last step, and the working directory is
//! set back to `/` by the undo whatever else fails: the initramfs then goes into rootfs, and
//! `/init` is found.
//!
//! Runs once, single-threaded, in `start_kernel()`; all of it is in init sections.

use core::{
    marker::PhantomData,
    ptr::null_mut,
    sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering},
};
use kernel::{
    alloc::{flags::GFP_KERNEL, KVec},
    bindings, boot_param, c_str,
    error::{code::ENOMEM, to_result, Error, Result},
    ffi::c_char,
    prelude::*,
    str::CStr,
};

const __LOG_PREFIX: &[u8] = b"nonroot_initramfs\0";

/// Whether to switch, from `nonroot_initramfs[=bool]` or the build-time default.
#[link_section = ".init.data"]
static ENABLED: AtomicBool = AtomicBool::new(cfg!(CONFIG_NONROOT_INITRAMFS_DEFAULT_ON));

#[link_section = ".init.text"]
fn nonroot_initramfs_setup(value: Option<&CStr>) -> Result {
    match boot_param::parse_bool(value) {
        Ok(enable) => ENABLED.store(enable, Ordering::Relaxed),
        Err(_) => pr_warn!(
            "ignoring invalid nonroot_initramfs={}: use 1, y, yes, on, true or 0, n, no, off, \
             false; it stays {}\n",
            value.unwrap_or(c_str!("")),
            if ENABLED.load(Ordering::Relaxed) {
                "on"
            } else {
                "off"
            },
        ),
    }
    // Consumed either way: a bad value is not passed on to init.
    Ok(())
}
kernel::boot_param::setup!("nonroot_initramfs", nonroot_initramfs_setup);

/// A copy of the `initramfs_options=` value, NUL included, made before the rootfs mount parses
/// (and so overwrites) the original: the second rootfs gets the same options.
///
/// It is a [`KVec`] taken apart, so that it can be kept in statics from one call of
/// `mnt_init()` to the next: [`SavedOptions::save`] stores the parts, [`SavedOptions::take`]
/// rebuilds the vector. The slab allocator is up in `mnt_init()`: there is no length limit.
struct SavedOptions {
    ptr: AtomicPtr<u8>,
    len: AtomicUsize,
    cap: AtomicUsize,
    /// The copy could not be allocated.
    no_memory: AtomicBool,
}

/// What [`SavedOptions::take`] finds.
enum Saved {
    /// No `initramfs_options=`.
    None,
    /// There were options, and no memory for a copy.
    NoMemory,
    /// The options, NUL-terminated.
    Options(KVec<u8>),
}

impl SavedOptions {
    /// Copies `value`, the NUL-terminated options. Runs once, single-threaded.
    #[link_section = ".init.text"]
    fn save(&self, value: &[u8]) {
        let mut copy = match KVec::with_capacity(value.len(), GFP_KERNEL) {
            Ok(v) => v,
            Err(_) => return self.no_memory.store(true, Ordering::Relaxed),
        };
        if copy.extend_from_slice(value, GFP_KERNEL).is_err() {
            return self.no_memory.store(true, Ordering::Relaxed);
        }
        let (ptr, len, cap) = copy.into_raw_parts();
        self.len.store(len, Ordering::Relaxed);
        self.cap.store(cap, Ordering::Relaxed);
        self.ptr.store(ptr, Ordering::Relaxed);
    }

    /// Takes the copy back, once.
    #[link_section = ".init.text"]
    fn take(&self) -> Saved {
        let ptr = self.ptr.swap(null_mut(), Ordering::Relaxed);
        if ptr.is_null() {
            return if self.no_memory.load(Ordering::Relaxed) {
                Saved::NoMemory
            } else {
                Saved::None
            };
        }
        let len = self.len.load(Ordering::Relaxed);
        let cap = self.cap.load(Ordering::Relaxed);
        // SAFETY: `ptr`, `len` and `cap` come from `KVec::into_raw_parts` in `save`, and the
        // swap above hands them out once.
        Saved::Options(unsafe { KVec::from_raw_parts(ptr, len, cap) })
    }
}

#[link_section = ".init.data"]
static OPTIONS: SavedOptions = SavedOptions {
    ptr: AtomicPtr::new(null_mut()),
    len: AtomicUsize::new(0),
    cap: AtomicUsize::new(0),
    no_memory: AtomicBool::new(false),
};

/// Keeps a copy of `options`, the value of `initramfs_options=` as `fs/namespace.c` got it from
/// the command line (or from bootconfig), before the rootfs mount parses it in place. Nothing
/// is copied when the switch is off.
///
/// # Safety
///
/// `options` must be null or point to a NUL-terminated string valid for reads during the call.
/// Only for `mnt_init()`, once, at boot.
#[no_mangle]
#[link_section = ".init.text"]
pub unsafe extern "C" fn nonroot_initramfs_save_options(options: *const c_char) {
    if options.is_null() || !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    // SAFETY: By the safety requirements of this function.
    let value = unsafe { CStr::from_char_ptr(options) };
    OPTIONS.save(value.as_bytes_with_nul());
}

/// The steps of the switch, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Mkdir,
    Mount,
    Chdir,
    Move,
    Chroot,
}

const STEPS: [Step; 5] = [
    Step::Mkdir,
    Step::Mount,
    Step::Chdir,
    Step::Move,
    Step::Chroot,
];

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Mkdir => "mkdir /root",
            Step::Mount => "mount of rootfs on /root",
            Step::Chdir => "chdir /root",
            Step::Move => "move of /root onto /",
            Step::Chroot => "chroot into it",
        }
    }
}

const ROOT: &CStr = c_str!("/root");
const SLASH: &CStr = c_str!("/");
const DOT: &CStr = c_str!(".");

/// The VFS operations the switch needs: the C shims at boot, a recording fake in the tests.
trait Vfs {
    /// Whether rootfs, the current root, is a tmpfs (else it is a ramfs).
    fn root_is_tmpfs(&mut self) -> bool;
    fn mkdir(&mut self, path: &CStr, mode: u16) -> Result;
    fn rmdir(&mut self, path: &CStr) -> Result;
    /// Mounts a new instance of rootfs; `data`, the mount options, is NUL-terminated and
    /// overwritten.
    fn mount_rootfs(&mut self, path: &CStr, data: Option<&mut [u8]>) -> Result;
    fn umount(&mut self, path: &CStr) -> Result;
    fn chdir(&mut self, path: &CStr) -> Result;
    /// Moves the mount whose root is `from` onto `to`.
    fn move_mount(&mut self, from: &CStr, to: &CStr) -> Result;
    /// `chroot`, with the permission, capability and LSM checks of chroot(2).
    fn chroot(&mut self, path: &CStr) -> Result;
}

/// A failed switch: the step that failed, its error, and the first undo step that failed too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Failure {
    step: Step,
    err: Error,
    undo: Option<(Step, Error)>,
}

/// Undoes `done`, the steps that succeeded, last first. Every step is tried, so that the
/// working directory goes back to `/` whatever else fails; returns the first that failed.
#[inline(never)]
#[link_section = ".init.text"]
fn undo<V: Vfs>(vfs: &mut V, done: &[Step]) -> Option<(Step, Error)> {
    let mut first = None;
    for &step in done.iter().rev() {
        let res = match step {
            Step::Mkdir => vfs.rmdir(ROOT),
            Step::Mount => vfs.umount(ROOT),
            Step::Chdir => vfs.chdir(SLASH),
            // The root is still rootfs's: `/root` is the empty directory the mount came from.
            Step::Move => vfs.move_mount(DOT, ROOT),
            // The last step: never done when there is something to undo.
            Step::Chroot => Ok(()),
        };
        if let Err(e) = res {
            first = first.or(Some((step, e)));
        }
    }
    first
}

/// Performs the switch, mounting the new rootfs with `options`, or undoes what it did.
#[inline(never)]
#[link_section = ".init.text"]
fn switch_root<V: Vfs>(vfs: &mut V, mut options: Option<&mut [u8]>) -> Result<(), Failure> {
    for (i, &step) in STEPS.iter().enumerate() {
        let res = match step {
            Step::Mkdir => vfs.mkdir(ROOT, 0o700),
            Step::Mount => vfs.mount_rootfs(ROOT, options.take()),
            Step::Chdir => vfs.chdir(ROOT),
            Step::Move => vfs.move_mount(DOT, SLASH),
            Step::Chroot => vfs.chroot(DOT),
        };
        if let Err(err) = res {
            let undo = undo(vfs, &STEPS[..i]);
            return Err(Failure { step, err, undo });
        }
    }
    Ok(())
}

/// A witness that init code and data are still there.
///
/// Only `unsafe` code can make one ([`InitPhase::new`]), which promises that init memory stays
/// while it exists. It is neither `Send` nor `Sync`, so that it is not handed to another thread
/// by mistake. The shims themselves stay `unsafe` functions of `bindings`: the witness only
/// lets the safe [`InitVfs`] call them.
struct InitPhase(PhantomData<*const ()>);

impl InitPhase {
    /// Makes the witness.
    ///
    /// # Safety
    ///
    /// Init memory must not have been freed, and must not be freed while the witness exists.
    #[link_section = ".init.text"]
    unsafe fn new() -> Self {
        Self(PhantomData)
    }
}

/// The real thing: the init-time VFS helpers, through the shims in `fs/namespace.c`. They act
/// on the calling task's root, working directory and mount namespace.
struct InitVfs(InitPhase);

impl Vfs for InitVfs {
    #[link_section = ".init.text"]
    fn root_is_tmpfs(&mut self) -> bool {
        // SAFETY: `self.0` witnesses that the `__init` shim is still there.
        unsafe { bindings::nonroot_initramfs_root_is_tmpfs() }
    }

    #[link_section = ".init.text"]
    fn mkdir(&mut self, path: &CStr, mode: u16) -> Result {
        // SAFETY: `path` is NUL-terminated; `self.0` witnesses that the `__init` shim is still
        // there.
        to_result(unsafe { bindings::nonroot_initramfs_mkdir(path.as_char_ptr(), mode) })
    }

    #[link_section = ".init.text"]
    fn rmdir(&mut self, path: &CStr) -> Result {
        // SAFETY: `path` is NUL-terminated; `self.0` witnesses that the `__init` shim is still
        // there.
        to_result(unsafe { bindings::nonroot_initramfs_rmdir(path.as_char_ptr()) })
    }

    #[link_section = ".init.text"]
    fn mount_rootfs(&mut self, path: &CStr, data: Option<&mut [u8]>) -> Result {
        let data = match data {
            // The shim needs a NUL-terminated string.
            Some(d) if d.last() != Some(&0) => return Err(EINVAL),
            Some(d) => d.as_mut_ptr().cast(),
            None => null_mut(),
        };
        // SAFETY: `path` is NUL-terminated, `data` is null or a writable NUL-terminated string
        // that outlives the call; `self.0` witnesses that the `__init` shim is still there.
        to_result(unsafe { bindings::nonroot_initramfs_mount_rootfs(path.as_char_ptr(), data) })
    }

    #[link_section = ".init.text"]
    fn umount(&mut self, path: &CStr) -> Result {
        // SAFETY: `path` is NUL-terminated; `self.0` witnesses that the `__init` shim is still
        // there.
        to_result(unsafe { bindings::nonroot_initramfs_umount(path.as_char_ptr()) })
    }

    #[link_section = ".init.text"]
    fn chdir(&mut self, path: &CStr) -> Result {
        // SAFETY: `path` is NUL-terminated; `self.0` witnesses that the `__init` shim is still
        // there.
        to_result(unsafe { bindings::nonroot_initramfs_chdir(path.as_char_ptr()) })
    }

    #[link_section = ".init.text"]
    fn move_mount(&mut self, from: &CStr, to: &CStr) -> Result {
        // SAFETY: `from` and `to` are NUL-terminated; `self.0` witnesses that the `__init` shim
        // is still there.
        to_result(unsafe {
            bindings::nonroot_initramfs_move_mount(from.as_char_ptr(), to.as_char_ptr())
        })
    }

    #[link_section = ".init.text"]
    fn chroot(&mut self, path: &CStr) -> Result {
        // SAFETY: `path` is NUL-terminated; `self.0` witnesses that the `__init` shim is still
        // there.
        to_result(unsafe { bindings::nonroot_initramfs_chroot(path.as_char_ptr()) })
    }
}

/// Switches the boot task's root to a second rootfs on top of the first if `nonroot_initramfs`
/// asks for it.
///
/// # Safety
///
/// Only for `mnt_init()`, once, after `init_mount_tree()`: at boot, before init memory is freed,
/// while the boot task is the only task.
#[no_mangle]
#[link_section = ".init.text"]
pub unsafe extern "C" fn nonroot_initramfs_init() {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let mut options = match OPTIONS.take() {
        Saved::None => None,
        Saved::Options(v) => Some(v),
        Saved::NoMemory => {
            pr_warn!(
                "no memory for a copy of initramfs_options= (error {}), the initramfs stays in \
                 rootfs\n",
                ENOMEM.to_errno()
            );
            return;
        }
    };
    // SAFETY: By the safety requirements of this function, init memory is there until the
    // witness is dropped at the end of this function.
    let mut vfs = InitVfs(unsafe { InitPhase::new() });
    let tmpfs = vfs.root_is_tmpfs();
    match switch_root(&mut vfs, options.as_deref_mut()) {
        Ok(()) => pr_info!(
            "the initramfs will be unpacked into a second rootfs ({}, as rootfs) mounted on \
             top of rootfs\n",
            if tmpfs { "a tmpfs" } else { "a ramfs" }
        ),
        Err(Failure { step, err, undo }) => {
            pr_warn!(
                "{} failed (error {}), the initramfs stays in rootfs\n",
                step.name(),
                err.to_errno()
            );
            if let Some((step, e)) = undo {
                pr_warn!(
                    "undo of {} failed too (error {})\n",
                    step.name(),
                    e.to_errno()
                );
            }
        }
    }
}

#[cfg(CONFIG_NONROOT_INITRAMFS_KUNIT_TEST)]
mod tests {
    //! An init section suite: the code under test is init code and is gone after boot.

    use super::*;
    use kernel::{
        boot_param::Entry,
        error::code::{EBUSY, EEXIST, EIO, EPERM},
        kunit::{kunit_case, kunit_case_null},
        time::Ktime,
    };

    macro_rules! check {
        ($cond:expr) => {
            kernel::kunit_assert!("nonroot_initramfs", "nonroot_initramfs.rs", 0, $cond)
        };
    }

    /// The test helpers of `fs/namespace.c`, private to this feature: `struct mount` and
    /// `namespace_sem` are private to `fs/`. Declared in `fs/nonroot_initramfs.h` for C; the
    /// structures are mirrored here, field for field, all `u64`.
    mod vfs {
        use kernel::ffi::{c_char, c_int};

        /// The mount tree as the boot task sees it, once the initramfs is unpacked:
        /// `struct nonroot_initramfs_root`.
        #[repr(C)]
        #[derive(Default)]
        pub(super) struct Root {
            /// The root is rootfs itself.
            pub(super) is_rootfs: u64,
            /// The root is mounted on rootfs's root directory.
            pub(super) parent_is_rootfs: u64,
            /// Entries in the root directory, and in rootfs's.
            pub(super) root_entries: u64,
            pub(super) rootfs_entries: u64,
            /// One of rootfs's entries is `root`, an empty directory.
            pub(super) rootfs_root_empty: u64,
            /// `statfs()` of the root and of rootfs: type, size limit in bytes, inode limit.
            pub(super) root_magic: u64,
            pub(super) rootfs_magic: u64,
            pub(super) root_bytes: u64,
            pub(super) rootfs_bytes: u64,
            pub(super) root_files: u64,
            pub(super) rootfs_files: u64,
        }

        /// What the calling task sees of the VFS, to compare before and after:
        /// `struct nonroot_initramfs_vfs_state`.
        #[repr(C)]
        #[derive(Default, PartialEq, Eq)]
        pub(super) struct State {
            /// Mounts in its mount namespace, and a hash of their ids, parents, mount points.
            pub(super) nr_mounts: u64,
            pub(super) mounts_hash: u64,
            /// Its root: mount, parent mount, inode; its working directory: mount, inode.
            pub(super) root_mnt_id: u64,
            pub(super) root_parent_id: u64,
            pub(super) root_ino: u64,
            pub(super) pwd_mnt_id: u64,
            pub(super) pwd_ino: u64,
            /// Something is at `/root`.
            pub(super) has_root: u64,
        }

        // The C side checks the same sizes.
        const _: () = assert!(core::mem::size_of::<Root>() == 11 * 8);
        const _: () = assert!(core::mem::size_of::<State>() == 8 * 8);

        extern "C" {
            pub(super) fn nonroot_initramfs_describe_root(info: *mut Root);
            pub(super) fn nonroot_initramfs_vfs_state(s: *mut State);
            pub(super) fn nonroot_initramfs_test_enter_scratch() -> c_int;
            pub(super) fn nonroot_initramfs_test_symlink_root(create: bool) -> c_int;
            pub(super) fn nonroot_initramfs_test_share_root(shared: bool) -> c_int;
            pub(super) fn nonroot_initramfs_test_chroot_cap(drop: bool) -> c_int;
            pub(super) fn nonroot_initramfs_test_find_setup(
                name: *const c_char,
                early: bool,
            ) -> *const core::ffi::c_void;
        }
    }

    /// `CStr` has no `PartialEq` in this tree.
    fn is(a: &CStr, b: &CStr) -> bool {
        a.as_bytes() == b.as_bytes()
    }

    /// A fake VFS that keeps the state the real calls would leave, refuses calls made in an
    /// order the real VFS would refuse, and fails the step it is told to. It covers what the
    /// real VFS cannot be made to do on demand: undo steps that fail.
    #[derive(Default)]
    struct Fake {
        dir: bool,
        mounted: bool,
        in_new: bool,
        /// Moved onto `/`, and made the root.
        moved: bool,
        chrooted: bool,
        fail: Option<Step>,
        fail_undo: Option<Step>,
        /// Undo steps tried, last first.
        undone: u32,
        reject_options: bool,
        mounts: u32,
        /// The options of the last mount, without the NUL; empty for none.
        last_data: Data,
        last_len: usize,
    }

    /// Room for the options of a mount (arrays this long have no `Default`).
    struct Data([u8; 64]);

    impl Default for Data {
        fn default() -> Self {
            Self([0; 64])
        }
    }

    impl Fake {
        fn failing(step: Step) -> Self {
            Self {
                fail: Some(step),
                ..Default::default()
            }
        }

        fn result(&self, step: Step) -> Result {
            if self.fail == Some(step) {
                Err(EIO)
            } else {
                Ok(())
            }
        }

        fn undo_result(&mut self, step: Step) -> Result {
            self.undone += 1;
            if self.fail_undo == Some(step) {
                Err(EBUSY)
            } else {
                Ok(())
            }
        }

        fn is_clean(&self) -> bool {
            !(self.dir || self.mounted || self.in_new || self.moved || self.chrooted)
        }

        fn is_switched(&self) -> bool {
            self.dir && self.mounted && self.in_new && self.moved && self.chrooted
        }

        fn last_data(&self) -> &[u8] {
            self.last_data.0.get(..self.last_len).unwrap_or(&[])
        }
    }

    impl Vfs for Fake {
        fn root_is_tmpfs(&mut self) -> bool {
            true
        }

        fn mkdir(&mut self, path: &CStr, mode: u16) -> Result {
            if !is(path, ROOT) || mode != 0o700 || self.dir {
                return Err(EINVAL);
            }
            self.result(Step::Mkdir)?;
            self.dir = true;
            Ok(())
        }

        fn rmdir(&mut self, path: &CStr) -> Result {
            if !is(path, ROOT) || !self.dir {
                return Err(EINVAL);
            }
            self.undo_result(Step::Mkdir)?;
            if self.mounted {
                return Err(EBUSY);
            }
            self.dir = false;
            Ok(())
        }

        fn mount_rootfs(&mut self, path: &CStr, data: Option<&mut [u8]>) -> Result {
            if !is(path, ROOT) || !self.dir || self.mounted {
                return Err(EINVAL);
            }
            self.mounts += 1;
            self.last_len = 0;
            if let Some(data) = data {
                let Some((&0, text)) = data.split_last() else {
                    return Err(EINVAL);
                };
                let Some(dst) = self.last_data.0.get_mut(..text.len()) else {
                    return Err(EINVAL);
                };
                dst.copy_from_slice(text);
                self.last_len = text.len();
                if self.reject_options {
                    return Err(EINVAL);
                }
            }
            self.result(Step::Mount)?;
            self.mounted = true;
            Ok(())
        }

        fn umount(&mut self, path: &CStr) -> Result {
            if !is(path, ROOT) {
                return Err(EINVAL);
            }
            self.undo_result(Step::Mount)?;
            // The real umount fails while the mount is the cwd or not on /root.
            if !self.mounted || self.in_new || self.moved {
                return Err(EBUSY);
            }
            self.mounted = false;
            Ok(())
        }

        fn chdir(&mut self, path: &CStr) -> Result {
            if is(path, ROOT) && self.mounted && !self.in_new {
                self.result(Step::Chdir)?;
                self.in_new = true;
                Ok(())
            } else if is(path, SLASH) {
                self.undo_result(Step::Chdir)?;
                self.in_new = false;
                Ok(())
            } else {
                Err(EINVAL)
            }
        }

        fn move_mount(&mut self, from: &CStr, to: &CStr) -> Result {
            if !is(from, DOT) || !self.in_new {
                return Err(EINVAL);
            }
            if is(to, SLASH) && !self.moved {
                self.result(Step::Move)?;
                self.moved = true;
                Ok(())
            } else if is(to, ROOT) && self.moved && !self.chrooted {
                self.undo_result(Step::Move)?;
                self.moved = false;
                Ok(())
            } else {
                Err(EINVAL)
            }
        }

        fn chroot(&mut self, path: &CStr) -> Result {
            if !is(path, DOT) || !self.moved || self.chrooted {
                return Err(EINVAL);
            }
            self.result(Step::Chroot)?;
            self.chrooted = true;
            Ok(())
        }
    }

    #[link_section = ".init.text"]
    extern "C" fn switch_succeeds(_test: *mut bindings::kunit) {
        let mut vfs = Fake::default();
        check!(switch_root(&mut vfs, None) == Ok(()));
        check!(vfs.is_switched());
        check!(vfs.mounts == 1 && vfs.last_data().is_empty());
    }

    #[link_section = ".init.text"]
    extern "C" fn each_failed_step_is_undone(_test: *mut bindings::kunit) {
        for (i, step) in STEPS.into_iter().enumerate() {
            let mut vfs = Fake::failing(step);
            let res = switch_root(&mut vfs, None);
            check!(
                res == Err(Failure {
                    step,
                    err: EIO,
                    undo: None
                })
            );
            check!(vfs.is_clean());
            // Each step done before is undone once (the move's undo is its own step).
            check!(vfs.undone as usize == i);
        }
    }

    #[link_section = ".init.text"]
    extern "C" fn failed_undo_is_reported(_test: *mut bindings::kunit) {
        let mut vfs = Fake {
            fail_undo: Some(Step::Move),
            ..Fake::failing(Step::Chroot)
        };
        let res = switch_root(&mut vfs, None);
        check!(
            res == Err(Failure {
                step: Step::Chroot,
                err: EIO,
                undo: Some((Step::Move, EBUSY))
            })
        );
        // The other undo steps were tried all the same: the working directory is `/` again,
        // where the unpack then goes.
        check!(vfs.undone == 4);
        check!(!vfs.in_new && vfs.moved && !vfs.chrooted);
    }

    #[link_section = ".init.text"]
    extern "C" fn options_are_applied(_test: *mut bindings::kunit) {
        let mut vfs = Fake::default();
        let mut opts = *b"size=1m,mode=755\0";
        check!(switch_root(&mut vfs, Some(&mut opts)) == Ok(()));
        check!(vfs.is_switched());
        check!(vfs.mounts == 1 && vfs.last_data() == b"size=1m,mode=755");
    }

    #[link_section = ".init.text"]
    extern "C" fn rejected_options_undo(_test: *mut bindings::kunit) {
        // Options the file system rejects: no retry with other options, all undone.
        let mut vfs = Fake {
            reject_options: true,
            ..Default::default()
        };
        let mut opts = *b"bogus=1\0";
        let res = switch_root(&mut vfs, Some(&mut opts));
        check!(
            res == Err(Failure {
                step: Step::Mount,
                err: EINVAL,
                undo: None
            })
        );
        check!(vfs.mounts == 1 && vfs.is_clean());
    }

    /// The real VFS, with one step failing where the real VFS cannot be made to fail.
    struct Inject<'a> {
        vfs: &'a mut InitVfs,
        chdir_fails: bool,
    }

    // No closures here: they would not be in `.init.text`, and they would call init code.
    impl Vfs for Inject<'_> {
        #[link_section = ".init.text"]
        fn root_is_tmpfs(&mut self) -> bool {
            self.vfs.root_is_tmpfs()
        }

        #[link_section = ".init.text"]
        fn mkdir(&mut self, path: &CStr, mode: u16) -> Result {
            self.vfs.mkdir(path, mode)
        }

        #[link_section = ".init.text"]
        fn rmdir(&mut self, path: &CStr) -> Result {
            self.vfs.rmdir(path)
        }

        #[link_section = ".init.text"]
        fn mount_rootfs(&mut self, path: &CStr, data: Option<&mut [u8]>) -> Result {
            self.vfs.mount_rootfs(path, data)
        }

        #[link_section = ".init.text"]
        fn umount(&mut self, path: &CStr) -> Result {
            self.vfs.umount(path)
        }

        #[link_section = ".init.text"]
        fn chdir(&mut self, path: &CStr) -> Result {
            if self.chdir_fails && is(path, ROOT) {
                return Err(EIO);
            }
            self.vfs.chdir(path)
        }

        #[link_section = ".init.text"]
        fn move_mount(&mut self, from: &CStr, to: &CStr) -> Result {
            self.vfs.move_mount(from, to)
        }

        #[link_section = ".init.text"]
        fn chroot(&mut self, path: &CStr) -> Result {
            self.vfs.chroot(path)
        }
    }

    /// What the calling task sees of the VFS, as data.
    #[link_section = ".init.text"]
    fn vfs_state() -> vfs::State {
        let mut state = vfs::State::default();
        // SAFETY: `state` is valid for writes; an init section suite runs before init memory is
        // freed.
        unsafe { vfs::nonroot_initramfs_vfs_state(&mut state) };
        state
    }

    /// Runs the switch on `vfs`; checks that it fails at `step` with `err`, and that the undo
    /// leaves what the task sees of the VFS as it was.
    #[link_section = ".init.text"]
    fn fails_and_undoes<V: Vfs>(vfs: &mut V, options: Option<&mut [u8]>, step: Step, err: Error) {
        let before = vfs_state();
        let res = switch_root(vfs, options);
        check!(
            res == Err(Failure {
                step,
                err,
                undo: None
            })
        );
        check!(vfs_state() == before);
    }

    /// The switch on the real VFS, in a private mount namespace and `fs_struct` on a scratch
    /// tmpfs root (as devtmpfs's thread makes its own), with each step made to fail by the real
    /// VFS: after every undo the mounts, the root and the working directory are what they were
    /// before.
    #[link_section = ".init.text"]
    extern "C" fn real_vfs_undo(_test: *mut bindings::kunit) {
        // SAFETY: An init section suite runs in its own thread before init memory is freed;
        // the helper gives this thread a private mount namespace and `fs_struct`.
        let entered = unsafe { vfs::nonroot_initramfs_test_enter_scratch() };
        check!(entered == 0);
        if entered != 0 {
            return;
        }
        // SAFETY: An init section suite runs before init memory is freed.
        let mut real = InitVfs(unsafe { InitPhase::new() });
        check!(vfs_state().has_root == 0);

        // mkdir: something is at /root already.
        // SAFETY: In this thread's private namespace, before init memory is freed.
        check!(unsafe { vfs::nonroot_initramfs_test_symlink_root(true) } == 0);
        fails_and_undoes(&mut real, None, Step::Mkdir, EEXIST);
        // SAFETY: As above.
        check!(unsafe { vfs::nonroot_initramfs_test_symlink_root(false) } == 0);

        // mount: options the file system rejects (a ramfs, as rootfs may be, takes any).
        if real.root_is_tmpfs() {
            let mut bogus = *b"nonroot_initramfs_bogus=1\0";
            fails_and_undoes(&mut real, Some(&mut bogus), Step::Mount, EINVAL);
        }

        // chdir: the real call cannot be made to fail here; the undo is real.
        let mut inject = Inject {
            vfs: &mut real,
            chdir_fails: true,
        };
        fails_and_undoes(&mut inject, None, Step::Chdir, EIO);

        // move: a mount in a shared parent cannot be moved.
        // SAFETY: As above.
        check!(unsafe { vfs::nonroot_initramfs_test_share_root(true) } == 0);
        fails_and_undoes(&mut real, None, Step::Move, EINVAL);
        // SAFETY: As above.
        check!(unsafe { vfs::nonroot_initramfs_test_share_root(false) } == 0);

        // chroot: without CAP_SYS_CHROOT, after the move: the move is undone too.
        // SAFETY: As above; this thread's credentials are restored below.
        check!(unsafe { vfs::nonroot_initramfs_test_chroot_cap(true) } == 0);
        fails_and_undoes(&mut real, None, Step::Chroot, EPERM);
        // SAFETY: As above.
        check!(unsafe { vfs::nonroot_initramfs_test_chroot_cap(false) } == 0);

        // And without a failure: the root is a new mount on top of the scratch root, which
        // holds only the empty `/root`.
        let before = vfs_state();
        check!(switch_root(&mut real, None) == Ok(()));
        let after = vfs_state();
        check!(after.nr_mounts == before.nr_mounts + 1);
        check!(
            after.root_mnt_id != before.root_mnt_id && after.root_parent_id == before.root_mnt_id
        );
        check!(after.pwd_mnt_id == after.root_mnt_id);
    }

    /// The cost of the switch: `switch_root()` as `nonroot_initramfs_init()` calls it, on the
    /// real VFS, in a private mount namespace on a scratch tmpfs root (as `real_vfs_undo`), each
    /// switch on top of the previous one. The boot path is not instrumented: this is how its
    /// cost is measured. The numbers go to the kernel log as a KTAP diagnostic line; nothing is
    /// asserted about them.
    #[link_section = ".init.text"]
    extern "C" fn switch_cost(_test: *mut bindings::kunit) {
        const SWITCHES: usize = 15;
        // SAFETY: An init section suite runs in its own thread before init memory is freed;
        // the helper gives this thread a private mount namespace and `fs_struct`.
        let entered = unsafe { vfs::nonroot_initramfs_test_enter_scratch() };
        check!(entered == 0);
        if entered != 0 {
            return;
        }
        // SAFETY: An init section suite runs before init memory is freed.
        let mut real = InitVfs(unsafe { InitPhase::new() });
        let mut ns = [0i64; SWITCHES];
        for slot in ns.iter_mut() {
            let start = Ktime::ktime_get();
            let res = switch_root(&mut real, None);
            *slot = (Ktime::ktime_get() - start).to_ns();
            check!(res == Ok(()));
            if res.is_err() {
                return;
            }
        }
        ns.sort_unstable();
        kernel::kunit::info(format_args!(
            "    # switch_cost: {} switches: min {} ns, median {} ns, max {} ns\n",
            SWITCHES,
            ns[0],
            ns[SWITCHES / 2],
            ns[SWITCHES - 1]
        ));
    }

    /// The boot parser's table, walked by C with the C stride (`struct obs_kernel_param`).
    #[link_section = ".init.text"]
    fn find_entry<'a>(_init: &'a InitPhase, name: &CStr, early: bool) -> Option<&'a Entry> {
        // SAFETY: `name` is NUL-terminated; `_init` witnesses that the `__init` helper and the
        // table are still there.
        let p = unsafe { vfs::nonroot_initramfs_test_find_setup(name.as_char_ptr(), early) };
        // SAFETY: `p` is null or an entry of `.init.setup`: a `struct obs_kernel_param`, which
        // `Entry` mirrors. It is init data, there as long as `_init` is.
        unsafe { p.cast::<Entry>().as_ref() }
    }

    #[link_section = ".init.text"]
    extern "C" fn entries_are_in_the_c_table(_test: *mut bindings::kunit) {
        // SAFETY: An init section suite runs before init memory is freed.
        let init = unsafe { InitPhase::new() };
        // Found by C with its own stride, matching the name and the early flag: if the Rust
        // layout differed from `struct obs_kernel_param`, the entry would not be where C looks.
        check!(find_entry(&init, c_str!("nonroot_initramfs"), false).is_some());
        check!(find_entry(&init, c_str!("nonroot_initramfs"), true).is_none());
    }

    /// Calls the handler with `value` and the feature `start`; returns whether the feature is on
    /// after it. The handler always consumes the option.
    #[link_section = ".init.text"]
    fn parse(start: bool, value: Option<&CStr>) -> Result<bool> {
        ENABLED.store(start, Ordering::Relaxed);
        nonroot_initramfs_setup(value)?;
        Ok(ENABLED.load(Ordering::Relaxed))
    }

    /// What the trampoline of a `setup!()` entry makes of what follows the name in the token.
    #[link_section = ".init.text"]
    fn split(rest: &CStr) -> Option<Option<&CStr>> {
        // SAFETY: `rest` is NUL-terminated and borrowed for the returned lifetime.
        unsafe { kernel::boot_param::split_setup_arg(rest.as_char_ptr()) }
    }

    /// The grammar of the handler, and what the boot parser hands it. Invalid values are left
    /// to the `boot_param::parse_bool` doctests and to the boot tests: the handler warns about
    /// them, and a test boot should not log warnings.
    #[link_section = ".init.text"]
    extern "C" fn parameter_grammar(_test: *mut bindings::kunit) {
        let saved = ENABLED.load(Ordering::Relaxed);
        // The bare option enables.
        check!(parse(false, None) == Ok(true));
        for on in [
            c_str!("1"),
            c_str!("y"),
            c_str!("Y"),
            c_str!("yes"),
            c_str!("on"),
            c_str!("ON"),
            c_str!("true"),
        ] {
            check!(parse(false, Some(on)) == Ok(true));
        }
        for off in [
            c_str!("0"),
            c_str!("n"),
            c_str!("N"),
            c_str!("no"),
            c_str!("off"),
            c_str!("Off"),
            c_str!("false"),
        ] {
            check!(parse(true, Some(off)) == Ok(false));
        }
        ENABLED.store(saved, Ordering::Relaxed);
        // A longer option that only shares the prefix is not this one.
        check!(matches!(split(c_str!("")), Some(None)));
        check!(split(c_str!("=1")).is_some_and(|v| v.is_some_and(|v| is(v, c_str!("1")))));
        check!(split(c_str!("x=1")).is_none());
        check!(split(c_str!("_foo")).is_none());
        // do_early_param() calls every entry named "earlycon", early or not, with null for a
        // bare "console": the trampoline of a setup!() entry must take null as not its option.
        // SAFETY: `split_setup_arg` takes null.
        let split = unsafe { kernel::boot_param::split_setup_arg(core::ptr::null()) };
        check!(split.is_none());
    }

    /// KUnit runs in a kernel thread sharing the boot task's `fs_struct`: it sees the final
    /// root. The unpack may still be running (`initramfs_async=1`): the helper waits for it.
    /// The switch was asked for exactly when the root is a second rootfs on the first.
    #[link_section = ".init.text"]
    extern "C" fn final_mount_state(_test: *mut bindings::kunit) {
        let mut root = vfs::Root::default();
        // SAFETY: `root` is valid for writes; we run before init memory is freed.
        unsafe { vfs::nonroot_initramfs_describe_root(&mut root) };
        if ENABLED.load(Ordering::Relaxed) {
            // The root is the second rootfs, on rootfs, which holds only the empty `/root`.
            check!(root.is_rootfs == 0 && root.parent_is_rootfs == 1);
            check!(root.rootfs_entries == 1 && root.rootfs_root_empty == 1);
            // Of rootfs's type, with its limits: what the initramfs would have had.
            check!(root.root_magic == root.rootfs_magic);
            check!(root.root_bytes == root.rootfs_bytes);
            check!(root.root_files == root.rootfs_files);
        } else {
            // The root is rootfs, holding the initramfs.
            check!(root.is_rootfs == 1 && root.parent_is_rootfs == 0);
            check!(root.rootfs_entries > 0);
        }
        // The unpack is over: the root holds at least the kernel's default `/dev` and `/root`,
        // or whatever the initramfs has instead.
        check!(root.root_entries > 0);
    }

    // Not init data: KUnit keeps the suite and its cases after boot (debugfs). `.ref.data` may
    // refer to the init functions of the cases.
    #[link_section = ".ref.data"]
    static mut CASES: [bindings::kunit_case; 11] = [
        kunit_case(c_str!("switch_succeeds"), switch_succeeds),
        kunit_case(
            c_str!("each_failed_step_is_undone"),
            each_failed_step_is_undone,
        ),
        kunit_case(c_str!("failed_undo_is_reported"), failed_undo_is_reported),
        kunit_case(c_str!("options_are_applied"), options_are_applied),
        kunit_case(c_str!("rejected_options_undo"), rejected_options_undo),
        kunit_case(c_str!("real_vfs_undo"), real_vfs_undo),
        kunit_case(c_str!("switch_cost"), switch_cost),
        kunit_case(
            c_str!("entries_are_in_the_c_table"),
            entries_are_in_the_c_table,
        ),
        kunit_case(c_str!("parameter_grammar"), parameter_grammar),
        kunit_case(c_str!("final_mount_state"), final_mount_state),
        kunit_case_null(),
    ];

    kernel::kunit_unsafe_test_suite!(init nonroot_initramfs, CASES);
}
