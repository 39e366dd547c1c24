//! Reading NumPy `.npy` files: Hessians, covariances, centres and per-sample gradients exported from a real
//! network (issue 13; the noise models N2/N3 and the quadratic saddle of math spec §1, §3).
//!
//! The file format is parsed by the `npyz` crate; this module adds what a simulation needs on top of it:
//!
//! - dtypes float64 and float32 (either byte order), converted to f64; anything else is rejected with the
//!   `astype` call that fixes it;
//! - C and Fortran order, always returned **row-major** (C order): entry (i, j) of an r×c matrix is
//!   `data[i*c + j]`, as everywhere in the crate (see [`crate::linalg`]);
//! - checks with messages that name the file, say what is wrong and how to fix it: not an `.npy` file,
//!   truncated data, wrong rank or shape, NaN/±inf entries (with the first offending index), a non-symmetric
//!   matrix where a Hessian or covariance is expected (with the worst pair and the tolerance), a covariance
//!   with a negative variance.
//!
//! Errors are [`Error::Model`] with the file as `file` (the data files are named by the model file), except
//! that a file that cannot be opened is [`Error::Io`]. Reading happens once, before a simulation, so this
//! module allocates freely.

use crate::error::{Error, Result};
use npyz::{DType, NpyFile, Order, TypeChar, WriteOptions, WriterBuilder};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::Path;

/// Default relative tolerance of the symmetry check in [`read_symmetric`] and [`read_covariance`]:
/// |A_ij − A_ji| ≤ `DEFAULT_SYMMETRY_RTOL` · max_kl |A_kl|. Loose enough for a float32 export of a Hessian
/// assembled from autograd Hessian–vector products (asymmetry ~1e−7…1e−6 relative), tight enough to catch a
/// transposed block or a non-Hessian.
pub const DEFAULT_SYMMETRY_RTOL: f64 = 1e-5;

/// An array read from an `.npy` file, converted to f64 and to row-major (C) order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape as written in the file, e.g. `[40, 40]`; `[]` for a 0-d array.
    pub shape: Vec<usize>,
    /// The entries in row-major order (last index fastest), whatever the file's order.
    pub data: Vec<f64>,
    /// The dtype string as in the file, e.g. `<f8` or `<f4`.
    pub dtype: String,
    /// Whether the file stored the data in Fortran (column-major) order.
    pub fortran_order: bool,
}

/// A dense row-major matrix read from a file: entry (i, j) is `data[i*cols + j]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// The entries, row-major, length rows·cols.
    pub data: Vec<f64>,
}

impl Matrix {
    /// Row i as a slice.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
}

/// An [`Error::Model`] for the data file `path` (no key or line: the caller, which knows the model-file key
/// that named the file, re-locates it; see `setup::model`).
fn bad(path: &str, message: impl Into<String>, fix: impl Into<String>) -> Error {
    Error::Model {
        file: path.to_string(),
        key: None,
        line: None,
        message: message.into(),
        fix: fix.into(),
    }
}

fn shape_str(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Reads an `.npy` file of float64 or float32 values in C or Fortran order. See the module documentation for
/// the errors.
pub fn read(path: impl AsRef<Path>) -> Result<NpyArray> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| Error::Io {
        path: name.clone(),
        source,
    })?;
    read_from(BufReader::new(file), &name)
}

/// Like [`read`], from bytes already in memory; `name` labels the errors.
pub fn parse(bytes: &[u8], name: &str) -> Result<NpyArray> {
    read_from(bytes, name)
}

