//! Adam, the optimiser of every network family, from the spec's `TrainingPlan`: libtorch's
//! (`libtorch_adam`) for nets kept as separate tensors, `FlatAdam` below, and `TensorAdam`
//! (its update per tensor of a var store, for trainings that checkpoint their moments).
//!
//! Adam over one flat parameter tensor (a [`ParamBuffer`]'s), in seven elementwise kernels a
//! step whatever the number of layers; libtorch's optimiser runs about as many per parameter
//! tensor, and on a GPU each kernel launch costs more than its arithmetic.
//!
//! The update is PyTorch's (and Keras') Adam without weight decay or AMSGrad:
//! m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
//! theta <- theta - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).

use tch::{nn, Tensor};

use super::Optimizer;
use crate::error::{Error, Result};
use crate::models::nn::member_mlp::ParamBuffer;
use crate::spec::TrainingPlan;

/// libtorch's Adam with the plan's moments and epsilon, no weight decay, no AMSGrad: the
/// update `FlatAdam` makes. Build it with `.build(var_store, plan.lr)`.
pub fn libtorch_adam(plan: &TrainingPlan) -> nn::Adam {
    nn::Adam { beta1: plan.beta1, beta2: plan.beta2, wd: 0.0, eps: plan.eps, amsgrad: false }
}

pub struct FlatAdam {
    /// The parameters it steps: a shallow copy of the flat tensor of the buffer it was built
    /// over, so a step updates the caller's parameters in place.
    theta: Tensor,
    /// First and second moments, same layout as the parameters.
    m: Tensor,
    v: Tensor,
    /// The gradient the trainer writes before each `step`.
    pub grad: ParamBuffer,
    steps: i32,
    /// The step count as a device tensor (f64, 0-d), when the steps are replayed from a CUDA
    /// graph: the bias corrections are then computed on the device, so the recorded update
    /// stays right on every replay.
    device_steps: Option<Tensor>,
    lr: f64,
    /// Each parameter's own learning rate (members of one program searching the rate), same
    /// layout as the parameters; `None`: `lr` for all.
    member_lr: Option<Tensor>,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl FlatAdam {
    pub fn new(params: &ParamBuffer, plan: &TrainingPlan) -> Result<Self> {
        Ok(Self {
            theta: params.flat.shallow_clone(),
            m: params.flat.f_zeros_like()?,
            v: params.flat.f_zeros_like()?,
            grad: params.zeros_like()?,
            steps: 0,
            device_steps: None,
            lr: plan.lr,
            member_lr: None,
            beta1: plan.beta1,
            beta2: plan.beta2,
            eps: plan.eps,
        })
    }

    /// Like `new`, with member k's parameters stepped at `rates[k]` instead of the plan's rate.
    pub fn with_member_rates(params: &ParamBuffer, plan: &TrainingPlan, rates: &[f64]) -> Result<Self> {
        let mut adam = Self::new(params, plan)?;
        let per_member = Tensor::from_slice(rates).f_to_kind(params.flat.kind())?.f_to_device(params.flat.device())?;
        let lr = params.zeros_like()?;
        let _guard = tch::no_grad_guard();
        for t in lr.weights.iter().chain(&lr.biases) {
            t.shallow_clone().f_copy_(&per_member.f_view([-1, 1, 1])?.f_expand_as(t)?)?;
        }
        adam.lr = 1.0;
        adam.member_lr = Some(lr.flat);
        Ok(adam)
    }
}

/// Its checkpoint names the moments `adam_m` and `adam_v`.
impl Optimizer for FlatAdam {
    fn zero_grad(&mut self) {}

    /// One update of the parameters in place from `self.grad`.
    fn step(&mut self) -> Result<()> {
        let _guard = tch::no_grad_guard();
        self.steps += 1;
        let moments = Moments { beta1: self.beta1, beta2: self.beta2, eps: self.eps, steps: self.steps };
        let (theta, g, lr, member_lr) = (&self.theta, &self.grad.flat, self.lr, self.member_lr.as_ref());
        match &mut self.device_steps {
            Some(t) => {
                let _ = t.f_add_scalar_(1.0)?;
                moments.update_counted_on_device(theta, g, &mut self.m, &mut self.v, t, lr, member_lr)
            }
            None => moments.update(theta, g, &mut self.m, &mut self.v, lr, member_lr),
        }
    }

