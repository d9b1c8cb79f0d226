//! Seeds and per-member random streams.
//!
//! Every trained network ("member") owns a random stream derived from the spec's root seed and
//! what identifies the member (data set, split, phase, hyper-parameters). Its initial weights,
//! its data order and its dropout masks all come from that stream, so a member gets the same
//! numbers whether it trains alone or batched with others, and whatever subset of splits a
//! run selects. The masks are drawn on the host: with the smallest rates of the UCI grid,
//! skipping straight to the next dropped unit (geometric gaps) costs O(p n) draws instead of
//! O(n); above that, one 64-bit draw decides two units.

use rand_xoshiro::rand_core::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use sha2::{Digest, Sha256};

/// The random stream of one member.
pub type MemberRng = Xoshiro256PlusPlus;

/// A 64-bit seed from the root seed and a path of labels, stable across versions and platforms.
pub fn derive_seed(root: u64, labels: &[&str]) -> u64 {
    let mut h = Sha256::new();
    h.update(root.to_le_bytes());
    for label in labels {
        h.update((label.len() as u64).to_le_bytes());
        h.update(label.as_bytes());
    }
    let digest = h.finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("sha256 has 32 bytes"))
}

pub fn member_rng(seed: u64) -> MemberRng {
    MemberRng::seed_from_u64(seed)
}

/// Uniform in [0, 1) with 53 random bits.
pub fn uniform(rng: &mut MemberRng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform in (0, 1]: safe to take the logarithm of.
fn uniform_open0(rng: &mut MemberRng) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform integer in [0, n) by Lemire's multiply-shift (bias below 2^-64 n, irrelevant here).
pub fn below(rng: &mut MemberRng, n: usize) -> usize {
    ((rng.next_u64() as u128 * n as u128) >> 64) as usize
}

/// Fisher-Yates shuffle.
pub fn shuffle<T>(rng: &mut MemberRng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i + 1);
        items.swap(i, j);
    }
}

/// Fills `out` with an inverted-dropout mask: each entry is 0 with probability `p`, else
/// 1 / (1 - p), so that multiplying by it is dropout at train time and the identity in
/// expectation.
pub fn fill_dropout_mask(rng: &mut MemberRng, p: f64, out: &mut [f32]) {
    out.fill((1.0 / (1.0 - p)) as f32);
    DropStream::new(rng, p).for_each_drop(out.len(), |i| out[i] = 0.0);
}

/// A Bernoulli(p) process over a sequence of units, read segment by segment: which units of
/// the next `len` are dropped. State carries over between segments, so reading a sample's
/// layers row by row costs no extra draws.
pub struct DropStream<'a> {
    rng: &'a mut MemberRng,
    p: f64,
    /// Pair path: a unit drops when its 32-bit draw is below this (p exact to 2^-32).
    threshold: u64,
    /// Pair path: the unused half of the last 64-bit draw.
    spare: Option<u64>,
    /// Geometric path: ln(1 - p), and kept units left before the next drop.
    log_keep: f64,
    until_drop: u64,
}

impl<'a> DropStream<'a> {
    pub fn new(rng: &'a mut MemberRng, p: f64) -> Self {
        let p = if crate::mutation::active(crate::mutation::Mutation::DropoutTwiceP) { (2.0 * p).min(1.0) } else { p };
        let mut stream = Self {
            rng,
            p,
            threshold: (p * 4_294_967_296.0).round() as u64,
            spare: None,
            log_keep: (1.0 - p).ln(),
            until_drop: 0,
        };
        if p > 0.0 && p <= GEOMETRIC_BELOW {
            stream.until_drop = stream.gap();
        }
        stream
    }

    /// Kept units before the next drop: Geometric(p) = floor(ln U / ln(1 - p)), U in (0, 1].
    fn gap(&mut self) -> u64 {
        (uniform_open0(self.rng).ln() / self.log_keep).floor().min(u64::MAX as f64 / 2.0) as u64
    }

    /// Calls `dropped(i)` for every dropped unit among the next `len`, `i` counted from the
    /// start of this segment, in increasing order.
    pub fn for_each_drop(&mut self, len: usize, mut dropped: impl FnMut(usize)) {
        if self.p <= 0.0 {
            return;
        }
        if self.p > GEOMETRIC_BELOW {
            // One 64-bit draw decides two units.
            for i in 0..len {
                let bits = match self.spare.take() {
                    Some(bits) => bits,
                    None => {
                        let r = self.rng.next_u64();
                        self.spare = Some(r >> 32);
                        r & 0xFFFF_FFFF
                    }
                };
                if bits < self.threshold {
                    dropped(i);
                }
            }
            return;
        }
        // Skip straight to the next dropped unit: one logarithm per drop, not a draw per unit.
        let mut i = 0u64;
        let len = len as u64;
        while self.until_drop < len - i {
            i += self.until_drop;
            dropped(i as usize);
            i += 1;
            self.until_drop = self.gap();
        }
        self.until_drop -= len - i;
    }
}

