//! The one helper module of the integration tests: scratch folders, the real binary and PNG checks (for the
//! tests that run `samsde`), and small builders for ensemble-level runs (models, entries, plans, runs with
//! the standard observers, tolerances stated in standard errors).
#![allow(dead_code)]

use samsde::ensemble::{self, Ensemble, Entry, Plan, Region, Schedule};
use samsde::model::Model;
use samsde::model::landscape::{Landscape, Quadratic};
use samsde::model::noise::Noise;
use samsde::setup::{DynamicsKind, DynamicsSpec, build};
use samsde::solver::{SolverKind, SolverSpec};
use samsde::stats::DynamicsStats;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

// ---------------------------------------------------------------- folders, the binary, figures

/// A fresh, empty folder for test `name` (under the system temp folder, unique per test process).
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("samsde-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// The `samsde` binary built for these tests.
pub fn bin() -> assert_cmd::Command {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_samsde"))
}

/// Size of every figure (the plot module's `style::SIZE`).
pub const FIGURE_SIZE: (u32, u32) = (1200, 800);

/// Decodes a PNG: (width, height, pixels as RGB(A) chunks).
pub fn decode_png(path: &Path) -> (u32, u32, Vec<Vec<u8>>) {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::BufReader::new(f))
        .read_info()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(info.bit_depth, png::BitDepth::Eight, "{}", path.display());
    let n = info.color_type.samples();
    let px = buf[..info.buffer_size()].chunks(n).map(<[u8]>::to_vec).collect();
    (info.width, info.height, px)
}

/// A real figure: decodes as a PNG of [`FIGURE_SIZE`], more than 1 % of its pixels are not white and it has
/// more than 10 distinct colours (axes, text and data, not a blank canvas).
pub fn assert_figure(path: &Path) {
    let (w, h, px) = decode_png(path);
    assert_eq!((w, h), FIGURE_SIZE, "{}", path.display());
    let ink = px.iter().filter(|p| p.iter().take(3).any(|&v| v != 255)).count();
    assert!(
        ink * 100 > px.len(),
        "{}: almost blank ({ink} of {} pixels)",
        path.display(),
        px.len()
    );
    let mut colours = px.clone();
    colours.sort();
    colours.dedup();
    assert!(colours.len() > 10, "{}: only {} colours", path.display(), colours.len());
}

/// A real SVG figure: well-formed XML (parsed by roxmltree) whose root is an `<svg>` of [`FIGURE_SIZE`], with
/// text as `<text>` elements (at least a title and tick labels), more than 10 drawing elements, and no
/// coordinate or other attribute that reads NaN or inf (a non-finite value that leaked into the drawing).
pub fn assert_svg(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc =
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: not well-formed XML: {e}", path.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg", "{}: root element", path.display());
    let size = (root.attribute("width"), root.attribute("height"));
    let want = (FIGURE_SIZE.0.to_string(), FIGURE_SIZE.1.to_string());
    assert_eq!(
        size,
        (Some(want.0.as_str()), Some(want.1.as_str())),
        "{}: size",
        path.display()
    );
    let elements: Vec<_> = doc.descendants().filter(|n| n.is_element()).collect();
    let texts = elements.iter().filter(|n| n.tag_name().name() == "text").count();
    assert!(texts >= 5, "{}: only {texts} <text> elements", path.display());
    let drawn = elements
        .iter()
        .filter(|n| {
            matches!(
                n.tag_name().name(),
                "path" | "polyline" | "polygon" | "rect" | "circle" | "line"
            )
        })
        .count();
    assert!(drawn > 10, "{}: only {drawn} drawing elements", path.display());
    for n in &elements {
        for a in n.attributes() {
            let v = a.value().to_ascii_lowercase();
            assert!(
                !v.contains("nan") && !v.contains("inf"),
                "{}: <{} {}=\"{}\">",
                path.display(),
                n.tag_name().name(),
                a.name(),
                a.value()
            );
        }
    }
}

/// The text of every `<text>` element of the SVG figure at `path` (trimmed), in document order.
pub fn svg_texts(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    doc.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "text")
        .map(|n| {
            n.descendants()
                .filter(|t| t.is_text())
                .filter_map(|t| t.text())
                .collect::<String>()
                .trim()
                .to_string()
        })
        .collect()
}

// ---------------------------------------------------------------- ensemble-level runs

/// Threads of the rayon pool each test uses (the machine has 2 cores; the harness runs tests side by side).
pub const THREADS: usize = 2;

pub fn model(l: impl Landscape + 'static, noise: Noise) -> Model {
    Model::new(Arc::new(l), noise).unwrap()
}

/// 1-D quadratic f = ½λy² (a saddle direction for λ < 0).
pub fn quad1(lambda: f64) -> Quadratic {
    Quadratic::new(&[vec![lambda]], None).unwrap()
}

/// N1 with c = 1 and a negligible regulariser (|λ| ≥ 0.65 in every test that uses it).
pub fn n1(batch: f64) -> Noise {
    Noise::hessian(1.0, batch, 1e-9).unwrap()
}

