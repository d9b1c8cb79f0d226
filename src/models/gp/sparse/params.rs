//! What a sparse fit learns, per member.

use tch::Tensor;

use super::super::kernel::GpParams;

/// Kernel hyper-parameters and inducing inputs of B members.
/// # Shapes
/// inducing: [B, M, D]
pub struct SparseParams {
    pub kernel: GpParams,
    pub inducing: Tensor,
}
