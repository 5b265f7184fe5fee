"""lossapp.lab: each experiment's finding at its defaults, the parameter changes that make a conditional claim
fail, the JSON record, determinism, bad input, and `python -m lossapp lab`."""

from __future__ import annotations

import json
import math

import pytest
from stray_english import stray_english

from lossapp.__main__ import main
from lossapp.i18n import has_zh
from lossapp.inputs import InputError
from lossapp.lab import EXPERIMENTS, builtin_loss, read_seed, run_experiment

NAMES = ("l1_l2_smooth_l1", "ce_vs_mse_sigmoid", "hard_vs_soft_truncation", "focal_imbalance",
         "l1_vs_l2_regularization", "mle_equals_ce", "hinge_vs_log")
FIELDS = {"name", "article", "claim", "params", "series", "finding", "holds", "summary"}


@pytest.fixture(scope="module")
def defaults() -> dict[str, dict]:
    """Every experiment run once at its defaults (seed 0), in English."""
    return {name: run_experiment(name) for name in NAMES}


def test_the_seven_experiments_in_the_issue_s_order() -> None:
    assert tuple(EXPERIMENTS) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_claim_holds_at_the_defaults_with_a_json_record(defaults, name: str) -> None:
    record = defaults[name]
    assert set(record) >= FIELDS and record["name"] == name and record["holds"] is True
    assert ".txt §" in record["article"]  # the seed file and the section
    assert record["params"] == {p.name: p.default for p in EXPERIMENTS[name].params}
    assert record["summary"].startswith("The claim holds on these settings")
    json.dumps(record, allow_nan=False)  # NaN and ±inf are null
    assert record["series"] and set(record["panels"]) == {s["panel"] for s in record["series"]}
    for series in record["series"]:
        assert len(series["x"]) == len(series["y"]) > 1 and series["name"] and series["x_label"]


def test_l1_l2_smooth_l1_finding(defaults) -> None:
    f = defaults["l1_l2_smooth_l1"]["finding"]
    # MSE's gradient at the outlier is 2·|r| (the outlier 20 above the line, w = 0 at the start: r ≈ 20 + 2·x)
    assert f["mse_outlier_gradient"] == pytest.approx(2 * (20 + 2 * 1.0), abs=0.5)
    assert f["l1_outlier_gradient"] == 1.0 and f["smooth_l1_outlier_gradient"] == 1.0  # bounded by 1
    assert f["l1_final_movement"] > 1e-2  # L1 still oscillates: ±lr·2x/n around its optimum
    assert f["l1_final_turns"] > f["final_steps"] / 2
    assert f["smooth_l1_final_movement"] < 1e-6 < f["tolerance"]
    assert f["smooth_l1_slope_error"] < 0.2 < 2.5 < f["mse_slope_error"]  # MSE is dragged by the outliers


def test_mse_gradient_grows_with_the_outlier() -> None:
    small = run_experiment("l1_l2_smooth_l1", {"outlier": 10})["finding"]
    large = run_experiment("l1_l2_smooth_l1", {"outlier": 100})["finding"]
    assert large["mse_outlier_gradient"] - small["mse_outlier_gradient"] == pytest.approx(2 * 90)
    assert large["l1_outlier_gradient"] == small["l1_outlier_gradient"] == 1.0


def test_a_decaying_learning_rate_rescues_l1() -> None:
    record = run_experiment("l1_l2_smooth_l1", {"schedule": "decaying"})
    assert record["finding"]["l1_final_movement"] < record["finding"]["tolerance"]
    assert record["holds"] is False and record["summary"].startswith("The claim does not hold")


def test_ce_vs_mse_sigmoid_finding(defaults) -> None:
    f = defaults["ce_vs_mse_sigmoid"]["finding"]
    a0 = 1 / (1 + math.exp(-4.0))  # w = b = 2, x = 1
    assert f["start_output"] == pytest.approx(a0, rel=1e-12)
    assert f["sigma_prime_start"] == pytest.approx(a0 * (1 - a0), rel=1e-12)
    assert f["cross_entropy_start_gradient"] == pytest.approx(a0, rel=1e-12)  # σ(z) − y with y = 0, x = 1
    assert f["quadratic_start_gradient"] == pytest.approx(a0 * a0 * (1 - a0), rel=1e-12)  # (a − y)·σ′(z)
    assert f["quadratic_peak_gradient"] == pytest.approx(4 / 27, rel=1e-3)  # max of a²(1 − a), at a = 2/3
    assert f["quadratic_identity_error"] <= 1e-12 and f["cross_entropy_identity_error"] <= 1e-12
    assert f["cross_entropy_steps_below_half"] * 5 < f["quadratic_steps_below_half"]


