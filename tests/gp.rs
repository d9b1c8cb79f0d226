//! The exact GP: marginal likelihood and predictive against numpy (tests/golden/gp_tiny.py),
//! autograd against finite differences, jitter and its error, and smoke-gp through the CLI.

use crate::common;

use mcdrop::models::gp::{
    cholesky_with_jitter, negative_log_marginal_likelihood, nlml_with_gradient, predict, GpParams,
};
use predicates::prelude::*;
use tch::{Device, Kind, Tensor};

// Output of `.venv/bin/python tests/golden/gp_tiny.py`.
const GOLDEN_NLML: f64 = 5.725864993914748;
const GOLDEN_MEAN: [f64; 2] = [-0.025425509679378067, -0.9900769350392451];
const GOLDEN_VAR: [f64; 2] = [0.16602057888653607, 0.6762689963137316];

fn d(v: &[f64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(v).view(shape).to_kind(Kind::Double)
}

fn tiny() -> (Tensor, Tensor, Tensor, GpParams) {
    let x = d(&[0.0, 0.5, 1.0, -0.3, -0.7, 0.2, 0.4, 1.1], &[1, 4, 2]);
    let y = d(&[0.3, -0.8, 0.5, 1.2], &[1, 4]);
    let xs = d(&[0.2, 0.1, 1.5, -1.0], &[1, 2, 2]);
    let p = GpParams {
        log_lengthscales: d(&[0.8f64.ln(), 1.7f64.ln()], &[1, 2]),
        log_signal_std: d(&[1.3f64.ln()], &[1]),
        log_noise_std: d(&[0.2f64.ln()], &[1]),
    };
    (x, y, xs, p)
}

/// Each (name, variable, gradient) against the gradient autograd left in the variable; a zero
/// autograd gradient would make the comparison empty, so it fails too.
fn assert_gradients_match(cases: &[(&str, &Tensor, &Tensor)]) {
    for (name, v, ours) in cases {
        let auto = v.grad();
        let err = f64::try_from((*ours - &auto).abs().max()).unwrap();
        let scale = f64::try_from(auto.abs().max()).unwrap();
        assert!(scale > 1e-6, "{name}: autograd gave a zero gradient, the check would be empty");
        assert!(err < 1e-9 * (1.0 + scale), "{name}: differs from autograd by {err} (scale {scale})");
    }
}

#[test]
fn marginal_likelihood_and_predictive_match_numpy() {
    let (x, y, xs, p) = tiny();
    let nlml = f64::try_from(negative_log_marginal_likelihood(&x, &y, &p, 0.0).unwrap().get(0)).unwrap();
    assert!((nlml - GOLDEN_NLML).abs() < 1e-10, "{nlml} vs {GOLDEN_NLML}");
    let (mean, var) = predict(&x, &y, &xs, &p, 0.0).unwrap();
    for i in 0..2 {
        let (m, v) = (mean.double_value(&[0, i as i64]), var.double_value(&[0, i as i64]));
        assert!((m - GOLDEN_MEAN[i]).abs() < 1e-10, "mean {i}: {m} vs {}", GOLDEN_MEAN[i]);
        assert!((v - GOLDEN_VAR[i]).abs() < 1e-10, "var {i}: {v} vs {}", GOLDEN_VAR[i]);
    }
}

#[test]
fn autograd_gradient_matches_finite_differences() {
    let (x, y, _, p) = tiny();
    let vars = [&p.log_lengthscales, &p.log_signal_std, &p.log_noise_std];
    for v in vars {
        let _ = v.set_requires_grad(true);
    }
    let nlml = negative_log_marginal_likelihood(&x, &y, &p, 0.0).unwrap().sum(Kind::Double);
    nlml.backward();
    let h = 1e-6;
    for v in vars {
        let grad = v.grad();
        for i in 0..v.numel() as i64 {
            let numeric = tch::no_grad(|| {
                let flat = v.view([-1]);
                let original = flat.double_value(&[i]);
                let at = |value: f64| {
                    let _ = flat.get(i).fill_(value);
                    f64::try_from(negative_log_marginal_likelihood(&x, &y, &p, 0.0).unwrap().sum(Kind::Double)).unwrap()
                };
                let g = (at(original + h) - at(original - h)) / (2.0 * h);
                let _ = flat.get(i).fill_(original);
                g
            });
            let analytic = grad.view([-1]).double_value(&[i]);
            assert!((analytic - numeric).abs() < 1e-6 * (1.0 + numeric.abs()), "d nlml: {analytic} vs {numeric}");
        }
    }
}

/// The closed-form gradient the optimiser uses equals autograd's, on a batch of random
/// problems with several input dimensions (ARD) and a noise floor.
#[test]
fn closed_form_gradient_matches_autograd() {
    tch::manual_seed(3);
    let (b, n, dims) = (3, 25, 4);
    let x = Tensor::randn([b, n, dims], (Kind::Double, Device::Cpu));
    let y = Tensor::randn([b, n], (Kind::Double, Device::Cpu));
    let p = GpParams {
        log_lengthscales: Tensor::randn([b, dims], (Kind::Double, Device::Cpu)).f_mul_scalar(0.3).unwrap(),
        log_signal_std: Tensor::randn([b], (Kind::Double, Device::Cpu)).f_mul_scalar(0.3).unwrap(),
        log_noise_std: Tensor::randn([b], (Kind::Double, Device::Cpu))
            .f_mul_scalar(0.3)
            .unwrap()
            .f_sub_scalar(1.0)
            .unwrap(),
    };
    let (nlml, g) = nlml_with_gradient(&x, &y, &p, 1e-6).unwrap();
    let vars = [&p.log_lengthscales, &p.log_signal_std, &p.log_noise_std];
    for v in vars {
        let _ = v.set_requires_grad(true);
    }
    let reference = negative_log_marginal_likelihood(&x, &y, &p, 1e-6).unwrap();
    assert!(nlml.allclose(&reference.detach(), 1e-12, 1e-10, false), "values differ");
    reference.sum(Kind::Double).backward();
    assert_gradients_match(&[
        ("length-scales", vars[0], &g.log_lengthscales),
        ("signal std", vars[1], &g.log_signal_std),
        ("noise std", vars[2], &g.log_noise_std),
    ]);
}

#[test]
fn jitter_rescues_a_singular_kernel_and_fails_clearly_on_an_indefinite_one() {
    // Rank one: the Cholesky of [[1, 1], [1, 1]] needs jitter.
    let singular = d(&[1.0, 1.0, 1.0, 1.0], &[1, 2, 2]);
    let l = cholesky_with_jitter(&singular).unwrap();
    let back = l.bmm(&l.transpose(1, 2));
    assert!(f64::try_from((back - &singular).abs().max()).unwrap() < 1e-3);
    let indefinite = d(&[1.0, 0.0, 0.0, -1.0], &[1, 2, 2]);
    let err = cholesky_with_jitter(&indefinite).unwrap_err().to_string();
    assert!(err.contains("not positive definite") && err.contains("noise_floor"), "{err}");
    let _ = Device::Cpu;
}

#[test]
fn smoke_gp_runs_end_to_end() {
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    common::mcdrop(work.path())
        .arg("run")
        .arg(common::repo_file("experiments/smoke-gp.yaml"))
        .arg("--results-dir")
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains("smoke-gp: 4 unit(s) written"));
    let out = common::mcdrop(work.path())
        .args(["table", "smoke-gp", "--format", "csv", "--results-dir"])
        .arg(&results)
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    // The GP has no second RMSE, so no column for one.
    assert!(!csv.lines().next().unwrap().contains("second"), "{csv}");
    for row in common::csv_rows(&csv) {
        let rmse = common::csv_number(&row, "rmse_ours_mean");
        let ll = common::csv_number(&row, "test_ll_ours_mean");
        let pbp_rmse = common::csv_number(&row, "rmse_paper_pbp_mean");
        // An ARD GP is competitive with PBP on these small sets (bayesian_benchmarks: SGPR
        // boston 2.59, yacht 0.66 on other splits).
        assert!(rmse < 1.2 * pbp_rmse, "{row:?}");
        assert!(ll.is_finite(), "{row:?}");
    }
}

