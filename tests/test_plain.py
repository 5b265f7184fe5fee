from lossapp.plain import latex_to_text


def test_fractions_sums_and_greek() -> None:
    assert latex_to_text(r"L = \frac{\sum_n l_n}{n}") == "L = (Σ_n l_n)/n"
    assert latex_to_text(r"\alpha_t (1-p_t)^\gamma") == "α_t (1-p_t)^γ"
    assert latex_to_text(r"\hat{y}_n") == "ŷ_n"
    assert latex_to_text(r"\sqrt{x}") == "√(x)"


def test_cases_and_text() -> None:
    text = latex_to_text(r"l = \begin{cases} 0.5 d^2 & |d|<1 \\ |d| - 0.5 & \text{otherwise}\end{cases}")
    assert text == "l = { 0.5 d^2 |d|<1; |d| - 0.5 otherwise }"
