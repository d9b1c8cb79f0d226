//! A spec's identity: the SHA-256 of what decides its numbers (`identity_hash`), per UCI set
//! (`set_identity`) and shared by every set (`shared_identity`), so that a results directory
//! refuses records of another spec and accepts a spec that only adds sets or splits
//! (`extend`). Comments, formatting, the description, the device, the profile and the run
//! options never enter it.

use sha2::{Digest, Sha256};

use super::raw::{RawSpec, Splits, TableTask, Task};
use crate::data::uci::UciSet;
use crate::device::DeviceChoice;

/// SHA-256 of the canonical YAML of what decides the numbers. The description, the device
/// choice, the profile label and the run options are left out: changing them must not orphan
/// finished records (records carry the device they ran on).
pub fn identity_hash(raw: &RawSpec) -> String {
    hex(&Sha256::digest(super::load::to_yaml(&identity_fields(raw)).as_bytes()))
}

fn identity_fields(raw: &RawSpec) -> RawSpec {
    let mut identity = raw.clone();
    identity.description.clear();
    identity.device = DeviceChoice::default();
    identity.profile = Default::default();
    identity.run = Default::default();
    identity
}

/// The identity of one UCI set's numbers: every field that decides them (the seed, the model,
/// training, evaluation and selection, and the set's own settings), but not the other sets nor
/// which splits run, so adding sets or splits to a spec leaves it unchanged. `None` when the
/// spec is not a UCI spec or lacks the set.
pub fn set_identity(raw: &RawSpec, set: UciSet) -> Option<String> {
    let mut identity = identity_fields(raw);
    let Task::Uci(task) = &mut identity.task else { return None };
    let settings = task.sets.get(&set)?.clone();
    task.sets = [(set, settings)].into();
    task.splits = Splits::default();
    Some(hex(&Sha256::digest(super::load::to_yaml(&identity).as_bytes())))
}

/// The spec that describes the records of `saved` and of `new` together, when `new` only adds
/// to (or leaves out) sets and splits of `saved`: `new` with the settings of sets only `saved`
/// names. Otherwise what differs.
pub fn extend(saved: &RawSpec, new: &RawSpec) -> std::result::Result<RawSpec, String> {
    if identity_hash(saved) == identity_hash(new) {
        return Ok(new.clone());
    }
    if let (Task::Table(before), Task::Table(after)) = (&saved.task, &new.task) {
        return extend_table(saved, before, new, after);
    }
    let (Task::Uci(before), Task::Uci(after)) = (&saved.task, &new.task) else {
        return Err("the fields that decide its results changed".into());
    };
    if shared_identity(saved) != shared_identity(new) {
        return Err("a field every set shares changed (seed, model, training, evaluation or selection)".into());
    }
    for set in before.sets.keys().filter(|s| after.sets.contains_key(s)) {
        if set_identity(saved, *set) != set_identity(new, *set) {
            return Err(format!("the settings of {} changed", set.folder()));
        }
    }
    let mut merged = new.clone();
    if let Task::Uci(task) = &mut merged.task {
        for (set, settings) in &before.sets {
            task.sets.entry(*set).or_insert_with(|| settings.clone());
        }
    }
    Ok(merged)
}

/// A table spec may run other splits of the same data; any other change is named.
fn extend_table(
    saved: &RawSpec,
    before: &TableTask,
    new: &RawSpec,
    after: &TableTask,
) -> std::result::Result<RawSpec, String> {
    for (field, was, now) in
        [("sha256", &before.sha256, &after.sha256), ("splits_sha256", &before.splits_sha256, &after.splits_sha256)]
    {
        if was != now {
            let short =
                |h: &Option<String>| h.as_deref().map_or("none".to_string(), |h| h[..h.len().min(12)].to_string());
            return Err(format!(
                "the table's content changed (task.table.{field} {} here, {} now)",
                short(was),
                short(now)
            ));
        }
    }
    let without_splits = |raw: &RawSpec| {
        let mut identity = identity_fields(raw);
        if let Task::Table(task) = &mut identity.task {
            task.run_splits = Splits::default();
        }
        super::load::to_yaml(&identity)
    };
    if without_splits(saved) == without_splits(new) {
        Ok(new.clone())
    } else {
        Err("the fields that decide its results changed".into())
    }
}

/// The identity of what every set of a UCI spec shares (its sets and splits left out).
pub fn shared_identity(raw: &RawSpec) -> String {
    let mut identity = identity_fields(raw);
    if let Task::Uci(task) = &mut identity.task {
        task.sets.clear();
        task.splits = Splits::default();
    }
    hex(&Sha256::digest(super::load::to_yaml(&identity).as_bytes()))
}

/// Lower-case hex of a digest (sha2 0.11 digests no longer format with `{:x}`).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
