//! The mean-field VI baseline: its KL against the closed form and a Monte Carlo estimate,
//! a narrow posterior behaves like the deterministic network, batching changes nothing, and
//! the smoke spec runs end to end through the CLI.

use crate::common;

use mcdrop::models::mfvi::{draw_noise, fit, BnnMember, BnnOptions, MemberBnn};
use mcdrop::models::{Silent, StackedRows};
use mcdrop::rng::{fill_standard_normal, member_rng, uniform};
use mcdrop::spec::raw::Activation;
use mcdrop::spec::TrainingPlan;
use predicates::prelude::*;
use tch::{Device, Kind, Tensor};

fn net(init_std: f64) -> MemberBnn {
    let mut rngs = vec![member_rng(1), member_rng(2)];
    MemberBnn::new(Device::Cpu, &[2, 3, 1], Activation::Relu, init_std, None, &mut rngs).unwrap()
}

#[test]
fn kl_matches_the_closed_form_and_a_monte_carlo_estimate() {
    let bnn = net(0.3);
    let prior = [0.5f64, 2.0];
    let kl = Vec::<f64>::try_from(bnn.kl(&Tensor::from_slice(&[0.5f32, 2.0])).unwrap().to_kind(Kind::Double)).unwrap();
    let posterior = bnn.posterior().unwrap();
    for (k, &s) in prior.iter().enumerate() {
        let (mut closed, mut mc) = (0.0, 0.0);
        let mut rng = member_rng(40 + k as u64);
        let samples = 20_000;
        for (mu, sigma) in &posterior {
            let mu = Vec::<f64>::try_from(mu.get(k as i64).flatten(0, -1).to_kind(Kind::Double)).unwrap();
            let sigma = Vec::<f64>::try_from(sigma.get(k as i64).flatten(0, -1).to_kind(Kind::Double)).unwrap();
            for (&m, &q) in mu.iter().zip(&sigma) {
                closed += (s / q).ln() + (q * q + m * m) / (2.0 * s * s) - 0.5;
                // E_q[log q(w) - log p(w)] by sampling w = m + q z.
                let mut z = vec![0f32; samples];
                fill_standard_normal(&mut rng, &mut z);
                let est: f64 = z
                    .iter()
                    .map(|&z| {
                        let w = m + q * z as f64;
                        let log_q = -(q.ln()) - 0.5 * (z as f64).powi(2);
                        let log_p = -(s.ln()) - 0.5 * (w / s).powi(2);
                        log_q - log_p
                    })
                    .sum::<f64>()
                    / samples as f64;
                mc += est;
            }
        }
        assert!((kl[k] - closed).abs() < 1e-4 * closed.abs().max(1.0), "member {k}: {} vs closed form {closed}", kl[k]);
        assert!((kl[k] - mc).abs() < 0.05 * closed.abs().max(1.0), "member {k}: {} vs Monte Carlo {mc}", kl[k]);
    }
}

#[test]
fn a_narrow_posterior_predicts_like_the_deterministic_network() {
    let bnn = net(1e-7);
    let x = Tensor::rand([2, 64, 2], (Kind::Float, Device::Cpu)) * 4.0 - 2.0;
    let mut rngs = vec![member_rng(5), member_rng(6)];
    let noise = draw_noise(&mut rngs, 64, bnn.layer_outputs(), Device::Cpu).unwrap();
    let sampled = bnn.forward(&x, Some(&noise)).unwrap();
    let means = bnn.forward(&x, None).unwrap();
    let y = Tensor::randn([2, 64, 1], (Kind::Float, Device::Cpu));
    // The ELBO's likelihood term (tau = 1) with a sampled network equals the deterministic one.
    let ll = |f: &Tensor| f64::try_from((f - &y).square().mean(Kind::Float) * -0.5).unwrap();
    assert!((ll(&sampled) - ll(&means)).abs() < 1e-5, "{} vs {}", ll(&sampled), ll(&means));
    // And a wide posterior does not.
    let wide = net(0.5);
    let diff =
        f64::try_from((wide.forward(&x, Some(&noise)).unwrap() - wide.forward(&x, None).unwrap()).abs().max()).unwrap();
    assert!(diff > 1e-2, "sampling must matter for a wide posterior, max diff {diff}");
}

#[test]
fn batched_vi_training_equals_one_at_a_time() {
    let n = 40;
    let mut rng = member_rng(9);
    let x: Vec<f32> = (0..2 * n * 2).map(|_| (uniform(&mut rng) * 2.0 - 1.0) as f32).collect();
    let y: Vec<f32> = x.chunks(2).map(|r| r[0] * 2.0 - r[1]).collect();
    let data = StackedRows { x: Tensor::from_slice(&x).view([(2 * n) as i64, 2]), y: Tensor::from_slice(&y), n };
    let members = vec![
        BnnMember { seed: 1, prior_std: 1.0, tau: None, row_offset: 0 },
        BnnMember { seed: 2, prior_std: 0.1, tau: None, row_offset: n },
        BnnMember { seed: 3, prior_std: 1.0, tau: None, row_offset: n },
    ];
    let options = BnnOptions {
        widths: vec![2, 8, 1],
        activation: Activation::Relu,
        epochs: 20,
        training: TrainingPlan { batch_size: 16, lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-7 },
        init_posterior_std: 1e-2,
        init_noise_std: 0.5,
        gradient: Default::default(),
    };
    let batched = fit(&data, &members, &options, &Silent).unwrap();
    let together = batched.posterior().unwrap();
    for (k, m) in members.iter().enumerate() {
        let alone = fit(&data, std::slice::from_ref(m), &options, &Silent).unwrap();
        for ((a, _), (b, _)) in together.iter().zip(alone.posterior().unwrap()) {
            let diff = f64::try_from((a.get(k as i64) - b.get(0)).abs().max()).unwrap();
            assert!(diff < 1e-5, "member {k}: posterior means differ by {diff}");
        }
        let tau_a = f64::try_from(batched.log_tau().unwrap().get(k as i64)).unwrap();
        let tau_b = f64::try_from(alone.log_tau().unwrap().get(0)).unwrap();
        assert!((tau_a - tau_b).abs() < 1e-5, "member {k}: learned noise differs");
    }
}