fn read_from(mut r: impl Read, name: &str) -> Result<NpyArray> {
    let mut magic = [0u8; 6];
    if r.read_exact(&mut magic).is_err() || &magic != b"\x93NUMPY" {
        return Err(bad(
            name,
            "not an .npy file (it does not start with the \\x93NUMPY magic)",
            "save arrays with numpy.save(path, a); .npz archives, text and pickle files are not read",
        ));
    }
    let npy = NpyFile::new(std::io::Read::chain(&magic[..], r)).map_err(|e| {
        bad(
            name,
            format!("the .npy header cannot be parsed ({e})"),
            "re-save the array with numpy.save",
        )
    })?;
    let shape: Vec<usize> = npy.shape().iter().map(|&n| n as usize).collect();
    let fortran_order = npy.order() == Order::Fortran;
    let dtype = npy.dtype();
    let (dtype_str, size) = match &dtype {
        DType::Plain(ts) if ts.type_char() == TypeChar::Float && (ts.size_field() == 8 || ts.size_field() == 4) => {
            (ts.to_string(), ts.size_field())
        }
        DType::Plain(ts) => {
            return Err(bad(
                name,
                format!("dtype {ts} is not supported: only float64 and float32 are read"),
                "save with numpy.save(path, a.astype(numpy.float64))",
            ));
        }
        _ => {
            return Err(bad(
                name,
                "a structured or record dtype is not supported",
                "save a plain float64 array, e.g. numpy.save(path, numpy.asarray(a, dtype=numpy.float64))",
            ));
        }
    };
    let n: usize = shape.iter().product();
    let truncated = |e: std::io::Error| {
        bad(
            name,
            format!(
                "the data of this {} {dtype_str} array cannot be read ({e}): the file is truncated or corrupt",
                shape_str(&shape)
            ),
            "re-save it with numpy.save",
        )
    };
    let wrong = |e: npyz::DTypeError| {
        bad(
            name,
            format!("dtype {dtype_str}: {e}"),
            "save with numpy.save(path, a.astype(numpy.float64))",
        )
    };
    let mut data = Vec::with_capacity(n);
    if size == 8 {
        for v in npy.data::<f64>().map_err(wrong)? {
            data.push(v.map_err(truncated)?);
        }
    } else {
        for v in npy.data::<f32>().map_err(wrong)? {
            data.push(f64::from(v.map_err(truncated)?));
        }
    }
    if fortran_order && shape.len() >= 2 {
        data = fortran_to_c(&data, &shape);
    }
    Ok(NpyArray {
        shape,
        data,
        dtype: dtype_str,
        fortran_order,
    })
}

/// Reorders column-major data (first index fastest) into row-major (last index fastest).
fn fortran_to_c(f: &[f64], shape: &[usize]) -> Vec<f64> {
    let k = shape.len();
    let mut c = vec![0.0; f.len()];
    let mut idx = vec![0usize; k];
    // Column-major strides.
    let mut fstride = vec![1usize; k];
    for a in 1..k {
        fstride[a] = fstride[a - 1] * shape[a - 1];
    }
    for out in c.iter_mut() {
        let off: usize = idx.iter().zip(&fstride).map(|(i, s)| i * s).sum();
        *out = f[off];
        // Advance the row-major multi-index (last fastest).
        for a in (0..k).rev() {
            idx[a] += 1;
            if idx[a] < shape[a] {
                break;
            }
            idx[a] = 0;
        }
    }
    c
}

/// Rejects NaN and ±inf, naming the first bad entry by its index.
fn check_finite(name: &str, a: &NpyArray, what: &str) -> Result<()> {
    let bad_count = a.data.iter().filter(|v| !v.is_finite()).count();
    if let Some(k) = a.data.iter().position(|v| !v.is_finite()) {
        let mut idx = vec![0usize; a.shape.len()];
        let mut rest = k;
        for ax in (0..a.shape.len()).rev() {
            idx[ax] = rest % a.shape[ax];
            rest /= a.shape[ax];
        }
        let at = idx.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
        return Err(bad(
            name,
            format!(
                "the {what} has {bad_count} non-finite entr{} (the first, at [{at}], is {})",
                if bad_count == 1 { "y" } else { "ies" },
                a.data[k]
            ),
            "export it from a point where the network's loss and gradients are finite (check numpy.isfinite(a).all())",
        ));
    }
    Ok(())
}

/// Reads a vector (a centre x₀ or a parameter vector θ): shape `(d,)`, or `(d, 1)` / `(1, d)`, all finite.
/// With `dim = Some(d)` the length must be d.
pub fn read_vector(path: impl AsRef<Path>, dim: Option<usize>) -> Result<Vec<f64>> {
    let name = path.as_ref().display().to_string();
    let a = read(path)?;
    vector_from(&name, a, dim)
}

fn vector_from(name: &str, a: NpyArray, dim: Option<usize>) -> Result<Vec<f64>> {
    let len = match a.shape[..] {
        [n] | [n, 1] | [1, n] => n,
        _ => {
            return Err(bad(
                name,
                format!("expected a vector of shape (d,), found shape {}", shape_str(&a.shape)),
                "save a 1-D array, e.g. numpy.save(path, a.ravel())",
            ));
        }
    };
    if let Some(d) = dim
        && len != d
    {
        return Err(bad(
            name,
            format!("expected a vector of length {d} (the landscape's dimension), found {len} entries"),
            "export the vector of the same network (one entry per parameter)",
        ));
    }
    check_finite(name, &a, "vector")?;
    Ok(a.data)
}

