//! Concrete dropout (Gal, Hron & Kendall 2017): MC dropout whose rates are learned by gradient
//! through a relaxed Bernoulli mask, so no grid search over p. `relaxation` holds the relaxed
//! mask and the regularizer, `train` fits the member-batched networks (rates and a
//! homoscedastic noise learned with the weights), `evaluate` scores T relaxed-mask passes,
//! `family` is the UCI family.

pub mod evaluate;
pub mod family;
pub mod relaxation;
pub mod train;

pub use family::ConcreteDropoutFamily;
pub use train::{fit, ConcreteNet, ConcreteOptions, Trained};
