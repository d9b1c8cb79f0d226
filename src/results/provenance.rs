//! Where a result came from: code version, spec, seed, device, library versions, time.

use serde::{Deserialize, Serialize};

use crate::data::SetName;
use crate::spec::{set_identity, Spec};

/// Recorded with every unit and every run of the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The commit the binary was built from, with `-dirty` when its sources (src/, build.rs,
    /// Cargo.*, assets/) differed from it; `unknown` when built outside git. Records before
    /// 2026-11-26 hold the checkout's commit at run start instead (dirty on any tracked change).
    pub git_commit: String,
    pub spec_sha256: String,
    /// A UCI record's own set's identity (`spec::set_identity`): what decides its numbers, so
    /// that another set's settings changing leaves it current. Absent in other records and in
    /// UCI records made before 2026-12-07.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_sha256: Option<String>,
    pub seed: u64,
    /// `cpu (2 threads)` or `cuda:0 (<GPU name>)`.
    pub device: String,
    pub torch: String,
    pub mcdrop: String,
    /// RFC 3339 UTC time the record was written.
    pub written_at: String,
    /// `pinned-avx2` or `native` (`mcdrop --numerics`); absent in records made before
    /// 2026-12-03, which computed natively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerics: Option<String>,
    /// The CPU's model name and the vector-ISA flags that decide which kernels run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_flags: Option<Vec<String>>,
    /// libtorch's intra-op CPU threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
}

/// PyTorch version libtorch came from (read from the wheel at build time).
pub const TORCH_VERSION: &str = env!("MCDROP_TORCH_VERSION");

impl Provenance {
    pub fn new(spec_sha256: &str, seed: u64, device: &str) -> Self {
        Self {
            git_commit: env!("MCDROP_GIT_COMMIT").to_string(),
            spec_sha256: spec_sha256.to_string(),
            set_sha256: None,
            seed,
            device: device.to_string(),
            torch: TORCH_VERSION.to_string(),
            mcdrop: env!("CARGO_PKG_VERSION").to_string(),
            written_at: now(),
            numerics: Some(crate::numerics::active().to_string()),
            cpu: Some(crate::numerics::cpu_model()),
            cpu_flags: Some(crate::numerics::cpu_isa_flags()),
            threads: Some(tch::get_num_threads().max(1) as usize),
        }
    }

    /// A copy stamped with the current time.
    pub fn stamped(&self) -> Self {
        Self { written_at: now(), ..self.clone() }
    }

    /// Whether what decides this record's numbers changed in `spec`: its set's identity where
    /// the record carries one, else the whole spec's.
    pub fn spec_changed(&self, spec: &Spec, set: &SetName) -> bool {
        match (&self.set_sha256, set.uci_set().and_then(|s| set_identity(&spec.raw, s))) {
            (Some(then), Some(now)) => *then != now,
            _ => self.spec_sha256 != spec.sha256,
        }
    }

    /// `<cpu> (AVX2|AVX-512), <numerics> numerics`, or what an older record lacks.
    pub fn machine(&self) -> String {
        match (&self.cpu, &self.numerics) {
            (Some(cpu), Some(numerics)) => {
                describe_machine(cpu, self.cpu_flags.as_deref().unwrap_or_default(), numerics)
            }
            _ => "machine not recorded (before 2026-12-03: native numerics)".to_string(),
        }
    }
}

/// What `Provenance::machine` says of the machine this process runs on.
pub fn this_machine() -> String {
    describe_machine(&crate::numerics::cpu_model(), &crate::numerics::cpu_isa_flags(), crate::numerics::active())
}

fn describe_machine(cpu: &str, flags: &[String], numerics: &str) -> String {
    let widest = if flags.iter().any(|f| f.starts_with("avx512")) { "AVX-512" } else { "AVX2" };
    format!("{cpu} ({widest}), {numerics} numerics")
}

pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::data::uci::UciSet;

    /// A GP spec of yacht and boston, yacht fitted for `yacht_iterations`.
    fn spec(yacht_iterations: usize) -> Spec {
        let text = format!(
            "name: t\nseed: 1\ntask:\n  uci:\n    sets:\n      yacht: {{gp: {{iterations: {yacht_iterations}}}}}\n      \
             bostonHousing: {{}}\n    splits: all\nmodel:\n  gp:\n    restarts: 1\n    iterations: 10\n"
        );
        crate::spec::load::parse(&text, Path::new("t.yaml")).unwrap()
    }

    fn made_by(spec: &Spec, set: UciSet) -> Provenance {
        Provenance { set_sha256: set_identity(&spec.raw, set), ..Provenance::new(&spec.sha256, 1, "cpu") }
    }

    #[test]
    fn a_record_is_out_of_date_only_when_its_own_sets_settings_changed() {
        let (before, after) = (spec(10), spec(20));
        assert_ne!(before.sha256, after.sha256);
        let (boston, yacht) = (SetName::uci(UciSet::Boston), SetName::uci(UciSet::Yacht));
        assert!(!made_by(&before, UciSet::Boston).spec_changed(&after, &boston));
        assert!(made_by(&before, UciSet::Yacht).spec_changed(&after, &yacht));
        assert!(!made_by(&before, UciSet::Yacht).spec_changed(&before, &yacht));
        // A record without its set's identity goes by the whole spec.
        let older = Provenance::new(&before.sha256, 1, "cpu");
        assert!(older.spec_changed(&after, &boston));
        assert!(!older.spec_changed(&before, &boston));
    }
}