/// Reads a symmetric d×d matrix (a Hessian): shape `(d, d)`, all finite, and
/// |A_ij − A_ji| ≤ `rtol` · max_kl |A_kl| for all i, j (use [`DEFAULT_SYMMETRY_RTOL`]). Returns the
/// symmetrised matrix (A + Aᵀ)/2, row-major, so that later eigen-decompositions see an exactly symmetric
/// matrix. With `dim = Some(d)` the size must be d. `what` names the matrix in messages ("Hessian").
pub fn read_symmetric(path: impl AsRef<Path>, what: &str, rtol: f64, dim: Option<usize>) -> Result<Matrix> {
    let name = path.as_ref().display().to_string();
    let a = read(path)?;
    symmetric_from(&name, a, what, rtol, dim)
}

fn symmetric_from(name: &str, a: NpyArray, what: &str, rtol: f64, dim: Option<usize>) -> Result<Matrix> {
    if !(rtol.is_finite() && rtol >= 0.0) {
        return Err(Error::invalid(
            "symmetry_rtol",
            rtol,
            "the symmetry tolerance must be a finite number ≥ 0, e.g. 1e-5",
        ));
    }
    let d = match a.shape[..] {
        [r, c] if r == c => r,
        _ => {
            return Err(bad(
                name,
                format!(
                    "a {what} must be a square matrix of shape (d, d), found shape {}",
                    shape_str(&a.shape)
                ),
                format!("save the d×d {what} itself, e.g. numpy.save(path, a.reshape(d, d))"),
            ));
        }
    };
    if let Some(want) = dim
        && d != want
    {
        return Err(bad(
            name,
            format!("expected a {want}×{want} {what} (the landscape's dimension), found {d}×{d}"),
            "export every file of one model from the same network (same number of parameters d)",
        ));
    }
    check_finite(name, &a, what)?;
    let scale = a.data.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut worst = (0.0f64, 0, 0);
    for i in 0..d {
        for j in (i + 1)..d {
            let diff = (a.data[i * d + j] - a.data[j * d + i]).abs();
            if diff > worst.0 {
                worst = (diff, i, j);
            }
        }
    }
    let (diff, i, j) = worst;
    if diff > rtol * scale {
        return Err(bad(
            name,
            format!(
                "the {what} is not symmetric: A[{i}, {j}] = {} but A[{j}, {i}] = {} (|difference| = {diff:.3e} > \
                 {rtol:.1e} × max|A| = {:.3e})",
                a.data[i * d + j],
                a.data[j * d + i],
                rtol * scale
            ),
            format!("export (A + A.T) / 2, or check that the file holds a {what}"),
        ));
    }
    let mut data = a.data;
    for i in 0..d {
        for j in (i + 1)..d {
            let m = 0.5 * (data[i * d + j] + data[j * d + i]);
            data[i * d + j] = m;
            data[j * d + i] = m;
        }
    }
    Ok(Matrix { rows: d, cols: d, data })
}

/// Reads a covariance matrix Σ₁ (noise N3 from a file): as [`read_symmetric`], and every variance Σ_ii ≥ 0.
/// (Positive semi-definiteness beyond the diagonal is checked where Σ^{1/2} is formed, which needs the
/// eigen-decomposition anyway.)
pub fn read_covariance(path: impl AsRef<Path>, rtol: f64, dim: Option<usize>) -> Result<Matrix> {
    let name = path.as_ref().display().to_string();
    let a = read(path)?;
    covariance_from(&name, a, rtol, dim)
}

fn covariance_from(name: &str, a: NpyArray, rtol: f64, dim: Option<usize>) -> Result<Matrix> {
    let m = symmetric_from(name, a, "covariance", rtol, dim)?;
    let d = m.rows;
    if let Some(i) = (0..d).find(|&i| m.data[i * d + i] < 0.0) {
        return Err(bad(
            name,
            format!(
                "a covariance has variances ≥ 0 on its diagonal, but Σ[{i}, {i}] = {}",
                m.data[i * d + i]
            ),
            "check that the file holds Σ₁ = (1/N) Σᵢ (∇fᵢ − g)(∇fᵢ − g)ᵀ and not a Hessian",
        ));
    }
    Ok(m)
}