    fn state(&self) -> (Vec<(String, Tensor)>, i32) {
        (vec![("adam_m".into(), self.m.shallow_clone()), ("adam_v".into(), self.v.shallow_clone())], self.steps)
    }

    fn restore<'a>(&mut self, find: &dyn Fn(&str) -> Option<&'a Tensor>, steps: i32) -> Result<()> {
        let (Some(m), Some(v)) = (find("adam_m"), find("adam_v")) else {
            return Err(Error::checkpoint("lacks the Adam moments `adam_m` and `adam_v`"));
        };
        let _guard = tch::no_grad_guard();
        self.m.f_copy_(m)?;
        self.v.f_copy_(v)?;
        self.steps = steps;
        Ok(())
    }
}

/// An optimiser whose steps a CUDA graph can record: its step count can live on the device,
/// and the host count is told about steps it did not see.
pub trait ReplayedSteps {
    /// From now on counts steps on the device too (for steps recorded into a graph), or, with
    /// `false`, on the host only again.
    fn count_on_device(&mut self, on: bool) -> Result<()>;
    /// Corrects the host count by `steps` it did not see run: positive for a graph's replay,
    /// negative for steps recorded into a capture that failed (they never ran).
    fn add_steps(&mut self, steps: i32);
    /// Steps the host has counted.
    fn steps_taken(&self) -> i32;
}

/// The device copy of a host step count, or none.
fn device_count(on: bool, steps: i32, device: tch::Device) -> Result<Option<Tensor>> {
    Ok(match on {
        true => Some(Tensor::from(steps as f64).f_to_device(device)?),
        false => None,
    })
}

impl ReplayedSteps for FlatAdam {
    fn count_on_device(&mut self, on: bool) -> Result<()> {
        self.device_steps = device_count(on, self.steps, self.m.device())?;
        Ok(())
    }

    fn add_steps(&mut self, steps: i32) {
        self.steps += steps;
    }

    fn steps_taken(&self) -> i32 {
        self.steps
    }
}

impl ReplayedSteps for TensorAdam {
    fn count_on_device(&mut self, on: bool) -> Result<()> {
        let device = self.slots.first().map_or(tch::Device::Cpu, |slot| slot.1.device());
        self.device_steps = device_count(on, self.steps, device)?;
        Ok(())
    }

    fn add_steps(&mut self, steps: i32) {
        self.steps += steps;
    }

    fn steps_taken(&self) -> i32 {
        self.steps
    }
}

/// The constants of one Adam step.
struct Moments {
    beta1: f64,
    beta2: f64,
    eps: f64,
    /// Steps taken, this one included.
    steps: i32,
}

impl Moments {
    /// theta -= lr / c1 * m / (sqrt(v) / sqrt(c2) + eps) after updating m and v from `g`,
    /// `lr` scaled elementwise by `member_lr` when given. Call under `no_grad`.
    fn update(
        &self,
        theta: &Tensor,
        g: &Tensor,
        m: &mut Tensor,
        v: &mut Tensor,
        lr: f64,
        member_lr: Option<&Tensor>,
    ) -> Result<()> {
        let _ = m.f_lerp_(g, 1.0 - self.beta1)?;
        let _ = v.f_lerp_(&g.f_square()?, 1.0 - self.beta2)?;
        let correction1 = 1.0 - self.beta1.powi(self.steps);
        let correction2 = 1.0 - self.beta2.powi(self.steps);
        // theta += m / d with d = -(sqrt(v) / sqrt(c2) + eps) * c1 / lr
        let scale = -correction1 / lr;
        let mut d = v.f_sqrt()?;
        let _ = d.f_mul_scalar_(scale / correction2.sqrt())?;
        let _ = d.f_add_scalar_(scale * self.eps)?;
        if let Some(lr) = member_lr {
            let _ = d.f_div_(lr)?;
        }
        let _ = theta.shallow_clone().f_addcdiv_(m, &d)?;
        Ok(())
    }

