"""Chinese for every message of this package."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lossapp.i18n import add_zh, add_zh_patterns
from lossapp.inputs.checks import LOGITS_HINT, require_probabilities

# -- 中文 --------------------------------------------------------------------------------------------
# Messages start with the input's name ("pred: ...", "parameter weight: ..."); each pattern below is
# registered twice, once for "parameter NAME: " (参数 NAME：) and once for any other name.

def _named(rest: str, zh: str) -> list[tuple[str, str]]:
    """Patterns for '<name>: <rest>' -> '<name>：<zh>', with 'parameter X' rendered as '参数 X'. A name may hold
    colons ("pred (from 'a:b.csv')"): it is the shortest one, up to a ': ', after which <rest> matches."""
    return [(rf"parameter (?P<pname>[^\s:]+): {rest}", rf"参数 \g<pname>：{zh}"),
            (rf"(?P<name>[^\n]+?): {rest}", rf"\g<name>：{zh}")]


def _positioned(rest: str, zh_line: str, zh_char: str) -> list[tuple[str, str]]:
    """Messages ending in a position: 'line L, column C' or 'character N'."""
    return (_named(rf"{rest} at line (?P<line>\d+), column (?P<col>\d+)", zh_line)
            + _named(rf"{rest} at character (?P<char>\d+)", zh_char))


_INDEX = r"(?P<index>\d+|\(\d+(?:, \d+)+\))"  # as _index_text writes it: 3 or (0, 1)
_SHAPE = r"\((?:\d+,|\d+(?:, \d+)+)?\)"  # as shape_text writes it: (), (3,) or (2, 3)


def _indexed(rest: str, zh: str, after: str = "", zh_after: str = "") -> list[tuple[str, str]]:
    """Messages with an optional ' at index I' after `rest` (absent for 0-d tensors)."""
    return (_named(rf"{rest} at index {_INDEX}{after}", rf"{zh}（位置 \g<index>）{zh_after}")
            + _named(rf"{rest}{after}", rf"{zh}{zh_after}"))


def _first_at_zh(rest: str, zh: str) -> list[tuple[str, str]]:
    return (_named(rf"{rest} \(first at index (?P<first>.+?)\)", rf"{zh}（第一处在索引 \g<first>）")
            + _named(rest, zh))



add_zh({
    "expected a loss name such as bce or cross_entropy, got nothing": "期望一个损失函数名（如 bce 或 cross_entropy），但没有给出",
})

add_zh_patterns([
    # -- inputs.py: reading ---------------------------------------------------------------------------
    *_named(r"expected a tensor, got nothing", r"期望一个张量，但没有给出"),
    *_named(r"expected UTF-8 text, got undecodable bytes at byte (?P<b>\d+)", r"期望 UTF-8 文本，但第 \g<b> 个字节无法解码"),
    *_named(r"expected text, a list, a numpy array or a torch tensor, got (?P<t>.+)",
            r"期望文本、列表、numpy 数组或 torch 张量，实际为 \g<t>"),
    *_named(r"expected at most (?P<n>[\d,]+) elements, got (?P<m>[\d,]+)", r"最多允许 \g<n> 个元素，实际为 \g<m> 个"),
    *_named(r"expected at most (?P<n>[\d,]+) characters, got (?P<m>[\d,]+)", r"最多允许 \g<n> 个字符，实际为 \g<m> 个"),
    *_named(r"expected at most (?P<n>\d+) dimensions, got more", r"最多允许 \g<n> 维，实际更多"),
    *_named(r"expected at most (?P<n>\d+) dimensions, got (?P<m>\d+)", r"最多允许 \g<n> 维，实际为 \g<m> 维"),
    *_named(r"expected a tensor with data, got a tensor on the meta device", r"期望一个有数据的张量，实际是 meta 设备上的张量"),
    *_named(r"expected a tensor with one shape, got a nested tensor \(pad it with \.to_padded_tensor\(0\)\)",
            r"期望形状统一的张量，实际是嵌套张量（nested tensor）（请用 .to_padded_tensor(0) 补齐）"),
    *_named(r"expected a tensor of a numeric dtype such as float32 or int64, got (?P<t>\S+)",
            r"期望数值类型（如 float32 或 int64）的张量，实际 dtype 为 \g<t>"),
    *_named(r"expected brackets nested at most (?P<n>[\d,]+) deep, got (?P<m>[\d,]+)",
            r"括号最多嵌套 \g<n> 层，实际嵌套了 \g<m> 层"),
    *_positioned(r"expected a number of at most (?P<n>[\d,]+) characters, got (?P<m>[\d,]+) characters",
                 r"一个数最多 \g<n> 个字符，但第 \g<line> 行第 \g<col> 列的数有 \g<m> 个字符",
                 r"一个数最多 \g<n> 个字符，但第 \g<char> 个字符处的数有 \g<m> 个字符"),
    *_indexed(r"expected a number of at most (?P<n>[\d,]+) characters, got (?P<m>[\d,]+) characters",
              r"一个数最多 \g<n> 个字符，实际有 \g<m> 个字符"),
    *_indexed(r"expected numbers within float64's range \(±1\.8e308\), got an integer with more than 308 digits",
              r"期望 float64 范围（±1.8e308）内的数，实际是超过 308 位的整数"),
    *_indexed(r"expected real numbers, got (?P<t>\w+)", r"期望实数，实际为 \g<t>"),
    *_named(r"expected real numbers, got a complex tensor \((?P<t>.+)\)", r"期望实数，实际是复数张量（\g<t>）"),
    *_named(r"expected a numeric tensor, got a bool tensor \(convert it with \.float\(\) or \.long\(\)\)",
            r"期望数值张量，实际是 bool 张量（请用 .float() 或 .long() 转换）"),
    *_named(r"expected at least one number, got an empty tensor of shape (?P<s>.+)",
            r"期望至少一个数，实际是形状为 \g<s> 的空张量"),
    *_named(r"expected at least one number, got an empty list", r"期望至少一个数，实际是空列表"),
    *_positioned(r"expected a number in every list, got an empty list",
                 r"每个列表中都应有数，但第 \g<line> 行第 \g<col> 列是空列表", r"每个列表中都应有数，但第 \g<char> 个字符处是空列表"),
    *_named(r"expected integers that fit in int64, got (?P<v>.+)", r"期望能放进 int64 的整数，实际为 \g<v>"),
    *_named(r"expected a rectangular array of numbers, got (?P<e>.+)", r"期望由数构成的规则（矩形）数组，实际为：\g<e>"),
    *_named(r"expected numbers, got values of type (?P<t>.+)", r"期望数值，实际为 \g<t> 类型的值"),
    *_named(r"expected numbers, got text that does not parse", r"期望数值，但文本无法解析"),
    *_named(r"expected numbers, got the random spec (?P<s>.+) \(use random inputs with a seed instead\)",
            r"期望数值，实际是随机生成写法 \g<s>（请改用带种子的随机输入）"),
    *_indexed(r"expected numbers, got (?P<t>\S+)", r"期望数值，实际为 \g<t>"),
    *_named(r"expected a rectangular tensor, got numbers and lists mixed at the same level \(index (?P<i>.+) is a number\)",
            r"期望规则（矩形）张量，但同一层级混有数和列表（索引 \g<i> 处是数）"),
    *_named(r"expected a rectangular tensor, got numbers and lists mixed at the same level",
            r"期望规则（矩形）张量，但同一层级混有数和列表"),
    *_named(r"expected rows of equal length, got (?P<n>\d+) (?:entry|entries) at index (?P<r>.+) but (?P<m>\d+) at index (?P<r0>.+)",
            r"期望各行长度相同，但索引 \g<r> 处有 \g<n> 个元素，而索引 \g<r0> 处有 \g<m> 个"),
    *_named(r"expected (?P<m>\d+) values on every line \(like line (?P<l0>\d+)\), got (?P<n>\d+) on line (?P<l>\d+)",
            r"期望每一行都有 \g<m> 个值（与第 \g<l0> 行相同），但第 \g<l> 行有 \g<n> 个"),
    *_named(r"expected (?P<m>\d+) values in every row \(like row (?P<r0>\d+)\), got (?P<n>\d+) in row (?P<r>\d+)",
            r"期望每一行都有 \g<m> 个值（与第 \g<r0> 行相同），但第 \g<r> 行有 \g<n> 个"),
    *_positioned(r"expected a number, got (?P<t>.+)", r"期望一个数，但第 \g<line> 行第 \g<col> 列是 \g<t>",
                 r"期望一个数，但第 \g<char> 个字符处是 \g<t>"),
    *_named(r"expected a number, got (?P<t>.+?) at index (?P<index>.+)", r"期望一个数，实际为 \g<t>（位置 \g<index>）"),
    *_positioned(r"expected real numbers, got the complex value (?P<t>.+)",
                 r"期望实数，但第 \g<line> 行第 \g<col> 列是复数 \g<t>", r"期望实数，但第 \g<char> 个字符处是复数 \g<t>"),
    *_positioned(r"expected a number between the separators, got an empty cell",
                 r"分隔符之间应有一个数，但第 \g<line> 行第 \g<col> 列是空单元格",
                 r"分隔符之间应有一个数，但第 \g<char> 个字符处是空单元格"),
    *_positioned(r"expected balanced brackets, got a '\]' with no matching '\['",
                 r"括号应成对出现，但第 \g<line> 行第 \g<col> 列的 ']' 没有对应的 '['",
                 r"括号应成对出现，但第 \g<char> 个字符处的 ']' 没有对应的 '['"),
    *_named(r"expected balanced brackets, got (?P<n>\d+) unclosed '\[' \(the first at line (?P<line>\d+), column (?P<col>\d+)\)",
            r"括号应成对出现，但有 \g<n> 个 '[' 没有闭合（第一个在第 \g<line> 行第 \g<col> 列）"),
    *_named(r"expected balanced brackets, got (?P<n>\d+) unclosed '\[' \(the first at character (?P<char>\d+)\)",
            r"括号应成对出现，但有 \g<n> 个 '[' 没有闭合（第一个在第 \g<char> 个字符处）"),
    *_named(r"expected balanced brackets, got text that does not nest", r"括号应成对出现，但文本的嵌套不正确"),
    *_named(r"expected numbers such as \[0\.2, 0\.8\], got empty text", r"期望数值（如 [0.2, 0.8]），实际是空文本"),
    *_named(r"expected every value, got a summarized printout with '\.\.\.' \(print it in full with "
            r"torch\.set_printoptions\(profile='full'\) or numpy\.set_printoptions\(threshold=sys\.maxsize\)\)",
            r"期望全部数值，实际是带 '...' 的省略打印（请用 torch.set_printoptions(profile='full') 或 "
            r"numpy.set_printoptions(threshold=sys.maxsize) 完整打印）"),
    *_named(r"expected only keyword arguments such as dtype=\.\.\. after the values in (?P<f>\w+)\(\.\.\.\), got (?P<t>.+)",
            r"\g<f>(...) 中数值之后只能有 dtype=... 这样的关键字参数，实际为 \g<t>"),
    *_named(r"expected valid JSON, got (?P<m>.+) at line (?P<line>\d+), column (?P<col>\d+)",
            r"期望合法的 JSON，但第 \g<line> 行第 \g<col> 列出错：\g<m>"),
    *_named(r"expected a JSON list, a number, or an object holding exactly one list, got an object with keys (?P<k>.+)",
            r"期望 JSON 列表、数，或只含一个列表的对象，实际是键为 \g<k> 的对象"),
    *_named(r"expected a JSON list or number, got (?P<t>.+)", r"期望 JSON 列表或数，实际为 \g<t>"),
    *_named(r'expected a JSON object holding exactly one list, such as \{"pred": \[0\.2, 0\.8\]\}, got (?P<t>.+)',
            r'期望只含一个列表的 JSON 对象（如 {"pred": [0.2, 0.8]}），实际为 \g<t>'),
    *_named(r"expected (?P<n>[\d,]+) numbers for shape (?P<s>.+), got (?P<m>[\d,]+)",
            r"形状 \g<s> 需要 \g<n> 个数，实际为 \g<m> 个"),
    # -- inputs.py: files -----------------------------------------------------------------------------
    *_named(r"expected a file, got nothing", r"期望一个文件，但没有给出"),
    *_named(r"expected an existing file, got (?P<f>.+)", r"期望一个存在的文件，实际为 \g<f>"),
    *_named(r"expected a (?P<l>[.\w, ]+) or (?P<x>\.\w+) file, got (?P<f>.+)", r"期望 \g<l> 或 \g<x> 文件，实际为 \g<f>"),
    *_named(r"expected a file of at most (?P<n>.+), got (?P<m>.+)", r"文件最大为 \g<n>，实际为 \g<m>"),
    *_named(r"expected UTF-8 text in (?P<f>.+), got undecodable bytes at byte (?P<b>\d+)",
            r"期望 \g<f> 是 UTF-8 文本，但第 \g<b> 个字节无法解码"),
    *_named(r"expected valid JSON in (?P<f>.+), got (?P<m>.+) at line (?P<line>\d+), column (?P<col>\d+)",
            r"期望 \g<f> 是合法的 JSON，但第 \g<line> 行第 \g<col> 列出错：\g<m>"),
    *_named(r"expected a numeric array in (?P<f>.+), got a pickled object array \(not loaded, for safety\)",
            r"期望 \g<f> 中是数值数组，实际是 pickle 序列化的对象数组（出于安全考虑不加载）"),
    *_named(r"expected a \.npy array in (?P<f>.+), got an \.npz archive", r"期望 \g<f> 是 .npy 数组，实际是 .npz 压缩包"),
    *_named(r"expected at least one array in (?P<f>.+), got none", r"期望 \g<f> 中至少有一个数组，实际一个也没有"),
    *_named(r"expected arrays of at most (?P<n>.+) uncompressed, got (?P<m>.+) in (?P<f>.+)",
            r"解压后的数组最大为 \g<n>，但 \g<f> 中的数组有 \g<m>"),
    *_named(r"expected tensors saved with torch\.save in (?P<f>.+), got a file that torch\.load\(weights_only=True\) "
            r"refuses \((?P<d>.+)\)",
            r"期望 \g<f> 是用 torch.save 保存的张量，但 torch.load(weights_only=True) 拒绝加载该文件（\g<d>）"),
    *_named(r"expected a tensor, or a dict or list holding exactly one tensor, in (?P<f>.+), got (?P<d>.+)",
            r"期望 \g<f> 中是一个张量，或只含一个张量的 dict / list，实际为 \g<d>"),
    *_named(r"expected a valid (?P<x>\.\w+) file, got one that cannot be read \((?P<d>.+)\)",
            r"期望合法的 \g<x> 文件，但该文件无法读取（\g<d>）"),
    # -- inputs.py: random inputs ---------------------------------------------------------------------
    (r"expected a random kind such as (?P<k>.+), got (?P<g>.+)", r"期望随机类型之一：\g<k>，实际为 \g<g>"),
    (r"expected a random spec such as (?P<h>.+), got (?P<s>.+)", r"期望随机生成写法，如 \g<h>，实际为 \g<s>"),
    *_named(r"expected a shape of positive integers such as \(2, 3\), got (?P<s>.+)",
            r"期望由正整数构成的形状（如 (2, 3)），实际为 \g<s>"),
    *_named(r"expected a shape with at least 1 dimension for softmax, got \(\)", r"softmax 需要至少 1 维的形状，实际为 ()"),
    *_named(r"expected num_classes \(the number of classes\) of at least 1, got (?P<n>.+)",
            r"期望类别数 num_classes 至少为 1，实际为 \g<n>"),
    *_named(r"expected dtype float16, bfloat16, float32 or float64, got (?P<t>.+)",
            r"期望 dtype 为 float16、bfloat16、float32 或 float64，实际为 \g<t>"),
    *_named(r"expected an integer in \[-2\^63, 2\^64\), got (?P<v>.+)", r"期望 [-2^63, 2^64) 内的整数，实际为 \g<v>"),
    *_named(r"expected sizes such as 2, 3 or \(2, 3\), got an empty argument", r"期望尺寸（如 2, 3 或 (2, 3)），但有一个空参数"),
    *_named(r"expected sizes such as 2, 3 or \(2, 3\), got none", r"期望尺寸（如 2, 3 或 (2, 3)），但没有给出"),
    *_named(r"expected sizes such as 2, 3 or \(2, 3\), got (?P<a>.+)", r"期望尺寸（如 2, 3 或 (2, 3)），实际为 \g<a>"),
    *_named(r"expected keyword arguments last, got (?P<a>.+)", r"关键字参数应放在最后，实际为 \g<a>"),
    *_named(r"expected randint\(high, size\) or randint\(low, high, size\) with one size tuple such as \(2,\)",
            r"期望 randint(high, size) 或 randint(low, high, size)，并有一个 size 元组（如 (2,)）"),
    *_named(r"expected low and high within the range of (?P<t>\w+) \[(?P<a>-?\d+), (?P<b>-?\d+)\], got a value beyond it",
            r"期望 low 和 high 在 \g<t> 的范围 [\g<a>, \g<b>] 内，实际超出了该范围"),
    *_named(r"expected high > low, got low (?P<l>.+) and high (?P<h>.+)", r"期望 high > low，实际 low 为 \g<l>、high 为 \g<h>"),
    *_named(r"expected arguments size, dtype, low, high or requires_grad, got (?P<a>.+)",
            r"期望参数 size、dtype、low、high 或 requires_grad，实际为 \g<a>"),
    # -- inputs.py: checks ----------------------------------------------------------------------------
    *_first_at_zh(r"expected finite numbers, got NaN at (?P<n>\d+) place\(s\)", r"期望有限的数，但有 \g<n> 处为 NaN"),
    *_first_at_zh(r"expected finite numbers, got ±inf at (?P<n>\d+) place\(s\)", r"期望有限的数，但有 \g<n> 处为 ±inf"),
    (r"(?P<name>.+) contains ±inf; the result follows the limits of the formula", r"\g<name> 含有 ±inf；结果按公式的极限计算"),
    (r"expected a (?P<t>\S+) tensor, got none", r"期望一个 \g<t> 张量，但没有给出"),
    *_named(r"expected a tensor with at least (?P<n>\d+) dimension\(s\), got a 0-d scalar \((?P<v>.+)\)",
            r"期望至少 \g<n> 维的张量，实际是 0 维标量（\g<v>）"),
    *_named(r"expected a tensor with at least (?P<n>\d+) dimension\(s\), got shape (?P<s>.+)",
            r"期望至少 \g<n> 维的张量，实际形状为 \g<s>"),
    *_named(r"expected a tensor with at most (?P<n>\d+) dimension\(s\), got shape (?P<s>.+)",
            r"期望至多 \g<n> 维的张量，实际形状为 \g<s>"),
    *_named(r"expected at least 1 class, got C = (?P<c>.+)", r"期望至少 1 个类别，实际 C = \g<c>"),
    *_named(r"expected integer class indices, got a (?P<t>\w+) tensor", r"期望整数类别索引，实际是 \g<t> 张量"),
    *_named(r"expected a target tensor, got none", r"期望一个目标（target）张量，但没有给出"),

    # -- registry.py ----------------------------------------------------------------------------------
    *_named(r"expected a value, got nothing", r"期望一个值，但没有给出"),
    *_named(r"expected one of (?P<c>.+), got (?P<v>.+)", r"期望以下之一：\g<c>，实际为 \g<v>"),
    *_named(r"expected a value in \[(?P<lo>.+), (?P<hi>.+)\], got (?P<v>.+)", r"期望 [\g<lo>, \g<hi>] 内的值，实际为 \g<v>"),
    *_named(r"expected a number, got (?P<v>.+)", r"期望一个数，实际为 \g<v>"),
    *_named(r"expected a finite number, got (?P<v>.+)", r"期望一个有限的数，实际为 \g<v>"),
    *_named(r"expected an integer, got (?P<v>.+)", r"期望一个整数，实际为 \g<v>"),
    *_named(r"expected true or false, got (?P<v>.+)", r"期望 true 或 false，实际为 \g<v>"),
    (r"(?P<loss>\S+): (?P<p>.+) is not a parameter of the loss but an argument of its own \(--(?P<a>\S+) on the "
     r"command line, its own field elsewhere\); expected one of: (?P<names>.+)",
     r"\g<loss>：\g<p> 不是该损失的参数，而是一个独立的参数项（命令行中为 --\g<a>，其他地方有单独的输入框）；应为以下之一：\g<names>"),
    (r"(?P<loss>\S+): unknown parameter (?P<p>.+); expected one of: (?P<names>.+)",
     r"\g<loss>：未知参数 \g<p>；可用参数：\g<names>"),

    # -- engine.py ------------------------------------------------------------------------------------
    (r"(?P<loss>\S+): expected no target \(it is a penalty on pred alone\), got one",
     r"\g<loss>：不需要目标（target）（它只是对 pred 的惩罚项），但给出了目标"),
    (r"(?P<loss>\S+): expected a target tensor \((?P<k>.+)\), got none", r"\g<loss>：需要目标（target）张量（\g<k>），但没有给出"),
    (r"(?P<loss>\S+): expected reduction (?P<r>[\w, ]+), got (?P<g>.+)", r"\g<loss>：归约方式应为 \g<r> 之一，实际为 \g<g>"),
    (r"rounding the inputs to (?P<t>\w+) changes the exact value by (?P<d>\S+); the built-in is compared with the "
     r"exact value of the rounded inputs",
     r"把输入舍入到 \g<t> 会使精确值改变 \g<d>；内置函数将与舍入后输入的精确值比较"),

    # -- reference.py / reduction.py ------------------------------------------------------------------
    (r"expected a device such as cpu, cuda, cuda:0 or mps, got (?P<d>.+)", r"期望设备为 cpu、cuda、cuda:0 或 mps 之类，实际为 \g<d>"),
    (r"expected dtype float16, bfloat16, float32 or float64, got (?P<t>.+)",
     r"期望 dtype 为 float16、bfloat16、float32 或 float64，实际为 \g<t>"),
    (r"(?P<ref>\S+) failed on (?P<dev>[^/\s]+)/(?P<t>\w+): (?P<m>.+)", r"\g<ref> 在 \g<dev>/\g<t> 上运行失败：\g<m>"),
    (r"expected reduction none, mean, sum or batchmean, got (?P<g>.+)", r"归约方式应为 none、mean、sum 或 batchmean，实际为 \g<g>"),
])


# The checks a caller may pass a `hint` to (what to do instead, written at the end in parentheses): each
# message's Chinese is written once here; `add_hint_zh(check, {hint: 中文})` adds a caller's hints.
_HINTABLE: dict[str, list[Callable[[str, str], list[tuple[str, str]]]]] = {
    "require_same_shape": [
        lambda a, z: [(rf"expected (?P<a>\S+) and (?P<b>\S+) of the same shape, got (?P=a) (?P<sa>{_SHAPE}) and "
                       rf"(?P=b) (?P<sb>{_SHAPE}){a}", rf"期望 \g<a> 与 \g<b> 形状相同，实际 \g<a> 为 \g<sa>，\g<b> 为 \g<sb>{z}")]],
    "require_probabilities": [
        lambda a, z: _indexed(r"expected probabilities in \[0, 1\], got (?P<v>\S+?)", r"期望 [0, 1] 内的概率，实际为 \g<v>",
                              a, z)],
    "require_log_probabilities": [
        lambda a, z: _indexed(r"expected log-probabilities ≤ 0, got (?P<v>\S+?)", r"期望 ≤ 0 的对数概率，实际为 \g<v>", a, z)],
    "require_binary": [
        lambda a, z: _indexed(r"expected labels in \[0, 1\] \(0/1 or soft labels\), got (?P<v>\S+?)",
                              r"期望 [0, 1] 内的标签（0/1 或软标签），实际为 \g<v>", a, z),
        lambda a, z: _indexed(r"expected 0/1 labels, got (?P<v>\S+?)", r"期望 0/1 标签，实际为 \g<v>", a, z)],
    "require_sign_labels": [
        lambda a, z: _named(rf"expected labels -1/\+1 or 0/1, got both 0 and -1{a}",
                            rf"期望标签为 -1/+1 或 0/1，实际同时有 0 和 -1{z}"),
        lambda a, z: _indexed(r"expected labels -1/\+1 or 0/1, got (?P<v>\S+?)", r"期望标签为 -1/+1 或 0/1，实际为 \g<v>",
                              a, z)],
    "require_class_indices": [
        lambda a, z: _indexed(r"expected integer class indices such as \[0, 2, 1\], got (?P<v>\S+?)",
                              r"期望整数类别索引（如 [0, 2, 1]），实际为 \g<v>", a, z),
        lambda a, z: _indexed(r"expected integer class indices in \[0, (?P<c>\d+)\), got (?P<v>\S+?)",
                              r"期望 [0, \g<c>) 内的整数类别索引，实际为 \g<v>", a, z),
        lambda a, z: _indexed(r"expected class indices in \[0, (?P<c>\d+)\) or ignore_index (?P<ii>-?\d+) for "
                              r"C = (?P=c) classes, got (?P<v>\S+?)",
                              r"期望 [0, \g<c>) 内的类别索引（C = \g<c> 类）或 ignore_index \g<ii>，实际为 \g<v>", a, z),
        lambda a, z: _indexed(r"expected class indices in \[0, (?P<c>\d+)\) for C = (?P=c) classes, got (?P<v>\S+?)",
                              r"期望 [0, \g<c>) 内的类别索引（C = \g<c> 类），实际为 \g<v>", a, z)],
    "require_per_class": [
        lambda a, z: _named(rf"expected one value per class, shape \((?P<c>\d+),\) for C = (?P=c) classes, got shape "
                            rf"(?P<s>{_SHAPE}){a}", rf"期望每个类别一个值，形状 (\g<c>,)（C = \g<c> 类），实际形状为 \g<s>{z}")],
    "require_broadcastable": [
        lambda a, z: _named(rf"expected a shape that broadcasts to (?P<of>\S+)'s (?P<to>{_SHAPE}), got (?P<s>{_SHAPE}){a}",
                            rf"期望能广播到 \g<of> 的形状 \g<to>，实际为 \g<s>{z}")],
}


def add_hint_zh(check: Callable[..., Any], hints: dict[str, str]) -> None:
    """Chinese for the hints a caller passes to `check` (one of the require_* functions above): the check's
    own Chinese, with the hint's in full-width parentheses."""
    for build in _HINTABLE[check.__name__]:
        for english, chinese in hints.items():
            add_zh_patterns(build(rf" \({re.escape(english)}\)", "（" + chinese.replace("\\", "\\\\") + "）"))


add_zh_patterns([pattern for builds in _HINTABLE.values() for build in builds for pattern in build("", "")])
add_hint_zh(require_probabilities, {LOGITS_HINT: "若是 logits，请用 *_with_logits 损失或设置 input=logits"})
add_zh_patterns([
    (r"(\w+): expected a JSON object such as (.+), got text that does not parse \((.+)\)",
     r"\1：期望 JSON 对象，例如 \2，但文本无法解析（\3）"),
    (r"(\w+): expected a JSON object such as (.+), got (\w+)", r"\1：期望 JSON 对象，例如 \2，实际为 \3"),
])