#[test]
fn smoke_vi_runs_end_to_end() {
    let work = tempfile::tempdir().unwrap();
    let results = work.path().join("results");
    common::mcdrop(work.path())
        .arg("run")
        .arg(common::repo_file("experiments/smoke-vi.yaml"))
        .arg("--results-dir")
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains("smoke-vi: 4 unit(s) written"));
    let out = common::mcdrop(work.path())
        .args(["table", "smoke-vi", "--format", "csv", "--results-dir"])
        .arg(&results)
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    for row in common::csv_rows(&csv) {
        let rmse = common::csv_number(&row, "rmse_ours_mean");
        let ll = common::csv_number(&row, "test_ll_ours_mean");
        let paper_vi_rmse = common::csv_number(&row, "rmse_paper_vi_mean");
        assert!(rmse < paper_vi_rmse, "{row:?}: mean-field VI with local reparameterization should beat Graves (2011)");
        assert!(ll.is_finite() && ll < 0.0, "{row:?}");
    }
}

/// The trainer's hand-written gradient equals autograd's through `negative_elbo`: two hidden
/// layers, both activations, learned and fixed noise, a different prior per member, and
/// posterior stds wide enough that the sampled part of every pre-activation matters.
#[test]
fn hand_written_elbo_gradient_matches_autograd() {
    tch::manual_seed(3);
    let (k, rows, widths) = (3usize, 11usize, [4usize, 6, 5, 1]);
    for activation in [Activation::Relu, Activation::Tanh] {
        for learned in [true, false] {
            let mut rngs: Vec<_> = (0..k as u64).map(|s| member_rng(100 + s)).collect();
            let log_tau_init = [0.3, -0.2, 1.1];
            let bnn =
                MemberBnn::new(Device::Cpu, &widths, activation, 0.2, learned.then_some(&log_tau_init[..]), &mut rngs)
                    .unwrap();
            let vars = bnn.vs.trainable_variables();
            // Moved off their initial values (zero bias means, equal stds), so every path counts.
            tch::no_grad(|| {
                for v in &vars {
                    let _ =
                        v.shallow_clone().f_add_(&(Tensor::randn(v.size(), (Kind::Float, Device::Cpu)) * 0.3)).unwrap();
                }
            });
            let x = Tensor::randn([k as i64, rows as i64, 4], (Kind::Float, Device::Cpu));
            let y = Tensor::randn([k as i64, rows as i64, 1], (Kind::Float, Device::Cpu));
            let noise = draw_noise(&mut rngs, rows, bnn.layer_outputs(), Device::Cpu).unwrap();
            let prior = Tensor::from_slice(&[0.1f32, 1.0, 3.0]);
            let fixed = Tensor::from_slice(&[0.5f32, -1.0, 2.0]);
            let log_tau = bnn.log_tau().map_or_else(|| fixed.shallow_clone(), |t| t.shallow_clone());
            let n_train = 57;

            bnn.allocate_gradients().unwrap();
            bnn.elbo_gradient(&x, &y, &noise, &log_tau, &prior, n_train).unwrap();
            let hand: Vec<Tensor> = vars.iter().map(|v| v.grad().copy()).collect();
            tch::no_grad(|| vars.iter().for_each(|v| drop(v.grad().zero_())));
            bnn.negative_elbo(&x, &y, &noise, &log_tau, &prior, n_train).unwrap().sum(Kind::Float).backward();
            for (v, h) in vars.iter().zip(&hand) {
                let reference = v.grad();
                let scale = f64::try_from(reference.abs().max()).unwrap().max(1e-3);
                let err = f64::try_from((h - &reference).abs().max()).unwrap();
                assert!(
                    err < 1e-5 * scale,
                    "{activation:?}, learned noise {learned}, shape {:?}: differs by {err} (scale {scale})",
                    v.size()
                );
            }
            assert_eq!(vars.len(), 4 * 3 + usize::from(learned), "every trainable tensor was compared");
        }
    }
}

#[test]
fn vi_bench_times_both_gradients_and_their_posteriors_agree() {
    let work = tempfile::tempdir().unwrap();
    let stdout = common::bench_stdout(
        work.path(),
        &["vi", "--set", "yacht", "--splits", "2", "--epochs", "5"],
        "experiments/uci-vi.yaml",
    );
    for line in
        ["members=4 (2 splits x 2 grid points)", "hand-written gradient:", "autograd:", "ratio hand / autograd:"]
    {
        assert!(stdout.contains(line), "no `{line}` in {stdout}");
    }
    let difference = common::printed_number(
        &stdout,
        "largest difference of the trained posterior means, hand-written gradient vs autograd: ",
    );
    // Same seeds, data order and noise: rounding only, over 5 epochs of Adam.
    assert!(difference < 1e-5, "{stdout}");
    // A spec of another model is an input error naming the spec.
    common::mcdrop(work.path())
        .args(["bench", "vi", "--set", "yacht", "--spec"])
        .arg(common::repo_file("experiments/uci-gp.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("uci-gp.yaml"))
        .stderr(predicate::str::contains("experiments/uci-vi.yaml"));
}