def test_an_unsaturated_start_has_no_slow_start() -> None:
    record = run_experiment("ce_vs_mse_sigmoid", {"start": 0.6})
    assert record["finding"]["quadratic_start_gradient"] > 0.5 * record["finding"]["quadratic_peak_gradient"]
    assert record["holds"] is False


def test_hard_vs_soft_truncation_finding(defaults) -> None:
    f = defaults["hard_vs_soft_truncation"]["finding"]
    assert f["hard_steps"] is None or f["hard_steps"] > f["cross_entropy_steps"]  # None: never settles (inf)
    assert f["cross_entropy_steps"] <= 10
    assert 0 < f["hard_final_active_share"] < 0.5  # most samples no longer update


def test_no_truncation_at_m_1_needs_no_more_steps() -> None:
    record = run_experiment("hard_vs_soft_truncation", {"m": 1.0})
    f = record["finding"]
    assert f["hard_steps"] == f["cross_entropy_steps"] and f["hard_final_active_share"] == 1.0
    assert record["holds"] is False


def test_focal_imbalance_finding(defaults) -> None:
    f = defaults["focal_imbalance"]["finding"]
    assert f["positives"] == 10 and f["negatives"] == 10000
    assert f["cross_entropy_loss_share"] < 0.1 and f["cross_entropy_gradient_share"] < 0.05
    assert f["focal_loss_share"] > 0.9 and f["focal_gradient_share"] > 0.8
    assert f["balanced_loss_share"] < f["cross_entropy_loss_share"]  # α = 0.25 weights the positives down


def test_focal_with_gamma_0_is_alpha_balanced_ce_and_hard_negatives_break_the_claim() -> None:
    f = run_experiment("focal_imbalance", {"gamma": 0})["finding"]
    assert f["focal_loss_share"] == f["balanced_loss_share"]
    hard_negatives = run_experiment("focal_imbalance", {"negative_logit": 1.0})
    assert hard_negatives["finding"]["focal_loss_share"] < hard_negatives["finding"]["cross_entropy_loss_share"]
    assert hard_negatives["holds"] is False


def test_l1_vs_l2_regularization_finding(defaults) -> None:
    f = defaults["l1_vs_l2_regularization"]["finding"]
    assert f["l1_zero_weights"] == f["true_zero_weights"] == 7 and f["l2_zero_weights"] == 0
    assert f["l2_weight_norm"] < f["none_weight_norm"]
    assert f["weight_decay_vs_l2_max_difference"] <= 1e-12 and f["weight_decay_step_vs_lambda_w"] <= 1e-12
    record = defaults["l1_vs_l2_regularization"]
    l1 = next(s for s in record["series"] if s["panel"] == "weights" and s["name"].startswith("L1"))
    assert l1["y"][3:] == [0.0] * 7 and all(v != 0 for v in l1["y"][:3])


def test_lambda_0_regularizes_nothing() -> None:
    record = run_experiment("l1_vs_l2_regularization", {"lam": 0})
    assert record["finding"]["l1_zero_weights"] == 0 and record["holds"] is False


def test_mle_equals_ce_finding(defaults) -> None:
    f = defaults["mle_equals_ce"]["finding"]
    for key in ("nll_vs_cross_entropy", "mle_stationarity", "gaussian_nll_vs_loss", "laplace_nll_vs_loss"):
        assert f[key] <= 1e-12, key
    assert f["path_minimum_at"] == 0.0
    cross_entropy = next(s for s in defaults["mle_equals_ce"]["series"] if s["panel"] == "categorical")
    assert min(cross_entropy["y"]) == pytest.approx(f["entropy_of_frequency"], rel=1e-12)


