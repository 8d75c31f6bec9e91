// SPDX-License-Identifier: GPL-2.0

//! Kernel command-line parameters for built-in code: `__setup` and `early_param`.
//!
//! C header: [`include/linux/init.h`](srctree/include/linux/init.h)
//!
//! [`setup!`] and [`early_param!`] (`kernel::boot_param::setup!` and
//! `kernel::boot_param::early_param!`) register a handler for a command-line option the way C's
//! `__setup()` and `early_param()` do: an entry of `struct obs_kernel_param` in the
//! `.init.setup` section, with the option's name in `.init.rodata` and a trampoline in
//! `.init.text`. All of it is discarded with the rest of init memory after boot.
//!
//! Differences from C, both deliberate:
//!
//! - The handler receives the option's value already split: `None` for a bare `name`,
//!   `Some(value)` for `name=value`. It only borrows the value for the call: an early value is
//!   in a temporary copy of the command line, and a [`setup!`] value stays in the command line
//!   being parsed, which later handlers may still change and which init's arguments and
//!   environment are made of. Copy what must be kept. A `__setup` name is matched by prefix in
//!   C, so that `name_suffix` reaches a C handler too; here such a token never reaches the
//!   handler and is left for other handlers and, in the end, for init.
//! - The handler returns a [`Result`]. `Ok` means the option was consumed. `Err` means it is
//!   malformed: for [`setup!`] the option is then passed on to init (the kernel lists it as
//!   unknown), for [`early_param!`] the kernel prints "Malformed early option".
//!
//! Handlers run very early (before the memory allocators for [`early_param!`]; for [`setup!`]
//! before `mm_core_init()` as well): they must not allocate, sleep or take locks. Record the
//! value and act on it later. Only built-in code can register options: entries in a loadable
//! module are never seen by the boot parser.

use crate::{
    error::{code::EINVAL, Result},
    ffi::{c_char, c_int},
    str::CStr,
};

/// An entry of the boot parser's table: `struct obs_kernel_param` from `include/linux/init.h`.
///
/// The C definition is only visible to built-in code (it is under `#ifndef MODULE`), so bindgen
/// does not see it; this is a mirror, checked at compile time against the C layout rules:
///
/// ```c
/// struct obs_kernel_param {
///         const char *str;
///         int (*setup_func)(char *);
///         int early;
/// };
/// ```
///
/// Only [`setup!`] and [`early_param!`] make entries; the boot parser reads them, Rust code does
/// not. It has no methods.
///
/// # Invariants
///
/// - `name` points to a NUL-terminated string, of at least one byte before the NUL, in a
///   `'static` array.
/// - `setup_func` is `Some`, and is sound to call as [`Entry::new`] requires.
/// - `early` is 1 for an [`early_param!`] entry and 0 for a [`setup!`] one.
#[repr(C)]
pub struct Entry {
    name: *const c_char,
    setup_func: Option<unsafe extern "C" fn(*mut c_char) -> c_int>,
    early: c_int,
}

// Two pointers and an `int`, padded to pointer alignment: 24 bytes on 64-bit, 12 on 32-bit.
const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    assert!(size_of::<Entry>() == 3 * size_of::<usize>());
    assert!(align_of::<Entry>() == align_of::<usize>());
    assert!(offset_of!(Entry, name) == 0);
    assert!(offset_of!(Entry, setup_func) == size_of::<usize>());
    assert!(offset_of!(Entry, early) == 2 * size_of::<usize>());
};

// SAFETY: An `Entry` is never modified after it is built, and by the type invariants its pointers
// refer to an immutable static (the name) and to a function, so sharing it between threads is
// sound.
unsafe impl Sync for Entry {}