/// Reads per-sample gradients G (noise N2 from a file): shape `(N, d)` with one row ∇fᵢ per sample, N ≥ 1,
/// all finite. With `dim = Some(d)` the number of columns must be d; a `(d, N)` file is reported as
/// transposed.
pub fn read_gradients(path: impl AsRef<Path>, dim: Option<usize>) -> Result<Matrix> {
    let name = path.as_ref().display().to_string();
    let a = read(path)?;
    gradients_from(&name, a, dim)
}

fn gradients_from(name: &str, a: NpyArray, dim: Option<usize>) -> Result<Matrix> {
    let (rows, cols) = match a.shape[..] {
        [r, c] if r >= 1 && c >= 1 => (r, c),
        _ => {
            return Err(bad(
                name,
                format!(
                    "per-sample gradients must be a matrix of shape (N, d), one row per sample, found shape {}",
                    shape_str(&a.shape)
                ),
                "stack the N per-sample gradients as rows: numpy.save(path, numpy.stack(grads))",
            ));
        }
    };
    if let Some(d) = dim
        && cols != d
    {
        let hint = if rows == d {
            "the file looks transposed: save G.T so that each row is one sample's gradient"
        } else {
            "export the gradients of the same network (one column per parameter)"
        };
        return Err(bad(
            name,
            format!(
                "per-sample gradients need d = {d} columns (the landscape's dimension), found shape {}",
                shape_str(&a.shape)
            ),
            hint,
        ));
    }
    check_finite(name, &a, "gradient matrix")?;
    Ok(Matrix {
        rows,
        cols,
        data: a.data,
    })
}

