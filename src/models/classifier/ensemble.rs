//! An ensemble of trained classifiers (Lakshminarayanan et al. 2017 on MNIST): its standard
//! prediction is the mean of the members' softmax outputs with dropout off, and its T
//! stochastic passes are shared out among the members (member k draws its MC dropout passes
//! with its masks), so the MC predictive is the mixture of the members' MC predictives at the
//! cost of one network's T passes.

use tch::{Kind, Tensor};

use super::classify::Classifier;
use crate::error::Result;

pub struct ClassifierEnsemble<C> {
    members: Vec<C>,
}

impl<C: Classifier> ClassifierEnsemble<C> {
    /// At least one member.
    pub fn new(members: Vec<C>) -> Self {
        assert!(!members.is_empty(), "an ensemble has members");
        Self { members }
    }

    /// How many of `samples` passes member k draws: an equal share, the first members one more
    /// when they do not divide evenly.
    pub fn passes(&self, samples: usize) -> Vec<usize> {
        let m = self.members.len();
        (0..m).map(|k| samples / m + usize::from(k < samples % m)).collect()
    }
}

impl<C: Classifier> Classifier for ClassifierEnsemble<C> {
    /// The log of the members' mean softmax output: its softmax is that mean.
    fn standard_logits(&self, images: &Tensor) -> Result<Tensor> {
        let probs = self
            .members
            .iter()
            .map(|c| Ok(c.standard_logits(images)?.f_softmax(-1, Kind::Float)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(Tensor::f_stack(&probs, 0)?.f_mean_dim(0, false, Kind::Float)?.f_log()?)
    }

    fn sample_logits(&self, images: &Tensor, samples: usize) -> Result<Tensor> {
        let parts = self
            .members
            .iter()
            .zip(self.passes(samples))
            .filter(|(_, t)| *t > 0)
            .map(|(c, t)| c.sample_logits(images, t))
            .collect::<Result<Vec<_>>>()?;
        Ok(Tensor::f_cat(&parts, 0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic classifier: the same logits for every image, and pass i of its samples
    /// adds i to them.
    struct Fixed(Vec<f32>);

    impl Classifier for Fixed {
        fn standard_logits(&self, images: &Tensor) -> Result<Tensor> {
            let n = images.size()[0];
            Ok(Tensor::from_slice(&self.0).f_view([1, -1])?.f_expand([n, -1], false)?.f_contiguous()?)
        }

        fn sample_logits(&self, images: &Tensor, samples: usize) -> Result<Tensor> {
            let passes = (0..samples)
                .map(|i| Ok(self.standard_logits(images)?.f_add_scalar(i as f64)?))
                .collect::<Result<Vec<_>>>()?;
            Ok(Tensor::f_stack(&passes, 0)?)
        }
    }

    #[test]
    fn the_standard_prediction_is_the_mean_of_the_members_softmax_outputs() {
        let ensemble = ClassifierEnsemble::new(vec![Fixed(vec![0.0, 2.0]), Fixed(vec![1.0, -1.0])]);
        let images = Tensor::zeros([3, 1, 28, 28], (Kind::Float, tch::Device::Cpu));
        let probs = ensemble.standard_logits(&images).unwrap().softmax(-1, Kind::Float);
        // softmax([0, 2]) = [0.11920, 0.88080]; softmax([1, -1]) = [0.88080, 0.11920].
        let first = Vec::<f32>::try_from(probs.get(0)).unwrap();
        assert!((first[0] - 0.5).abs() < 1e-6 && (first[1] - 0.5).abs() < 1e-6, "{first:?}");
        let single = ClassifierEnsemble::new(vec![Fixed(vec![0.0, 2.0])]);
        let p = Vec::<f32>::try_from(single.standard_logits(&images).unwrap().softmax(-1, Kind::Float).get(2)).unwrap();
        assert!((p[0] - 0.119_202_92).abs() < 1e-6, "{p:?}");
    }

    #[test]
    fn the_passes_are_shared_out_and_each_member_draws_its_own() {
        let ensemble =
            ClassifierEnsemble::new(vec![Fixed(vec![0.0, 0.0]), Fixed(vec![10.0, 10.0]), Fixed(vec![20.0, 20.0])]);
        assert_eq!(ensemble.passes(7), vec![3, 2, 2]);
        assert_eq!(ensemble.passes(2), vec![1, 1, 0]);
        let images = Tensor::zeros([1, 1, 28, 28], (Kind::Float, tch::Device::Cpu));
        let logits = ensemble.sample_logits(&images, 7).unwrap();
        assert_eq!(logits.size(), vec![7, 1, 2]);
        let first: Vec<f32> = Vec::<f32>::try_from(logits.select(2, 0).flatten(0, -1)).unwrap();
        assert_eq!(first, vec![0.0, 1.0, 2.0, 10.0, 11.0, 20.0, 21.0]);
        assert_eq!(ensemble.sample_logits(&images, 2).unwrap().size(), vec![2, 1, 2]);
    }
}
