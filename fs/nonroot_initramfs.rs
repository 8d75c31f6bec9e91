// SPDX-License-Identifier: GPL-2.0

//! Unpack the initramfs into a tmpfs mounted on top of rootfs.
//!
//! rootfs is the root of the mount tree and can be neither unmounted nor pivoted away from, so
//! a system whose final root is the initramfs cannot use pivot_root(2): container runtimes fail
//! with `EINVAL`. With the boot parameter `nonroot_initramfs`, [`nonroot_initramfs_init`],
//! called by `mnt_init()` right after the initial mount tree exists, does what
//! `prepare_namespace()` does for a root device, but before the initramfs is unpacked:
//!
//! 1. `mkdir /root 0700` in rootfs,
//! 2. mount a tmpfs there, with the options of `initramfs_options=`; when `init_rootfs()` made
//!    rootfs a ramfs, a tmpfs as unbounded as a ramfs, with its root mode,
//! 3. `chdir /root`,
//! 4. move the tmpfs onto `/` and make it the root (`chroot .`), in one step that cannot fail
//!    half-way.
//!
//! Every task shares the boot task's `fs_struct` at this point, so all of them, PID 1
//! included, now have the tmpfs as their root, and `populate_rootfs()` unpacks the initramfs
//! into it. rootfs only holds the empty `/root` under it.
//!
//! If a step fails, the steps already done are undone in reverse order and the machine boots as
//! if the parameter had not been given, with one warning naming the step and the error. Should
//! an undo step fail too (none is known to), a second warning names it, and the boot goes on
//! from whatever state is left.
//!
//! Runs once, single-threaded, in `start_kernel()`; all of it is in init sections.

use core::{
    marker::PhantomData,
    sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering},
};
use kernel::{
    bindings, boot_param, c_str,
    error::{to_result, Error, Result},
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
kernel::setup!("nonroot_initramfs", nonroot_initramfs_setup);

/// Room for a copy of the `initramfs_options=` value; tmpfs option strings are short.
const OPTIONS_MAX: usize = 256;

/// tmpfs options for when rootfs is a ramfs: no size or inode limits, and ramfs's root mode
/// (0755, where a tmpfs has 1777). ramfs itself cannot be mounted yet: it registers in an
/// initcall, after `mnt_init()`.
const RAMFS_LIKE: &[u8] = b"size=0,nr_inodes=0,mode=755";

/// A copy of the `initramfs_options=` value, NUL-terminated.
///
/// The rootfs mount parses, and so overwrites, the original: [`nonroot_initramfs_save_options`]
/// copies it first. `OPTIONS_LEN` is 0 for none and `usize::MAX` when it did not fit.
#[link_section = ".init.data"]
static OPTIONS: [AtomicU8; OPTIONS_MAX] = [const { AtomicU8::new(0) }; OPTIONS_MAX];
#[link_section = ".init.data"]
static OPTIONS_LEN: AtomicUsize = AtomicUsize::new(0);

/// Whether the switch happened, for the KUnit test of the final mount state.
#[cfg(CONFIG_NONROOT_INITRAMFS_KUNIT_TEST)]
#[link_section = ".init.data"]
static SWITCHED: AtomicBool = AtomicBool::new(false);

/// Keeps a copy of `options`, the value of `initramfs_options=` as `fs/namespace.c` got it from
/// the command line (or from bootconfig), before the rootfs mount parses it in place.
///
/// # Safety
///
/// `options` must be null or point to a NUL-terminated string valid for reads during the call.
#[no_mangle]
#[link_section = ".init.text"]
pub unsafe extern "C" fn nonroot_initramfs_save_options(options: *const c_char) {
    let value = if options.is_null() {
        &[][..]
    } else {
        // SAFETY: By the safety requirements of this function.
        unsafe { CStr::from_char_ptr(options) }.as_bytes()
    };
    if value.len() >= OPTIONS_MAX {
        OPTIONS_LEN.store(usize::MAX, Ordering::Relaxed);
        return;
    }
    for (slot, &b) in OPTIONS.iter().zip(value) {
        slot.store(b, Ordering::Relaxed);
    }
    if let Some(nul) = OPTIONS.get(value.len()) {
        nul.store(0, Ordering::Relaxed);
    }
    OPTIONS_LEN.store(value.len(), Ordering::Relaxed);
}

/// The steps of the switch, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Mkdir,
    Mount,
    Chdir,
    MoveRoot,
}

