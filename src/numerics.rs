//! Pinned CPU numerics: the same bits for the same spec, seed and thread count on every x86-64
//! machine with AVX2, whatever wider instructions its CPU has.
//!
//! libtorch, oneDNN and MKL each pick kernels by the CPU they find at run time, and an AVX-512
//! kernel sums in another order than an AVX2 one, so a record made on one machine and rerun on
//! another differed in its low bits and, through training, in its metrics. Pinning caps every
//! dispatcher at AVX2 through the variables it reads: libtorch (`ATEN_CPU_CAPABILITY`), oneDNN
//! (`ONEDNN_MAX_CPU_ISA`), MKL (`MKL_CBWR` conditional numerical reproducibility, strict, and
//! `MKL_ENABLE_INSTRUCTIONS`), and glibc's CPU dispatch of its own functions
//! (`GLIBC_TUNABLES=glibc.cpu.hwcaps=...`). The dynamic loader reads glibc's tunables before
//! `main`, so the binary re-executes itself once with the variables set. docs/verifying.md, "Numerics",
//! says which of them changed results when measured.

use std::ffi::OsString;
use std::sync::OnceLock;

use clap::ValueEnum;

/// How the CPU code paths that decide float results are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Numerics {
    /// Every library held to its AVX2 code path: the same bits on any AVX2 machine.
    Pinned,
    /// Each library picks the widest kernels this CPU has: faster where it has AVX-512,
    /// but results are only reproducible on the same kind of CPU.
    Native,
}

/// The variables pinning sets, with their values.
pub const PINNED_VARS: [(&str, &str); 4] = [
    ("ATEN_CPU_CAPABILITY", "avx2"),
    ("ONEDNN_MAX_CPU_ISA", "AVX2"),
    ("MKL_CBWR", "AVX2,STRICT"),
    ("MKL_ENABLE_INSTRUCTIONS", "AVX2"),
];

/// glibc's tunable that hides the AVX-512 features from its own dispatch (string functions,
/// libm's variants); the loader reads it at process start.
pub const GLIBC_TUNABLES_VAR: &str = "GLIBC_TUNABLES";
pub const GLIBC_HWCAPS_MASK: &str = "glibc.cpu.hwcaps=-AVX512F,-AVX512DQ,-AVX512BW,-AVX512VL,-AVX512CD";

/// Set in the re-executed process: which mode set up its environment. It guards against a
/// second re-exec and tells a `native` run which variables pinning (not the user) had set.
const MARKER_VAR: &str = "MCDROP_NUMERICS_SET";

/// The mode this process computes under, as provenance writes it.
static ACTIVE: OnceLock<&'static str> = OnceLock::new();

/// `pinned-avx2` or `native`; `native` before [`enter`] ran (library tests).
pub fn active() -> &'static str {
    ACTIVE.get().copied().unwrap_or("native")
}

