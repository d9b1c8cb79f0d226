//! Concrete dropout: networks trained together equal networks trained alone (weights, learned
//! rates and noise), the rates move from their start, a fixed noise precision weighs the data
//! against the regularizer, and smoke-concrete through the CLI (with `mcdrop cost` against the
//! grid-searched smoke spec) with each of the three noise modes.

use crate::common;

use mcdrop::models::concrete_dropout::{fit, ConcreteNet, ConcreteOptions};
use mcdrop::models::{Silent, StackedRows};
use mcdrop::rng::{member_rng, uniform};
use mcdrop::spec::TrainingPlan;
use tch::Tensor;

const D: usize = 3;

fn rows() -> StackedRows {
    let mut rng = member_rng(8);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        let r: Vec<f32> = (0..D).map(|_| (uniform(&mut rng) * 4.0 - 2.0) as f32).collect();
        y.push(r[0].sin() + r[1] * r[2] + 0.2 * (uniform(&mut rng) as f32 - 0.5));
        x.extend(r);
    }
    StackedRows { x: Tensor::from_slice(&x).view([100, D as i64]), y: Tensor::from_slice(&y), n: 50 }
}

fn options() -> ConcreteOptions {
    ConcreteOptions {
        widths: vec![D, 16, 1],
        epochs: 30,
        training: TrainingPlan { batch_size: 16, lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7 },
        length_scale: 0.01,
        temperature: 0.1,
        init_dropout: 0.1,
    }
}

#[test]
fn networks_trained_together_equal_networks_trained_alone() {
    let data = rows();
    let nets = vec![
        ConcreteNet { seed: 1, row_offset: 0, precision: None },
        ConcreteNet { seed: 2, row_offset: 50, precision: None },
        ConcreteNet { seed: 3, row_offset: 0, precision: None },
    ];
    let together = fit(&data, &nets, &options(), &Silent).unwrap();
    for (k, net) in nets.iter().enumerate() {
        let alone = fit(&data, std::slice::from_ref(net), &options(), &Silent).unwrap();
        for (a, b) in together.net.member_parameters(k).iter().zip(alone.net.member_parameters(0)) {
            let diff = f64::try_from((a - b).abs().max()).unwrap();
            assert!(diff < 1e-5, "network {k}: weights differ by {diff}");
        }
        for (l, rates) in together.rates.iter().enumerate() {
            assert!((rates[k] - alone.rates[l][0]).abs() < 1e-6, "network {k}, layer {l}: rate");
        }
        assert!((together.noise_variance[k] - alone.noise_variance[0]).abs() < 1e-6 * together.noise_variance[k]);
    }
    // The rates are learned: they leave their common start.
    assert!(together.rates.iter().flatten().all(|p| *p > 0.0 && *p < 1.0));
    assert!(together.rates.iter().flatten().any(|p| (p - 0.1).abs() > 1e-3), "{:?}", together.rates);
    assert!(
        together.noise_variance.iter().all(|v| (v - 1.0).abs() > 1e-3),
        "the noise is learned: {:?}",
        together.noise_variance
    );
}

#[test]
fn a_fixed_noise_precision_is_kept_and_a_higher_one_learns_lower_rates() {
    let data = rows();
    let at = |precision: f64, seed: u64| ConcreteNet { seed, row_offset: 0, precision: Some(precision) };
    let nets = vec![at(0.01, 1), at(1000.0, 1)];
    let together = fit(&data, &nets, &options(), &Silent).unwrap();
    let alone = fit(&data, &nets[1..], &options(), &Silent).unwrap();
    for (a, b) in together.net.member_parameters(1).iter().zip(alone.net.member_parameters(0)) {
        assert!(f64::try_from((a - b).abs().max()).unwrap() < 1e-5, "batched == alone with fixed noise");
    }
    assert_eq!(together.noise_variance, vec![100.0, 0.001], "the fixed noise is reported as 1 / precision");
    // The entropy term pulls the rates towards 1/2 and the squared error, weighted by the
    // precision, towards 0: from the same start and masks the weakly weighted data lets them rise.
    for (l, rates) in together.rates.iter().enumerate() {
        assert!(rates[0] > 0.1 && rates[1] < 0.1, "layer {l}: rates at precision 0.01 and 1000: {rates:?}");
    }
}

