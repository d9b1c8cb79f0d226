//! Tensors brought to the host as plain numbers, for the families that score (or train) in
//! host code.

use tch::{Device, Kind, Tensor};

use crate::error::Result;

/// Every value of `t`, row-major, as f64 on the host (detached from any graph).
pub fn f64_values(t: &Tensor) -> Result<Vec<f64>> {
    Ok(Vec::try_from(&t.f_detach()?.f_to_device(Device::Cpu)?.f_to_kind(Kind::Double)?.f_flatten(0, -1)?)?)
}