#[test]
fn sparse_bound_is_exact_with_inducing_inputs_at_the_data_and_a_lower_bound_otherwise() {
    use mcdrop::models::gp::sparse::{negative_bound, predict as sparse_predict, SparseParams};
    let (x, y, xs, p) = tiny();
    let exact = f64::try_from(negative_log_marginal_likelihood(&x, &y, &p, 0.0).unwrap().get(0)).unwrap();
    let all = SparseParams {
        kernel: GpParams {
            log_lengthscales: p.log_lengthscales.copy(),
            log_signal_std: p.log_signal_std.copy(),
            log_noise_std: p.log_noise_std.copy(),
        },
        inducing: x.copy(),
    };
    // Z = X: Q_nn = K_nn, so the bound is the marginal likelihood and the predictive exact.
    let bound = f64::try_from(negative_bound(&x, &y, &all, 0.0).unwrap().get(0)).unwrap();
    assert!((bound - exact).abs() < 1e-9, "{bound} vs {exact}");
    let (mean, var) = sparse_predict(&x, &y, &xs, &all, 0.0).unwrap();
    for i in 0..2 {
        assert!((mean.double_value(&[0, i]) - GOLDEN_MEAN[i as usize]).abs() < 1e-9);
        assert!((var.double_value(&[0, i]) - GOLDEN_VAR[i as usize]).abs() < 1e-9);
    }
    // Two inducing inputs: a lower bound on the log marginal likelihood (a larger negative).
    let two = SparseParams { inducing: x.narrow(1, 0, 2).copy(), ..all };
    let looser = f64::try_from(negative_bound(&x, &y, &two, 0.0).unwrap().get(0)).unwrap();
    assert!(looser > exact + 1e-6, "{looser} should exceed {exact}");
}