impl Entry {
    /// Builds an entry. Used by [`setup!`] and [`early_param!`]; not public API.
    ///
    /// # Safety
    ///
    /// `setup_func` must be sound to call, during boot, with a writable NUL-terminated string
    /// that is valid only for the duration of the call, or with null (`do_early_param()` passes
    /// null for an early option without a value, and to any entry named `earlycon` for a bare
    /// `console`), and must not access the string after the call.
    #[doc(hidden)]
    pub const unsafe fn new(
        name: &'static [u8],
        setup_func: unsafe extern "C" fn(*mut c_char) -> c_int,
        early: bool,
    ) -> Self {
        assert!(name.len() > 1 && name[name.len() - 1] == 0);
        // INVARIANT: `name` is `'static` and NUL-terminated, and not just the NUL; `setup_func`
        // is sound to call by the safety requirements of this function.
        Self {
            name: name.as_ptr().cast(),
            setup_func: Some(setup_func),
            early: early as c_int,
        }
    }
}

/// Returns `name` as a NUL-terminated array, checking at compile time that it is usable as an
/// option name. Used by [`setup!`] and [`early_param!`]; not public API.
#[doc(hidden)]
pub const fn name_array<const N: usize>(name: &str) -> [u8; N] {
    let bytes = name.as_bytes();
    assert!(bytes.len() == N && N > 1, "empty command-line option name");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N - 1 {
        let c = bytes[i];
        assert!(
            c != b'=' && c != b' ' && c != 0,
            "a command-line option name has no '=', space or NUL"
        );
        out[i] = c;
        i += 1;
    }
    assert!(bytes[N - 1] == 0);
    out
}

/// Splits what the boot parser passes to a `__setup` handler. Not public API.
///
/// The parser matches `__setup` names by prefix and passes the rest of the token: `""` for the
/// bare option, `"=value"` for a value, anything else for a longer option that merely starts
/// with this name. Returns `None` for the last.
///
/// # Safety
///
/// `rest` must be null or point to a NUL-terminated string that is valid for reads, and not
/// written to, for `'a`.
#[doc(hidden)]
pub unsafe fn split_setup_arg<'a>(rest: *const c_char) -> Option<Option<&'a CStr>> {
    // `do_early_param()` calls every entry named `earlycon`, early or not, for a `console`
    // option, with its value: null for a bare `console`. Not this option either way.
    if rest.is_null() {
        return None;
    }
    // SAFETY: By the safety requirements of this function.
    let rest = unsafe { CStr::from_char_ptr(rest) };
    match rest.as_bytes().first() {
        None => Some(None),
        // SAFETY: Skipping the leading `=` keeps the string NUL-terminated and within `rest`.
        Some(b'=') => Some(Some(unsafe {
            CStr::from_char_ptr(rest.as_char_ptr().add(1))
        })),
        Some(_) => None,
    }
}

/// Converts what the boot parser passes to an `early_param` handler. Not public API.
///
/// # Safety
///
/// `value` must be null or point to a NUL-terminated string that is valid for reads, and not
/// written to, for `'a`.
#[doc(hidden)]
pub unsafe fn early_arg<'a>(value: *const c_char) -> Option<&'a CStr> {
    if value.is_null() {
        None
    } else {
        // SAFETY: By the safety requirements of this function.
        Some(unsafe { CStr::from_char_ptr(value) })
    }
}

/// Converts a handler's result to what the boot parser expects. Not public API.
#[doc(hidden)]
pub fn setup_ret(result: Result, early: bool) -> c_int {
    match (result, early) {
        // `__setup`: 1 when the option was handled, 0 to pass it on.
        (Ok(()), false) => 1,
        (Err(_), false) => 0,
        // `early_param`: 0 on success, an error code for a malformed option.
        (Ok(()), true) => 0,
        (Err(e), true) => e.to_errno(),
    }
}