#[test]
fn smoke_concrete_runs_end_to_end() {
    let work = tempfile::tempdir().unwrap();
    let results = common::run_experiment(work.path(), &common::repo_file("experiments/smoke-concrete.yaml"), &[]);
    let records = common::unit_records(&results, "smoke-concrete");
    assert_eq!(records.len(), 4);
    for (path, r) in &records {
        assert_eq!(r.model.to_string(), "concrete_dropout", "{path}");
        assert!(r.hyper.is_empty() && r.validation.is_empty(), "{path}: no grid");
        for layer in ["dropout_layer_0", "dropout_layer_1"] {
            let p = r.metrics[layer];
            assert!(p > 0.0 && p < 1.0, "{path}: {layer} = {p}");
        }
        assert!(r.metrics["test_ll"].is_finite() && r.metrics["rmse"] < 15.0, "{path}: {:?}", r.metrics);
    }

    // `cost` against the grid-searched smoke spec (not run: its wall time is unknown). Yacht
    // has 277 training rows, 221 fit rows: concrete 200 epochs x ceil(277 / 128) = 600 steps;
    // dropout 12 grid networks x 500 x ceil(221 / 128) + 500 x 3 = 13,500.
    let out = common::mcdrop(work.path())
        .arg("cost")
        .arg(common::repo_file("experiments/smoke-concrete.yaml"))
        .arg("--against")
        .arg(common::repo_file("experiments/smoke-uci.yaml"))
        .arg("--results-dir")
        .arg(&results)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains(
            "| dropout_layer_0, mean (min-max) | dropout_layer_1, mean (min-max) | noise_std, mean (min-max) |"
        ),
        "{text}"
    );
    let yacht = text.lines().find(|l| l.starts_with("| Yacht | 2 |")).unwrap_or_else(|| panic!("{text}"));
    assert!(yacht.contains("| 600 : 13,500 (1/22.5) |"), "{yacht}");
    let mean_rate: f64 =
        records.iter().filter(|(_, r)| r.dataset == "yacht").map(|(_, r)| r.metrics["dropout_layer_0"]).sum::<f64>()
            / 2.0;
    let printed = yacht.split(" | ").nth(2).and_then(|c| c.split(' ').next()).unwrap();
    assert!((printed.parse::<f64>().unwrap() - mean_rate).abs() <= 0.01 * mean_rate, "{printed} vs {mean_rate}");
}

#[test]
fn with_noise_from_the_grid_the_tau_points_share_one_network_and_the_best_predicts() {
    let work = tempfile::tempdir().unwrap();
    let (spec, text) = common::spec_variant(
        work.path(),
        "experiments/smoke-concrete.yaml",
        "grid.yaml",
        &[
            ("name: smoke-concrete", "name: concrete-grid"),
            ("      yacht: {}\n      bostonHousing: {}\n", "      yacht: {tau: [0.25, 0.5, 0.75]}\n"),
            ("    hidden_units: 50\n", "    hidden_units: 50\n    noise: grid\n"),
        ],
    );
    let results = common::run_experiment(work.path(), &spec, &[]);
    let records = common::unit_records(&results, "concrete-grid");
    assert_eq!(records.len(), 2, "{text}");
    for (path, r) in &records {
        assert_eq!(r.validation.len(), 3, "{path}: one validation score per tau");
        // One network scored three ways: the predictive mean, hence the RMSE, cannot differ.
        let rmse: Vec<f64> = r.validation.iter().map(|g| g.rmse).collect();
        assert!(rmse.iter().all(|&x| x == rmse[0]), "{path}: {rmse:?}");
        let lls: Vec<f64> = r.validation.iter().map(|g| g.ll).collect();
        assert!(lls.iter().any(|&x| x != lls[0]), "{path}: tau must change the LL: {lls:?}");
        let best = r.validation.iter().max_by(|a, b| a.ll.total_cmp(&b.ll)).unwrap();
        assert_eq!(r.hyper, best.hyper, "{path}: the best validation tau predicts");
    }
    // Two networks per split: 200 epochs x ceil(221 / 128) on the fit rows + 200 x 3.
    let out = common::mcdrop(work.path()).arg("cost").arg(&spec).arg("--results-dir").arg(&results).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("| Yacht | 2 |") && l.contains("| 1,000 |")), "{text}");
}

#[test]
fn with_fixed_noise_every_tau_trains_its_own_network_and_the_best_is_retrained() {
    let work = tempfile::tempdir().unwrap();
    let (spec, text) = common::spec_variant(
        work.path(),
        "experiments/smoke-concrete.yaml",
        "fixed.yaml",
        &[
            ("name: smoke-concrete", "name: concrete-fixed"),
            ("      yacht: {}\n      bostonHousing: {}\n", "      yacht: {tau: [0.25, 0.5, 0.75]}\n"),
            ("    hidden_units: 50\n", "    hidden_units: 50\n    noise: fixed\n"),
        ],
    );
    let results = common::run_experiment(work.path(), &spec, &[]);
    let records = common::unit_records(&results, "concrete-fixed");
    assert_eq!(records.len(), 2, "{text}");
    for (path, r) in &records {
        assert_eq!(r.validation.len(), 3, "{path}: one validation score per tau");
        // Three networks: their predictive means, hence RMSEs, differ.
        let rmse: Vec<f64> = r.validation.iter().map(|g| g.rmse).collect();
        assert!(rmse[0] != rmse[1] && rmse[1] != rmse[2] && rmse[0] != rmse[2], "{path}: {rmse:?}");
        let best = r.validation.iter().max_by(|a, b| a.ll.total_cmp(&b.ll)).unwrap();
        assert_eq!(r.hyper, best.hyper, "{path}: the best validation tau is retrained");
        let noise = 1.0 / r.hyper["tau"].sqrt();
        assert!((r.metrics["noise_std"] - noise).abs() < 1e-4 * noise, "{path}: the fixed noise predicts");
    }
    // Three networks on the fit rows (200 epochs x ceil(221 / 128) each) + 200 x 3 retrained.
    let out = common::mcdrop(work.path()).arg("cost").arg(&spec).arg("--results-dir").arg(&results).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("| Yacht | 2 |") && l.contains("| 1,800 |")), "{text}");
}