#[test]
fn sets_beyond_max_rows_take_the_sparse_gp_end_to_end() {
    // Yacht has 277 training rows; max_rows 100 sends it to the sparse GP with 40 inducing
    // inputs, which must still predict far better than the target's spread (std ~15).
    let work = tempfile::tempdir().unwrap();
    let spec = work.path().join("sparse.yaml");
    std::fs::write(
        &spec,
        "name: sparse-gp\nseed: 3\ndevice: cpu\ntask:\n  uci:\n    sets: {yacht: {}}\n    splits: {first: 2}\nmodel:\n  gp: {restarts: 1, iterations: 150, max_rows: 100, inducing: 40}\n",
    )
    .unwrap();
    common::mcdrop(work.path())
        .args(["run", "--results-dir", "results"])
        .arg(&spec)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 unit(s) written"));
    for split in 0..2 {
        let text =
            std::fs::read_to_string(work.path().join(format!("results/sparse-gp/records/yacht/split-{split}.json")))
                .unwrap();
        let record: mcdrop::results::UnitRecord = serde_json::from_str(&text).unwrap();
        let (rmse, ll) = (record.metrics["rmse"], record.metrics["test_ll"]);
        assert!(rmse < 3.0 && ll.is_finite(), "split {split}: rmse {rmse}, ll {ll}");
    }
}

