//! `.npy` reading (issue 13): files written by NumPy itself (fixtures in tests/data, see its README), files
//! written here with `npyz` in every supported dtype/order combination, and the error messages a user sees.

use npyz::{Order, WriteOptions, WriterBuilder};
use samsde::npy;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn scratch_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("samsde-npy-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `rows×cols` entries given row-major as `f(i, j)` with the given element type and order.
fn write_with_npyz<T: npyz::AutoSerialize + Copy>(
    path: &Path,
    rows: usize,
    cols: usize,
    order: Order,
    f: impl Fn(usize, usize) -> T,
) {
    let mut w = WriteOptions::<T>::new()
        .default_dtype()
        .shape(&[rows as u64, cols as u64])
        .order(order)
        .writer(std::io::BufWriter::new(std::fs::File::create(path).unwrap()))
        .begin_nd()
        .unwrap();
    // The writer takes elements in the file's order.
    match order {
        Order::C => (0..rows).for_each(|i| (0..cols).for_each(|j| w.push(&f(i, j)).unwrap())),
        Order::Fortran => (0..cols).for_each(|j| (0..rows).for_each(|i| w.push(&f(i, j)).unwrap())),
    }
    w.finish().unwrap();
}

#[test]
fn numpy_written_float32_fortran_matrix() {
    let a = npy::read(fixture("numpy_f32_fortran_4x3.npy")).unwrap();
    assert_eq!(a.shape, vec![4, 3]);
    assert!(a.fortran_order);
    assert_eq!(a.dtype, "<f4");
    for i in 0..4 {
        for j in 0..3 {
            assert_eq!(a.data[i * 3 + j], (10 * i + j) as f64, "entry ({i}, {j})");
        }
    }
    // As per-sample gradients: N = 4 samples, d = 3.
    let g = npy::read_gradients(fixture("numpy_f32_fortran_4x3.npy"), Some(3)).unwrap();
    assert_eq!((g.rows, g.cols), (4, 3));
    assert_eq!(g.row(2), &[20.0, 21.0, 22.0]);
}

#[test]
fn numpy_written_hessian_and_big_endian_vector() {
    let h = npy::read_symmetric(
        fixture("numpy_f64_hessian_3x3.npy"),
        "Hessian",
        npy::DEFAULT_SYMMETRY_RTOL,
        Some(3),
    )
    .unwrap();
    for i in 0..3 {
        for j in 0..3 {
            let want = 1.0 / (1 + i + j) as f64 - if i == j { 1.5 } else { 0.0 };
            assert_eq!(h.data[i * 3 + j], want, "H[{i}, {j}]");
        }
    }
    let v = npy::read_vector(fixture("numpy_f64_be_vector.npy"), Some(3)).unwrap();
    assert_eq!(v, vec![0.25, -1.0, 3.5]);
}

#[test]
fn every_dtype_and_order_round_trips() {
    let dir = scratch_dir("orders");
    let f = |i: usize, j: usize| (i as f64) * 0.5 - (j as f64) * 0.25 + 1.0 / (1.0 + (i * j) as f64);
    for order in [Order::C, Order::Fortran] {
        let p64 = dir.join(format!("{order:?}_f8.npy"));
        write_with_npyz(&p64, 5, 7, order, f);
        let a = npy::read(&p64).unwrap();
        assert_eq!(a.shape, vec![5, 7]);
        assert_eq!(a.fortran_order, order == Order::Fortran);
        for i in 0..5 {
            for j in 0..7 {
                assert_eq!(a.data[i * 7 + j], f(i, j), "{order:?} f8 ({i}, {j})");
            }
        }
        let p32 = dir.join(format!("{order:?}_f4.npy"));
        write_with_npyz(&p32, 5, 7, order, |i, j| f(i, j) as f32);
        let a = npy::read(&p32).unwrap();
        assert_eq!(a.dtype, "<f4");
        for i in 0..5 {
            for j in 0..7 {
                assert_eq!(a.data[i * 7 + j], f64::from(f(i, j) as f32), "{order:?} f4 ({i}, {j})");
            }
        }
    }
    // samsde's own writer reads back bit for bit.
    let data: Vec<f64> = (0..12).map(|k| (k as f64).sin()).collect();
    let p = dir.join("own.npy");
    npy::write(&p, &[3, 4], &data).unwrap();
    let a = npy::read(&p).unwrap();
    assert_eq!((a.shape.clone(), a.data.clone()), (vec![3, 4], data));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn float32_hessian_symmetric_to_its_precision_passes_the_default_tolerance() {
    // A symmetric matrix whose transposed entries were rounded to float32 separately after an O(1e-7)
    // perturbation, as autograd HVP columns are: accepted by the default tolerance and symmetrised.
    let dir = scratch_dir("f32sym");
    let p = dir.join("h.npy");
    let d = 6;
    let h = |i: usize, j: usize| ((i + 1) * (j + 1)) as f64 / 7.0 - if i == j { 2.0 } else { 0.0 };
    write_with_npyz(&p, d, d, Order::C, |i, j| {
        (h(i, j) * (1.0 + if i < j { 3e-7 } else { 0.0 })) as f32
    });
    let m = npy::read_symmetric(&p, "Hessian", npy::DEFAULT_SYMMETRY_RTOL, Some(d)).unwrap();
    for i in 0..d {
        for j in 0..d {
            assert_eq!(m.data[i * d + j], m.data[j * d + i]);
            assert!((m.data[i * d + j] - h(i, j)).abs() < 1e-6 * 6.0, "({i}, {j})");
        }
    }
    // A 1e-3 relative asymmetry is not a Hessian export error that the default tolerance lets through.
    write_with_npyz(&p, d, d, Order::C, |i, j| h(i, j) * if i < j { 1.001 } else { 1.0 });
    let e = npy::read_symmetric(&p, "Hessian", npy::DEFAULT_SYMMETRY_RTOL, Some(d))
        .unwrap_err()
        .to_string();
    assert!(e.contains("is not symmetric") && e.contains("(A + A.T) / 2"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_name_the_file_and_the_fix() {
    let dir = scratch_dir("errors");
    // Missing file: an I/O error naming the path.
    let missing = dir.join("nope.npy");
    let e = npy::read(&missing).unwrap_err().to_string();
    assert!(e.contains("nope.npy"), "{e}");
    // Integer dtype.
    let p = dir.join("int.npy");
    write_with_npyz(&p, 2, 2, Order::C, |i, j| (i + j) as i64);
    let e = npy::read_symmetric(&p, "Hessian", 1e-5, None).unwrap_err().to_string();
    assert!(
        e.contains("int.npy: dtype <i8 is not supported") && e.contains("astype"),
        "{e}"
    );
    // Infinity in a gradient matrix.
    let p = dir.join("g.npy");
    write_with_npyz(&p, 3, 2, Order::Fortran, |i, j| {
        if (i, j) == (2, 1) { f64::INFINITY } else { 1.0 }
    });
    let e = npy::read_gradients(&p, Some(2)).unwrap_err().to_string();
    assert!(e.contains("at [2, 1], is inf"), "{e}");
    // Wrong dimension for a vector.
    let p = dir.join("v.npy");
    write_with_npyz(&p, 1, 4, Order::C, |_, j| j as f64);
    assert_eq!(npy::read_vector(&p, Some(4)).unwrap(), vec![0.0, 1.0, 2.0, 3.0]);
    let e = npy::read_vector(&p, Some(5)).unwrap_err().to_string();
    assert!(
        e.contains("expected a vector of length 5") && e.contains("found 4"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
