//! Every kind of broken spec is reported as `file:line:column: field.path: message`, with
//! exit code 2, by `mcdrop validate` (fixtures in tests/specs/).

use crate::common;

use predicates::prelude::*;

/// (fixture, the exact location and message expected on stderr)
const BROKEN: &[(&str, &str)] = &[
    (
        "unknown-key",
        "unknown-key.yaml:13:3: training: unknown field `epoch`, expected one of `epochs`, `batch_size`, `optimizer`",
    ),
    ("wrong-type", "wrong-type.yaml:14:15: training.batch_size: invalid type: string \"many\", expected u64"),
    ("bad-dropout", "bad-dropout.yaml:10:14: model.mc_dropout.dropout: dropout rate must be in [0, 1), got 1.5"),
    ("unknown-set", "unknown-set.yaml:6:7: task.uci.sets: unknown variant `yaht`, expected one of `bostonHousing`"),
    ("duplicate-rate", "duplicate-rate.yaml:10:5: model.mc_dropout.dropout: 0.05 is listed twice"),
    ("negative-tau", "negative-tau.yaml:6:20: task.uci.sets.yacht.tau: must be a finite number > 0, got -1"),
    ("empty-grid", "empty-grid.yaml:10:5: model.mc_dropout.dropout: list at least one rate"),
    ("bad-name", "bad-name.yaml:1:1: name: experiment name must be non-empty"),
    ("missing-seed", "missing-seed.yaml:1:1: missing field `seed`"),
    (
        "unknown-model",
        "unknown-model.yaml:8:3: model: unknown variant `mc_dropot`, expected one of `mc_dropout`, `mfvi`, `gp`",
    ),
    ("missing-training", "missing-training.yaml:7:1: training: this model trains a network; add a `training:` section"),
    (
        "vi-grid-without-tau",
        "vi-grid-without-tau.yaml:6:7: task.uci.sets.yacht.tau: this model searches tau; list at least one value",
    ),
    ("zero-epochs", "zero-epochs.yaml:13:3: training.epochs: must be at least 1, got 0"),
    // The mark of a failed check sits on the map's first key (epochs): the field is found.
    ("zero-batch-size", "zero-batch-size.yaml:14:3: training.batch_size: must be at least 1, got 0"),
    ("not-yaml", "not-yaml.yaml:1:7: name: invalid type: sequence, expected a string"),
    ("rl-duplicate-policy", "rl-duplicate-policy.yaml:9:5: model.deep_q.policies: thompson is listed twice"),
    ("rl-burnin-too-long", "rl-burnin-too-long.yaml:7:5: task.rl.burnin_ticks: 1000 leaves no ticks after burn-in"),
    (
        "rl-bad-placement",
        "rl-bad-placement.yaml:8:35: model.deep_q.thompson_dropout.placement: unknown variant `before_output`",
    ),
    ("rl-with-mc-dropout", "rl-with-mc-dropout.yaml:5:1: model: the rl task trains `deep_q` agents"),
    (
        "gp-settings-without-gp",
        "gp-settings-without-gp.yaml:6:7: task.uci.sets.yacht.gp: only a GP model (`model: {gp: ...}`) takes per-set GP settings; remove it",
    ),
    (
        "gp-greedy-variance-under-adam",
        "gp-greedy-variance-under-adam.yaml:7:7: task.uci.sets.kin8nm.gp: inducing_init greedy_variance starts L-BFGS's inducing inputs only; with adam use `inducing_init: random`",
    ),
    (
        "sgd-outside-mnist",
        "sgd-outside-mnist.yaml:16:5: training.optimizer.sgd: Caffe's SGD trains the MNIST classifiers only",
    ),
];

#[test]
fn each_broken_spec_is_located_and_explained() {
    let specs = common::repo_file("tests/specs");
    for (fixture, expected) in BROKEN {
        common::mcdrop(&specs)
            .args(["validate", &format!("{fixture}.yaml")])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*expected))
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn good_specs_validate_including_the_shipped_experiments() {
    let root = common::repo_file("");
    common::mcdrop(&root)
        .args(["validate", "tests/specs/good.yaml"])
        .args(["experiments/uci-dropout.yaml", "experiments/uci-vi.yaml", "experiments/uci-gp.yaml"])
        .arg("experiments/uci-gp-lbfgs.yaml")
        .args(["experiments/smoke-uci.yaml", "experiments/smoke-vi.yaml", "experiments/smoke-gp.yaml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok: experiments/uci-dropout.yaml (experiment `uci-dropout`"));
}

#[test]
fn validate_reports_every_broken_file_not_just_the_first() {
    let specs = common::repo_file("tests/specs");
    common::mcdrop(&specs)
        .args(["validate", "good.yaml", "bad-dropout.yaml", "zero-epochs.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad-dropout.yaml:10:14"))
        .stderr(predicate::str::contains("zero-epochs.yaml:13:3"))
        .stderr(predicate::str::contains("2 of 3 spec(s) are invalid"));
}

#[test]
fn run_refuses_a_broken_spec_with_the_same_message() {
    let specs = common::repo_file("tests/specs");
    let out = tempfile::tempdir().unwrap();
    common::mcdrop(&specs)
        .args(["run", "zero-epochs.yaml", "--results-dir"])
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("zero-epochs.yaml:13:3: training.epochs: must be at least 1, got 0"));
    assert!(std::fs::read_dir(out.path()).unwrap().next().is_none(), "nothing may be written for a broken spec");
}

