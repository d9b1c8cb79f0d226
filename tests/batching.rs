//! Batching changes nothing: members trained together as one program end with the same
//! weights and scores as the same members trained one at a time from the same seeds.

use mcdrop::models::checkpoint::NoCheckpoints;
use mcdrop::models::mc_dropout::{evaluate, evaluate_with_masks, fit, FitOptions, Member};
use mcdrop::models::nn::mc_predictive::HeldOut;
use mcdrop::models::{Silent, StackedRows};
use mcdrop::rng::{member_rng, uniform};
use mcdrop::spec::raw::Activation;
use mcdrop::spec::TrainingPlan;
use tch::{Device, Tensor};

const N: usize = 50; // rows per split (not a multiple of the batch: the last batch is partial)
const D: usize = 3;

/// Two synthetic "splits" stacked: y = sin(x0) + x1 * x2 + noise.
fn stacked_data() -> (StackedRows, Vec<f32>, Vec<f32>) {
    let mut rng = member_rng(99);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..2 * N {
        let row: Vec<f32> = (0..D).map(|_| (uniform(&mut rng) * 4.0 - 2.0) as f32).collect();
        y.push(row[0].sin() + row[1] * row[2] + 0.1 * (uniform(&mut rng) as f32 - 0.5));
        x.extend(row);
    }
    let rows =
        StackedRows { x: Tensor::from_slice(&x).view([(2 * N) as i64, D as i64]), y: Tensor::from_slice(&y), n: N };
    (rows, x, y)
}

fn members() -> Vec<Member> {
    vec![
        Member { seed: 1, dropout: 0.05, weight_decay: 1e-4, row_offset: 0 },
        Member { seed: 2, dropout: 0.1, weight_decay: 1e-3, row_offset: 0 },
        Member { seed: 3, dropout: 0.005, weight_decay: 1e-5, row_offset: N },
        Member { seed: 4, dropout: 0.5, weight_decay: 1e-4, row_offset: N },
    ]
}

fn options() -> FitOptions {
    FitOptions {
        widths: vec![D, 16, 16, 1],
        activation: Activation::Relu,
        epochs: 30,
        training: TrainingPlan { batch_size: 16, lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-7 },
    }
}

fn held_out(x: &[f32], y: &[f32], members: &[Member]) -> HeldOut {
    // Score every member on the first 20 rows of its own split, with its own precision and
    // its own target scaling (original = standardized * 2 + seed).
    let n = 20;
    let mut hx = Vec::new();
    let mut hy = Vec::new();
    for m in members {
        hx.extend_from_slice(&x[m.row_offset * D..(m.row_offset + n) * D]);
        hy.extend((0..n).map(|i| y[m.row_offset + i] as f64 * 2.0 + m.seed as f64));
    }
    HeldOut {
        x: Tensor::from_slice(&hx).view([members.len() as i64, n as i64, D as i64]),
        y: hy,
        n,
        y_mean: members.iter().map(|m| m.seed as f64).collect(),
        y_std: vec![2.0; members.len()],
        tau: members.iter().map(|m| 1.0 + m.dropout).collect(),
    }
}

#[test]
fn batched_training_equals_one_at_a_time() {
    let (data, x, y) = stacked_data();
    let members = members();
    let batched = fit(&data, &members, &options(), &Silent, &NoCheckpoints).unwrap();
    let held = held_out(&x, &y, &members);
    // Both evaluators; the dense one with a budget small enough to run in several chunks.
    let (batched_host, _) = evaluate(&batched, &members, &held, 64, 1 << 20, Device::Cpu).unwrap();
    let (batched_dense, chunk) =
        evaluate_with_masks(&batched, &members, &held, 64, 20 * 16 * 4 * 5, Device::Cpu).unwrap();
    assert!(chunk < 64, "the test must exercise chunking, got chunk {chunk}");
    for (k, member) in members.iter().enumerate() {
        let alone = fit(&data, std::slice::from_ref(member), &options(), &Silent, &NoCheckpoints).unwrap();
        for (a, b) in batched.member_parameters(k).iter().zip(alone.member_parameters(0)) {
            let diff = f64::try_from((a - b.squeeze_dim(0)).abs().max()).unwrap();
            assert!(diff < 1e-5, "member {k}: parameters differ by {diff}");
        }
        let single = std::slice::from_ref(member);
        let held = held_out(&x, &y, single);
        let (host, _) = evaluate(&alone, single, &held, 64, 1 << 20, Device::Cpu).unwrap();
        let (dense, _) = evaluate_with_masks(&alone, single, &held, 64, 1 << 20, Device::Cpu).unwrap();
        for (path, a, b) in [("host", batched_host[k], host[0]), ("dense", batched_dense[k], dense[0])] {
            for (name, u, v) in [
                ("rmse_mc", a.rmse_mc, b.rmse_mc),
                ("rmse_standard", a.rmse_standard, b.rmse_standard),
                ("ll", a.ll, b.ll),
            ] {
                assert!((u - v).abs() < 1e-5 * (1.0 + u.abs()), "member {k}, {path} evaluator: {name} {u} vs {v}");
            }
        }
    }
}

#[test]
fn members_with_different_seeds_train_differently() {
    // Guards the test above against passing trivially (e.g. if seeds were ignored).
    let (data, _, _) = stacked_data();
    let mut members = members();
    members[1] = Member { seed: 1, ..members[1].clone() };
    members[1].dropout = members[0].dropout;
    members[1].weight_decay = members[0].weight_decay;
    members[2] = Member { seed: 5, ..members[0].clone() };
    let net = fit(&data, &members, &options(), &Silent, &NoCheckpoints).unwrap();
    let same = f64::try_from((&net.member_parameters(0)[0] - &net.member_parameters(1)[0]).abs().max()).unwrap();
    let other = f64::try_from((&net.member_parameters(0)[0] - &net.member_parameters(2)[0]).abs().max()).unwrap();
    assert_eq!(same, 0.0, "identical members must train identically");
    assert!(other > 1e-3, "a different seed must give a different network");
}

#[test]
fn host_and_dense_mask_evaluators_agree() {
    let (data, x, y) = stacked_data();
    let members = members();
    let net = fit(&data, &members, &options(), &Silent, &NoCheckpoints).unwrap();
    let held = held_out(&x, &y, &members);
    let (host, _) = evaluate(&net, &members, &held, 4000, 1 << 22, Device::Cpu).unwrap();
    let (dense, _) = evaluate_with_masks(&net, &members, &held, 4000, 1 << 22, Device::Cpu).unwrap();
    for (k, (a, b)) in host.iter().zip(&dense).enumerate() {
        // The deterministic pass is the same arithmetic on both paths.
        assert!(
            (a.rmse_standard - b.rmse_standard).abs() < 1e-5 * (1.0 + a.rmse_standard),
            "member {k}: {a:?} vs {b:?}"
        );
        // Different masks of the same distribution: equal up to MC error at T = 4000.
        assert!((a.rmse_mc - b.rmse_mc).abs() < 0.01 * (1.0 + a.rmse_mc), "member {k}: {a:?} vs {b:?}");
        assert!((a.ll - b.ll).abs() < 0.02 * (1.0 + a.ll.abs()), "member {k}: {a:?} vs {b:?}");
        // And MC is not the deterministic pass: the dropout really happened.
        assert_ne!(a.rmse_mc, a.rmse_standard);
    }
}