/// Above this rate a draw per unit pair is cheaper than a logarithm per dropped unit
/// (measured with `mcdrop bench uci`).
const GEOMETRIC_BELOW: f64 = 0.03;

/// Fills `out` with independent standard normal draws (ziggurat, from rand_distr).
pub fn fill_standard_normal(rng: &mut MemberRng, out: &mut [f32]) {
    use rand_distr::{Distribution, StandardNormal};
    for v in out.iter_mut() {
        *v = StandardNormal.sample(rng);
    }
}

/// Glorot-uniform initial weights (Keras' Dense default, as in the reference code).
pub fn glorot_uniform(rng: &mut MemberRng, fan_in: usize, fan_out: usize, out: &mut [f32]) {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    for v in out.iter_mut() {
        *v = ((2.0 * uniform(rng) - 1.0) * limit) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_seeds_differ_by_label_and_are_stable() {
        let a = derive_seed(1, &["yacht", "0"]);
        assert_eq!(a, derive_seed(1, &["yacht", "0"]));
        assert_ne!(a, derive_seed(1, &["yacht", "1"]));
        assert_ne!(a, derive_seed(2, &["yacht", "0"]));
        // Label boundaries matter: ("ab","c") is not ("a","bc").
        assert_ne!(derive_seed(1, &["ab", "c"]), derive_seed(1, &["a", "bc"]));
    }

    #[test]
    fn dropout_mask_has_the_right_rate_and_scale() {
        for &p in &[0.005, 0.01, 0.05, 0.1, 0.5] {
            let mut rng = member_rng(7);
            let mut mask = vec![0f32; 400_000];
            fill_dropout_mask(&mut rng, p, &mut mask);
            let dropped = mask.iter().filter(|&&v| v == 0.0).count() as f64 / mask.len() as f64;
            let sd = (p * (1.0 - p) / mask.len() as f64).sqrt();
            assert!((dropped - p).abs() < 5.0 * sd, "p={p}: dropped {dropped}");
            let keep = (1.0 / (1.0 - p)) as f32;
            assert!(mask.iter().all(|&v| v == 0.0 || v == keep));
            // Mean of an inverted-dropout mask is 1.
            let mean = mask.iter().map(|&v| v as f64).sum::<f64>() / mask.len() as f64;
            assert!((mean - 1.0).abs() < 6.0 * sd / (1.0 - p), "p={p}: mean {mean}");
        }
    }

    #[test]
    fn neighbouring_units_drop_independently() {
        // Consecutive drops must occur with probability p^2, as for independent units, on
        // both sampling paths (geometric gaps below GEOMETRIC_BELOW, pairs of draws above).
        for p in [0.02, 0.1] {
            let mut rng = member_rng(3);
            let mut mask = vec![0f32; 2_000_000];
            fill_dropout_mask(&mut rng, p, &mut mask);
            let pairs = mask.windows(2).filter(|w| w[0] == 0.0 && w[1] == 0.0).count() as f64;
            let expected = p * p * (mask.len() - 1) as f64;
            assert!((pairs - expected).abs() < 5.0 * expected.sqrt(), "p={p}: {pairs} vs {expected}");
        }
    }

    #[test]
    fn a_stream_read_in_segments_drops_the_same_units_as_read_at_once() {
        for p in [0.0, 0.005, 0.05, 0.3] {
            let whole: Vec<usize> = {
                let mut rng = member_rng(5);
                let mut drops = Vec::new();
                DropStream::new(&mut rng, p).for_each_drop(10_000, |i| drops.push(i));
                drops
            };
            let mut rng = member_rng(5);
            let mut stream = DropStream::new(&mut rng, p);
            let mut pieces = Vec::new();
            let mut offset = 0;
            // Even segment lengths keep the pair path's draws aligned with the whole read.
            for len in [2usize, 50, 4, 944, 9000] {
                stream.for_each_drop(len, |i| pieces.push(offset + i));
                offset += len;
            }
            assert_eq!(pieces, whole, "p = {p}");
            assert_eq!(whole.is_empty(), p == 0.0);
        }
    }

    #[test]
    fn standard_normals_have_mean_zero_and_unit_variance() {
        let mut rng = member_rng(13);
        let mut v = vec![0f32; 200_000];
        fill_standard_normal(&mut rng, &mut v);
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 5.0 / n.sqrt(), "mean {mean}");
        assert!((var - 1.0).abs() < 5.0 * (2.0 / n).sqrt(), "variance {var}");
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = member_rng(11);
        let mut v: Vec<usize> = (0..1000).collect();
        shuffle(&mut rng, &mut v);
        assert_ne!(v, (0..1000).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..1000).collect::<Vec<_>>());
    }
}
