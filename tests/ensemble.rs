//! Deep ensembles: the FGSM step against finite differences, batched == alone, smoke-ensemble
//! and the variants through the CLI, and the paper's protocol on yacht against their Table 1.

use crate::common;

use mcdrop::models::ensemble::network::{torch_default_mlp, Head};
use mcdrop::models::ensemble::train::{loss_and_adversary, summed_loss};
use mcdrop::models::ensemble::{fit, EnsembleNet, EnsembleOptions};
use mcdrop::models::{Silent, StackedRows};
use mcdrop::rng::{member_rng, uniform};
use mcdrop::spec::TrainingPlan;
use predicates::prelude::*;
use tch::{Kind, Tensor};

const D: usize = 3;

fn options(adversarial: Option<f64>) -> EnsembleOptions {
    EnsembleOptions {
        widths: vec![D, 12, 2],
        head: Head::Gaussian,
        epochs: 6,
        training: TrainingPlan { batch_size: 16, lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
        adversarial,
        variance_floor: 1e-6,
    }
}

/// Two splits of 40 rows stacked: y = sin(x0) + x1 x2 + noise.
fn rows() -> StackedRows {
    let mut rng = member_rng(5);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for _ in 0..80 {
        let r: Vec<f32> = (0..D).map(|_| (uniform(&mut rng) * 4.0 - 2.0) as f32).collect();
        y.push(r[0].sin() + r[1] * r[2] + 0.2 * (uniform(&mut rng) as f32 - 0.5));
        x.extend(r);
    }
    StackedRows { x: Tensor::from_slice(&x).view([80, D as i64]), y: Tensor::from_slice(&y), n: 40 }
}

#[test]
fn fgsm_moves_each_input_by_eps_in_the_sign_of_the_finite_difference_gradient() {
    let opts = options(Some(0.01));
    let net = torch_default_mlp(tch::Device::Cpu, &opts.widths, &mut [member_rng(1), member_rng(2)]).unwrap();
    tch::manual_seed(21);
    let x = Tensor::randn([2, 4, D as i64], (Kind::Double, tch::Device::Cpu)).to_kind(Kind::Float);
    let y = Tensor::randn([2, 4, 1], (Kind::Double, tch::Device::Cpu)).to_kind(Kind::Float);
    let eps = Tensor::from_slice(&[0.1f32, 0.2, 0.3, 0.05, 0.1, 0.15]).view([2, 1, D as i64]);
    let (_, x_adv) = loss_and_adversary(&net, &x, &y, &eps, &opts).unwrap();
    let step = (&x_adv - &x) / eps.expand_as(&x);
    let h = 1e-3;
    let mut checked = 0;
    for k in 0..2 {
        for i in 0..4 {
            for j in 0..D as i64 {
                let probe = |delta: f64| {
                    let moved = x.copy();
                    let _ = moved.get(k).get(i).get(j).fill_(x.double_value(&[k, i, j]) + delta);
                    f64::try_from(summed_loss(&net, &moved, &y, &opts).unwrap()).unwrap()
                };
                let numeric = (probe(h) - probe(-h)) / (2.0 * h);
                let ours = step.double_value(&[k, i, j]);
                assert!((ours.abs() - 1.0).abs() < 1e-4, "a full step of eps, got {ours}");
                // f32 central differences at h = 1e-3 resolve a slope to about 5e-4 (and a ReLU
                // kink within h can flip a tiny one): judge only clear signs.
                if numeric.abs() > 5e-3 {
                    assert_eq!(ours.signum(), numeric.signum(), "input ({k}, {i}, {j}): d loss / dx = {numeric}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 12, "too few inputs with a clear gradient sign ({checked})");
}

#[test]
fn networks_trained_together_equal_networks_trained_alone() {
    let data = rows();
    let opts = options(Some(0.01));
    let nets = vec![
        EnsembleNet { seed: 11, row_offset: 0, lr: 0.01 },
        EnsembleNet { seed: 12, row_offset: 0, lr: 0.001 },
        EnsembleNet { seed: 13, row_offset: 40, lr: 0.01 },
    ];
    let together = fit(&data, &nets, &opts, &Silent).unwrap();
    for (k, net) in nets.iter().enumerate() {
        let alone = fit(&data, std::slice::from_ref(net), &opts, &Silent).unwrap();
        for (a, b) in together.member_parameters(k).iter().zip(alone.member_parameters(0)) {
            let diff = f64::try_from((a - b).abs().max()).unwrap();
            assert!(diff < 1e-5, "network {k}: parameters differ by {diff}");
        }
    }
    let moved = together.member_parameters(0)[0].shallow_clone()
        - torch_default_mlp(tch::Device::Cpu, &opts.widths, &mut [member_rng(11)]).unwrap().member_parameters(0)[0]
            .shallow_clone();
    assert!(f64::try_from(moved.abs().max()).unwrap() > 1e-3, "training must move the weights");
}

#[test]
fn smoke_ensemble_runs_end_to_end() {
    let work = tempfile::tempdir().unwrap();
    let results = common::run_experiment(work.path(), &common::repo_file("experiments/smoke-ensemble.yaml"), &[]);
    let records = common::unit_records(&results, "smoke-ensemble");
    assert_eq!(records.len(), 4);
    for (path, r) in &records {
        assert_eq!(r.model.to_string(), "ensemble", "{path}");
        assert_eq!(r.validation.len(), 2, "{path}: two learning rates searched");
        assert!(r.hyper.contains_key("lr"), "{path}");
        assert!(r.metrics["test_ll_gaussian"].is_finite(), "{path}");
    }
    let csv = common::table_csv(work.path(), &results, "smoke-ensemble");
    for row in common::csv_rows(&csv) {
        let (rmse, theirs) =
            (common::csv_number(&row, "rmse_ours_mean"), common::csv_number(&row, "rmse_deep_ensembles_mean"));
        assert!(rmse < 3.0 * theirs, "{row:?}");
    }
}

#[test]
fn squared_error_members_without_adversaries_run_and_score_by_their_spread() {
    let work = tempfile::tempdir().unwrap();
    let spec = work.path().join("mse.yaml");
    std::fs::write(
        &spec,
        "name: mse-ens\nseed: 3\ndevice: cpu\ntask:\n  uci:\n    sets: {yacht: {}}\n    splits: {first: 1}\nmodel:\n  ensemble: {hidden_units: 20, members: 4, epochs: 20, lr: [0.01], loss: mse, adversarial: 0}\n",
    )
    .unwrap();
    let results = common::run_experiment(work.path(), &spec, &[]);
    let records = common::unit_records(&results, "mse-ens");
    let m = &records[0].1.metrics;
    // Without variances of their own, both LLs are the spread's Gaussian.
    assert_eq!(m["test_ll"], m["test_ll_gaussian"]);
    assert!(m["rmse"] < 10.0, "{m:?}");
}

#[test]
fn an_empty_learning_rate_list_is_named_in_the_error() {
    let work = tempfile::tempdir().unwrap();
    let spec = work.path().join("bad.yaml");
    std::fs::write(
        &spec,
        "name: bad\nseed: 3\ndevice: cpu\ntask:\n  uci:\n    sets: {yacht: {}}\nmodel:\n  ensemble: {hidden_units: 20, lr: []}\n",
    )
    .unwrap();
    common::mcdrop(work.path())
        .arg("validate")
        .arg(&spec)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("model.ensemble.lr: list at least one learning rate"));
}

#[test]
fn the_papers_protocol_on_yacht_is_level_with_their_table() {
    let work = tempfile::tempdir().unwrap();
    let results =
        common::run_experiment(work.path(), &common::repo_file("experiments/uci-ensemble.yaml"), &["--only", "yacht"]);
    common::mcdrop(work.path())
        .args(["table", "uci-ensemble", "--results-dir"])
        .arg(&results)
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"\| Yacht \| 20 \|.*\| (within 2 SE|better), (within 2 SE|better) \|").unwrap(),
        );
}