/// Writes `data` (row-major, length = product of `shape`) as a little-endian float64 `.npy` file in C order,
/// readable by `numpy.load`.
pub fn write(path: impl AsRef<Path>, shape: &[usize], data: &[f64]) -> Result<()> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let n: usize = shape.iter().product();
    if n != data.len() {
        return Err(Error::Dimension {
            key: format!("{name} (shape {})", shape_str(shape)),
            expected: n,
            found: data.len(),
        });
    }
    let io = |source| Error::Io {
        path: name.clone(),
        source,
    };
    let file = File::create(path).map_err(io)?;
    let shape64: Vec<u64> = shape.iter().map(|&s| s as u64).collect();
    let mut w = WriteOptions::<f64>::new()
        .default_dtype()
        .shape(&shape64)
        .writer(BufWriter::new(file))
        .begin_nd()
        .map_err(io)?;
    w.extend(data.iter().copied()).map_err(io)?;
    w.finish().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built version-1.0 `.npy` file: header dict padded with spaces to a multiple of 64 bytes.
    fn npy_bytes(descr: &str, fortran: bool, shape: &str, payload: &[u8]) -> Vec<u8> {
        let dict = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        let unpadded = 10 + dict.len() + 1;
        let pad = (64 - unpadded % 64) % 64;
        let header = format!("{dict}{}\n", " ".repeat(pad));
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(payload);
        out
    }

    fn f64_le(v: &[f64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn fortran_order_is_transposed_to_row_major() {
        // A = [[1, 2, 3], [4, 5, 6]] stored column-major: 1 4 2 5 3 6.
        let b = npy_bytes("<f8", true, "(2, 3)", &f64_le(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]));
        let a = parse(&b, "a.npy").unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert!(a.fortran_order);
        assert_eq!(a.data, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn fortran_order_three_dimensional() {
        // Entry (i, j, k) = 100 i + 10 j + k with shape (2, 3, 4); column-major offset i + 2 j + 6 k.
        let shape = [2usize, 3, 4];
        let mut f = vec![0.0; 24];
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    f[i + 2 * j + 6 * k] = (100 * i + 10 * j + k) as f64;
                }
            }
        }
        let c = fortran_to_c(&f, &shape);
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..4 {
                    assert_eq!(c[i * 12 + j * 4 + k], (100 * i + 10 * j + k) as f64);
                }
            }
        }
    }

    #[test]
    fn big_endian_and_float32_are_converted() {
        let be: Vec<u8> = [1.5f64, -2.25].iter().flat_map(|x| x.to_be_bytes()).collect();
        let a = parse(&npy_bytes(">f8", false, "(2,)", &be), "be.npy").unwrap();
        assert_eq!(a.data, vec![1.5, -2.25]);
        let f4: Vec<u8> = [0.1f32, 3.0].iter().flat_map(|x| x.to_le_bytes()).collect();
        let a = parse(&npy_bytes("<f4", false, "(2,)", &f4), "f4.npy").unwrap();
        assert_eq!(a.data, vec![f64::from(0.1f32), 3.0]);
        assert_eq!(a.dtype, "<f4");
    }

    #[test]
    fn integer_dtype_is_rejected_with_the_fix() {
        let b = npy_bytes("<i8", false, "(2,)", &[0u8; 16]);
        let e = parse(&b, "int.npy").unwrap_err().to_string();
        assert!(e.starts_with("int.npy: dtype <i8 is not supported"), "{e}");
        assert!(e.contains("astype(numpy.float64)"), "{e}");
    }

    #[test]
    fn not_npy_and_truncated_files_are_named() {
        let e = parse(b"1.0,2.0\n", "h.csv").unwrap_err().to_string();
        assert!(e.starts_with("h.csv: not an .npy file"), "{e}");
        let mut b = npy_bytes("<f8", false, "(3,)", &f64_le(&[1.0, 2.0, 3.0]));
        b.truncate(b.len() - 4);
        let e = parse(&b, "t.npy").unwrap_err().to_string();
        assert!(e.contains("truncated or corrupt"), "{e}");
    }

    #[test]
    fn non_finite_entry_is_located() {
        let b = npy_bytes("<f8", false, "(2, 2)", &f64_le(&[1.0, 0.0, f64::NAN, 1.0]));
        let a = parse(&b, "h.npy").unwrap();
        let e = symmetric_from("h.npy", a, "Hessian", 1e-5, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("1 non-finite entry (the first, at [1, 0], is NaN)"), "{e}");
    }

    #[test]
    fn asymmetry_is_reported_with_the_worst_pair_and_within_tolerance_symmetrised() {
        let b = npy_bytes("<f8", false, "(2, 2)", &f64_le(&[2.0, 1.0, 1.1, -1.0]));
        let e = symmetric_from("h.npy", parse(&b, "h.npy").unwrap(), "Hessian", 1e-5, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not symmetric: A[0, 1] = 1 but A[1, 0] = 1.1"), "{e}");
        // Within tolerance (relative 1e-7 of max|A| = 2), the result is exactly symmetric.
        let b = npy_bytes("<f8", false, "(2, 2)", &f64_le(&[2.0, 1.0, 1.0 + 2e-7, -1.0]));
        let m = symmetric_from("h.npy", parse(&b, "h.npy").unwrap(), "Hessian", 1e-5, Some(2)).unwrap();
        assert_eq!(m.data[1], m.data[2]);
        assert!((m.data[1] - (1.0 + 1e-7)).abs() < 1e-15, "{}", m.data[1]);
    }

    #[test]
    fn shapes_are_checked_against_the_dimension() {
        let sq = || {
            parse(
                &npy_bytes("<f8", false, "(2, 2)", &f64_le(&[1.0, 0.0, 0.0, 1.0])),
                "s.npy",
            )
            .unwrap()
        };
        let e = symmetric_from("s.npy", sq(), "Hessian", 1e-5, Some(3))
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected a 3×3 Hessian"), "{e}");
        let e = vector_from("s.npy", sq(), None).unwrap_err().to_string();
        assert!(e.contains("expected a vector of shape (d,), found shape (2, 2)"), "{e}");
        let v = parse(&npy_bytes("<f8", false, "(3,)", &f64_le(&[1.0, 2.0, 3.0])), "v.npy").unwrap();
        let e = symmetric_from("v.npy", v.clone(), "Hessian", 1e-5, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("square matrix of shape (d, d), found shape (3,)"), "{e}");
        let e = gradients_from("v.npy", v.clone(), None).unwrap_err().to_string();
        assert!(e.contains("shape (N, d)"), "{e}");
        assert_eq!(vector_from("v.npy", v, Some(3)).unwrap(), vec![1.0, 2.0, 3.0]);
        // (d, N) instead of (N, d) is diagnosed as transposed.
        let g = parse(&npy_bytes("<f8", false, "(2, 5)", &f64_le(&[0.5; 10])), "g.npy").unwrap();
        let e = gradients_from("g.npy", g, Some(2)).unwrap_err().to_string();
        assert!(e.contains("looks transposed"), "{e}");
    }

    #[test]
    fn negative_variance_is_rejected() {
        let b = npy_bytes("<f8", false, "(2, 2)", &f64_le(&[1.0, 0.0, 0.0, -0.5]));
        let e = covariance_from("s.npy", parse(&b, "s.npy").unwrap(), 1e-5, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Σ[1, 1] = -0.5"), "{e}");
    }
}
