//! The MNIST image classifiers behind one interface (`classify`): the paper's dropout LeNet
//! (`lenet`) and the mean-field variational MLP, trained by `image_classifier`, and an
//! ensemble of trained ones (`ensemble`).

pub mod classify;
pub mod ensemble;
pub mod image_classifier;
pub mod lenet;

pub use classify::{predictive_probabilities, Classifier};
pub use ensemble::ClassifierEnsemble;
pub use image_classifier::{fit, ClassifierFit, ImageClassifier, ImageSet};
pub use lenet::{HeadDropout, LeNet};