/// The sparse GP's two-pass gradient (closed form, the kernel's pullback by hand, Psi by
/// its lower block triangle) equals autograd through the whole bound, with rows split into
/// uneven chunks and 7 inducing inputs into uneven row blocks of the Gram matrix.
#[test]
fn sparse_two_pass_gradient_matches_autograd() {
    use mcdrop::models::gp::sparse::{bound_and_gradient, negative_bound, SparseParams};
    tch::manual_seed(5);
    let (b, n, m, dims) = (2, 37, 7, 3);
    let opts = (Kind::Double, Device::Cpu);
    let x = Tensor::randn([b, n, dims], opts);
    let y = Tensor::randn([b, n], opts);
    let p = SparseParams {
        kernel: GpParams {
            log_lengthscales: Tensor::randn([b, dims], opts).f_mul_scalar(0.3).unwrap(),
            log_signal_std: Tensor::randn([b], opts).f_mul_scalar(0.3).unwrap(),
            log_noise_std: Tensor::randn([b], opts).f_mul_scalar(0.3).unwrap().f_sub_scalar(1.0).unwrap(),
        },
        inducing: Tensor::randn([b, m, dims], opts),
    };
    let (value, g) = bound_and_gradient(&x, &y, &p, 1e-6, 10).unwrap();
    let vars = [&p.kernel.log_lengthscales, &p.kernel.log_signal_std, &p.kernel.log_noise_std, &p.inducing];
    for v in vars {
        let _ = v.set_requires_grad(true);
    }
    let reference = negative_bound(&x, &y, &p, 1e-6).unwrap();
    assert!(value.allclose(&reference.detach(), 1e-12, 1e-10, false), "values differ");
    reference.sum(Kind::Double).backward();
    assert_gradients_match(&[
        ("length-scales", vars[0], &g.kernel.log_lengthscales),
        ("signal std", vars[1], &g.kernel.log_signal_std),
        ("noise std", vars[2], &g.kernel.log_noise_std),
        ("inducing inputs", vars[3], &g.inducing),
    ]);
}

/// The fit takes autograd where its graph fits the memory budget and the two passes beyond;
/// 20 Adam steps from the same start must land on the same parameters and bound either way,
/// and the budget must send a protein-sized program (15 members) to the two passes.
#[test]
fn sparse_fit_is_the_same_with_either_gradient() {
    use mcdrop::models::gp::sparse::{fit_with, BoundGradient};
    use mcdrop::spec::GpPlan;
    tch::manual_seed(7);
    let opts = (Kind::Double, Device::Cpu);
    let x = Tensor::randn([2, 60, 3], opts);
    let y = x.select(2, 0).sin() + Tensor::randn([2, 60], opts).f_mul_scalar(0.1).unwrap();
    let plan = GpPlan { restarts: 2, iterations: 20, max_rows: 10, inducing: 8, ..adam_plan() };
    let fit =
        |plan: &GpPlan, gradient| fit_with(&x, &y, &[11, 12], plan, &mcdrop::models::Silent, Some(gradient)).unwrap();
    let (auto, auto_bound) = fit(&plan, BoundGradient::Autograd);
    let (passes, passes_bound) = fit(&plan, BoundGradient::TwoPass);
    assert!(auto_bound.allclose(&passes_bound, 1e-9, 1e-9, false), "{auto_bound:?} vs {passes_bound:?}");
    for (name, a, b) in [
        ("length-scales", &auto.kernel.log_lengthscales, &passes.kernel.log_lengthscales),
        ("noise std", &auto.kernel.log_noise_std, &passes.kernel.log_noise_std),
        ("inducing inputs", &auto.inducing, &passes.inducing),
    ] {
        assert!(a.allclose(b, 1e-8, 1e-8, false), "{name}: {a:?} vs {b:?}");
    }
    // The 20 steps improved the bound: the comparison above is not of two copies of the start.
    let (_, start_bound) = fit(&GpPlan { iterations: 0, ..plan.clone() }, BoundGradient::TwoPass);
    let gain = f64::try_from((&start_bound - &auto_bound).min()).unwrap();
    assert!(gain > 1.0, "start {start_bound:?}, after 20 steps {auto_bound:?}");
    assert_eq!(BoundGradient::for_size(15, 500, 41_157), BoundGradient::TwoPass);
    assert_eq!(BoundGradient::for_size(3, 500, 41_157), BoundGradient::Autograd);
    assert_eq!(BoundGradient::for_size(15, 500, 10_741), BoundGradient::Autograd);
}