    /// `update` with the step count read from the device tensor `t` (this step included), so
    /// that the same recorded kernels apply the right bias corrections on every replay.
    #[allow(clippy::too_many_arguments)]
    fn update_counted_on_device(
        &self,
        theta: &Tensor,
        g: &Tensor,
        m: &mut Tensor,
        v: &mut Tensor,
        t: &Tensor,
        lr: f64,
        member_lr: Option<&Tensor>,
    ) -> Result<()> {
        let _ = m.f_lerp_(g, 1.0 - self.beta1)?;
        let _ = v.f_lerp_(&g.f_square()?, 1.0 - self.beta2)?;
        // 1 - beta^t = 1 - exp(t ln beta), in f64 on the device.
        let correction =
            |beta: f64| -> Result<Tensor> { Ok(t.f_mul_scalar(beta.ln())?.f_exp()?.f_neg()?.f_add_scalar(1.0)?) };
        let (correction1, correction2) = (correction(self.beta1)?, correction(self.beta2)?);
        let scale = correction1.f_div_scalar(-lr)?;
        let kind = v.kind();
        let mut d = v.f_sqrt()?;
        let _ = d.f_mul_(&scale.f_div(&correction2.f_sqrt()?)?.f_to_kind(kind)?)?;
        let _ = d.f_add_(&scale.f_mul_scalar(self.eps)?.f_to_kind(kind)?)?;
        if let Some(lr) = member_lr {
            let _ = d.f_div_(lr)?;
        }
        let _ = theta.shallow_clone().f_addcdiv_(m, &d)?;
        Ok(())
    }
}

/// Adam over the trainable tensors of a var store (the MNIST classifiers), with its moments
/// exposed so that a checkpoint can hold them; libtorch's optimiser keeps its own out of
/// reach. The update is `FlatAdam`'s, one tensor at a time.
pub struct TensorAdam {
    /// (parameter, m, v), in the var store's name order.
    slots: Vec<(String, Tensor, Tensor, Tensor)>,
    steps: i32,
    /// As `FlatAdam`'s: the step count on the device while steps are recorded into a graph.
    device_steps: Option<Tensor>,
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl TensorAdam {
    pub fn new(vs: &nn::VarStore, plan: &TrainingPlan) -> Result<Self> {
        let mut named: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let mut slots = Vec::with_capacity(named.len());
        for (name, theta) in named {
            let (m, v) = (theta.f_zeros_like()?, theta.f_zeros_like()?);
            slots.push((name, theta, m, v));
        }
        Ok(Self {
            slots,
            steps: 0,
            device_steps: None,
            lr: plan.lr,
            beta1: plan.beta1,
            beta2: plan.beta2,
            eps: plan.eps,
        })
    }
}

/// Its checkpoint names the moments `adam_m.<name>` and `adam_v.<name>`, by the var store's
/// names.
impl Optimizer for TensorAdam {
    fn zero_grad(&mut self) {
        for (_, theta, _, _) in &mut self.slots {
            theta.zero_grad();
        }
    }

    /// One update of every parameter from the gradient its backward pass left.
    fn step(&mut self) -> Result<()> {
        let _guard = tch::no_grad_guard();
        self.steps += 1;
        let moments = Moments { beta1: self.beta1, beta2: self.beta2, eps: self.eps, steps: self.steps };
        if let Some(t) = &mut self.device_steps {
            let _ = t.f_add_scalar_(1.0)?;
        }
        for (_, theta, m, v) in &mut self.slots {
            let g = theta.grad();
            if g.defined() {
                match &self.device_steps {
                    Some(t) => moments.update_counted_on_device(theta, &g, m, v, t, self.lr, None)?,
                    None => moments.update(theta, &g, m, v, self.lr, None)?,
                }
            }
        }
        Ok(())
    }

    fn state(&self) -> (Vec<(String, Tensor)>, i32) {
        let mut named = Vec::with_capacity(2 * self.slots.len());
        for (name, _, m, v) in &self.slots {
            named.push((format!("adam_m.{name}"), m.shallow_clone()));
            named.push((format!("adam_v.{name}"), v.shallow_clone()));
        }
        (named, self.steps)
    }

    fn restore<'a>(&mut self, find: &dyn Fn(&str) -> Option<&'a Tensor>, steps: i32) -> Result<()> {
        let _guard = tch::no_grad_guard();
        for (name, _, m, v) in &mut self.slots {
            let (Some(saved_m), Some(saved_v)) = (find(&format!("adam_m.{name}")), find(&format!("adam_v.{name}")))
            else {
                return Err(Error::checkpoint(format!("lacks the Adam moments of `{name}`")));
            };
            m.f_copy_(saved_m)?;
            v.f_copy_(saved_v)?;
        }
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn, nn::OptimizerConfig, Device, Kind};