def test_hinge_vs_log_finding(defaults) -> None:
    f = defaults["hinge_vs_log"]["finding"]
    assert f["zero_one_loss"] == f["hinge_loss"] == f["hinge_push"] == 0.0
    assert f["log_loss"] == pytest.approx(math.log1p(math.exp(-2.0)), rel=1e-12)
    assert f["log_push"] == pytest.approx(1 / (1 + math.exp(2.0)), rel=1e-12)  # σ(−z)
    assert f["hinge_pushing_points"] < 10 and f["log_pushing_points"] == f["points"] == 100


def test_a_point_inside_the_margin_still_costs_the_hinge() -> None:
    record = run_experiment("hinge_vs_log", {"margin_point": 0.5})
    assert record["finding"]["hinge_loss"] == 0.5 and record["finding"]["hinge_push"] == 1.0
    assert record["holds"] is False


def test_runs_are_deterministic_and_the_seed_changes_the_data() -> None:
    assert run_experiment("focal_imbalance", seed=3) == run_experiment("focal_imbalance", seed=3)
    assert (run_experiment("focal_imbalance", seed=3)["finding"]
            != run_experiment("focal_imbalance", seed=4)["finding"])


@pytest.mark.parametrize("name", NAMES)
def test_chinese_record_has_no_stray_english(name: str) -> None:
    record = run_experiment(name, lang="zh")
    texts = [record["title"], record["claim"], record["summary"], *record["panels"].values(),
             *(p["description"] for p in record["params"] if isinstance(p, dict)),
             *(s[k] for s in record["series"] for k in ("name", "x_label", "y_label"))]
    listed = EXPERIMENTS[name].to_dict("zh")
    texts += [p["description"] for p in listed["params"]]
    for text in texts:
        assert stray_english(text) == [], text


def test_bad_input_is_an_input_error_in_both_languages() -> None:
    for call in (lambda: run_experiment("nope"), lambda: run_experiment("focal_imbalance", {"gamma": "-1"}),
                 lambda: run_experiment("focal_imbalance", {"delta": "1"}),
                 lambda: run_experiment("focal_imbalance", seed="-1"), lambda: read_seed("1e3")):
        with pytest.raises(InputError) as caught:
            call()
        assert "expected" in str(caught.value) and has_zh(caught.value)


def test_builtin_loss_is_the_registered_reference() -> None:
    import torch

    smooth = builtin_loss("smooth_l1", beta=2.0)
    value = smooth(torch.tensor([0.0, 3.0]), torch.tensor([0.5, 0.0]), reduction="sum")
    assert float(value) == pytest.approx(0.5 * 0.25 / 2 + (3 - 1))


# -- python -m lossapp lab -------------------------------------------------------------------------------------------

def test_cli_lists_the_experiments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab"]) == 0
    out = capsys.readouterr().out
    from lossapp.examples import source_title

    assert all(name in out for name in NAMES) and f"{source_title('004_30232886671f4238.txt')} §1.3" in out
    assert main(["lab", "--json"]) == 0
    assert [e["name"] for e in json.loads(capsys.readouterr().out)] == list(NAMES)


def test_cli_runs_one_with_params_seed_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "hinge_vs_log", "--param", "margin_point=0.5", "--seed", "1", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert set(record) >= FIELDS and record["params"]["margin_point"] == 0.5 and record["seed"] == 1
    assert record["holds"] is False


def test_cli_text_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "mle_equals_ce", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "在这些设置下成立" in out and "mle_stationarity" in out
    assert stray_english(out) == [], out


def test_cli_bad_input_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "focal_imbalance", "--param", "gamma=abc", "--json"]) == 2
    out, err = capsys.readouterr()
    assert "gamma" in json.loads(out)["error"] and err.startswith("error: ") and err.count("\n") == 1
    assert main(["lab", "nope", "--lang", "zh"]) == 2
    assert "未知实验" in capsys.readouterr().err
    assert main(["lab", "--param", "gamma=1"]) == 2
    assert main(["lab", "focal_imbalance", "--seed", "x"]) == 2


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_article_is_named_by_its_title_for_readers(lang) -> None:
    from lossapp.examples import source_title
    from lossapp.lab import EXPERIMENTS, cited

    for experiment in EXPERIMENTS.values():
        title = cited(experiment.article, lang)
        assert ".txt" not in title and "§" in title
        first_seed = experiment.article.split()[0].rstrip(",")
        assert title.startswith(source_title(first_seed, lang))
        assert experiment.to_dict(lang)["article_title"] == title