#[test]
fn sparse_gp_bench_times_both_gradients_and_they_agree() {
    let work = tempfile::tempdir().unwrap();
    let stdout = common::bench_stdout(
        work.path(),
        &["sparse-gp", "--set", "yacht", "--splits", "1", "--iterations", "1"],
        "experiments/uci-gp.yaml",
    );
    for line in [
        "members=3 (1 splits x 3 restarts)",
        "the fit takes: Autograd",
        "two-pass gradient:",
        "autograd through the bound:",
        "ratio autograd / two-pass:",
    ] {
        assert!(stdout.contains(line), "no `{line}` in {stdout}");
    }
    let difference = common::printed_number(&stdout, "largest relative gradient difference: ");
    // Yacht with M = n inducing inputs is ill-conditioned (near-duplicate rows): agreement to
    // 1e-4 there; a wrong term in the gradient is off by order one.
    assert!(difference < 1e-4, "{stdout}");
}

/// Near-duplicate inducing inputs (as random rows of power-plant give) make K_mm nearly
/// singular; with many rows and little noise the bound must still factor, stay finite and
/// stay a bound on the exact marginal likelihood. Forming L^-1 (K_mn K_nm) L^-T instead of
/// a Gram matrix failed here: I + Psi / s_n^2 came out indefinite.
#[test]
fn sparse_bound_survives_near_duplicate_inducing_inputs() {
    use mcdrop::models::gp::sparse::{bound_and_gradient, negative_bound, SparseParams};
    tch::manual_seed(11);
    let opts = (Kind::Double, Device::Cpu);
    let (n, m) = (3000, 60);
    let x = Tensor::rand([1, n, 2], opts).f_mul_scalar(3.0).unwrap();
    let f = x.select(2, 0).sin() + x.select(2, 1).cos();
    let y = &f + Tensor::randn([1, n], opts).f_mul_scalar(0.01).unwrap();
    // Each of the first 30 inducing inputs has a twin 1e-9 away.
    let base = x.narrow(1, 0, m / 2);
    let z = Tensor::cat(&[&base, &(&base + 1e-9)], 1);
    let kernel = || GpParams {
        log_lengthscales: d(&[0.0, 0.0], &[1, 2]),
        log_signal_std: d(&[0.0], &[1]),
        log_noise_std: d(&[0.01f64.ln()], &[1]),
    };
    let p = SparseParams { kernel: kernel(), inducing: z };
    let bound = f64::try_from(negative_bound(&x, &y, &p, 1e-6).unwrap().get(0)).unwrap();
    let exact = f64::try_from(negative_log_marginal_likelihood(&x, &y, &kernel(), 1e-6).unwrap().get(0)).unwrap();
    assert!(bound.is_finite() && bound >= exact - 1e-6, "bound {bound} vs exact {exact}");
    let (value, g) = bound_and_gradient(&x, &y, &p, 1e-6, 700).unwrap();
    assert!((f64::try_from(value.get(0)).unwrap() - bound).abs() < 1e-6 * bound.abs().max(1.0));
    for t in [&g.kernel.log_lengthscales, &g.kernel.log_signal_std, &g.kernel.log_noise_std, &g.inducing] {
        assert!(f64::try_from(t.isfinite().logical_not().sum(Kind::Int64)).unwrap() == 0.0, "non-finite gradient");
    }
}

/// The spec's defaults with Adam; tests change what they test.
fn adam_plan() -> mcdrop::spec::GpPlan {
    mcdrop::spec::GpPlan {
        restarts: 2,
        iterations: 200,
        lr: 0.05,
        noise_floor: 1e-6,
        max_rows: 2000,
        inducing: 500,
        optimizer: mcdrop::spec::GpOptimizer::Adam,
        inducing_init: mcdrop::spec::InducingInit::Random,
        learn_inducing: true,
        race_after: None,
    }
}

/// Two members' data: a smooth function of the first two of three inputs, a little noise.
fn two_members(n: i64) -> (Tensor, Tensor) {
    tch::manual_seed(3);
    let opts = (Kind::Double, Device::Cpu);
    let x = Tensor::randn([2, n, 3], opts);
    let y = x.select(2, 0).sin()
        + x.select(2, 1).f_mul_scalar(0.5).unwrap()
        + Tensor::randn([2, n], opts).f_mul_scalar(0.1).unwrap();
    (x, y)
}

fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.flatten(0, -1)).unwrap()
}

/// L-BFGS on the exact marginal likelihood ends at least as low as Adam's 200 steps from the
/// same starts, at a stationary point; and on the CPU a member's fit is the same alone as
/// beside another split, bit for bit.
#[test]
fn lbfgs_reaches_a_stationary_point_no_worse_than_adam_and_a_member_fits_alone_as_in_a_program() {
    use mcdrop::models::gp::exact::fit;
    use mcdrop::models::Silent;
    use mcdrop::spec::GpOptimizer;
    let (x, y) = two_members(80);
    let lbfgs = mcdrop::spec::GpPlan { optimizer: GpOptimizer::Lbfgs, iterations: 500, ..adam_plan() };
    let (_, adam_nlml) = fit(&x, &y, &[1, 2], &adam_plan(), &Silent).unwrap();
    let (p, nlml) = fit(&x, &y, &[1, 2], &lbfgs, &Silent).unwrap();
    for (ours, adam) in values(&nlml).into_iter().zip(values(&adam_nlml)) {
        assert!(ours <= adam + 1e-6, "lbfgs {ours} vs adam {adam}");
    }
    let (at_end, g) = nlml_with_gradient(&x, &y, &p, 1e-6).unwrap();
    assert_eq!(values(&at_end), values(&nlml), "the value returned is the value at the parameters returned");
    for gradient in [&g.log_lengthscales, &g.log_signal_std, &g.log_noise_std] {
        let largest = f64::try_from(gradient.abs().max()).unwrap();
        assert!(largest < 1e-3, "not stationary: |gradient| up to {largest}");
    }
    let (alone, alone_nlml) = fit(&x.narrow(0, 1, 1), &y.narrow(0, 1, 1), &[2], &lbfgs, &Silent).unwrap();
    assert_eq!(values(&alone_nlml), values(&nlml.narrow(0, 1, 1)));
    assert_eq!(values(&alone.log_lengthscales), values(&p.log_lengthscales.narrow(0, 1, 1)));
    assert_eq!(values(&alone.log_noise_std), values(&p.log_noise_std.narrow(0, 1, 1)));
}

/// Progress that counts the steps it is told of.
struct Steps(std::sync::atomic::AtomicU64);

impl mcdrop::models::Progress for Steps {
    fn advance(&self, steps: u64) {
        self.0.fetch_add(steps, std::sync::atomic::Ordering::Relaxed);
    }
    fn phase(&self, _: &str) {}
}

/// Adam whose restarts race: all of the plan's steps are taken (the race first, then the
/// survivor alone), the value returned is the objective at the parameters returned, and the
/// fit ends no more than 5 % worse than the unraced one; a race as long as the fit is no race,
/// bit for bit. Exact and sparse GP alike.
#[test]
fn an_adam_race_takes_the_plans_steps_and_ends_where_it_says() {
    use mcdrop::models::gp::{exact, sparse};
    let (x, y) = two_members(120);
    let unraced = mcdrop::spec::GpPlan { restarts: 3, iterations: 200, ..adam_plan() };
    let raced = mcdrop::spec::GpPlan { race_after: Some(20), ..unraced.clone() };
    let no_race = mcdrop::spec::GpPlan { race_after: Some(200), ..unraced.clone() };
    let sparse_plan = |plan: &mcdrop::spec::GpPlan| mcdrop::spec::GpPlan { max_rows: 50, inducing: 12, ..plan.clone() };

    let steps = Steps(Default::default());
    let (p, nlml) = exact::fit(&x, &y, &[1, 2], &raced, &steps).unwrap();
    assert_eq!(steps.0.into_inner(), 200);
    let at_end = negative_log_marginal_likelihood(&x, &y, &p, 1e-6).unwrap();
    assert_eq!(values(&at_end), values(&nlml), "the value returned is the value at the parameters returned");
    let (_, full) = exact::fit(&x, &y, &[1, 2], &unraced, &mcdrop::models::Silent).unwrap();
    for (ours, all) in values(&nlml).into_iter().zip(values(&full)) {
        assert!(ours <= all + 0.05 * all.abs(), "raced {ours} vs every restart {all}");
    }
    let (_, same) = exact::fit(&x, &y, &[1, 2], &no_race, &mcdrop::models::Silent).unwrap();
    assert_eq!(values(&same), values(&full));

    let steps = Steps(Default::default());
    let (p, bound) = sparse::fit(&x, &y, &[1, 2], &sparse_plan(&raced), &steps).unwrap();
    assert_eq!(steps.0.into_inner(), 200);
    let at_end = sparse::negative_bound(&x, &y, &p, 1e-6).unwrap();
    for (ours, there) in values(&bound).into_iter().zip(values(&at_end)) {
        assert!((ours - there).abs() < 1e-9 * there.abs(), "returned {ours}, at the parameters {there}");
    }
    let (_, full) = sparse::fit(&x, &y, &[1, 2], &sparse_plan(&unraced), &mcdrop::models::Silent).unwrap();
    for (ours, all) in values(&bound).into_iter().zip(values(&full)) {
        assert!(ours <= all + 0.05 * all.abs(), "raced {ours} vs every restart {all}");
    }
    let (_, same) = sparse::fit(&x, &y, &[1, 2], &sparse_plan(&no_race), &mcdrop::models::Silent).unwrap();
    assert_eq!(values(&same), values(&full));
}