    /// Thirty steps on a quadratic give the same parameters as libtorch's Adam.
    #[test]
    fn matches_libtorchs_adam() {
        tch::manual_seed(5);
        let plan = TrainingPlan { batch_size: 1, lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7 };
        let widths = [3usize, 4];
        let n = ParamBuffer::len(2, &widths) as i64;
        let start = Tensor::randn([n], (Kind::Float, Device::Cpu));
        let (c, d) =
            (Tensor::rand([n], (Kind::Float, Device::Cpu)) + 0.1, Tensor::randn([n], (Kind::Float, Device::Cpu)));

        let vs = nn::VarStore::new(Device::Cpu);
        let theta = vs.root().var_copy("theta", &start);
        let mut reference = nn::Adam { beta1: plan.beta1, beta2: plan.beta2, wd: 0.0, eps: plan.eps, amsgrad: false }
            .build(&vs, plan.lr)
            .unwrap();

        let ours = ParamBuffer::over(start.copy(), 2, &widths).unwrap();
        let mut adam = FlatAdam::new(&ours, &plan).unwrap();
        for _ in 0..30 {
            let loss = (&c * theta.square() + &d * &theta).sum(Kind::Float);
            reference.zero_grad();
            loss.backward();
            reference.step();
            adam.grad.flat.shallow_clone().copy_(&(&c * &ours.flat * 2.0 + &d));
            adam.step().unwrap();
        }
        let err = f64::try_from((&ours.flat - &theta).abs().max()).unwrap();
        assert!(err < 1e-5, "flat Adam drifted from libtorch's by {err}");
        let moved = f64::try_from((&ours.flat - &start).abs().max()).unwrap();
        assert!(moved > 0.1, "parameters barely moved ({moved}): the comparison would prove nothing");
    }

    /// The step count kept as a tensor (what a CUDA graph replays) gives the host count's
    /// update to float tolerance, also when it starts mid-training (after a resume).
    #[test]
    fn counting_steps_on_the_device_gives_the_same_update() {
        tch::manual_seed(8);
        let plan = TrainingPlan { batch_size: 1, lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7 };
        let widths = [3usize, 4];
        let n = ParamBuffer::len(2, &widths) as i64;
        let start = Tensor::randn([n], (Kind::Float, Device::Cpu));
        let grads: Vec<Tensor> = (0..25).map(|_| Tensor::randn([n], (Kind::Float, Device::Cpu))).collect();
        let run = |switch_at: Option<usize>| {
            let params = ParamBuffer::over(start.copy(), 2, &widths).unwrap();
            let mut adam = FlatAdam::new(&params, &plan).unwrap();
            for (i, g) in grads.iter().enumerate() {
                if switch_at == Some(i) {
                    adam.count_on_device(true).unwrap();
                }
                adam.grad.flat.shallow_clone().copy_(g);
                adam.step().unwrap();
            }
            params.flat
        };
        let (host, device) = (run(None), run(Some(10)));
        let err = f64::try_from((&host - &device).abs().max()).unwrap();
        assert!(err < 1e-6, "device-counted Adam drifted by {err}");
        assert!(f64::try_from((&host - &start).abs().max()).unwrap() > 0.05);
    }

    /// The same for the var-store Adam the VI trainer replays: one count for all its tensors.
    #[test]
    fn tensor_adam_counting_on_the_device_gives_the_same_update() {
        tch::manual_seed(9);
        let plan = TrainingPlan { batch_size: 1, lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7 };
        let starts =
            [Tensor::randn([5], (Kind::Float, Device::Cpu)), Tensor::randn([3, 2], (Kind::Float, Device::Cpu))];
        let run = |switch_at: Option<usize>| {
            let vs = nn::VarStore::new(Device::Cpu);
            let thetas: Vec<Tensor> =
                starts.iter().enumerate().map(|(i, s)| vs.root().var_copy(&format!("p{i}"), s)).collect();
            let mut adam = TensorAdam::new(&vs, &plan).unwrap();
            for step in 0..25 {
                if switch_at == Some(step) {
                    adam.count_on_device(true).unwrap();
                }
                let loss = thetas.iter().map(|t| (t * t * (step as f64 + 1.0)).sum(Kind::Float)).sum::<Tensor>();
                adam.zero_grad();
                loss.backward();
                adam.step().unwrap();
            }
            Tensor::cat(&thetas.iter().map(|t| t.detach().flatten(0, -1)).collect::<Vec<_>>(), 0)
        };
        let (host, device) = (run(None), run(Some(7)));
        let err = f64::try_from((&host - &device).abs().max()).unwrap();
        assert!(err < 1e-6, "device-counted TensorAdam drifted by {err}");
    }