/// N0: Σ_B = σ²/B · I.
pub fn n0(sigma: f64, batch: f64) -> Noise {
    Noise::isotropic(sigma, batch).unwrap()
}

pub fn em(dt: f64) -> SolverSpec {
    SolverSpec {
        kind: SolverKind::EulerMaruyama,
        dt,
        allow_dropping_areas: false,
    }
}

pub fn spec(kind: DynamicsKind, eta: f64, rho: f64) -> DynamicsSpec {
    DynamicsSpec::new(kind, eta).rho(rho)
}

/// An entry for `spec` on `model` with solver step `dt` (discrete optimizers step by η), `snapshots`
/// equally spaced snapshot times on [0, t_end]; model K is linearised at the origin.
pub fn entry(label: &str, spec: &DynamicsSpec, model: &Model, dt: f64, t_end: f64, snapshots: usize) -> Entry {
    let d = model.dim();
    let b = build(spec, model, &em(dt), &vec![0.0; d], label).unwrap();
    Entry {
        label: label.into(),
        schedule: Schedule::new(b.dt, t_end, snapshots),
        stepper: b.stepper,
    }
}

/// A plan from `start` with the saddle at the origin, no region, no basins, bridge on, blowup 1e8.
pub fn plan(start: Vec<f64>) -> Plan {
    let d = start.len();
    Plan {
        start,
        spread: 0.0,
        saddle: vec![0.0; d],
        region: None,
        bridge: true,
        stop_on_exit: true,
        basins: Vec::new(),
        basin_radius: 0.05,
        stop_on_basin: true,
        blowup: 1e8,
    }
}

/// Slab |y| < L along axis `axis` of a d-dimensional space.
pub fn slab(d: usize, axis: usize, half_width: f64) -> Region {
    let mut n = vec![0.0; d];
    n[axis] = 1.0;
    Region::slab(vec![0.0; d], n, half_width).unwrap()
}

/// How many paths from which seed, and how many to store.
#[derive(Debug, Clone)]
pub struct Ens {
    pub paths: u64,
    pub seed: u64,
    pub sample_paths: u64,
}

pub fn ens(paths: u64, seed: u64) -> Ens {
    Ens {
        paths,
        seed,
        sample_paths: 0,
    }
}

/// What a run observed: the standard observers, one per dynamics.
pub type Stats = Vec<DynamicsStats>;

pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

/// `ensemble::run_range` with the standard observers on a pool of `threads` threads.
pub fn run_range_on(threads: usize, e: &Ens, entries: &[Entry], plan: &Plan, t_end: f64, blocks: Range<u64>) -> Stats {
    let ensemble = Ensemble {
        paths: e.paths,
        seed: e.seed,
        progress: false,
    };
    let fresh = |k: usize| DynamicsStats::new(k, entries, plan, t_end, e.sample_paths);
    pool(threads).install(|| ensemble::run_range(&ensemble, entries, plan, t_end, &fresh, blocks))
}

/// A whole run on a pool of `threads` threads.
pub fn run_on(threads: usize, e: &Ens, entries: &[Entry], plan: &Plan, t_end: f64) -> Stats {
    run_range_on(threads, e, entries, plan, t_end, 0..e.paths.div_ceil(ensemble::BLOCK))
}

/// A whole run on the default test pool.
pub fn run(e: &Ens, entries: &[Entry], plan: &Plan, t_end: f64) -> Stats {
    run_on(THREADS, e, entries, plan, t_end)
}

/// The blocks `blocks` of a run on the default test pool.
pub fn run_range(e: &Ens, entries: &[Entry], plan: &Plan, t_end: f64, blocks: Range<u64>) -> Stats {
    run_range_on(THREADS, e, entries, plan, t_end, blocks)
}

pub fn json<T: serde::Serialize>(x: &T) -> String {
    serde_json::to_string(x).unwrap()
}

/// |got − want| ≤ tol, with a message naming the quantity and the distance in units of `se`.
#[track_caller]
pub fn within(what: &str, got: f64, want: f64, tol: f64, se: f64) {
    eprintln!(
        "{what}: got {got:.6e}, theory {want:.6e}, diff {:+.3e} = {:+.2} SE (SE {se:.2e}, tol {tol:.3e})",
        got - want,
        (got - want) / se
    );
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:.8e}, theory {want:.8e}, |diff| {:.3e} > tol {tol:.3e} ({:.2} SE, SE {se:.3e})",
        (got - want).abs(),
        (got - want) / se
    );
}

/// Standard error of a sample covariance entry C_ij of a Gaussian cloud from n paths:
/// √((C_ii C_jj + C_ij²)/(n − 1)).
pub fn cov_se(c: &[Vec<f64>], i: usize, j: usize, n: u64) -> f64 {
    ((c[i][i] * c[j][j] + c[i][j] * c[i][j]) / (n - 1) as f64).sqrt()
}

/// Binomial standard error √(p(1−p)/n).
pub fn binom_se(p: f64, n: u64) -> f64 {
    (p * (1.0 - p) / n as f64).sqrt()
}