/// Makes this process compute under `mode`, re-executing the binary with the environment that
/// mode needs when the loader has not already seen it. Call first in `main`, before libtorch
/// runs anything; returns only in the process that is to do the work.
pub fn enter(mode: Numerics) -> std::io::Result<()> {
    let wanted = environment(mode);
    let current: Vec<(String, Option<OsString>)> =
        wanted.iter().map(|(name, _)| (name.clone(), std::env::var_os(name))).collect();
    let differs = wanted.iter().zip(&current).any(|((_, want), (_, have))| want.as_ref() != have.as_ref());
    let label = match mode {
        Numerics::Pinned if cpu_has_avx2() => "pinned-avx2",
        // Without AVX2 there is nothing to cap at; such a CPU runs its own kernels.
        Numerics::Pinned => "native",
        Numerics::Native => "native",
    };
    let _ = ACTIVE.set(label);
    if !differs || std::env::var_os(MARKER_VAR).is_some_and(|m| m == label) {
        return Ok(());
    }
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command.args(std::env::args_os().skip(1)).env(MARKER_VAR, label);
    for (name, value) in &wanted {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
    reexec(command)
}

#[cfg(unix)]
fn reexec(mut command: std::process::Command) -> std::io::Result<()> {
    use std::os::unix::process::CommandExt;
    Err(command.exec())
}

#[cfg(not(unix))]
fn reexec(mut command: std::process::Command) -> std::io::Result<()> {
    let status = command.status()?;
    std::process::exit(status.code().unwrap_or(1));
}

/// The value each variable must have under `mode` (`None`: unset).
fn environment(mode: Numerics) -> Vec<(String, Option<OsString>)> {
    let pinned_by_us = std::env::var_os(MARKER_VAR).is_some_and(|m| m == "pinned-avx2");
    let tunables = std::env::var(GLIBC_TUNABLES_VAR).ok();
    match mode {
        Numerics::Pinned if cpu_has_avx2() => {
            let mut env: Vec<_> = PINNED_VARS.iter().map(|(n, v)| (n.to_string(), Some(OsString::from(v)))).collect();
            env.push((GLIBC_TUNABLES_VAR.into(), Some(with_mask(tunables.as_deref()).into())));
            env
        }
        // A native run under a pinned parent (verify, shards) drops what pinning set; variables
        // a user set by hand are left alone.
        _ if pinned_by_us => {
            let mut env: Vec<_> = PINNED_VARS.iter().map(|(n, _)| (n.to_string(), None)).collect();
            let rest = without_mask(tunables.as_deref());
            env.push((GLIBC_TUNABLES_VAR.into(), rest.map(OsString::from)));
            env.push((MARKER_VAR.into(), None));
            env
        }
        _ => Vec::new(),
    }
}

/// `GLIBC_TUNABLES` with the hwcaps mask added to what the user set (colon-separated).
fn with_mask(tunables: Option<&str>) -> String {
    match without_mask(tunables) {
        Some(rest) => format!("{rest}:{GLIBC_HWCAPS_MASK}"),
        None => GLIBC_HWCAPS_MASK.to_string(),
    }
}

fn without_mask(tunables: Option<&str>) -> Option<String> {
    let rest: Vec<&str> = tunables?.split(':').filter(|t| !t.is_empty() && *t != GLIBC_HWCAPS_MASK).collect();
    (!rest.is_empty()).then(|| rest.join(":"))
}

fn cpu_has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The CPU's model name (`/proc/cpuinfo`), `unknown` where it cannot be read.
pub fn cpu_model() -> String {
    static MODEL: OnceLock<String> = OnceLock::new();
    MODEL.get_or_init(|| cpuinfo_field("model name").unwrap_or_else(|| "unknown".into())).clone()
}

/// The vector-ISA flags that decide which kernels a library may pick, as `/proc/cpuinfo` names
/// them, in a fixed order.
pub fn cpu_isa_flags() -> Vec<String> {
    static FLAGS: OnceLock<Vec<String>> = OnceLock::new();
    FLAGS.get_or_init(read_isa_flags).clone()
}

fn read_isa_flags() -> Vec<String> {
    const RELEVANT: [&str; 16] = [
        "sse4_2",
        "avx",
        "avx2",
        "fma",
        "f16c",
        "avx512f",
        "avx512dq",
        "avx512cd",
        "avx512bw",
        "avx512vl",
        "avx512_vnni",
        "avx512_bf16",
        "avx512_fp16",
        "amx_tile",
        "amx_bf16",
        "amx_int8",
    ];
    let flags = cpuinfo_field("flags").unwrap_or_default();
    let have: std::collections::HashSet<&str> = flags.split_whitespace().collect();
    RELEVANT.iter().filter(|f| have.contains(**f)).map(|f| f.to_string()).collect()
}

fn cpuinfo_field(name: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_glibc_mask_joins_and_leaves_the_users_tunables() {
        assert_eq!(with_mask(None), GLIBC_HWCAPS_MASK);
        assert_eq!(
            with_mask(Some("glibc.malloc.arena_max=2")),
            format!("glibc.malloc.arena_max=2:{GLIBC_HWCAPS_MASK}")
        );
        let both = with_mask(Some("glibc.malloc.arena_max=2"));
        assert_eq!(with_mask(Some(&both)), both, "adding it twice changes nothing");
        assert_eq!(without_mask(Some(&both)).as_deref(), Some("glibc.malloc.arena_max=2"));
        assert_eq!(without_mask(Some(GLIBC_HWCAPS_MASK)), None);
    }

    #[test]
    fn isa_flags_are_the_relevant_ones_in_order() {
        let flags = cpu_isa_flags();
        if cfg!(target_os = "linux") && cpu_has_avx2() {
            assert!(flags.contains(&"avx2".to_string()), "{flags:?}");
        }
        assert!(flags.iter().all(|f| !f.is_empty()));
    }
}
