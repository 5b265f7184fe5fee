"""The app's own strings (labels, buttons, tabs, placeholders, help) in English and 中文.

    t("compute", "zh")  -> "计算"

Library strings (step titles, notes, warnings, errors, spec titles) go through `lossapp.i18n.tr`.
The English texts are also registered with `add_zh`, so `tr(english, "zh")` works for them too.
"""

from __future__ import annotations

from lossapp.i18n import add_zh

LANG_CHOICES = [("English", "en"), ("中文", "zh")]

STRINGS: dict[str, tuple[str, str]] = {
    # page
    "title": ("lossapp — deep-learning losses, step by step, checked against PyTorch",
              "lossapp —— 逐步计算深度学习损失函数，并与 PyTorch 对照"),
    "subtitle": ("Every intermediate with its formula and the numbers put in; the value and the gradient compared "
                 "with PyTorch's built-in; claimed answers checked. Runs fully offline.",
                 "每个中间量都给出公式和代入的数字；数值和梯度与 PyTorch 内置函数对比；可检查给出的答案。完全离线运行。"),
    "language": ("Language", "语言"),
    "tab_calculator": ("Calculator", "计算器"),
    "tab_confusion": ("Confusion matrix", "混淆矩阵"),
    "tab_curves": ("Curves", "曲线"),
    "tab_examples": ("Article examples", "文章示例"),
    # calculator: inputs
    "family": ("Family", "类别"),
    "loss": ("Loss", "损失函数"),
    "parameters": ("Parameters", "参数"),
    "no_parameters": ("This loss has no parameters.", "该损失函数没有参数。"),
    "pred": ("Prediction (pred)", "预测值（pred）"),
    "target": ("Target", "目标值（target）"),
    "no_target": ("(this loss takes no target)", "（该损失函数不需要目标值）"),
    "placeholder": ("e.g. {example}\nAlso accepted: 0.1 0.2; 0.3 0.4 (rows), CSV lines, or a file below",
                    "例如 {example}\n也可以：0.1 0.2; 0.3 0.4（按行）、CSV 行，或在下方上传文件"),
    "use_example": ("↺ Use the example input", "↺ 使用示例输入"),
    "random_input": ("Random input (torch.manual_seed + torch.randn, as the articles do)",
                     "随机输入（与文章相同：torch.manual_seed + torch.randn）"),
    "seed": ("Seed", "随机种子"),
    "shape": ("Shape of pred", "pred 的形状"),
    "shape_info": ("e.g. 2, 3 — for class losses (N, C)", "例如 2, 3 —— 分类损失为 (N, C)"),
    "pred_kind": ("pred kind", "pred 类型"),
    "target_kind": ("target kind", "target 类型"),
    "classes": ("Classes C (for class indices)", "类别数 C（用于类别索引）"),
    "classes_info": ("0: the size of dimension 1 of pred", "0：取 pred 第 1 维的大小"),
    "generate": ("Generate", "生成"),
    "random_code": ("Generated with", "生成代码"),
    "upload": ("Upload files (.csv, .tsv, .txt, .json, .npy, .npz, .pt)", "上传文件（.csv、.tsv、.txt、.json、.npy、.npz、.pt）"),
    "pred_file": ("pred file", "pred 文件"),
    "target_file": ("target file", "target 文件"),
    "file_used": ("An uploaded file replaces the text above; remove it to use the text again.",
                  "上传的文件会代替上面的文本；删除文件即可重新使用文本。"),
    "reduction": ("Reduction", "归约方式"),
    "device": ("Device", "设备"),
    "dtype": ("Dtype", "数据类型"),
    "claimed": ("Claimed answer (optional)", "给出的答案（可选）"),
    "claimed_info": ("e.g. 0.9264 — checked for exact / convention / mistake / rounding / incorrect",
                     "例如 0.9264 —— 判定 exact / convention / mistake / rounding / incorrect"),
    "compute": ("Compute", "计算"),
    "tensor_param_placeholder": ("e.g. [1.0, 2.0]; empty = off", "例如 [1.0, 2.0]；留空 = 不使用"),
    # calculator: outputs
    "value_label": ("Loss", "损失值"),
    "nothing_yet": ("Choose a loss, enter pred and target (or load an article example), then Compute.",
                    "选择损失函数，输入 pred 和 target（或载入文章示例），然后点击“计算”。"),
    "out_solution": ("Worked solution", "详细解答"),
    "out_table": ("Per-element table", "逐元素表"),
    "out_comparison": ("Comparison with PyTorch", "与 PyTorch 的对比"),
    "out_plot": ("Plot", "图像"),
    "out_snippet": ("Reproduce in PyTorch", "用 PyTorch 复现"),
    "out_downloads": ("Downloads", "下载"),
    "download_md": ("Worked solution (Markdown)", "详细解答（Markdown）"),
    "download_json": ("Result (JSON)", "结果（JSON）"),
    "download_csv": ("Table (CSV)", "表格（CSV）"),
    "download_npz": ("Every element (NumPy .npz)", "全部元素（NumPy .npz）"),
    "downloads_note": ("Each file is written when you click its button and kept for {minutes} minutes. The JSON is "
                       "the one /compute returns (each step's first elements with its shape; the value and the "
                       "comparisons over every element); the CSV has the table's first {rows:,} rows; the .npz "
                       "has every element's loss and gradient (arrays loss, gradient, gradient_reference).",
                       "点击按钮时才生成文件，保留 {minutes} 分钟。JSON 与 /compute 返回的相同（每一步的前几个元素及其"
                       "形状；数值和对比覆盖全部元素）；CSV 含表格的前 {rows:,} 行；.npz 含每个元素的损失和梯度"
                       "（数组 loss、gradient、gradient_reference）。"),
    "progress_download": ("writing the file", "生成文件"),
    "table_rows": ("Showing the first {shown:,} of {total:,} rows; the Downloads tab has the rest.",
                   "显示前 {shown:,} 行（共 {total:,} 行）；其余的在“下载”页。"),
    "table_all": ("{total:,} rows.", "共 {total:,} 行。"),
    "plot_loss": ("Loss around your data", "你的数据附近的损失"),
    "plot_dloss": ("Derivative ∂l/∂pred", "导数 ∂l/∂pred"),
    "plot_none": ("This loss has no per-element loss to plot (it is one number for the whole input).",
                  "该损失函数没有逐元素的损失可画（整个输入只有一个数）。"),
    "plot_note": ("Curves: the loss's own step function on a grid (reduction none). Marks ▼: your elements.",
                  "曲线：在网格上运行该损失自身的逐步计算（reduction = none）。▼ 标记：你的元素。"),
    "snippet_note": ("A runnable script that computes the same value with PyTorch's built-ins.",
                     "一段可直接运行的脚本，用 PyTorch 内置函数算出同样的值。"),
    "col_quantity": ("quantity", "量"),
    "col_trace": ("trace (float64)", "逐步计算（float64）"),
    "col_builtin": ("built-in", "内置函数"),
    "col_diff": ("max |Δ|", "最大 |Δ|"),
    "col_agrees": ("agrees", "一致"),
    "warnings": ("Warnings", "警告"),
    # confusion tab
    "conf_intro": ("Counts in (article 003's example is filled in), or build them from a prediction and a target mask.",
                   "输入计数（已填入文章 003 的例子），或由预测和目标掩码得到。"),
    "tp": ("TP (true positives)", "TP（真正例）"),
    "fp": ("FP (false positives)", "FP（假正例）"),
    "fn": ("FN (false negatives)", "FN（假负例）"),
    "tn": ("TN (true negatives, optional)", "TN（真负例，可选）"),
    "metric": ("Metric shown as the value", "作为结果的指标"),
    "from_masks": ("From a prediction and a target mask", "由预测和目标掩码得到"),
    "pred_mask": ("Prediction (probabilities or 0/1)", "预测（概率或 0/1）"),
    "target_mask": ("Target mask (0/1)", "目标掩码（0/1）"),
    "threshold": ("Threshold", "阈值"),
    "use_masks": ("Count from the masks", "由掩码计数"),
    "conf_compute": ("Compute metrics", "计算指标"),
    "matrix": ("Confusion matrix", "混淆矩阵"),
    "predicted_pos": ("predicted positive", "预测为正"),
    "predicted_neg": ("predicted negative", "预测为负"),
    "actual_pos": ("actually positive", "实际为正"),
    "actual_neg": ("actually negative", "实际为负"),
    "metrics": ("Metrics", "指标"),
    "identity": ("Dice = F1, with the numbers", "Dice = F1（代入数字）"),
    # curves tab
    "curves_intro": ("The pictures the articles describe, computed live.", "文章中描述的图像，实时计算。"),
    "focal_title": ("Focal loss vs p_t (RetinaNet, figure 1)", "Focal loss 随 p_t 的变化（RetinaNet 图 1）"),
    "focal_gamma": ("your γ (added as a curve)", "你的 γ（作为一条曲线加入）"),
    "focal_alpha": ("α (for a positive element; 1 = none)", "α（正样本的权重；1 = 不加权）"),
    "reg_title": ("L1, L2, Smooth L1 and Huber (article 000)", "L1、L2、Smooth L1 与 Huber（文章 000）"),
    "reg_deriv_title": ("Their derivatives dl/dd", "它们的导数 dl/dd"),
    "beta": ("β (Smooth L1)", "β（Smooth L1）"),
    "delta": ("δ (Huber)", "δ（Huber）"),
    "bce_title": ("Binary cross-entropy vs p, for y = 1 and y = 0", "二元交叉熵随 p 的变化（y = 1 与 y = 0）"),
    "trunc_title": ("Hard vs soft truncation weights (article 004)", "硬截断与软截断权重（文章 004）"),
    "trunc_m": ("threshold m (hard)", "阈值 m（硬截断）"),
    "trunc_k": ("steepness K (soft)", "陡度 K（软截断）"),
    "trunc_y": ("class y", "类别 y"),
    "trunc_note": ("Hard: λ(1, ŷ) = 0 when ŷ > m (and λ(0, ŷ) = 0 when ŷ < 1 − m), else 1. "
                   "Soft: θ(x) ≈ σ(Kx) with x the logit, so λ(1, ŷ) ≈ σ(−Kx) — differentiable.",
                   "硬截断：ŷ > m 时 λ(1, ŷ) = 0（ŷ < 1 − m 时 λ(0, ŷ) = 0），否则为 1。"
                   "软截断：θ(x) ≈ σ(Kx)，x 为 logit，所以 λ(1, ŷ) ≈ σ(−Kx) —— 可导。"),
    "x_pt": ("p_t (probability of the true class)", "p_t（真实类别的概率）"),
    "x_d": ("d = ŷ − y", "d = ŷ − y"),
    "x_p": ("p", "p"),
    "x_pred": ("pred", "pred"),
    "x_logit": ("x_y (the true class's logit)", "x_y（真实类别的 logit）"),
    "y_loss": ("loss", "损失"),
    "y_dloss": ("∂l/∂pred", "∂l/∂pred"),
    "y_value": ("value", "值"),
    "y_weight": ("weight λ", "权重 λ"),
    # examples tab
    "examples_intro": ("Every worked example of the five source articles. Load one into the calculator to see all "
                       "of its steps.",
                       "五篇原文中的每个计算示例。载入计算器即可查看全部步骤。"),
    "load": ("Load into calculator", "载入计算器"),
    "stated": ("the article states", "文章给出"),
    "lossapp_value": ("lossapp", "lossapp 计算"),
    "verdict": ("verdict", "判定"),
    "source": ("source", "来源"),
    "example_failed": ("not available yet", "暂不可用"),
    "examples_none": ("No examples found in examples/.", "examples/ 中没有示例。"),
    # families
    "family_regression": ("Regression", "回归"),
    "family_classification": ("Classification", "分类"),
    "family_overlap": ("Segmentation / overlap", "分割 / 重叠度"),
    "family_margin": ("Margin", "间隔（margin）"),
    "family_distribution": ("Distributions", "概率分布"),
    "family_regularization": ("Regularization", "正则化"),
    "family_metrics": ("Metrics", "指标"),
    # errors / progress
    "error_title": ("Input error", "输入错误"),
    "progress_parse": ("reading the inputs", "读取输入"),
    "progress_compute": ("computing the steps and the PyTorch reference", "计算各步骤和 PyTorch 参考值"),
    "progress_render": ("writing the worked solution", "生成详细解答"),
    "progress_plot": ("drawing the plot", "绘制图像"),
}

add_zh({en: zh for en, zh in STRINGS.values() if "{" not in en})


def t(key: str, lang: str = "en", **fmt: object) -> str:
    """The UI string `key` in `lang` ("en" or "zh"), formatted with `fmt`."""
    en, zh = STRINGS[key]
    text = zh if lang == "zh" else en
    return text.format(**fmt) if fmt else text


def family_label(family: str, lang: str = "en") -> str:
    key = f"family_{family}"
    return t(key, lang) if key in STRINGS else family
