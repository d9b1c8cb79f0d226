//! Caffe's SGD with momentum over the tensors of a var store (the MNIST LeNet's solver, as the
//! paper trained it): v <- momentum v + rate(i) g; theta <- theta - v, where rate(i) is the
//! policy's rate at step i (0 for the first). With a fixed rate this is PyTorch's SGD with
//! momentum (whose velocity is Caffe's divided by the rate); with a changing one Caffe's
//! velocity carries the rates it was built with.

use tch::{nn, Tensor};

use super::Optimizer;
use crate::error::{Error, Result};
use crate::spec::SgdPlan;

pub struct TensorSgd {
    /// (name, parameter, velocity), in the var store's name order.
    slots: Vec<(String, Tensor, Tensor)>,
    steps: i32,
    lr: f64,
    plan: SgdPlan,
}

impl TensorSgd {
    pub fn new(vs: &nn::VarStore, lr: f64, plan: SgdPlan) -> Result<Self> {
        let mut named: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let mut slots = Vec::with_capacity(named.len());
        for (name, theta) in named {
            let velocity = theta.f_zeros_like()?;
            slots.push((name, theta, velocity));
        }
        Ok(Self { slots, steps: 0, lr, plan })
    }

    /// The rate the next step takes.
    pub fn rate(&self) -> f64 {
        self.plan.lr_policy.rate(self.lr, self.steps as u64)
    }
}

/// Its checkpoint names the velocities `sgd_v.<name>`, by the var store's names.
impl Optimizer for TensorSgd {
    fn zero_grad(&mut self) {
        for (_, theta, _) in &mut self.slots {
            theta.zero_grad();
        }
    }

    /// One update of every parameter from the gradient its backward pass left.
    fn step(&mut self) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let rate = self.rate();
        self.steps += 1;
        for (_, theta, v) in &mut self.slots {
            let g = theta.grad();
            if g.defined() {
                let _ = v.f_mul_scalar_(self.plan.momentum)?;
                let _ = v.f_add_(&g.f_mul_scalar(rate)?)?;
                let _ = theta.f_sub_(v)?;
            }
        }
        Ok(())
    }

    fn state(&self) -> (Vec<(String, Tensor)>, i32) {
        let named = self.slots.iter().map(|(name, _, v)| (format!("sgd_v.{name}"), v.shallow_clone())).collect();
        (named, self.steps)
    }

    fn restore<'a>(&mut self, find: &dyn Fn(&str) -> Option<&'a Tensor>, steps: i32) -> Result<()> {
        let _guard = tch::no_grad_guard();
        for (name, _, v) in &mut self.slots {
            let saved = find(&format!("sgd_v.{name}"))
                .ok_or_else(|| Error::checkpoint(format!("lacks the SGD velocity of `{name}`")))?;
            v.f_copy_(saved)?;
        }
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::raw::LrPolicy;
    use crate::spec::values::Positive;
    use tch::{nn::OptimizerConfig, Device, Kind};

    /// A quadratic loss on one parameter vector, its start and its coefficients.
    fn problem() -> (Tensor, Tensor, Tensor) {
        tch::manual_seed(11);
        let opts = (Kind::Float, Device::Cpu);
        (Tensor::randn([6], opts), Tensor::rand([6], opts) + 0.1, Tensor::randn([6], opts))
    }

    fn ours(start: &Tensor, c: &Tensor, d: &Tensor, plan: SgdPlan, steps: usize) -> Tensor {
        let vs = nn::VarStore::new(Device::Cpu);
        let theta = vs.root().var_copy("theta", start);
        let mut sgd = TensorSgd::new(&vs, 0.05, plan).unwrap();
        for _ in 0..steps {
            let loss = (c * theta.square() + d * &theta).sum(Kind::Float);
            sgd.zero_grad();
            loss.backward();
            sgd.step().unwrap();
        }
        theta.detach().copy()
    }

    #[test]
    fn with_a_fixed_rate_it_is_libtorchs_sgd_with_momentum() {
        let (start, c, d) = problem();
        let vs = nn::VarStore::new(Device::Cpu);
        let theta = vs.root().var_copy("theta", &start);
        let mut reference =
            nn::Sgd { momentum: 0.9, dampening: 0.0, wd: 0.0, nesterov: false }.build(&vs, 0.05).unwrap();
        for _ in 0..40 {
            let loss = (&c * theta.square() + &d * &theta).sum(Kind::Float);
            reference.zero_grad();
            loss.backward();
            reference.step();
        }
        let plan = SgdPlan { momentum: 0.9, lr_policy: LrPolicy::Fixed };
        let mine = ours(&start, &c, &d, plan, 40);
        let err = f64::try_from((&mine - &theta).abs().max()).unwrap();
        assert!(err < 1e-5, "Caffe-form SGD drifted from libtorch's by {err}");
        let moved = f64::try_from((&mine - &start).abs().max()).unwrap();
        assert!(moved > 0.1, "parameters barely moved ({moved})");
    }

    #[test]
    fn the_inv_policy_follows_caffes_formula_and_slows_the_descent() {
        let inv = LrPolicy::Inv { gamma: Positive::try_from(1e-4).unwrap(), power: Positive::try_from(0.75).unwrap() };
        assert_eq!(inv.rate(0.01, 0), 0.01);
        assert!((inv.rate(0.01, 10_000) - 0.01 * 2f64.powf(-0.75)).abs() < 1e-15);
        assert!((inv.rate(0.01, 1_000_000) - 0.01 * 101f64.powf(-0.75)).abs() < 1e-15);
        // A steep policy shrinks the steps, so the parameters travel less than at a fixed rate.
        let (start, c, d) = problem();
        let steep = LrPolicy::Inv { gamma: Positive::try_from(1.0).unwrap(), power: Positive::try_from(1.0).unwrap() };
        let fixed = ours(&start, &c, &d, SgdPlan { momentum: 0.0, lr_policy: LrPolicy::Fixed }, 5);
        let slowed = ours(&start, &c, &d, SgdPlan { momentum: 0.0, lr_policy: steep }, 5);
        let travel = |t: &Tensor| f64::try_from((t - &start).square().sum(Kind::Double)).unwrap();
        assert!(travel(&slowed) < travel(&fixed), "{} vs {}", travel(&slowed), travel(&fixed));
    }
}