/// Parses the value of a boolean option, with a bare option meaning `true`.
///
/// Exactly these values are accepted, in any mix of upper and lower case:
///
/// - `true`: `1`, `y`, `yes`, `on`, `true`;
/// - `false`: `0`, `n`, `no`, `off`, `false`.
///
/// Anything else is [`EINVAL`], the empty value (`name=`) included. Every accepted value means
/// what C's `kstrtobool()` makes of it, so that a command line means the same to a C `bool`
/// parameter and to this; but `kstrtobool()` reads only the first one or two characters, and
/// takes `nonsense` for `false` and `yolo` for `true`. A boot option is typed by hand into boot
/// loader configurations, and there a typo must not silently turn a feature off: here those
/// values are errors, for the handler to report (and to leave the option as it was).
///
/// # Examples
///
/// ```
/// use kernel::{boot_param::parse_bool, c_str};
///
/// assert_eq!(parse_bool(None), Ok(true));
/// assert_eq!(parse_bool(Some(c_str!("0"))), Ok(false));
/// assert_eq!(parse_bool(Some(c_str!("On"))), Ok(true));
/// assert_eq!(parse_bool(Some(c_str!("OFF"))), Ok(false));
/// assert_eq!(parse_bool(Some(c_str!("yes"))), Ok(true));
/// assert_eq!(parse_bool(Some(c_str!("False"))), Ok(false));
/// // kstrtobool() would take these for `false` and `true`.
/// assert!(parse_bool(Some(c_str!("nonsense"))).is_err());
/// assert!(parse_bool(Some(c_str!("yolo"))).is_err());
/// assert!(parse_bool(Some(c_str!("2"))).is_err());
/// assert!(parse_bool(Some(c_str!(""))).is_err());
/// ```
pub fn parse_bool(value: Option<&CStr>) -> Result<bool> {
    let Some(value) = value else {
        return Ok(true);
    };
    const TRUE: [&[u8]; 5] = [b"1", b"y", b"yes", b"on", b"true"];
    const FALSE: [&[u8]; 5] = [b"0", b"n", b"no", b"off", b"false"];
    let v = value.as_bytes();
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(v)) {
        Ok(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(v)) {
        Ok(false)
    } else {
        Err(EINVAL)
    }
}

/// Registers a handler for a kernel command-line option, like C's `__setup()`.
///
/// `setup!("name", handler)` calls `handler(None)` for `name` and `handler(Some(value))` for
/// `name=value`, during `start_kernel()`. The handler is a `for<'a> fn(Option<&'a CStr>) ->
/// Result`: it borrows the value for the call only; see the [module documentation](self) for
/// what it may do and what its result means. The generated entry, name and trampoline live in
/// init sections. A handler that uses init data or init functions must itself be placed in
/// `.init.text`.
///
/// # Examples
///
/// ```
/// use core::sync::atomic::{AtomicBool, Ordering};
/// use kernel::{boot_param::parse_bool, c_str, prelude::*, str::CStr};
///
/// static VERBOSE: AtomicBool = AtomicBool::new(false);
///
/// fn verbose_setup(value: Option<&CStr>) -> Result {
///     VERBOSE.store(parse_bool(value)?, Ordering::Relaxed);
///     Ok(())
/// }
/// kernel::boot_param::setup!("rust_doctest_verbose", verbose_setup);
///
/// // What the boot parser passes for `rust_doctest_verbose=1`:
/// assert_eq!(verbose_setup(Some(c_str!("1"))), Ok(()));
/// assert!(VERBOSE.load(Ordering::Relaxed));
/// // `rust_doctest_verbose=maybe` is malformed: it is passed on to init.
/// assert!(verbose_setup(Some(c_str!("maybe"))).is_err());
/// ```
///
/// A handler cannot keep the value: it is only borrowed for the call. This does not compile
/// ("one type is more general than the other"; the kernel's doctests cannot express
/// `compile_fail`):
///
/// ```ignore
/// use kernel::{prelude::*, str::CStr};
///
/// fn keep(value: Option<&'static CStr>) -> Result {
///     let _kept: Option<&'static CStr> = value;
///     Ok(())
/// }
/// kernel::boot_param::setup!("rust_doctest_keep", keep);
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __boot_param_setup {
    ($name:literal, $handler:path $(,)?) => {
        $crate::__boot_param!($name, $handler, false);
    };
}