const STEPS: [Step; 4] = [Step::Mkdir, Step::Mount, Step::Chdir, Step::MoveRoot];

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Mkdir => "mkdir /root",
            Step::Mount => "mount on /root",
            Step::Chdir => "chdir /root",
            Step::MoveRoot => "move /root onto / and chroot",
        }
    }
}

const ROOT: &CStr = c_str!("/root");
const SLASH: &CStr = c_str!("/");

/// The VFS operations the switch needs: the C shims at boot, a recording fake in the tests.
trait Vfs {
    /// Whether rootfs, the current root, is a tmpfs (else it is a ramfs).
    fn root_is_tmpfs(&mut self) -> bool;
    fn mkdir(&mut self, path: &CStr, mode: u16) -> Result;
    fn rmdir(&mut self, path: &CStr) -> Result;
    /// Mounts a tmpfs; `data`, the mount options, is NUL-terminated and overwritten.
    fn mount_tmpfs(&mut self, path: &CStr, data: Option<&mut [u8]>) -> Result;
    fn umount(&mut self, path: &CStr) -> Result;
    fn chdir(&mut self, path: &CStr) -> Result;
    /// Moves the mount of the working directory onto `/` and makes it the root; all or nothing.
    fn move_root(&mut self) -> Result;
}

/// What became of the options for the tmpfs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Options {
    /// None were given.
    None,
    /// The tmpfs was mounted with them.
    Applied,
    /// tmpfs rejected them: mounted with the fallback instead.
    Rejected(Error),
}

/// A failed switch: the step that failed, its error, and the first undo step that failed too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Failure {
    step: Step,
    err: Error,
    undo: Option<(Step, Error)>,
}

/// Writes the options for the tmpfs into `buf`, NUL-terminated: `user` (the saved
/// `initramfs_options=`), after [`RAMFS_LIKE`] when `ramfs`, so that the user's options win.
/// Returns `None` when there are none, or when `buf` is too small.
#[link_section = ".init.text"]
fn tmpfs_options<'a>(buf: &'a mut [u8], ramfs: bool, user: Option<&[u8]>) -> Option<&'a mut [u8]> {
    let parts: [&[u8]; 3] = match (ramfs, user) {
        (false, None) => return None,
        (false, Some(user)) => [user, b"", b""],
        (true, None) => [RAMFS_LIKE, b"", b""],
        (true, Some(user)) => [RAMFS_LIKE, b",", user],
    };
    let mut len = 0;
    for part in parts {
        buf.get_mut(len..len + part.len())?.copy_from_slice(part);
        len += part.len();
    }
    *buf.get_mut(len)? = 0;
    buf.get_mut(..=len)
}

/// Mounts the tmpfs on `/root` with `options`; when tmpfs rejects them, with `fallback`.
#[inline(never)]
#[link_section = ".init.text"]
fn mount<V: Vfs>(
    vfs: &mut V,
    options: Option<&mut [u8]>,
    fallback: Option<&mut [u8]>,
    result: &mut Options,
) -> Result {
    let Some(options) = options else {
        return vfs.mount_tmpfs(ROOT, fallback);
    };
    match vfs.mount_tmpfs(ROOT, Some(options)) {
        Ok(()) => {
            *result = Options::Applied;
            Ok(())
        }
        Err(e) => {
            *result = Options::Rejected(e);
            vfs.mount_tmpfs(ROOT, fallback)
        }
    }
}