    /// TensorAdam makes libtorch's steps on a var store's tensors.
    #[test]
    fn tensor_adam_matches_libtorchs_adam() {
        tch::manual_seed(6);
        let plan = TrainingPlan { batch_size: 1, lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7 };
        let start = [Tensor::randn([5, 3], (Kind::Float, Device::Cpu)), Tensor::randn([7], (Kind::Float, Device::Cpu))];
        let targets =
            [Tensor::randn([5, 3], (Kind::Float, Device::Cpu)), Tensor::randn([7], (Kind::Float, Device::Cpu))];
        let fit = |tensor_adam: bool| -> Vec<Tensor> {
            let vs = nn::VarStore::new(Device::Cpu);
            let params: Vec<Tensor> =
                start.iter().enumerate().map(|(i, s)| vs.root().var_copy(&format!("p{i}"), s)).collect();
            let mut ours = TensorAdam::new(&vs, &plan).unwrap();
            let mut reference = libtorch_adam(&plan).build(&vs, plan.lr).unwrap();
            for _ in 0..30 {
                let loss = params
                    .iter()
                    .zip(&targets)
                    .map(|(p, t)| (p - t).square().sum(Kind::Float) + p.pow_tensor_scalar(4).sum(Kind::Float))
                    .fold(Tensor::zeros([], (Kind::Float, Device::Cpu)), |a, b| a + b);
                if tensor_adam {
                    ours.zero_grad();
                    loss.backward();
                    ours.step().unwrap();
                } else {
                    reference.zero_grad();
                    loss.backward();
                    reference.step();
                }
            }
            params.iter().map(|p| p.detach().copy()).collect()
        };
        let (a, b) = (fit(true), fit(false));
        for ((x, y), s) in a.iter().zip(&b).zip(&start) {
            let err = f64::try_from((x - y).abs().max()).unwrap();
            assert!(err < 1e-5, "TensorAdam drifted from libtorch's by {err}");
            assert!(f64::try_from((x - s).abs().max()).unwrap() > 0.1, "the parameters must move");
        }
    }

    /// Member rates step each member as a plan with that member's rate would.
    #[test]
    fn member_rates_step_each_member_at_its_own_rate() {
        let plan = |lr| TrainingPlan { batch_size: 1, lr, beta1: 0.9, beta2: 0.999, eps: 1e-7 };
        let widths = [3usize, 2];
        let n = ParamBuffer::len(2, &widths) as i64;
        let start = Tensor::randn([n], (Kind::Float, Device::Cpu));
        let grad = Tensor::randn([n], (Kind::Float, Device::Cpu));
        let both = ParamBuffer::over(start.copy(), 2, &widths).unwrap();
        let mut mixed = FlatAdam::with_member_rates(&both, &plan(1.0), &[0.1, 0.001]).unwrap();
        let fast = ParamBuffer::over(start.copy(), 2, &widths).unwrap();
        let mut fast_adam = FlatAdam::new(&fast, &plan(0.1)).unwrap();
        let slow = ParamBuffer::over(start.copy(), 2, &widths).unwrap();
        let mut slow_adam = FlatAdam::new(&slow, &plan(0.001)).unwrap();
        for _ in 0..5 {
            for adam in [&mut mixed, &mut fast_adam, &mut slow_adam] {
                adam.grad.flat.shallow_clone().copy_(&grad);
                adam.step().unwrap();
            }
        }
        for l in 0..1 {
            for (k, single) in [(0, &fast), (1, &slow)] {
                let a = both.weights[l].get(k);
                let b = single.weights[l].get(k);
                assert!(f64::try_from((&a - &b).abs().max()).unwrap() < 1e-6, "member {k} weights");
                let a = both.biases[l].get(k);
                let b = single.biases[l].get(k);
                assert!(f64::try_from((&a - &b).abs().max()).unwrap() < 1e-6, "member {k} biases");
            }
        }
    }
}
