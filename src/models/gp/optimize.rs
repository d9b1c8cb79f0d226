//! Hyper-parameter optimisation shared by the exact and sparse GP: float64 variables, several
//! restarts per member, Adam on a surrogate loss that carries a gradient computed elsewhere,
//! and the pick of each member's best restart.

use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

use super::kernel::GpParams;
use crate::error::Result;
use crate::models::family::Progress;
use crate::rng::{member_rng, uniform, MemberRng};
use crate::spec::GpPlan;

/// A loss whose gradient is a gradient computed elsewhere, for an optimiser that steps on
/// `backward()`: sum(theta * g) over (theta, g) pairs, linear in each theta, has gradient g.
pub fn linear_surrogate(pairs: &[(&Tensor, &Tensor)]) -> Result<Tensor> {
    let mut total = Tensor::f_zeros([], (Kind::Double, pairs[0].0.device()))?;
    for (theta, g) in pairs {
        total = total.f_add(&theta.f_mul(&g.detach())?.f_sum(Kind::Double)?)?;
    }
    Ok(total)
}

/// A var store whose new variables are float64, like the kernel algebra (a VarStore's
/// variables default to float32).
pub fn float64_store(device: Device) -> nn::VarStore {
    let mut vs = nn::VarStore::new(device);
    vs.set_kind(Kind::Double);
    vs
}

/// Starting log hyper-parameters of S members x R restarts as variables of `vs`; member
/// (i, restart j) sits at i * R + j. Restart 0 starts at unit length-scales (inputs are
/// standardized), unit signal and noise std 0.1; the others are perturbed. `after_restart(i,
/// rng)` runs after each member-restart's draws, on the member's own stream (the sparse GP
/// draws its inducing rows there).
pub fn restart_params(
    vs: &nn::VarStore,
    seeds: &[u64],
    r: i64,
    d: i64,
    mut after_restart: impl FnMut(usize, &mut MemberRng),
) -> Result<GpParams> {
    let s = seeds.len() as i64;
    let (mut ls, mut sf, mut sn) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &seed) in seeds.iter().enumerate() {
        let mut rng = member_rng(seed);
        for j in 0..r {
            let jitter = |rng: &mut _, width: f64| if j == 0 { 0.0 } else { (2.0 * uniform(rng) - 1.0) * width };
            ls.extend((0..d).map(|_| jitter(&mut rng, 1.0)));
            sf.push(jitter(&mut rng, 0.5));
            sn.push(0.1f64.ln() + jitter(&mut rng, 1.0));
            after_restart(i, &mut rng);
        }
    }
    let root = vs.root();
    let var = |name: &str, v: &[f64], shape: &[i64]| -> Result<Tensor> {
        Ok(root.f_var_copy(
            name,
            &Tensor::from_slice(v).f_view(shape)?.f_to_kind(Kind::Double)?.f_to_device(vs.device())?,
        )?)
    };
    Ok(GpParams {
        log_lengthscales: var("log_lengthscales", &ls, &[s * r, d])?,
        log_signal_std: var("log_signal_std", &sf, &[s * r])?,
        log_noise_std: var("log_noise_std", &sn, &[s * r])?,
    })
}

/// Adam on every variable of `vs` for `plan.iterations` steps on `loss` (a scalar whose
/// gradient is that of the sum of `objective`), advancing `progress` after each; then each
/// member's restart with the lowest final `objective` (one value per member-restart, [S * R],
/// member-major; NaN counts as worst). Returns [S] indices into the S * R batch and the
/// final values.
pub fn minimize_restarts(
    vs: &nn::VarStore,
    plan: &GpPlan,
    s: i64,
    r: i64,
    loss: impl Fn() -> Result<Tensor>,
    objective: impl Fn() -> Result<Tensor>,
    progress: &dyn Progress,
) -> Result<(Tensor, Tensor)> {
    let mut adam = nn::Adam::default().build(vs, plan.lr)?;
    for _ in 0..plan.iterations {
        let loss = loss()?;
        adam.zero_grad();
        loss.f_backward()?;
        adam.step();
        progress.advance(1);
    }
    let final_values = tch::no_grad(&objective)?;
    let per_member = final_values.f_view([s, r])?.f_nan_to_num(f64::INFINITY, f64::INFINITY, f64::INFINITY)?;
    let offsets = Tensor::f_arange_start_step(0, s * r, r, (Kind::Int64, final_values.device()))?;
    Ok((per_member.f_argmin(1i64, false)?.f_add(&offsets)?, final_values))
}
