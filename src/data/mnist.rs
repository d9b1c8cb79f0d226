//! MNIST in its original IDX format, gzipped under the canonical names
//! (`train-images-idx3-ubyte.gz`, ...). `tch::vision::mnist::load_dir` only reads unpacked
//! files and panics on bad ones, so this reader checks what it reads instead: the magic
//! number (2051 images, 2049 labels), the image size, the item count against the file's
//! length, that images and labels agree in count, and that labels are digits.

use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

use super::locate::DataDirs;
use crate::error::{Error, Result};

pub const SIDE: usize = 28;
pub const PIXELS: usize = SIDE * SIDE;
pub const CLASSES: usize = 10;

const IMAGES_MAGIC: u32 = 2051;
const LABELS_MAGIC: u32 = 2049;

/// Images as bytes (row-major, 28 x 28 each) with their labels.
#[derive(Debug, Clone)]
pub struct Digits {
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Digits {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i` as 784 bytes.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * PIXELS..(i + 1) * PIXELS]
    }

    /// The first `n` digits (all when `n` is larger).
    pub fn truncated(&self, n: usize) -> Digits {
        let n = n.min(self.len());
        Digits { pixels: self.pixels[..n * PIXELS].to_vec(), labels: self.labels[..n].to_vec() }
    }
}

/// The training and test parts.
#[derive(Debug, Clone)]
pub struct Mnist {
    pub train: Digits,
    pub test: Digits,
}

impl Mnist {
    /// Finds `mnist/` among the data directories and loads it.
    pub fn find_and_load(dirs: &DataDirs) -> Result<Self> {
        Self::load(&dirs.find("mnist", "mnist")?)
    }

    pub fn load(dir: &Path) -> Result<Self> {
        Ok(Self { train: load_part(dir, "train")?, test: load_part(dir, "t10k")? })
    }
}

fn load_part(dir: &Path, prefix: &str) -> Result<Digits> {
    let images_path = dir.join(format!("{prefix}-images-idx3-ubyte.gz"));
    let labels_path = dir.join(format!("{prefix}-labels-idx1-ubyte.gz"));
    let pixels = read_idx(&images_path, IMAGES_MAGIC, &[SIDE, SIDE])?;
    let labels = read_idx(&labels_path, LABELS_MAGIC, &[])?;
    if pixels.len() / PIXELS != labels.len() {
        return Err(Error::DataInvalid {
            path: images_path,
            message: format!(
                "holds {} images but {} holds {} labels; re-fetch both with `scripts/fetch-data mnist`",
                pixels.len() / PIXELS,
                labels_path.display(),
                labels.len()
            ),
        });
    }
    if let Some(i) = labels.iter().position(|&l| l as usize >= CLASSES) {
        return Err(Error::DataInvalid {
            path: labels_path,
            message: format!("label {i} is {}, not a digit 0-9; re-fetch with `scripts/fetch-data mnist`", labels[i]),
        });
    }
    Ok(Digits { pixels, labels })
}

/// Reads a gzipped IDX file of unsigned bytes and returns its items, checking the header.
/// `item_dims` are the dimensions after the count (28, 28 for images; none for labels).
pub fn read_idx(path: &Path, magic: u32, item_dims: &[usize]) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(Error::io(path))?;
    let mut bytes = Vec::new();
    GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .map_err(|e| invalid(path, format!("cannot decompress ({e}); the file is damaged or not gzip")))?;
    parse_idx(path, &bytes, magic, item_dims)
}

/// The header check and payload of an already decompressed IDX file.
pub fn parse_idx(path: &Path, bytes: &[u8], magic: u32, item_dims: &[usize]) -> Result<Vec<u8>> {
    let header_len = 4 * (2 + item_dims.len());
    if bytes.len() < header_len {
        return Err(invalid(
            path,
            format!(
                "{} bytes is shorter than the {header_len}-byte IDX header; re-fetch with `scripts/fetch-data mnist`",
                bytes.len()
            ),
        ));
    }
    let word = |i: usize| u32::from_be_bytes([bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]]);
    if word(0) != magic {
        return Err(invalid(
            path,
            format!("magic number {} where {magic} was expected; is this the right MNIST file?", word(0)),
        ));
    }
    for (i, &want) in item_dims.iter().enumerate() {
        if word(2 + i) as usize != want {
            return Err(invalid(path, format!("dimension {} is {}, expected {want}", i + 1, word(2 + i))));
        }
    }
    let count = word(1) as usize;
    let item: usize = item_dims.iter().product();
    let expected = header_len + count * item;
    if bytes.len() != expected {
        return Err(invalid(
            path,
            format!(
                "header announces {count} items ({expected} bytes) but the file holds {} bytes; it is truncated or padded, re-fetch with `scripts/fetch-data mnist`",
                bytes.len()
            ),
        ));
    }
    Ok(bytes[header_len..].to_vec())
}

fn invalid(path: &Path, message: String) -> Error {
    Error::DataInvalid { path: PathBuf::from(path), message }
}

/// Rotates a square image (row-major, side x side, values in any unit) counter-clockwise by
/// `degrees` about its centre, bilinear interpolation, zero outside — what the paper's
/// rotated-digit experiment needs. Rotations by multiples of 90 degrees move pixel centres
/// onto pixel centres, so they are exact.
pub fn rotate(image: &[f32], side: usize, degrees: f64) -> Vec<f32> {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let c = (side as f64 - 1.0) / 2.0;
    let pixel = |r: isize, col: isize| -> f64 {
        if r < 0 || col < 0 || r >= side as isize || col >= side as isize {
            0.0
        } else {
            image[r as usize * side + col as usize] as f64
        }
    };
    let mut out = vec![0f32; side * side];
    for r in 0..side {
        for col in 0..side {
            // Inverse map: where in the source does output pixel (r, col) come from?
            // Image rows grow downwards, so a counter-clockwise turn on screen uses -y.
            let (x, y) = (col as f64 - c, c - r as f64);
            let (sx, sy) = (cos * x + sin * y, -sin * x + cos * y);
            let (src_col, src_row) = (sx + c, c - sy);
            let (r0, c0) = (src_row.floor(), src_col.floor());
            let (fr, fc) = (src_row - r0, src_col - c0);
            // Snap tiny interpolation weights so exact rotations stay exact.
            let (fr, fc) = (snap(fr), snap(fc));
            let (r0, c0) = (r0 as isize, c0 as isize);
            let v = pixel(r0, c0) * (1.0 - fr) * (1.0 - fc)
                + pixel(r0, c0 + 1) * (1.0 - fr) * fc
                + pixel(r0 + 1, c0) * fr * (1.0 - fc)
                + pixel(r0 + 1, c0 + 1) * fr * fc;
            out[r * side + col] = v as f32;
        }
    }
    out
}

fn snap(f: f64) -> f64 {
    if f < 1e-9 {
        0.0
    } else if f > 1.0 - 1e-9 {
        1.0
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(side: usize) -> Vec<f32> {
        (0..side * side).map(|i| i as f32).collect()
    }

    #[test]
    fn rotating_by_zero_is_the_identity() {
        let image = ramp(SIDE);
        assert_eq!(rotate(&image, SIDE, 0.0), image);
    }

    #[test]
    fn ninety_degrees_is_transpose_then_flip() {
        let side = 5;
        let image = ramp(side);
        let rotated = rotate(&image, side, 90.0);
        // Counter-clockwise: out[r][c] = in[c][side-1-r] (transpose, then flip vertically).
        for r in 0..side {
            for c in 0..side {
                assert!((rotated[r * side + c] - image[c * side + (side - 1 - r)]).abs() < 1e-4, "({r},{c})");
            }
        }
    }

    #[test]
    fn four_quarter_turns_come_back() {
        let image = ramp(SIDE);
        let mut turned = image.clone();
        for _ in 0..4 {
            turned = rotate(&turned, SIDE, 90.0);
        }
        for (a, b) in turned.iter().zip(&image) {
            assert!((a - b).abs() < 1e-3);
        }
    }

    #[test]
    fn header_checks_name_the_problem() {
        let path = Path::new("x.gz");
        let mut bytes = vec![0, 0, 8, 1, 0, 0, 0, 3];
        bytes.extend([1, 2]);
        let err = parse_idx(path, &bytes, LABELS_MAGIC, &[]).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
        let err = parse_idx(path, &bytes, IMAGES_MAGIC, &[]).unwrap_err().to_string();
        assert!(err.contains("magic number 2049"), "{err}");
        bytes.push(3);
        assert_eq!(parse_idx(path, &bytes, LABELS_MAGIC, &[]).unwrap(), vec![1, 2, 3]);
    }
}