/// Undoes `done`, the steps that succeeded, last first.
#[inline(never)]
#[link_section = ".init.text"]
fn undo<V: Vfs>(vfs: &mut V, done: &[Step]) -> Option<(Step, Error)> {
    for &step in done.iter().rev() {
        let res = match step {
            Step::Mkdir => vfs.rmdir(ROOT),
            Step::Mount => vfs.umount(ROOT),
            Step::Chdir => vfs.chdir(SLASH),
            // The last step: never done when there is something to undo.
            Step::MoveRoot => Ok(()),
        };
        if let Err(e) = res {
            return Some((step, e));
        }
    }
    None
}

/// Performs the switch, or undoes what it did. The tmpfs is mounted with `options` or, if it
/// rejects them, with `fallback`.
#[inline(never)]
#[link_section = ".init.text"]
fn switch_root<V: Vfs>(
    vfs: &mut V,
    mut options: Option<&mut [u8]>,
    mut fallback: Option<&mut [u8]>,
) -> Result<Options, Failure> {
    let mut opts = Options::None;
    for (i, &step) in STEPS.iter().enumerate() {
        let res = match step {
            Step::Mkdir => vfs.mkdir(ROOT, 0o700),
            Step::Mount => mount(vfs, options.take(), fallback.take(), &mut opts),
            Step::Chdir => vfs.chdir(ROOT),
            Step::MoveRoot => vfs.move_root(),
        };
        if let Err(err) = res {
            let undo = undo(vfs, &STEPS[..i]);
            return Err(Failure { step, err, undo });
        }
    }
    Ok(opts)
}

/// A witness that init code and data are still there.
///
/// Only code that runs before init memory is freed can make one ([`InitPhase::new`] is
/// `unsafe`). It is neither `Send` nor `Sync`: it cannot be kept in a static or handed to
/// another thread, to be used after boot.
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
    fn mount_tmpfs(&mut self, path: &CStr, data: Option<&mut [u8]>) -> Result {
        let data = match data {
            // The shim needs a NUL-terminated string.
            Some(d) if d.last() != Some(&0) => return Err(EINVAL),
            Some(d) => d.as_mut_ptr().cast(),
            None => core::ptr::null_mut(),
        };
        // SAFETY: `path` is NUL-terminated, `data` is null or a writable NUL-terminated string
        // that outlives the call; `self.0` witnesses that the `__init` shim is still there.
        to_result(unsafe { bindings::nonroot_initramfs_mount_tmpfs(path.as_char_ptr(), data) })
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
    fn move_root(&mut self) -> Result {
        // SAFETY: `self.0` witnesses that the `__init` shim is still there.
        to_result(unsafe { bindings::nonroot_initramfs_move_root() })
    }
}