#[test]
fn the_uci_dropout_spec_encodes_the_paper_protocol() {
    use mcdrop::spec::{Experiment, ModelPlan, WeightDecayRule};
    let spec = mcdrop::spec::load(&common::repo_file("experiments/uci-dropout.yaml")).unwrap();
    let Experiment::UciRegression(plan) = &spec.experiment else { panic!("uci-dropout is a UCI experiment") };
    let ModelPlan::McDropout(model, net) = &plan.model else { panic!("uci-dropout trains MC dropout") };
    assert_eq!(plan.sets.len(), 9);
    assert_eq!(model.dropout_rates, vec![0.005, 0.01, 0.05, 0.1]);
    assert_eq!(model.weight_decay, WeightDecayRule::LengthScale(0.01));
    assert_eq!((net.training.batch_size, net.training.lr, net.training.eps), (128, 1e-3, 1e-7));
    assert_eq!(net.mc_samples, 10_000);
    assert_eq!(plan.validation_fraction, 0.2);
    // Every set's tau grid, width and epochs as the mirror's per-set files give them.
    for set in &plan.sets {
        let dir = common::mirror().join("uci").join(set.set.folder());
        let read = |f: &str| -> Vec<f64> {
            std::fs::read_to_string(dir.join(f)).unwrap().split_whitespace().map(|v| v.parse().unwrap()).collect()
        };
        assert_eq!(set.taus, read("tau_values.txt"), "{}", set.set);
        assert_eq!(model.dropout_rates, read("dropout_rates.txt"), "{}", set.set);
        assert_eq!(set.hidden_units as f64, read("n_hidden.txt")[0], "{}", set.set);
        assert_eq!(set.epochs as f64, read("n_epochs.txt")[0] * 100.0, "{}", set.set);
    }
}

#[test]
fn the_lbfgs_gp_spec_fits_protein_as_uci_gp_does_and_every_other_set_by_lbfgs() {
    use mcdrop::spec::{Experiment, GpOptimizer, InducingInit, ModelPlan};
    let load = |name: &str| {
        let spec = mcdrop::spec::load(&common::repo_file(&format!("experiments/{name}.yaml"))).unwrap();
        let Experiment::UciRegression(plan) = spec.experiment else { panic!("{name} is a UCI experiment") };
        plan
    };
    let (lbfgs, adam) = (load("uci-gp-lbfgs"), load("uci-gp"));
    let (ModelPlan::Gp(model), ModelPlan::Gp(adam_model)) = (&lbfgs.model, &adam.model) else {
        panic!("both fit a GP")
    };
    for set in &lbfgs.sets {
        let plan = set.gp_plan(model);
        if set.set.folder() == "protein-tertiary-structure" {
            assert_eq!(plan.optimizer, GpOptimizer::Adam);
            assert_eq!(
                (plan.iterations, plan.lr, plan.restarts),
                (adam_model.iterations, adam_model.lr, adam_model.restarts)
            );
            assert_eq!((plan.inducing_init, plan.race_after), (InducingInit::Random, Some(20)));
            assert_eq!((plan.inducing, plan.max_rows), (adam_model.inducing, adam_model.max_rows));
        } else {
            assert!(set.gp.is_none(), "{}", set.set);
            assert_eq!((plan.optimizer, plan.race_after), (GpOptimizer::Lbfgs, Some(20)), "{}", set.set);
        }
    }
}

#[test]
fn the_mnist_and_co2_specs_encode_the_paper_settings() {
    use mcdrop::spec::raw::{Activation, DropoutPlacement};
    use mcdrop::spec::{ClassifierPlan, Experiment};
    let spec = mcdrop::spec::load(&common::repo_file("experiments/mnist-lenet.yaml")).unwrap();
    let Experiment::Mnist(plan) = &spec.experiment else { panic!("mnist-lenet is an MNIST experiment") };
    let ClassifierPlan::Lenet { dropout, placement, .. } = &plan.classifier else { panic!("mnist-lenet trains LeNet") };
    assert_eq!((*dropout, *placement), (0.5, DropoutPlacement::Last));
    assert_eq!((plan.rotated_digit.steps, plan.rotated_digit.max_degrees, plan.rotated_digit.samples), (12, 90.0, 100));
    assert_eq!(plan.rotated_digit.classes, vec![1, 5, 7]);
    assert_eq!((plan.mc_samples, plan.calibration_bins), (100, 15));

    let spec = mcdrop::spec::load(&common::repo_file("experiments/co2.yaml")).unwrap();
    let Experiment::Co2(plan) = &spec.experiment else { panic!("co2 is a CO2 experiment") };
    assert_eq!((plan.mlp.hidden_layers, plan.hidden_units, plan.mlp.dropout_rates.clone()), (4, 1024, vec![0.1]));
    assert_eq!(plan.activations, vec![Activation::Relu, Activation::Tanh]);
    assert_eq!((plan.cutoff, plan.predict_until, plan.mc_samples), (1992.0, 2010.0, 1000));
}

#[test]
fn labels_do_not_change_a_specs_hash_but_settings_do() {
    let text = std::fs::read_to_string(common::repo_file("experiments/smoke-uci.yaml")).unwrap();
    let path = std::path::Path::new("smoke-uci.yaml");
    let base = mcdrop::spec::parse(&text, path).unwrap().sha256;
    // Comments, description, profile, device and run options label or place a run.
    let relabelled = text
        .replace("profile: smoke", "profile: quick")
        .replace("device: cpu", "device: auto")
        .replace("description: UCI protocol shrunk", "description: another text")
        + "# a comment\nrun: {splits_per_program: 1}\n";
    assert_eq!(mcdrop::spec::parse(&relabelled, path).unwrap().sha256, base);
    // A setting that decides the numbers does.
    let changed = text.replace("epochs: 500", "epochs: 501");
    assert_ne!(mcdrop::spec::parse(&changed, path).unwrap().sha256, base);
}