/// Greedy variance picks, among rows that are each present twice, every distinct row before
/// any copy (a copy's variance given its twin is zero), then the sparse L-BFGS fit keeps those
/// inputs when told to and improves on its start.
#[test]
fn greedy_variance_skips_duplicate_rows_and_the_sparse_lbfgs_fit_keeps_them_when_fixed() {
    use mcdrop::models::gp::sparse::{fit, greedy_variance};
    use mcdrop::models::Silent;
    use mcdrop::spec::{GpOptimizer, InducingInit};
    let opts = (Kind::Double, Device::Cpu);
    tch::manual_seed(4);
    let distinct = Tensor::randn([12, 2], opts);
    let x = Tensor::cat(&[&distinct, &distinct], 0); // rows k and k + 12 are equal
    let start = [0.0, 0.0, 0.0, 0.1f64.ln()];
    let chosen = greedy_variance(&x, &start, 12, 5).unwrap();
    let mut originals: Vec<i64> = chosen.iter().map(|k| k % 12).collect();
    originals.sort();
    assert_eq!(originals, (0..12).collect::<Vec<i64>>(), "{chosen:?}");
    assert_eq!(chosen[0], 5);

    let (x, y) = two_members(150);
    let plan = mcdrop::spec::GpPlan {
        optimizer: GpOptimizer::Lbfgs,
        iterations: 100,
        max_rows: 10,
        inducing: 15,
        inducing_init: InducingInit::GreedyVariance,
        learn_inducing: false,
        ..adam_plan()
    };
    let (p, bound) = fit(&x, &y, &[1, 2], &plan, &Silent).unwrap();
    let (_, start_bound) =
        fit(&x, &y, &[1, 2], &mcdrop::spec::GpPlan { iterations: 0, ..plan.clone() }, &Silent).unwrap();
    for (end, start) in values(&bound).into_iter().zip(values(&start_bound)) {
        assert!(end < start - 1.0, "the fit did not improve the bound: {start} -> {end}");
    }
    // Every inducing input is still one of its member's rows.
    for member in 0..2 {
        let rows = x.get(member);
        for z in 0..15 {
            let distance =
                (rows.shallow_clone() - p.inducing.get(member).get(z)).abs().sum_dim_intlist(1i64, false, Kind::Double);
            assert_eq!(f64::try_from(distance.min()).unwrap(), 0.0, "member {member}, inducing input {z}");
        }
    }
}