/// Registers a handler for an early kernel command-line option, like C's `early_param()`.
///
/// Early options are parsed by `parse_early_param()`, before [`setup!`] options and, on most
/// architectures, before any memory allocator works. The name must match the whole option,
/// as `parameq()` compares it (`-` and `_` are the same). Early options are read from the boot
/// loader's command line only: bootconfig (`kernel.*` keys) never reaches them. Otherwise the
/// same as [`setup!`].
///
/// # Examples
///
/// ```
/// use core::sync::atomic::{AtomicU8, Ordering};
/// use kernel::{c_str, prelude::*, str::CStr};
///
/// static LEVEL: AtomicU8 = AtomicU8::new(0);
///
/// fn level_setup(value: Option<&CStr>) -> Result {
///     let level = match value.map(|v| v.as_bytes()) {
///         Some([d @ b'0'..=b'9']) => d - b'0',
///         _ => return Err(EINVAL),
///     };
///     LEVEL.store(level, Ordering::Relaxed);
///     Ok(())
/// }
/// kernel::boot_param::early_param!("rust_doctest_level", level_setup);
///
/// assert_eq!(level_setup(Some(c_str!("7"))), Ok(()));
/// assert_eq!(LEVEL.load(Ordering::Relaxed), 7);
/// assert!(level_setup(None).is_err());
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __boot_param_early_param {
    ($name:literal, $handler:path $(,)?) => {
        $crate::__boot_param!($name, $handler, true);
    };
}

#[doc(inline)]
pub use crate::__boot_param_early_param as early_param;
#[doc(inline)]
pub use crate::__boot_param_setup as setup;

/// Implementation of [`setup!`] and [`early_param!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __boot_param {
    ($name:literal, $handler:path, $early:literal) => {
        // The boot parser only sees the entries of built-in code.
        #[cfg(MODULE)]
        ::core::compile_error!("setup!() and early_param!() only work in built-in code");

        const _: () = {
            const NAME: &str = ::core::concat!($name, "\0");

            // The handler may only borrow the value: it is valid for the call, no longer.
            const HANDLER: for<'a> fn(
                ::core::option::Option<&'a $crate::str::CStr>,
            ) -> $crate::error::Result = $handler;

            #[link_section = ".init.rodata"]
            static NAME_BYTES: [u8; NAME.len()] = $crate::boot_param::name_array(NAME);

            #[link_section = ".init.text"]
            unsafe extern "C" fn trampoline(arg: *mut $crate::ffi::c_char) -> $crate::ffi::c_int {
                let value = if $early {
                    // SAFETY: `do_early_param()` passes null or the value of the option, a
                    // NUL-terminated string in its copy of the command line that stays valid
                    // and unchanged during this call; the value does not outlive the call.
                    unsafe { $crate::boot_param::early_arg(arg) }
                } else {
                    // SAFETY: `obsolete_checksetup()` passes the rest of the token after the
                    // name, a NUL-terminated string in the command line being parsed that stays
                    // valid and unchanged during this call; the value does not outlive the call.
                    // `do_early_param()` may pass null (see `split_setup_arg`).
                    match unsafe { $crate::boot_param::split_setup_arg(arg) } {
                        Some(value) => value,
                        None => return 0,
                    }
                };
                $crate::boot_param::setup_ret(HANDLER(value), $early)
            }

            #[used(compiler)]
            #[link_section = ".init.setup"]
            static ENTRY: $crate::boot_param::Entry =
                // SAFETY: `trampoline` takes null and strings valid for the call, and hands
                // `HANDLER` the value for the call only: `HANDLER`'s type takes any lifetime, so
                // it cannot use the value after the call without `unsafe` code of its own.
                unsafe { $crate::boot_param::Entry::new(&NAME_BYTES, trampoline, $early) };
        };
    };
}
