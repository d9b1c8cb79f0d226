//! The hidden layers' nonlinearity, forward and backward, for every network that has one:
//! on device tensors (the trainers and the batched forward passes) and on host slices (the
//! mask-free CPU evaluator of MC dropout).

use tch::Tensor;

use crate::error::Result;
use crate::spec::raw::Activation;

/// `activation(z)`, elementwise.
pub fn forward(z: &Tensor, activation: Activation) -> Result<Tensor> {
    Ok(match activation {
        Activation::Relu => z.f_relu()?,
        Activation::Tanh => z.f_tanh()?,
    })
}

/// The gradient with respect to the pre-activation, given the gradient with respect to the
/// activation's `output` (both rectifier and tanh have a derivative written in their output).
pub fn backward(upstream: &Tensor, output: &Tensor, activation: Activation) -> Result<Tensor> {
    Ok(match activation {
        Activation::Relu => output.f_threshold_backward(upstream, 0.0)?,
        Activation::Tanh => Tensor::f_tanh_backward(upstream, output)?,
    })
}

/// `activation(v)` in place, on the host.
pub fn forward_host(v: &mut [f32], activation: Activation) {
    match activation {
        Activation::Relu => v.iter_mut().for_each(|z| *z = z.max(0.0)),
        Activation::Tanh => v.iter_mut().for_each(|z| *z = z.tanh()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn backward_is_autograds_and_host_forward_is_the_tensors() {
        for activation in [Activation::Relu, Activation::Tanh] {
            let z = Tensor::from_slice(&[-1.5f32, -0.2, 0.3, 2.0]).set_requires_grad(true);
            let out = forward(&z, activation).unwrap();
            let upstream = Tensor::from_slice(&[0.5f32, -1.0, 2.0, 0.25]);
            let expected = Tensor::run_backward(&[(&out * &upstream).sum(Kind::Float)], &[&z], false, false);
            let got = backward(&upstream, &out.detach(), activation).unwrap();
            assert!(got.allclose(&expected[0], 1e-6, 1e-6, false), "{activation:?}");
            let mut host: Vec<f32> = Vec::try_from(&z.detach().to_device(Device::Cpu)).unwrap();
            forward_host(&mut host, activation);
            let device: Vec<f32> = Vec::try_from(&out.detach()).unwrap();
            // libtorch's vectorized tanh and the scalar one may differ in the last bit.
            assert!(
                host.iter().zip(&device).all(|(h, d)| (h - d).abs() <= 1e-6),
                "{activation:?}: {host:?} {device:?}"
            );
        }
    }
}
