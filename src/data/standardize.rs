//! Row-major matrices of f64 and the per-column standardization of the UCI protocol:
//! mean and population std (ddof 0, as numpy's default in the reference code) computed on
//! the training rows only; a zero std becomes 1 so constant columns pass through.

/// A dense row-major matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub values: Vec<f64>,
}

impl Matrix {
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }

    /// The rows at `indices`, in that order.
    pub fn select_rows(&self, indices: &[usize]) -> Matrix {
        let mut values = Vec::with_capacity(indices.len() * self.cols);
        for &i in indices {
            values.extend_from_slice(self.row(i));
        }
        Matrix { rows: indices.len(), cols: self.cols, values }
    }
}

/// Column means and standard deviations fitted on training data.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Fits per-column mean and population std; zero std is replaced by 1.
    pub fn fit(m: &Matrix) -> Self {
        let n = m.rows.max(1) as f64;
        let mut mean = vec![0.0; m.cols];
        for i in 0..m.rows {
            for (acc, v) in mean.iter_mut().zip(m.row(i)) {
                *acc += v;
            }
        }
        mean.iter_mut().for_each(|v| *v /= n);
        let mut var = vec![0.0; m.cols];
        for i in 0..m.rows {
            for ((acc, v), mu) in var.iter_mut().zip(m.row(i)).zip(&mean) {
                *acc += (v - mu) * (v - mu);
            }
        }
        let std = var.iter().map(|v| (v / n).sqrt()).map(|s| if s == 0.0 { 1.0 } else { s }).collect();
        Self { mean, std }
    }

    /// Fits a single column (the target).
    pub fn fit_vector(y: &[f64]) -> Self {
        Self::fit(&Matrix { rows: y.len(), cols: 1, values: y.to_vec() })
    }

    pub fn transform(&self, m: &Matrix) -> Matrix {
        let mut values = m.values.clone();
        for row in values.chunks_mut(m.cols) {
            for ((v, mu), sd) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - mu) / sd;
            }
        }
        Matrix { rows: m.rows, cols: m.cols, values }
    }

    pub fn transform_vector(&self, y: &[f64]) -> Vec<f64> {
        y.iter().map(|v| (v - self.mean[0]) / self.std[0]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardizes_with_population_std_and_keeps_constant_columns() {
        let m = Matrix { rows: 3, cols: 2, values: vec![1.0, 5.0, 2.0, 5.0, 3.0, 5.0] };
        let s = Standardizer::fit(&m);
        assert_eq!(s.mean, vec![2.0, 5.0]);
        assert!((s.std[0] - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(s.std[1], 1.0);
        let t = s.transform(&m);
        assert!((t.values[0] + 1.224744871391589).abs() < 1e-12);
        assert_eq!(t.values[1], 0.0);
    }
}
