//! The `expression` landscape: derivatives against finite differences, closed forms, parse errors,
//! precedence, and the allocation-free evaluation.

use proptest::prelude::*;
use samsde::Error;
use samsde::model::landscape::{Expression, Landscape, Quadratic};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

// ---------------------------------------------------------------------------------------------------------
// Heap allocations per thread, to check that evaluation does not allocate after warm-up.

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_allocation() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: forwards to the system allocator unchanged; the counter is a const-initialised thread local
// without destructor, so touching it never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_allocation();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_allocation();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

// ---------------------------------------------------------------------------------------------------------
// Helpers.

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn expr(formula: &str, vars: &[&str]) -> Expression {
    match Expression::new(formula, &names(vars)) {
        Ok(e) => e,
        Err(err) => panic!("`{formula}` should parse: {err}"),
    }
}

fn value(formula: &str, vars: &[&str], x: &[f64]) -> f64 {
    expr(formula, vars).value(x)
}

fn gradient(f: &dyn Landscape, x: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; f.dim()];
    f.gradient(x, &mut g);
    g
}

fn hessian(f: &dyn Landscape, x: &[f64]) -> Vec<f64> {
    let d = f.dim();
    let mut h = vec![0.0; d * d];
    f.hessian(x, &mut h);
    h
}

fn third(f: &dyn Landscape, x: &[f64], u: &[f64]) -> Vec<f64> {
    let d = f.dim();
    let mut t = vec![0.0; d * d];
    f.third(x, u, &mut t);
    t
}

/// Central difference (F(x + h eₖ) − F(x − h eₖ)) / 2h of a vector-valued F, for every k.
fn central(x: &[f64], eval: impl Fn(&[f64]) -> Vec<f64>) -> Vec<Vec<f64>> {
    (0..x.len())
        .map(|k| {
            let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
            xp[k] += STEP;
            xm[k] -= STEP;
            eval(&xp)
                .iter()
                .zip(eval(&xm))
                .map(|(p, m)| (p - m) / (2.0 * STEP))
                .collect()
        })
        .collect()
}

fn assert_close(what: &str, exact: f64, approx: f64, tol: f64) {
    assert!(
        (exact - approx).abs() <= tol * (1.0 + exact.abs()),
        "{what}: exact {exact} vs central difference {approx} (tolerance {tol} relative)"
    );
}

/// Finite-difference step. The central difference of a smooth F has truncation error h²/6·|F'''| and
/// rounding error about ε_mach·|F|/h; with |F|, |F'''| ≤ 10³ on the test box [−2, 2]ᵈ (the formulas
/// below are polynomials of degree ≤ 4 and bounded transcendental terms there), h = 10⁻⁵ gives at most
/// 10⁻¹⁰·10³/6 + 2·10⁻¹⁶·10³/10⁻⁵ ≈ 3·10⁻⁸.
const STEP: f64 = 1e-5;
/// Tolerance relative to 1 + |exact|: 3·10⁻⁸ from the bound above, times a safety factor of ~30.
const FD_TOL: f64 = 1e-6;

/// ∇f vs differences of f, ∇²f vs differences of ∇f, T[·,·,u] vs the u-directional difference of ∇²f
/// (each checked against the exact derivative one order lower, so errors do not compound).
fn check_derivatives(f: &Expression, x: &[f64], u: &[f64]) {
    let d = f.dim();
    let g = gradient(f, x);
    let h = hessian(f, x);
    let t = third(f, x, u);
    let dg = central(x, |p| vec![f.value(p)]);
    for k in 0..d {
        assert_close(&format!("{} ∂{k}f at {x:?}", f.formula()), g[k], dg[k][0], FD_TOL);
    }
    let dh = central(x, |p| gradient(f, p));
    for i in 0..d {
        for j in 0..d {
            assert_close(
                &format!("{} H[{i}][{j}] at {x:?}", f.formula()),
                h[i * d + j],
                dh[j][i],
                FD_TOL,
            );
            assert_eq!(h[i * d + j], h[j * d + i], "Hessian not symmetric");
        }
    }
    let dt = central(x, |p| hessian(f, p));
    for i in 0..d * d {
        let directional: f64 = (0..d).map(|k| dt[k][i] * u[k]).sum();
        assert_close(
            &format!("{} T[{i}] at {x:?}, u = {u:?}", f.formula()),
            t[i],
            directional,
            FD_TOL,
        );
    }
}