/// `mcdrop bench gp --gp-peer SCRIPT` hands the peer each fitted split's training rows,
/// restart 0's start (D + 2 values) and the stopping rule; a stand-in peer reports what it was
/// given, as numbers the bench prints, and the summary adds up every fit.
#[test]
fn gp_bench_hands_the_peer_the_splits_rows_start_and_stopping_rule() {
    let work = tempfile::tempdir().unwrap();
    let peer = work.path().join("peer.py");
    std::fs::write(
        &peer,
        "import sys, os\n\
         d = sys.argv[1]\n\
         arg = lambda k: sys.argv[sys.argv.index(k) + 1]\n\
         rows = lambda f: [l.split() for l in open(os.path.join(d, f))]\n\
         x, y, s = rows('x.txt'), rows('y.txt'), rows('start.txt')\n\
         assert os.path.exists(os.path.join(d, 'z.txt')) == False\n\
         assert arg('--iterations') == '300'\n\
         scaled = float(arg('--tolerance-grad')) * len(x) * 1e5\n\
         print(f'seconds=2.5 evaluations={len(x)} iterations={len(x[0])} nlml_per_row={scaled} seconds_per_evaluation=0.5')\n",
    )
    .unwrap();
    let stdout = common::bench_stdout(
        work.path(),
        &[
            "gp",
            "--set",
            "yacht",
            "--splits",
            "2",
            "--peer-fits",
            "2",
            "--gp-peer-stop",
            "both",
            "--gp-peer",
            peer.to_str().unwrap(),
            "--python",
            common::repo_file(".venv/bin/python").to_str().unwrap(),
        ],
        "experiments/uci-gp-lbfgs.yaml",
    );
    // yacht: 277 training rows of 6 inputs; the start is 6 length-scales, signal and noise.
    // Torch's gradient tolerance is 1e-7 on the loss per row; ours, scipy's 1e-5 on the total,
    // is 1e-5 / n per row.
    for (label, tolerance) in [("gpytorch, split", "2.77000"), ("gpytorch, our stop rule, split", "1.00000")] {
        for split in ["0", "1"] {
            let prefix = format!("{label} {split} ");
            let line = stdout.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("{prefix}: {stdout}"));
            let fields: Vec<&str> = line[prefix.len()..].split_whitespace().collect();
            assert_eq!(
                (fields[0], fields[2], fields[3], fields[4], fields[5]),
                ("2.50", tolerance, "0.5000", "6/277", "(0")
            );
        }
    }
    for label in ["gpytorch (2 fit(s):", "gpytorch, our stop rule (2 fit(s):"] {
        let summary = format!("faster per fit than {label} ");
        let line = stdout.lines().find(|l| l.contains(&summary)).unwrap_or_else(|| panic!("{summary}: {stdout}"));
        assert!(line.contains(" against 5.00 s)"), "{line}");
    }
}

/// `mcdrop bench gp` fits one program by Adam (uci-gp) and by L-BFGS (uci-gp-lbfgs).
#[test]
fn gp_bench_fits_a_program_by_each_spec() {
    let work = tempfile::tempdir().unwrap();
    let against = common::repo_file("experiments/uci-gp-lbfgs.yaml");
    let stdout = common::bench_stdout(
        work.path(),
        &["gp", "--set", "yacht", "--splits", "1", "--against", against.to_str().unwrap()],
        "experiments/uci-gp.yaml",
    );
    for line in [
        "bench gp: set=yacht splits=1 rows/member=277 exact restarts=3",
        "adam: 200 steps at lr 0.05",
        "lbfgs: at most 300 iterations, restarts race for 20 iterations",
        "uci-gp ",
        "uci-gp-lbfgs ",
    ] {
        assert!(stdout.contains(line), "no `{line}` in {stdout}");
    }
}

/// The committed L-BFGS records beside Adam's in one table: two GP columns, told apart by
/// their experiments' names.
#[test]
fn two_gp_experiments_in_one_table_are_told_apart() {
    common::mcdrop(&common::repo_file(""))
        .args(["table", "uci-gp", "uci-gp-lbfgs", "--metric", "ll"])
        .assert()
        .success()
        .stdout(predicate::str::contains("| Data set | GP uci-gp (ours) | GP uci-gp-lbfgs (ours) |"));
}
