//! The thread count a rerun takes: the one its records were made with, read from their
//! provenance, set for the rerun and restored after.

use tch::Device;

/// The CPU thread count a record's provenance device names (`cpu (2 threads)`).
pub fn threads_of(device: &str) -> Option<i32> {
    device.strip_prefix("cpu (")?.strip_suffix(" threads)")?.parse::<i32>().ok()
}

/// `rerun()` on `threads` CPU threads when given and on the CPU, the count restored after:
/// libtorch's CPU kernels round differently with other thread counts, so a rerun takes the
/// records' own.
pub fn with_threads<T>(device: Device, threads: Option<i32>, rerun: impl FnOnce() -> T) -> T {
    let before = tch::get_num_threads();
    if let (Device::Cpu, Some(n)) = (device, threads) {
        tch::set_num_threads(n);
    }
    let result = rerun();
    tch::set_num_threads(before);
    result
}