/// Formulas that together use every operator, function, constant and folding path.
const FORMULAS_2D: [&str; 5] = [
    "x^3*y - 2*x*y^2 + sin(x)*cos(y)",
    "exp(0.3*x - y) / (1 + x^2) + tanh(x*y)",
    "log(1 + x^2 + y^2) * sqrt(2 + sin(x)) - abs(x - y + 10)",
    "(1.5 + sin(x))^(y/2) + 2^(x/3) + 1/(5 + x*y) - -x^2/pi + e^(y/4)",
    "(x - y)/(3 + cos(x*y)) + x^-2 * 0 + (2 + y^2)^0.5 - (3*x + 1)^4/100",
];
const FORMULAS_3D: [&str; 2] = [
    "x*y*z - exp(-(x^2 + y^2 + z^2)/4) + z^4/12",
    "sqrt(1 + x^2*y^2) * tanh(z - x) / exp(y*z/5)",
];

fn point(d: usize) -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (
        prop::collection::vec(-2.0..2.0f64, d),
        prop::collection::vec(-1.0..1.0f64, d),
    )
}

// ---------------------------------------------------------------------------------------------------------
// (1) Property tests: exact derivatives against central differences.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn derivatives_match_central_differences_2d((x, u) in point(2), which in 0..FORMULAS_2D.len()) {
        // x^-2 * 0 is singular at x = 0; keep away from it (the term is 0 elsewhere).
        prop_assume!(x[0].abs() > 1e-3);
        check_derivatives(&expr(FORMULAS_2D[which], &["x", "y"]), &x, &u);
    }

    #[test]
    fn derivatives_match_central_differences_3d((x, u) in point(3), which in 0..FORMULAS_3D.len()) {
        check_derivatives(&expr(FORMULAS_3D[which], &["x", "y", "z"]), &x, &u);
    }

    #[test]
    fn general_power_matches_central_differences((x, u) in point(2)) {
        // a^b = exp(b ln a) with both operands variable; a kept positive.
        let f = expr("(x^2 + 0.5)^(y - x/2)", &["x", "y"]);
        check_derivatives(&f, &x, &u);
    }

    #[test]
    fn saddle_equals_quadratic((x, u) in point(2)) {
        let f = expr("0.5*x^2 - y^2", &["x", "y"]);
        let q = Quadratic::diagonal(&[1.0, -2.0]).expect("valid quadratic");
        let tol = 1e-12;
        prop_assert!((f.value(&x) - q.value(&x)).abs() <= tol);
        for (a, b) in gradient(&f, &x).iter().zip(gradient(&q, &x)) {
            prop_assert!((a - b).abs() <= tol);
        }
        for (a, b) in hessian(&f, &x).iter().zip(hessian(&q, &x)) {
            prop_assert!((a - b).abs() <= tol);
        }
        for (a, b) in third(&f, &x, &u).iter().zip(third(&q, &x, &u)) {
            prop_assert!((a - b).abs() <= tol);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// (2) Closed forms.

const BEALE: &str = "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2";
/// Closed-form checks: all numbers involved are dyadic, so only a few roundings can occur.
const EXACT_TOL: f64 = 1e-12;

#[test]
fn beale_values_and_hessian() {
    let f = expr(BEALE, &["x", "y"]);
    assert!((f.value(&[1.0, 2.0]) - 126.453125).abs() <= EXACT_TOL);
    assert!(f.value(&[3.0, 0.5]).abs() <= EXACT_TOL);
    assert!((f.value(&[0.0, 1.0]) - 14.203125).abs() <= EXACT_TOL);
    for g in gradient(&f, &[3.0, 0.5]) {
        assert!(g.abs() <= EXACT_TOL, "Beale's minimum (3, 1/2) is critical");
    }
    let h = hessian(&f, &[0.0, 1.0]);
    for (a, b) in h.iter().zip([0.0, 27.75, 27.75, 0.0]) {
        assert!((a - b).abs() <= EXACT_TOL, "Hessian at (0, 1): {h:?}");
    }
    assert_eq!(f.name(), "expression");
    assert_eq!(f.formula(), BEALE);
    assert_eq!(f.dim(), 2);
}

#[test]
fn three_variable_closed_form() {
    // f = abc + a²c over (a, b, c).
    let f = expr("a*b*c + a^2*c", &["a", "b", "c"]);
    let (a, b, c) = (1.5, -0.5, 2.0);
    let x = [a, b, c];
    let u = [0.25, -1.0, 0.5];
    assert!((f.value(&x) - (a * b * c + a * a * c)).abs() <= EXACT_TOL);
    let g_exact = [b * c + 2.0 * a * c, a * c, a * b + a * a];
    for (p, q) in gradient(&f, &x).iter().zip(g_exact) {
        assert!((p - q).abs() <= EXACT_TOL);
    }
    let h_exact = [2.0 * c, c, b + 2.0 * a, c, 0.0, a, b + 2.0 * a, a, 0.0];
    for (p, q) in hessian(&f, &x).iter().zip(h_exact) {
        assert!((p - q).abs() <= EXACT_TOL);
    }
    // ∂ₐH, ∂_bH, ∂_cH contracted with u.
    let (ua, ub, uc) = (u[0], u[1], u[2]);
    let t_exact = [2.0 * uc, uc, 2.0 * ua + ub, uc, 0.0, ua, 2.0 * ua + ub, ua, 0.0];
    for (p, q) in third(&f, &x, &u).iter().zip(t_exact) {
        assert!((p - q).abs() <= EXACT_TOL);
    }
    assert_eq!(f.variable_names(), names(&["a", "b", "c"]));
}

#[test]
fn unused_variable_and_constant_formula() {
    let f = expr("y^2", &["x", "y", "z"]);
    assert_eq!(f.dim(), 3);
    assert_eq!(gradient(&f, &[1.0, 3.0, 5.0]), vec![0.0, 6.0, 0.0]);
    let c = expr("2*pi", &["x"]);
    assert_eq!(c.value(&[7.0]), 2.0 * std::f64::consts::PI);
    assert_eq!(gradient(&c, &[7.0]), vec![0.0]);
    assert_eq!(hessian(&c, &[7.0]), vec![0.0]);
    assert_eq!(third(&c, &[7.0], &[1.0]), vec![0.0]);
}

#[test]
fn constants_are_folded() {
    // 2*pi*x/3 + 0 is one affine instruction on x.
    assert_eq!(expr("2*pi*x/3 + 0", &["x"]).tape_len(), 2);
    assert_eq!(expr("exp(log(2)) * x^1 - -(0)", &["x"]).tape_len(), 2);
    // Repeated variables share one instruction: x, x*x, +.
    assert_eq!(expr("x*x + x", &["x"]).tape_len(), 3);
}

#[test]
fn out_of_domain_propagates_nan() {
    let f = expr("log(x) + sqrt(x)", &["x"]);
    assert!(f.value(&[-1.0]).is_nan());
    assert!(gradient(&f, &[-1.0])[0].is_nan());
    assert!(hessian(&f, &[-1.0])[0].is_nan());
    assert!(third(&f, &[-1.0], &[1.0])[0].is_nan());
    assert!(expr("1/x", &["x"]).value(&[0.0]).is_infinite());
    assert!(expr("abs(x)", &["x"]).value(&[f64::NAN]).is_nan());
}

#[test]
fn abs_derivatives() {
    let f = expr("abs(x)", &["x"]);
    assert_eq!(f.value(&[-2.0]), 2.0);
    assert_eq!(gradient(&f, &[-2.0]), vec![-1.0]);
    assert_eq!(gradient(&f, &[3.0]), vec![1.0]);
    assert_eq!(gradient(&f, &[0.0]), vec![0.0]);
    assert_eq!(hessian(&f, &[3.0]), vec![0.0]);
}

// ---------------------------------------------------------------------------------------------------------
// (4) Precedence and lexing.

#[test]
fn precedence_and_associativity() {
    assert_eq!(value("-x^2", &["x"], &[3.0]), -9.0);
    assert_eq!(value("-2^2", &["x"], &[0.0]), -4.0);
    assert_eq!(value("2^3^2", &["x"], &[0.0]), 512.0);
    assert_eq!(value("x^3^2", &["x"], &[2.0]), 512.0);
    assert_eq!(value("a-b-c", &["a", "b", "c"], &[1.0, 2.0, 3.0]), -4.0);
    assert_eq!(value("x/y/z", &["x", "y", "z"], &[8.0, 2.0, 4.0]), 1.0);
    assert_eq!(value("2^-1", &["x"], &[0.0]), 0.5);
    assert_eq!(value("x^-y", &["x", "y"], &[2.0, 2.0]), 0.25);
    assert_eq!(value("2 + 3*x", &["x"], &[4.0]), 14.0);
    assert_eq!(value("(2 + 3)*x", &["x"], &[4.0]), 20.0);
    assert_eq!(value("x - -y", &["x", "y"], &[1.0, 2.0]), 3.0);
    assert_eq!(value("-x*y", &["x", "y"], &[2.0, 3.0]), -6.0);
    assert_eq!(value("2*x^2/4", &["x"], &[3.0]), 4.5);
    assert_eq!(value("x \u{2212} 1", &["x"], &[3.0]), 2.0);
}

#[test]
fn numbers_constants_and_shadowing() {
    assert_eq!(value("1e-3*x + .5 + 2.5E+1", &["x"], &[1000.0]), 26.5);
    assert_eq!(value("pi", &["x"], &[0.0]), std::f64::consts::PI);
    assert_eq!(value("e", &["x"], &[0.0]), std::f64::consts::E);
    assert_eq!(value("e*2", &["e"], &[3.0]), 6.0);
    assert_eq!(value("pi + e", &["pi", "x"], &[1.0, 0.0]), 1.0 + std::f64::consts::E);
    assert_eq!(value("x_1 + _y2", &["x_1", "_y2"], &[1.0, 2.0]), 3.0);
}

// ---------------------------------------------------------------------------------------------------------
// (3) Parse errors and invalid variables.

fn formula_error(formula: &str, vars: &[&str]) -> (usize, String) {
    match Expression::new(formula, &names(vars)) {
        Err(Error::Formula {
            formula: f,
            column,
            message,
        }) => {
            assert_eq!(f, formula);
            (column, message)
        }
        Err(other) => panic!("`{formula}`: expected Error::Formula, got {other}"),
        Ok(_) => panic!("`{formula}` should not parse"),
    }
}

#[test]
fn parse_errors_point_at_the_problem() {
    let cases: [(&str, usize, &[&str]); 14] = [
        ("", 1, &["empty formula"]),
        ("   ", 1, &["empty formula"]),
        ("x + z", 5, &["unknown variable `z`", "x, y"]),
        (
            "foo(x)",
            1,
            &["unknown function `foo`", "exp, log, sin, cos, tanh, sqrt, abs"],
        ),
        ("(x + y", 7, &["missing `)`", "column 1"]),
        ("2*sin(x", 8, &["missing `)`", "column 6"]),
        ("x + y)", 6, &["unmatched `)`"]),
        ("x y", 3, &["unexpected `y`", "implicit multiplication"]),
        ("x $ y", 3, &["unexpected character `$`"]),
        ("x * ", 5, &["formula ends"]),
        ("2*(x + )", 8, &["found `)`"]),
        ("exp x", 1, &["function `exp` needs its argument in parentheses"]),
        ("(x y)", 4, &["closing the `(` at column 1", "found `y`"]),
        ("1e999 * x", 1, &["number `1e999`"]),
    ];
    for (formula, column, needles) in cases {
        let (got, message) = formula_error(formula, &["x", "y"]);
        assert_eq!(got, column, "`{formula}`: column of `{message}`");
        for needle in needles {
            assert!(
                message.contains(needle),
                "`{formula}`: message `{message}` lacks `{needle}`"
            );
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let formula = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
    let (_, message) = formula_error(&formula, &["x"]);
    assert!(message.contains("nested deeper"));
    let (_, message) = formula_error(&format!("{}x", "-".repeat(100_000)), &["x"]);
    assert!(message.contains("nested deeper"));
    // Moderate nesting is fine.
    assert_eq!(
        value(&format!("{}x{}", "(".repeat(50), ")".repeat(50)), &["x"], &[2.0]),
        2.0
    );
}

#[test]
fn error_display_places_the_caret() {
    let Err(err) = Expression::new("x + z", &names(&["x"])) else {
        panic!("`x + z` over [x] should not parse");
    };
    let text = err.to_string();
    assert!(text.contains("column 5"), "{text}");
    assert!(text.ends_with("  x + z\n      ^"), "{text:?}");
}

#[test]
fn invalid_variables_are_rejected() {
    let bad: [&[&str]; 7] = [&[], &["x", "x"], &[""], &["1x"], &["x-y"], &["exp"], &["x y"]];
    for vars in bad {
        match Expression::new("1", &names(vars)) {
            Err(Error::Invalid { key, .. }) => assert_eq!(key, "landscape.variables", "{vars:?}"),
            other => panic!("{vars:?}: expected Error::Invalid, got {other:?}"),
        }
    }
    let many: Vec<String> = (0..65).map(|i| format!("v{i}")).collect();
    assert!(matches!(Expression::new("v0", &many), Err(Error::Invalid { .. })));
    let max: Vec<String> = (0..64).map(|i| format!("v{i}")).collect();
    let f = Expression::new("v0*v63 + v31^2", &max).expect("64 variables are allowed");
    let x: Vec<f64> = (0..64).map(|i| i as f64).collect();
    let h = hessian(&f, &x);
    assert_eq!((h[63], h[63 * 64], h[31 * 64 + 31]), (1.0, 1.0, 2.0));
}

// ---------------------------------------------------------------------------------------------------------
// The per-step contract: no heap allocation after warm-up, and usable from many threads.

#[test]
fn evaluation_does_not_allocate_after_warm_up() {
    let f = expr(FORMULAS_2D[3], &["x", "y"]);
    let beale = expr(BEALE, &["x", "y"]);
    let (x, u) = ([0.7, -0.3], [0.2, 0.9]);
    let (mut g, mut h, mut t) = ([0.0; 2], [0.0; 4], [0.0; 4]);
    let mut run = || {
        for f in [&f, &beale] {
            std::hint::black_box(f.value(&x));
            f.gradient(&x, &mut g);
            f.hessian(&x, &mut h);
            f.third(&x, &u, &mut t);
        }
    };
    run();
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..100 {
        run();
    }
    assert_eq!(
        ALLOCATIONS.with(Cell::get) - before,
        0,
        "evaluation allocated after warm-up"
    );
}

#[test]
fn threads_agree() {
    let f = std::sync::Arc::new(expr(BEALE, &["x", "y"]));
    let expected = hessian(f.as_ref(), &[0.5, 1.5]);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let f = f.clone();
            std::thread::spawn(move || hessian(f.as_ref(), &[0.5, 1.5]))
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().expect("thread"), expected);
    }
}

/// `separable()` (f = Σᵢ fᵢ(xᵢ) + c, which makes N1 and USAM noise diagonal, math spec §5) is claimed exactly for
/// sums of one-variable terms and is true of them: at 30 points the Hessian's off-diagonal entries are 0 and
/// ∂ᵢ∂ᵢf does not change when another coordinate moves. Formulas with a cross term are not claimed, and their
/// Hessian has a non-zero off-diagonal entry somewhere (so the claim would have been false).
#[test]
fn separable_formulas_are_recognised() {
    let vars = ["x", "y", "z"];
    let separable = [
        "x^2 + y^2 + z^2",
        "-cos(x) + 0.25*y^4 - 0.5*y^2 + exp(z)",
        "x*x - y/2 + 3",
        "(x + 1)^2 * 2 + sin(y)*cos(y) - sqrt(z^2 + 1)",
        "tanh(x) - (y - z/2)",
        "log(1 + x^2) / 3 + abs(y) + 7",
    ];
    let coupled = [
        "x*y",
        "(x + y)^2",
        "sin(x + y) + z",
        "x / (1 + y^2)",
        "exp(x)*exp(y)",
        "x^2 + y^2 + 0.1*x*z",
    ];
    let pts: Vec<[f64; 3]> = (0..30)
        .map(|k| {
            let t = k as f64;
            [
                (0.7 * t).sin() * 1.5,
                (1.3 * t + 0.4).cos() * 1.2,
                (0.37 * t + 1.0).sin(),
            ]
        })
        .collect();
    for f in separable {
        let e = expr(f, &vars);
        assert!(e.separable(), "{f} is a sum of one-variable terms");
        for p in &pts {
            let h = hessian(&e, p);
            for i in 0..3 {
                for j in 0..3 {
                    if i != j {
                        assert_eq!(h[i * 3 + j], 0.0, "{f}: H[{i}{j}] at {p:?}");
                    }
                }
                let mut q = *p;
                q[(i + 1) % 3] += 0.37;
                assert_eq!(
                    hessian(&e, &q)[i * 4],
                    h[i * 4],
                    "{f}: H[{i}{i}] depends on another variable"
                );
            }
        }
    }
    for f in coupled {
        let e = expr(f, &vars);
        assert!(!e.separable(), "{f} has a cross term");
        let off = pts.iter().any(|p| {
            let h = hessian(&e, p);
            (0..3).any(|i| (0..3).any(|j| i != j && h[i * 3 + j].abs() > 1e-6))
        });
        assert!(off, "{f}: expected a non-zero mixed derivative");
    }
}