/// Switches the boot task's root to a new mount on top of rootfs if `nonroot_initramfs` asks for
/// it.
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
    let mut saved = [0u8; OPTIONS_MAX];
    let user = match OPTIONS_LEN.load(Ordering::Relaxed) {
        0 => None,
        usize::MAX => {
            pr_warn!(
                "initramfs_options= is too long (max {}), using the defaults\n",
                OPTIONS_MAX - 1
            );
            None
        }
        len => match (saved.get_mut(..len), OPTIONS.get(..len)) {
            (Some(dst), Some(src)) => {
                for (b, slot) in dst.iter_mut().zip(src) {
                    *b = slot.load(Ordering::Relaxed);
                }
                Some(&*dst)
            }
            _ => None,
        },
    };
    // SAFETY: By the safety requirements of this function, init memory is there until the
    // witness is dropped at the end of this function.
    let mut vfs = InitVfs(unsafe { InitPhase::new() });
    let ramfs = !vfs.root_is_tmpfs();
    let mut buf = [0u8; RAMFS_LIKE.len() + 1 + OPTIONS_MAX];
    let options = tmpfs_options(&mut buf, ramfs, user);
    let mut defaults = [0u8; RAMFS_LIKE.len() + 1];
    let fallback = tmpfs_options(&mut defaults, ramfs, None);
    match switch_root(&mut vfs, options, fallback) {
        Ok(options) => {
            #[cfg(CONFIG_NONROOT_INITRAMFS_KUNIT_TEST)]
            SWITCHED.store(true, Ordering::Relaxed);
            if let Options::Rejected(e) = options {
                pr_warn!(
                    "tmpfs rejected initramfs_options= ({:?}), mounted with {}\n",
                    e,
                    if ramfs {
                        "size=0,nr_inodes=0,mode=755"
                    } else {
                        "the defaults"
                    }
                );
            }
            pr_info!(
                "the initramfs will be unpacked into a tmpfs mounted on rootfs{}\n",
                if ramfs {
                    " (no size limit: rootfs is a ramfs)"
                } else {
                    ""
                }
            );
        }
        Err(Failure { step, err, undo }) => {
            pr_warn!(
                "{} failed ({:?}), the initramfs stays in rootfs\n",
                step.name(),
                err
            );
            if let Some((step, e)) = undo {
                pr_warn!("undo of {} failed too ({:?})\n", step.name(), e);
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
        error::code::{EBUSY, EINVAL, EIO},
        kunit::{kunit_case, kunit_case_null},
        time::Ktime,
    };

    macro_rules! check {
        ($cond:expr) => {
            kernel::kunit_assert!("nonroot_initramfs", "nonroot_initramfs.rs", 0, $cond)
        };
    }

    /// `CStr` has no `PartialEq` in this tree.
    fn is(a: &CStr, b: &CStr) -> bool {
        a.as_bytes() == b.as_bytes()
    }

    /// A fake VFS that keeps the state the real calls would leave, refuses calls made in an
    /// order the real VFS would refuse, and fails the step it is told to. It covers what the
    /// real VFS cannot be made to do on demand: undo steps that fail, options tmpfs rejects.
    #[derive(Default)]
    struct Fake {
        dir: bool,
        mounted: bool,
        in_new: bool,
        /// Moved onto `/` and made the root.
        moved: bool,
        fail: Option<Step>,
        fail_undo: Option<Step>,
        reject_options: bool,
        mounts: u32,
        mounts_with_options: u32,
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

        fn undo_result(&self, step: Step) -> Result {
            if self.fail_undo == Some(step) {
                Err(EBUSY)
            } else {
                Ok(())
            }
        }

        fn is_clean(&self) -> bool {
            !(self.dir || self.mounted || self.in_new || self.moved)
        }

        fn is_switched(&self) -> bool {
            self.dir && self.mounted && self.in_new && self.moved
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
            if !is(path, ROOT) || !self.dir || self.mounted {
                return Err(EBUSY);
            }
            self.undo_result(Step::Mkdir)?;
            self.dir = false;
            Ok(())
        }

        fn mount_tmpfs(&mut self, path: &CStr, data: Option<&mut [u8]>) -> Result {
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
                self.mounts_with_options += 1;
                if self.reject_options && text != RAMFS_LIKE {
                    return Err(EINVAL);
                }
            }
            self.result(Step::Mount)?;
            self.mounted = true;
            Ok(())
        }

        fn umount(&mut self, path: &CStr) -> Result {
            // The real umount fails while the mount is our cwd or the root.
            if !is(path, ROOT) || !self.mounted || self.in_new || self.moved {
                return Err(EBUSY);
            }
            self.undo_result(Step::Mount)?;
            self.mounted = false;
            Ok(())
        }

        fn chdir(&mut self, path: &CStr) -> Result {
            if is(path, ROOT) && self.mounted && !self.in_new {
                self.result(Step::Chdir)?;
                self.in_new = true;
                Ok(())
            } else if is(path, SLASH) && self.in_new && !self.moved {
                self.undo_result(Step::Chdir)?;
                self.in_new = false;
                Ok(())
            } else {
                Err(EINVAL)
            }
        }

        fn move_root(&mut self) -> Result {
            if !self.in_new || self.moved {
                return Err(EINVAL);
            }
            self.result(Step::MoveRoot)?;
            self.moved = true;
            Ok(())
        }
    }

    #[link_section = ".init.text"]
    extern "C" fn switch_succeeds(_test: *mut bindings::kunit) {
        let mut vfs = Fake::default();
        check!(switch_root(&mut vfs, None, None) == Ok(Options::None));
        check!(vfs.is_switched());
        check!(vfs.mounts == 1 && vfs.mounts_with_options == 0);
    }

    #[link_section = ".init.text"]
    extern "C" fn options_are_composed(_test: *mut bindings::kunit) {
        let mut buf = [0u8; 64];
        // rootfs is a tmpfs: the user's options, or none.
        check!(tmpfs_options(&mut buf, false, None).is_none());
        check!(tmpfs_options(&mut buf, false, Some(b"size=1m")).as_deref() == Some(b"size=1m\0"));
        // rootfs is a ramfs (rootfstype=ramfs, or root= without rootfstype=tmpfs): the
        // initramfs may be bigger than a default tmpfs, so the limits go, unless the user
        // sets them again; and the root gets ramfs's mode, 0755, not tmpfs's 1777.
        check!(
            tmpfs_options(&mut buf, true, None).as_deref()
                == Some(b"size=0,nr_inodes=0,mode=755\0")
        );
        check!(
            tmpfs_options(&mut buf, true, Some(b"size=8m")).as_deref()
                == Some(b"size=0,nr_inodes=0,mode=755,size=8m\0")
        );
        // Too small a buffer: none, rather than cut options.
        let mut small = [0u8; 8];
        check!(tmpfs_options(&mut small, false, Some(b"size=100m")).is_none());
    }

    #[link_section = ".init.text"]
    extern "C" fn unlimited_tmpfs_for_a_ramfs_rootfs(_test: *mut bindings::kunit) {
        let mut vfs = Fake::default();
        let mut buf = [0u8; 64];
        let mut defaults = [0u8; 64];
        let options = tmpfs_options(&mut buf, true, Some(b"mode=700"));
        let fallback = tmpfs_options(&mut defaults, true, None);
        check!(switch_root(&mut vfs, options, fallback) == Ok(Options::Applied));
        check!(vfs.is_switched());
        check!(vfs.last_data() == b"size=0,nr_inodes=0,mode=755,mode=700");
    }

    #[link_section = ".init.text"]
    extern "C" fn each_failed_step_is_undone(_test: *mut bindings::kunit) {
        for step in STEPS {
            let mut vfs = Fake::failing(step);
            let res = switch_root(&mut vfs, None, None);
            check!(
                res == Err(Failure {
                    step,
                    err: EIO,
                    undo: None
                })
            );
            check!(vfs.is_clean());
        }
    }

    #[link_section = ".init.text"]
    extern "C" fn failed_undo_is_reported(_test: *mut bindings::kunit) {
        let mut vfs = Fake {
            fail_undo: Some(Step::Chdir),
            ..Fake::failing(Step::MoveRoot)
        };
        let res = switch_root(&mut vfs, None, None);
        check!(
            res == Err(Failure {
                step: Step::MoveRoot,
                err: EIO,
                undo: Some((Step::Chdir, EBUSY))
            })
        );
        // The undo stopped there: nothing after it was attempted.
        check!(vfs.in_new && vfs.mounted && vfs.dir && !vfs.moved);
    }

    #[link_section = ".init.text"]
    extern "C" fn options_are_applied(_test: *mut bindings::kunit) {
        let mut vfs = Fake::default();
        let mut opts = *b"size=1m,mode=755\0";
        check!(switch_root(&mut vfs, Some(&mut opts), None) == Ok(Options::Applied));
        check!(vfs.is_switched());
        check!(vfs.mounts == 1 && vfs.mounts_with_options == 1);
        check!(vfs.last_data() == b"size=1m,mode=755");
    }

    #[link_section = ".init.text"]
    extern "C" fn rejected_options_fall_back(_test: *mut bindings::kunit) {
        // To the defaults.
        let mut vfs = Fake {
            reject_options: true,
            ..Default::default()
        };
        let mut opts = *b"bogus=1\0";
        check!(switch_root(&mut vfs, Some(&mut opts), None) == Ok(Options::Rejected(EINVAL)));
        check!(vfs.is_switched());
        check!(vfs.mounts == 2 && vfs.mounts_with_options == 1 && vfs.last_data().is_empty());

        // To no limits, when rootfs is a ramfs.
        let mut vfs = Fake {
            reject_options: true,
            ..Default::default()
        };
        let mut opts = *b"size=0,nr_inodes=0,mode=755,bogus=1\0";
        let mut fallback = *b"size=0,nr_inodes=0,mode=755\0";
        check!(
            switch_root(&mut vfs, Some(&mut opts), Some(&mut fallback))
                == Ok(Options::Rejected(EINVAL))
        );
        check!(vfs.is_switched() && vfs.last_data() == RAMFS_LIKE);

        // Rejected options and a failing fallback mount: the mount step fails, all undone.
        let mut vfs = Fake {
            reject_options: true,
            ..Fake::failing(Step::Mount)
        };
        let mut opts = *b"bogus=1\0";
        let res = switch_root(&mut vfs, Some(&mut opts), None);
        check!(
            res == Err(Failure {
                step: Step::Mount,
                err: EIO,
                undo: None
            })
        );
        check!(vfs.is_clean());
    }

    /// The real VFS, with the step it is told to fail not done at all.
    struct FailAt<'a> {
        vfs: &'a mut InitVfs,
        step: Option<Step>,
    }

    impl FailAt<'_> {
        fn fails(&self, step: Step) -> Result {
            if self.step == Some(step) {
                Err(EIO)
            } else {
                Ok(())
            }
        }
    }

    // No closures here: they would not be in `.init.text`, and they would call init code.
    impl Vfs for FailAt<'_> {
        #[link_section = ".init.text"]
        fn root_is_tmpfs(&mut self) -> bool {
            self.vfs.root_is_tmpfs()
        }

        #[link_section = ".init.text"]
        fn mkdir(&mut self, path: &CStr, mode: u16) -> Result {
            self.fails(Step::Mkdir)?;
            self.vfs.mkdir(path, mode)
        }

        #[link_section = ".init.text"]
        fn rmdir(&mut self, path: &CStr) -> Result {
            self.vfs.rmdir(path)
        }

        #[link_section = ".init.text"]
        fn mount_tmpfs(&mut self, path: &CStr, data: Option<&mut [u8]>) -> Result {
            self.fails(Step::Mount)?;
            self.vfs.mount_tmpfs(path, data)
        }

        #[link_section = ".init.text"]
        fn umount(&mut self, path: &CStr) -> Result {
            self.vfs.umount(path)
        }

        #[link_section = ".init.text"]
        fn chdir(&mut self, path: &CStr) -> Result {
            if is(path, ROOT) {
                self.fails(Step::Chdir)?;
            }
            self.vfs.chdir(path)
        }

        #[link_section = ".init.text"]
        fn move_root(&mut self) -> Result {
            self.fails(Step::MoveRoot)?;
            self.vfs.move_root()
        }
    }

    /// What the calling task sees of the VFS, as data.
    #[link_section = ".init.text"]
    fn vfs_state() -> bindings::nonroot_initramfs_vfs_state {
        // SAFETY: An all-zero `struct nonroot_initramfs_vfs_state` is valid: integers and bools.
        let mut state: bindings::nonroot_initramfs_vfs_state = unsafe { core::mem::zeroed() };
        // SAFETY: `state` is valid for writes; an init section suite runs before init memory is
        // freed.
        unsafe { bindings::nonroot_initramfs_vfs_state(&mut state) };
        state
    }

    #[link_section = ".init.text"]
    fn same(
        a: &bindings::nonroot_initramfs_vfs_state,
        b: &bindings::nonroot_initramfs_vfs_state,
    ) -> bool {
        a.nr_mounts == b.nr_mounts
            && a.mounts_hash == b.mounts_hash
            && a.root_mnt_id == b.root_mnt_id
            && a.root_ino == b.root_ino
            && a.pwd_mnt_id == b.pwd_mnt_id
            && a.pwd_ino == b.pwd_ino
            && a.has_root_dir == b.has_root_dir
    }

    /// The switch on the real VFS, each step failing in turn, in a private mount namespace and
    /// `fs_struct` on a scratch tmpfs root (as devtmpfs's thread makes its own): after every
    /// undo the mounts, the root and the working directory are what they were before.
    #[link_section = ".init.text"]
    extern "C" fn real_vfs_undo(_test: *mut bindings::kunit) {
        // SAFETY: An init section suite runs in its own thread before init memory is freed;
        // the shim gives this thread a private mount namespace and `fs_struct`.
        let entered = unsafe { bindings::nonroot_initramfs_test_enter_scratch() };
        check!(entered == 0);
        if entered != 0 {
            return;
        }
        // SAFETY: An init section suite runs before init memory is freed.
        let mut vfs = InitVfs(unsafe { InitPhase::new() });
        let before = vfs_state();
        check!(!before.has_root_dir);
        for step in STEPS {
            let res = switch_root(
                &mut FailAt {
                    vfs: &mut vfs,
                    step: Some(step),
                },
                None,
                None,
            );
            check!(
                res == Err(Failure {
                    step,
                    err: EIO,
                    undo: None
                })
            );
            check!(same(&vfs_state(), &before));
        }
        // And without a failure: the root is a new mount on top of the scratch root, which
        // holds only the empty `/root`.
        let res = switch_root(
            &mut FailAt {
                vfs: &mut vfs,
                step: None,
            },
            None,
            None,
        );
        check!(res == Ok(Options::None));
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
        // the shim gives this thread a private mount namespace and `fs_struct`.
        let entered = unsafe { bindings::nonroot_initramfs_test_enter_scratch() };
        check!(entered == 0);
        if entered != 0 {
            return;
        }
        // SAFETY: An init section suite runs before init memory is freed.
        let mut vfs = InitVfs(unsafe { InitPhase::new() });
        let mut ns = [0i64; SWITCHES];
        for slot in ns.iter_mut() {
            let start = Ktime::ktime_get();
            let res = switch_root(&mut vfs, None, None);
            *slot = (Ktime::ktime_get() - start).to_ns();
            check!(res == Ok(Options::None));
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
        let p = unsafe { bindings::nonroot_initramfs_test_find_setup(name.as_char_ptr(), early) };
        // SAFETY: `p` is null or an entry of `.init.setup`: a `struct obs_kernel_param`, which
        // `Entry` mirrors. It is init data, there as long as `_init` is.
        unsafe { p.cast::<Entry>().as_ref() }
    }

    #[link_section = ".init.text"]
    extern "C" fn entries_are_in_the_c_table(_test: *mut bindings::kunit) {
        // SAFETY: An init section suite runs before init memory is freed.
        let init = unsafe { InitPhase::new() };
        // Found by C with its own stride: if the Rust layout differed from `struct
        // obs_kernel_param`, the entries would not be where C looks.
        let setup = find_entry(&init, c_str!("nonroot_initramfs"), false);
        check!(setup.is_some());
        check!(setup.is_some_and(|e| is(e.name(), c_str!("nonroot_initramfs")) && !e.is_early()));
        check!(find_entry(&init, c_str!("nonroot_initramfs"), true).is_none());
    }

    /// Calls the registered `nonroot_initramfs` handler as the boot parser does; returns its
    /// return value and `ENABLED` after it.
    #[link_section = ".init.text"]
    fn parse(start: bool, rest: &[u8]) -> (i32, bool) {
        // SAFETY: An init section suite runs before init memory is freed.
        let init = unsafe { InitPhase::new() };
        let Some(entry) = find_entry(&init, c_str!("nonroot_initramfs"), false) else {
            return (-1, start);
        };
        let mut buf = [0u8; 16];
        if rest.len() >= buf.len() {
            return (-1, start);
        }
        buf[..rest.len()].copy_from_slice(rest);
        ENABLED.store(start, Ordering::Relaxed);
        // SAFETY: `init` witnesses that init memory is still there, and the handler, made by
        // `setup!`, does not keep the string.
        let ret = unsafe { entry.call(&mut buf[..=rest.len()]) };
        (ret, ENABLED.load(Ordering::Relaxed))
    }

    /// The grammar through the registered handler. Invalid values are left to the
    /// `boot_param::parse_bool` doctests and to the boot tests: the handler warns about them,
    /// and a test boot should not log warnings.
    #[link_section = ".init.text"]
    extern "C" fn parameter_grammar(_test: *mut bindings::kunit) {
        let saved = ENABLED.load(Ordering::Relaxed);
        // The bare option enables.
        check!(parse(false, b"") == (1, true));
        for on in [&b"=1"[..], b"=y", b"=Y", b"=yes", b"=on", b"=ON", b"=true"] {
            check!(parse(false, on) == (1, true));
        }
        for off in [
            &b"=0"[..],
            b"=n",
            b"=N",
            b"=no",
            b"=off",
            b"=Off",
            b"=false",
        ] {
            check!(parse(true, off) == (1, false));
        }
        // A longer option that only shares the prefix is not ours.
        check!(parse(false, b"x=1") == (0, false));
        check!(parse(true, b"_foo") == (0, true));
        // do_early_param() calls every entry named "earlycon", early or not, with null for a
        // bare "console": the trampoline of a setup!() entry must take null as not its option.
        // SAFETY: `split_setup_arg` takes null.
        let split = unsafe { kernel::boot_param::split_setup_arg(core::ptr::null()) };
        check!(split.is_none());
        ENABLED.store(saved, Ordering::Relaxed);
    }

    /// KUnit runs in a kernel thread sharing the boot task's `fs_struct`: it sees the final
    /// root. The unpack may still be running (`initramfs_async=1`): the helper waits for it.
    #[link_section = ".init.text"]
    extern "C" fn final_mount_state(_test: *mut bindings::kunit) {
        // SAFETY: An all-zero `struct nonroot_initramfs_root` is valid: null, false, 0.
        let mut root: bindings::nonroot_initramfs_root = unsafe { core::mem::zeroed() };
        // SAFETY: `root` is valid for writes; we run before init memory is freed.
        unsafe { bindings::nonroot_initramfs_describe_root(&mut root) };
        check!(!root.fstype.is_null());
        if root.fstype.is_null() {
            return;
        }
        // SAFETY: `fstype` is the name of a registered file system type, a static string.
        let fstype = unsafe { CStr::from_char_ptr(root.fstype) };
        if SWITCHED.load(Ordering::Relaxed) {
            // The root is the tmpfs on rootfs, which holds only the empty `/root`.
            check!(is(fstype, c_str!("tmpfs")));
            check!(!root.is_rootfs && root.parent_is_rootfs);
            check!(root.rootfs_entries == 1 && root.rootfs_root_empty);
        } else {
            // The root is rootfs, holding the initramfs.
            check!(root.is_rootfs && !root.parent_is_rootfs);
            check!(root.rootfs_entries > 0);
        }
        // The unpack is over: the root holds at least the kernel's default `/dev` and `/root`,
        // or whatever the initramfs has instead.
        check!(root.root_entries > 0);
    }

    // Not init data: KUnit keeps the suite and its cases after boot (debugfs). `.ref.data` may
    // refer to the init functions of the cases.
    #[link_section = ".ref.data"]
    static mut CASES: [bindings::kunit_case; 13] = [
        kunit_case(c_str!("switch_succeeds"), switch_succeeds),
        kunit_case(c_str!("options_are_composed"), options_are_composed),
        kunit_case(
            c_str!("unlimited_tmpfs_for_a_ramfs_rootfs"),
            unlimited_tmpfs_for_a_ramfs_rootfs,
        ),
        kunit_case(
            c_str!("each_failed_step_is_undone"),
            each_failed_step_is_undone,
        ),
        kunit_case(c_str!("failed_undo_is_reported"), failed_undo_is_reported),
        kunit_case(c_str!("options_are_applied"), options_are_applied),
        kunit_case(
            c_str!("rejected_options_fall_back"),
            rejected_options_fall_back,
        ),
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
