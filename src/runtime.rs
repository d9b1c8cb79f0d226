//! Process-wide tuning for running libtorch on the CPU.
//!
//! A training step allocates and frees several activation and mask tensors of a few MiB each.
//! glibc serves blocks that large with mmap and unmaps them on free, so every step pays for
//! fresh page faults on megabytes of memory: `mcdrop bench uci` measured that as more than
//! half of a CPU step. Serving every block from the heap and raising the trim threshold keeps
//! those blocks and reuses them (libtorch's CPU allocator goes through malloc).

/// Call once at start-up, before any tensor is allocated.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before other threads allocate.
    unsafe {
        // 32 MiB is glibc's largest mmap threshold on 64-bit; blocks below it come from the heap.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        // Larger blocks would still be mapped afresh each time, and an MC chunk of the default
        // budget is 128 MiB: the kernel spent more time zeroing its pages than the passes
        // took (docs/performance.md). No mmap at all: every block comes from the heap.
        libc::mallopt(libc::M_MMAP_MAX, 0);
        // Keep up to 1 GiB of freed heap instead of returning it to the system after each step.
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

/// Lets a closed stdout end the process quietly (`mcdrop table ... | head`), as Unix tools do,
/// instead of the panic Rust's print macros raise on EPIPE: Rust ignores SIGPIPE by default.
pub fn quiet_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal, before any other thread runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Environment variable that sets the CPU thread count when `--threads` is not given.
pub const THREADS_VAR: &str = "MCDROP_THREADS";

/// Sets libtorch's intra-op CPU threads and rayon's pool (host-side mask and MC work) from
/// `--threads`, else `$MCDROP_THREADS`; leaves both defaults (one per core) when neither is set.
pub fn set_cpu_threads(flag: Option<i32>) -> Result<(), String> {
    let threads = match (flag, std::env::var(THREADS_VAR)) {
        (Some(n), _) => n,
        (None, Ok(text)) => match text.trim().parse::<i32>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(format!(
                    "{THREADS_VAR}={text:?} is not a thread count; set it to an integer >= 1 or unset it"
                ))
            }
        },
        (None, Err(_)) => return Ok(()),
    };
    tch::set_num_threads(threads);
    // Fails only when the global pool already exists, i.e. when called twice (tests): keep it.
    let _ = rayon::ThreadPoolBuilder::new().num_threads(threads as usize).build_global();
    Ok(())
}
