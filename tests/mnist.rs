//! MNIST: the IDX loader on the mirror and on broken copies, smoke-mnist through the CLI
//! (trains above chance, records every unit, resumes, draws its figures), and the concrete
//! dropout LeNet (its penalty by hand, its learned rates through the CLI).

use crate::common;

use std::io::{Read, Write};
use std::path::Path;

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use mcdrop::data::mnist::Mnist;
use mcdrop::results::outcome::{MnistEvaluation, RotatedDigitRecord, ShiftStudy};
use predicates::prelude::*;

#[test]
fn the_mirror_loads_with_canonical_counts() {
    let mnist = Mnist::load(&common::mirror().join("mnist")).unwrap();
    assert_eq!((mnist.train.len(), mnist.test.len()), (60_000, 10_000));
    assert_eq!(mnist.train.pixels.len(), 60_000 * 784);
    // The canonical test set has 1135 ones and 980 zeros.
    assert_eq!(mnist.test.labels.iter().filter(|&&l| l == 1).count(), 1135);
    assert_eq!(mnist.test.labels.iter().filter(|&&l| l == 0).count(), 980);
}

fn copy_mnist(dest: &Path) -> std::path::PathBuf {
    let to = dest.join("mnist");
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(common::mirror().join("mnist")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    to
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_end(&mut bytes).unwrap();
    bytes
}

fn gzip(path: &Path, bytes: &[u8]) {
    let mut encoder = GzEncoder::new(std::fs::File::create(path).unwrap(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap();
}

#[test]
fn a_truncated_file_is_named_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let mnist = copy_mnist(dir.path());
    let labels = mnist.join("t10k-labels-idx1-ubyte.gz");
    let bytes = gunzip(&labels);
    gzip(&labels, &bytes[..bytes.len() - 100]);
    let err = Mnist::load(&mnist).unwrap_err().to_string();
    assert!(
        err.contains("t10k-labels-idx1-ubyte.gz")
            && err.contains("truncated")
            && err.contains("scripts/fetch-data mnist"),
        "{err}"
    );

    // A gzip stream cut in half does not decompress.
    let images = mnist.join("t10k-images-idx3-ubyte.gz");
    let raw = std::fs::read(&images).unwrap();
    std::fs::write(&images, &raw[..raw.len() / 2]).unwrap();
    let err = Mnist::load(&mnist).unwrap_err().to_string();
    assert!(err.contains("t10k-images-idx3-ubyte.gz") && err.contains("cannot decompress"), "{err}");
}

#[test]
fn a_wrong_file_in_place_of_the_labels_is_refused_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let mnist = copy_mnist(dir.path());
    // The image file under the labels' name: the magic number gives it away.
    std::fs::copy(mnist.join("train-images-idx3-ubyte.gz"), mnist.join("train-labels-idx1-ubyte.gz")).unwrap();
    common::mcdrop(dir.path())
        .args(["run", "--results-dir", "results", "--data-dir", "."])
        .arg(common::repo_file("experiments/smoke-mnist.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("train-labels-idx1-ubyte.gz: magic number 2051 where 2049 was expected"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn smoke_mnist_trains_above_chance_records_resumes_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::repo_file("experiments/smoke-mnist.yaml");
    common::mcdrop(dir.path())
        .args(["run", "--results-dir", "results"])
        .arg(&spec)
        .assert()
        .success()
        .stdout(predicate::str::contains("smoke-mnist: 4 unit(s) written, 0 already recorded"));
    let out = dir.path().join("results/smoke-mnist");
    assert!(out.join("model.safetensors").is_file());
    let read = |f: &str| std::fs::read_to_string(out.join("outcomes").join(f)).unwrap();
    let eval: MnistEvaluation = serde_json::from_str(&read("evaluation.json")).unwrap();
    // Chance is 10 %; 8 epochs on 2000 images reach far more.
    assert!(eval.standard.scores.accuracy > 0.8 && eval.mc.scores.accuracy > 0.8, "{eval:?}");
    assert_eq!(eval.standard.reliability.iter().map(|b| b.count).sum::<usize>(), 500);
    let rotated: RotatedDigitRecord = serde_json::from_str(&read("rotated-digit.json")).unwrap();
    assert_eq!((rotated.angles.len(), rotated.label, rotated.softmax_output[0].len()), (13, 1, 20));
    assert!(rotated.softmax_output.iter().flatten().flatten().all(|p| (0.0..=1.0).contains(p)));
    let shift: ShiftStudy = serde_json::from_str(&read("shift.json")).unwrap();
    let (upright, turned) = (&shift.angles[0], &shift.angles[2]);
    assert!(upright.mc.accuracy > turned.mc.accuracy + 0.3, "rotating by 90 degrees must hurt: {shift:?}");

    // A rerun loads the saved weights and redoes nothing.
    common::mcdrop(dir.path())
        .args(["run", "--results-dir", "results"])
        .arg(&spec)
        .assert()
        .success()
        .stdout(predicate::str::contains("0 unit(s) written, 4 already recorded"));

    common::mcdrop(dir.path())
        .args(["plot", "smoke-mnist", "--results-dir", "results"])
        .assert()
        .success()
        .stdout(predicate::str::contains("figures/rotated-digit.png"));
    let png = std::fs::read(out.join("figures/rotated-digit.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    common::mcdrop(dir.path())
        .args(["table", "smoke-mnist", "--results-dir", "results"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(profile smoke)"))
        .stdout(predicate::str::contains("| smoke-mnist | lenet | MC, T = 20 | 500 |"));
}

/// Runs the spec `text` (written as bad.yaml in a fresh directory) and expects it refused
/// with exit 2 before anything trains; the directory stays alive for further checks.
fn run_refused(text: &str) -> (tempfile::TempDir, assert_cmd::assert::Assert) {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("bad.yaml");
    std::fs::write(&spec, text).unwrap();
    let refused = common::mcdrop(dir.path()).args(["run", "--results-dir", "results"]).arg(&spec).assert().code(2);
    (dir, refused)
}

#[test]
fn a_rotated_digit_beyond_the_test_rows_is_refused_before_training() {
    let (dir, refused) = run_refused(
        "name: bad\nseed: 1\ntask:\n  mnist: {train_rows: 100, test_rows: 50, rotated_digit: {image: 500}}\nmodel:\n  lenet: {}\n\
         training: {epochs: 1, batch_size: 64, optimizer: {adam: {lr: 0.001}}}\nevaluation: {mc_samples: 2}\n",
    );
    refused.stderr(predicate::str::contains(
        "task.mnist.rotated_digit.image: test image 500 was asked for but only 50 test images are used",
    ));
    assert!(!dir.path().join("results/bad/model.safetensors").exists(), "no training before the check");
}

#[test]
fn lenet_all_also_drops_in_the_convolutional_part_and_lenet_does_not() {
    use mcdrop::models::classifier::{HeadDropout, LeNet};
    use mcdrop::spec::raw::DropoutPlacement;
    tch::manual_seed(0);
    let images = tch::Tensor::rand([4, 1, 28, 28], (tch::Kind::Float, tch::Device::Cpu));
    for (placement, stochastic) in [(DropoutPlacement::Last, false), (DropoutPlacement::All, true)] {
        let vs = tch::nn::VarStore::new(tch::Device::Cpu);
        let net = LeNet::new(&vs.root(), HeadDropout::Fixed(0.5), placement);
        let (a, b) = (net.features(&images, true).unwrap(), net.features(&images, true).unwrap());
        let differ = f64::try_from((&a - &b).abs().max()).unwrap() > 0.0;
        assert_eq!(differ, stochastic, "{placement:?}");
        // With dropout off both are deterministic, and MC passes of the head always differ.
        let off =
            f64::try_from((net.features(&images, false).unwrap() - net.features(&images, false).unwrap()).abs().max())
                .unwrap();
        assert_eq!(off, 0.0);
        let features = net.features(&images, false).unwrap();
        let (h1, h2) = (net.head(&features, true).unwrap(), net.head(&features, true).unwrap());
        assert!(f64::try_from((&h1 - &h2).abs().max()).unwrap() > 0.0);
    }
}

#[test]
fn the_concrete_lenet_penalty_is_conv_weight_decay_plus_the_fc_regularizer() {
    use mcdrop::models::classifier::{HeadDropout, LeNet};
    use mcdrop::spec::raw::DropoutPlacement;
    use tch::Kind;
    tch::manual_seed(3);
    let (wd, l, n, p) = (5e-4, 3.0, 1000usize, 0.2f64);
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let head = HeadDropout::Concrete { init: p, temperature: 0.1, length_scale: l };
    let net = LeNet::new(&vs.root(), head, DropoutPlacement::Last);
    let params = vs.variables();
    let square = |name: &str| f64::try_from(params[name].square().sum(Kind::Double)).unwrap();
    let negative_entropy = p * p.ln() + (1.0 - p) * (1.0 - p).ln();
    // fc1 takes the 800 features, fc2 the 500 hidden units: K in the entropy term.
    let expected = wd / 2.0 * (square("conv1.weight") + square("conv2.weight"))
        + l * l / (2.0 * n as f64) * (square("fc1.weight") + square("fc2.weight")) / (1.0 - p)
        + (800.0 + 500.0) / n as f64 * negative_entropy;
    let got = f64::try_from(net.penalty(wd, n).unwrap()).unwrap();
    assert!((got - expected).abs() < 1e-6 * expected.abs().max(1.0), "{got} vs {expected}");
    assert_eq!(net.learned_rates().unwrap().map(|r| r.len()), Some(2));

    // The fixed-rate LeNet: weight decay on all four weight matrices, nothing learned.
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let net = LeNet::new(&vs.root(), HeadDropout::Fixed(0.5), DropoutPlacement::Last);
    let params = vs.variables();
    let square = |name: &str| f64::try_from(params[name].square().sum(Kind::Double)).unwrap();
    let all = ["conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight"].map(square).iter().sum::<f64>();
    let got = f64::try_from(net.penalty(wd, n).unwrap()).unwrap();
    // float32 sums over 430,000 weights against float64 ones.
    assert!((got - wd / 2.0 * all).abs() < 1e-5 * got, "{got} vs {}", wd / 2.0 * all);
    assert!(net.learned_rates().unwrap().is_none());
}

#[test]
fn smoke_mnist_concrete_learns_its_rates_and_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let spec = common::repo_file("experiments/smoke-mnist-concrete.yaml");
    common::mcdrop(dir.path()).args(["run", "--results-dir", "results"]).arg(&spec).assert().success();
    let out = dir.path().join("results/smoke-mnist-concrete/outcomes");
    let training: mcdrop::results::outcome::TrainingRecord = common::read_json(&out.join("training.json"));
    let rates = training.learned_dropout.expect("concrete dropout records its rates");
    assert_eq!(rates.len(), 2);
    // Started at 0.1; the gradient moves them, and a sigmoid keeps them in (0, 1).
    assert!(rates.iter().all(|&p| p > 0.0 && p < 1.0 && (p - 0.1).abs() > 1e-3), "{rates:?}");
    let eval: MnistEvaluation = common::read_json(&out.join("evaluation.json"));
    assert!(eval.mc.scores.accuracy > 0.8, "{eval:?}");
    assert_eq!(eval.model.to_string(), "lenet-concrete");
    common::mcdrop(dir.path())
        .args(["summary", "smoke-mnist-concrete", "--results-dir", "results"])
        .assert()
        .success()
        .stdout(predicate::str::contains("learned dropout rates before fc1, fc2: "));
}

#[test]
fn concrete_rates_with_dropout_in_the_convolutions_are_refused() {
    let (_dir, refused) = run_refused(
        "name: bad\nseed: 1\ntask:\n  mnist: {train_rows: 100, test_rows: 50}\nmodel:\n  lenet:\n    placement: all\n    \
         concrete: {length_scale: 1.0}\ntraining: {epochs: 1, batch_size: 64, optimizer: {adam: {lr: 0.001}}}\n\
         evaluation: {mc_samples: 2}\n",
    );
    refused.stderr(predicate::str::contains("bad.yaml:8:5")).stderr(predicate::str::contains("use `placement: last`"));
}

#[test]
fn an_mnist_training_killed_mid_way_resumes_from_its_checkpoint_and_equals_an_uninterrupted_one() {
    killed_and_resumed_equals_straight(&[]);
}

/// Caffe's solver (SGD, momentum, the `inv` rate policy): its velocities and step count are in
/// the checkpoint, so a resumed training continues at the rate it stopped at.
#[test]
fn an_sgd_training_killed_mid_way_resumes_with_its_velocity_and_rate() {
    killed_and_resumed_equals_straight(&[(
        "adam: {lr: 0.001}",
        "sgd: {lr: 0.01, momentum: 0.9, lr_policy: {inv: {gamma: 1.0e-4, power: 0.75}}}",
    )]);
}

fn killed_and_resumed_equals_straight(optimizer: &[(&str, &str)]) {
    let work = tempfile::tempdir().unwrap();
    let mut edits = vec![
        ("name: smoke-mnist", "name: mnist-ckpt"),
        ("train_rows: 2000", "train_rows: 1500"),
        ("test_rows: 500", "test_rows: 100"),
        ("shift_angles: [0, 45, 90]", "shift_angles: [0]"),
    ];
    edits.extend_from_slice(optimizer);
    let (spec, _) = common::spec_variant(work.path(), "experiments/smoke-mnist.yaml", "ckpt.yaml", &edits);
    let (straight, resumed) = (work.path().join("straight"), work.path().join("resumed"));
    common::mcdrop(work.path()).args(["run", "--results-dir"]).arg(&straight).arg(&spec).assert().success();
    common::kill_once_checkpointed(work.path(), &spec, &resumed, "mnist-ckpt");
    assert!(!resumed.join("mnist-ckpt/outcomes/training.json").exists(), "killed before its record");
    common::mcdrop(work.path())
        .args(["run", "--results-dir"])
        .arg(&resumed)
        .arg(&spec)
        .assert()
        .success()
        .stderr(predicate::str::contains("resuming from a checkpoint after epoch"));
    let read = |root: &Path, f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(root.join("mnist-ckpt/outcomes").join(f)).unwrap()).unwrap()
    };
    assert_eq!(read(&straight, "training.json")["epoch_losses"], read(&resumed, "training.json")["epoch_losses"]);
    assert_eq!(
        read(&straight, "evaluation.json")["mc"],
        read(&resumed, "evaluation.json")["mc"],
        "resumed training must equal the uninterrupted one bit for bit"
    );
    assert!(!common::has_checkpoint(&resumed, "mnist-ckpt"), "a finished training leaves no checkpoint behind");
    let accuracy = read(&straight, "evaluation.json")["standard"]["scores"]["accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.5, "trained well above chance on 1500 images: {accuracy}");
}

#[test]
fn an_ensemble_of_lenets_trains_each_member_and_its_first_is_the_single_lenet_of_the_spec() {
    let work = tempfile::tempdir().unwrap();
    let spec = common::repo_file("experiments/smoke-mnist-ensemble.yaml");
    let (single, _) = common::spec_variant(
        work.path(),
        "experiments/smoke-mnist-ensemble.yaml",
        "single.yaml",
        &[("name: smoke-mnist-ensemble", "name: single"), (", members: 3}", "}")],
    );
    let results = work.path().join("results");
    common::mcdrop(work.path())
        .args(["run", "--results-dir"])
        .arg(&results)
        .arg(&spec)
        .assert()
        .success()
        .stdout(predicate::str::contains("smoke-mnist-ensemble: 6 unit(s) written, 0 already recorded"));
    common::mcdrop(work.path()).args(["run", "--results-dir"]).arg(&results).arg(&single).assert().success();

    let ensemble = results.join("smoke-mnist-ensemble");
    let weights = |path: &Path| -> Vec<(String, tch::Tensor)> {
        let mut tensors = tch::Tensor::read_safetensors(path).unwrap();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        tensors
    };
    let same = |a: &[(String, tch::Tensor)], b: &[(String, tch::Tensor)]| {
        a.iter().zip(b).all(|((na, ta), (nb, tb))| na == nb && ta.equal(tb))
    };
    let first = weights(&ensemble.join("model-0.safetensors"));
    assert!(same(&first, &weights(&results.join("single/model.safetensors"))), "member 0 is the single LeNet");
    for k in [1, 2] {
        assert!(!same(&first, &weights(&ensemble.join(format!("model-{k}.safetensors")))), "member {k}: own seeds");
        assert!(ensemble.join(format!("outcomes/training-{k}.json")).is_file());
    }
    let outcomes = ensemble.join("outcomes");
    let eval: MnistEvaluation = common::read_json(&outcomes.join("evaluation.json"));
    assert_eq!(eval.model.to_string(), "lenet-ensemble-3");
    let alone: MnistEvaluation = common::read_json(&results.join("single/outcomes/evaluation.json"));
    assert_ne!(eval.standard.scores.nll, alone.standard.scores.nll, "the ensemble averages three networks");
    assert!(eval.standard.scores.accuracy > 0.8 && eval.mc.scores.accuracy > 0.8, "{eval:?}");
    let rotated: RotatedDigitRecord = common::read_json(&outcomes.join("rotated-digit.json"));
    assert_eq!(rotated.softmax_output[0].len(), 21, "the 21 passes shared out, 7 per member");

    // A rerun loads all three and redoes nothing; the table names the ensemble.
    common::mcdrop(work.path())
        .args(["run", "--results-dir"])
        .arg(&results)
        .arg(&spec)
        .assert()
        .success()
        .stdout(predicate::str::contains("0 unit(s) written, 6 already recorded"));
    common::mcdrop(work.path())
        .args(["table", "smoke-mnist-ensemble", "--results-dir"])
        .arg(&results)
        .assert()
        .success()
        .stdout(predicate::str::contains("| smoke-mnist-ensemble | lenet-ensemble-3 | MC, T = 21 | 500 |"));
}

#[test]
fn an_ensemble_with_fewer_passes_than_members_is_refused() {
    let (_dir, refused) = run_refused(
        "name: bad\nseed: 1\ntask:\n  mnist: {train_rows: 100, test_rows: 50}\nmodel:\n  lenet:\n    members: 5\n\
         training: {epochs: 1, batch_size: 64, optimizer: {adam: {lr: 0.001}}}\nevaluation: {mc_samples: 4}\n",
    );
    refused
        .stderr(predicate::str::contains("bad.yaml:7:5"))
        .stderr(predicate::str::contains("the 5 members share the 4 passes of evaluation.mc_samples"));
}
