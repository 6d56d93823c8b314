//! Weight initialisation schemes (the course's `init_weights`). Biases always
//! start at zero (Keras' default); weights are drawn in row-major
//! (input, unit) order from the network's own seeded ChaCha stream, so a seed
//! fixes them on every machine.

use crate::error::{Error, Result};
use crate::scalar::Real;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

/// How a Dense layer's weights are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// Glorot/Xavier uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)). Keras' default.
    #[default]
    GlorotUniform,
    /// He normal: N(0, 2 / fan_in), for ReLU layers.
    HeNormal,
    /// U(-a, a) for a given a.
    Uniform(f64),
    /// N(0, σ²) for a given σ.
    Normal(f64),
}

impl Init {
    /// Checks the scheme's parameter.
    pub fn validate(&self) -> Result<()> {
        match *self {
            // U(-a, a) needs a finite width 2a.
            Init::Uniform(a) | Init::Normal(a) if !(a > 0.0 && (2.0 * a).is_finite()) => {
                Err(Error::InvalidHyperparameter {
                    name: "init scale",
                    value: a,
                    rule: "must be a positive number below 8.9e307",
                })
            }
            _ => Ok(()),
        }
    }

    /// Fills `w` (fan_in × fan_out values, row-major) from `rng`. An invalid
    /// scale ([`Self::validate`]) or a zero fan size is an error.
    pub fn fill<F: Real>(&self, w: &mut [F], fan_in: usize, fan_out: usize, rng: &mut ChaCha8Rng) -> Result<()> {
        self.validate()?;
        if fan_in == 0 || fan_out == 0 {
            let value = fan_in.min(fan_out) as f64;
            return Err(Error::InvalidHyperparameter { name: "fan size", value, rule: "must be at least 1" });
        }
        let normal = |sd: f64, w: &mut [F], rng: &mut ChaCha8Rng| {
            let d = Normal::new(0.0, sd).map_err(|_| Error::InvalidHyperparameter {
                name: "init standard deviation",
                value: sd,
                rule: "must be a positive number",
            })?;
            w.iter_mut().for_each(|v| *v = F::of(d.sample(rng)));
            Ok(())
        };
        match *self {
            Init::GlorotUniform => {
                let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
                w.iter_mut().for_each(|v| *v = F::of(rng.random_range(-a..a)));
            }
            Init::Uniform(a) => w.iter_mut().for_each(|v| *v = F::of(rng.random_range(-a..a))),
            Init::HeNormal => return normal((2.0 / fan_in as f64).sqrt(), w, rng),
            Init::Normal(sd) => return normal(sd, w, rng),
        }
        Ok(())
    }
}
