import math

import pytest
import torch

from lossapp.trace import COMPLETE_MAX, SHOWN, Lazy, Step, Trace, fmt, head


def test_fmt_reads_like_a_student() -> None:
    assert fmt(0.29470001) == "0.2947"
    assert fmt(3.0) == "3"
    assert fmt(-100.0) == "-100"
    assert fmt(1e-8) == "10^{-8}"
    assert fmt(2.5e-9) == r"2.5\cdot 10^{-9}"
    assert fmt(float("inf")) == r"\infty"


def test_add_records_and_returns_value() -> None:
    trace = Trace()
    x = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    y = trace.add("e", "Exponential", r"e^x", torch.exp(x), sub=r"e^{$x}", x=x)
    assert y.requires_grad  # the computation goes on with the live value
    step = trace.step("e")
    assert not step.value.requires_grad
    assert step.substituted() == ["e^{0.5}", "e^{(-1)}"]
    assert step.value_list() == torch.exp(torch.tensor([0.5, -1.0], dtype=torch.float64)).tolist()


def test_substitution_stops_for_large_inputs() -> None:
    step = Step("l", "t", "f", torch.zeros(100), sub="$a", args={"a": torch.zeros(100)})
    assert step.substituted() is None
    assert Step("l", "t", "f", 1.0, sub=r"\frac{1}{2}").substituted() == [r"\frac{1}{2}"]


def test_broadcast_arguments() -> None:
    step = Step("l", "t", "f", torch.zeros(2), sub="$a + $b", args={"a": torch.tensor([1.0, 2.0]), "b": 3.0})
    assert step.substituted() == ["1 + 3", "2 + 3"]


def test_warnings_are_deduplicated() -> None:
    trace = Trace()
    trace.warn("x")
    trace.warn("x")
    assert trace.warnings == ["x"]


# -- show few: release, shown elements, lazy steps, replay ----------------------------------------------------


class _Replay:
    """A stand-in for lossapp.engine.Replay: gives back complete steps and counts how often it ran."""

    def __init__(self, steps: list[Step]) -> None:
        self.full, self.runs = steps, 0

    def steps(self) -> list[Step]:
        self.runs += 1
        return self.full


def test_add_records_a_view_not_a_copy() -> None:
    trace = Trace()
    x = torch.arange(100, dtype=torch.float64)
    trace.add("x", "t", "f", x)
    assert trace.step("x").value.data_ptr() == x.data_ptr()


def test_release_keeps_the_shown_elements_and_the_shape() -> None:
    big = torch.arange(2 * COMPLETE_MAX, dtype=torch.float64).reshape(2, COMPLETE_MAX)
    small = torch.arange(COMPLETE_MAX, dtype=torch.float64)
    trace = Trace()
    trace.add("big", "t", "f", big, sub="$a", a=big)
    trace.add("small", "t", "f", small, sub="$a + 1", a=small)
    trace.add("n", "t", "f", 3.0)
    replay = _Replay([Step("big", "t", "f", big), Step("small", "t", "f", small), Step("n", "t", "f", 3.0)])
    trace.release(replay)
    b, s, n = trace.steps
    assert (b.shape, b.count, b.shown, b.held, b.complete) == ((2, COMPLETE_MAX), 2 * COMPLETE_MAX, SHOWN, False, False)
    assert b.value_list() == list(range(SHOWN)) and b.substituted() is None  # large: no per-element formulas
    assert b.shown_values().untyped_storage().nbytes() == 8 * SHOWN  # a copy, not a view of the whole tensor
    assert (s.held, s.complete, s.value_list()) == (True, True, small.tolist())
    assert len(s.substituted(limit=COMPLETE_MAX)) == COMPLETE_MAX and n.value_list() == 3.0
    assert b.to_dict()["shape"] == [2, COMPLETE_MAX] and b.to_dict()["shown"] == SHOWN
    assert replay.runs == 0
    assert torch.equal(b.value, big) and replay.runs == 1  # the complete value comes from a replay
    assert b.value_list(full=True) == big.tolist() and b.to_dict(full=True)["shown"] == big.numel()


def test_released_step_without_a_replay_says_so() -> None:
    trace = Trace()
    trace.add("x", "t", "f", torch.zeros(100, dtype=torch.float64))
    trace.release()
    assert trace.step("x").value_list() == [0.0] * SHOWN
    with pytest.raises(LookupError, match="first 6 elements"):
        _ = trace.step("x").value


def test_head_reads_the_first_elements_of_any_layout() -> None:
    t = torch.arange(60, dtype=torch.float64).reshape(3, 4, 5)
    for view in (t, t.transpose(0, 2), t[:, 1:, ::2], torch.tensor(7.0).expand(3, 4), t[0, 0, 0]):
        assert head(view, 7).tolist() == view.reshape(-1)[:7].tolist()


def test_lazy_steps_compute_only_what_is_read() -> None:
    seen: list[int] = []

    def square(x: torch.Tensor) -> torch.Tensor:
        seen.append(x.numel())
        return x * x

    x = torch.arange(1000, dtype=torch.float64)
    trace = Trace()
    trace.show("x²", "Squares", "x^2", square, x)
    trace.show("w", "Broadcast", "x + c", lambda x, c: x + c, x.reshape(10, 100), torch.ones(100, dtype=torch.float64))
    assert seen == [] and trace.steps[0].shape == (1000,) and trace.steps[1].shape == (10, 100)
    assert torch.equal(trace.steps[0].value, x * x) and seen == [1000]  # held: computed in full when read
    trace.release()
    assert seen == [1000, SHOWN] and trace.steps[0].value_list() == [float(i * i) for i in range(SHOWN)]
    assert trace.steps[1].value_list() == [float(i + 1) for i in range(SHOWN)]


def test_a_lazy_value_with_into_writes_its_block_into_the_buffer_given() -> None:
    """`Lazy.flat(start, stop, out)`: written into out (and out returned) where the value has an `into`, each element
    the one flat computes without it; a value without an `into` gives a new tensor and leaves out as it was."""
    x = torch.linspace(-3.0, 3.0, 101, dtype=torch.float64)
    with_into = Lazy(lambda v: v * 0.3, (x,), into=lambda out, v: torch.mul(v, 0.3, out=out))
    without = Lazy(lambda v: v * 0.3, (x,))
    buffer = torch.full((40,), 9.0, dtype=torch.float64)
    assert with_into.flat(10, 50, out=buffer) is buffer and torch.equal(buffer, (x * 0.3)[10:50])
    assert torch.equal(with_into.flat(10, 50), (x * 0.3)[10:50])
    other = torch.full((40,), 9.0, dtype=torch.float64)
    got = without.flat(10, 50, out=other)
    assert got is not other and torch.equal(got, (x * 0.3)[10:50]) and bool((other == 9.0).all())


def test_transient_trace_keeps_only_the_shown_elements_from_the_start() -> None:
    big = torch.arange(2 * COMPLETE_MAX, dtype=torch.float64)
    replay = _Replay([Step("big", "t", "f", big), Step("twice", "t", "f", 2 * big)])
    trace = Trace(transient=True, replay=replay)
    assert trace.add("big", "t", "f", big) is big  # the computation goes on with the value itself
    trace.show("twice", "t", "f", lambda v: 2 * v, big)
    b, twice = trace.steps
    assert not b.held and b.value_list() == list(range(SHOWN)) and b.shape == (2 * COMPLETE_MAX,)
    assert twice.value_list() == [2.0 * i for i in range(SHOWN)]
    big.add_(1)  # what the computation does with its tensors afterwards does not reach the trace
    assert b.value_list() == list(range(SHOWN)) and replay.runs == 0
    assert torch.equal(twice.value, 2 * (big - 1)) and replay.runs == 1  # the rest comes from the replay


def test_head_is_a_compact_float64_copy() -> None:
    t = torch.arange(1000, dtype=torch.float32)
    first = head(t, 6)
    assert first.dtype == torch.float64 and first.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert first.untyped_storage().nbytes() == 6 * 8  # holds none of t's memory
    big = torch.arange(1000, dtype=torch.float64)
    assert head(big, 6).untyped_storage().nbytes() == 6 * 8 and head(big, 6).data_ptr() != big.data_ptr()
    grad = big.clone().requires_grad_(True)
    first = head(grad[10:], 3)  # a float64 view (read through numpy): a detached copy
    assert first.tolist() == [10.0, 11.0, 12.0] and not first.requires_grad
    first.add_(1)
    assert grad[10].item() == 10.0


def test_a_quiet_trace_keeps_its_steps_without_values() -> None:
    """Nobody reads a quiet trace's steps (a rerun for its value): they hold no tensor and read no elements, yet
    the computation goes on with every value and a loss may still annotate its last step."""
    x = torch.arange(100, dtype=torch.float64)
    trace = Trace(transient=True, quiet=True)
    y = trace.add("y", "double", "y = 2x", 2 * x, sub="2 $x", x=x)
    trace.steps[-1].note = "annotated"
    trace.show("z", "square", "z = x^2", torch.square, x)
    assert torch.equal(y, 2 * x)
    assert [s.symbol for s in trace.steps] == ["y"] and trace.steps[0].note == "annotated"
    assert trace.steps[0].value is None and trace.steps[0].args == {} and trace.steps[0].sub is None


def _fresh_extremes(t: torch.Tensor) -> tuple[float, float]:
    """min and max by a pass of their own (no answer kept on the tensor)."""
    from lossapp.trace import tensor_extremes
    return tensor_extremes(t.detach())


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return all((x == y) or (x != x and y != y) for x, y in zip(a, b, strict=True))


def test_extremes_are_kept_within_a_scope_until_the_tensor_or_a_view_of_it_changes() -> None:
    """Within trace.shared_extremes, extremes keeps its answer on the tensor with its version counter: a second look
    makes no pass, an in-place change of the tensor or of a view of its storage (and an out= write into it) makes it
    look again. Outside a scope nothing is kept, and an answer kept in one scope is not read in another."""
    from lossapp.trace import extremes, shared_extremes
    t = torch.randn(5000, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    first = extremes(t)
    assert first == _fresh_extremes(t) and not hasattr(t, "_lossapp_extremes")
    with shared_extremes():
        assert extremes(t) == first and t._lossapp_extremes[1:] == (t._version, first)
        t._lossapp_extremes = (*t._lossapp_extremes[:2], (-1.0, 1.0))  # (a planted answer: read, no pass made)
        assert extremes(t) == (-1.0, 1.0)
        t[17] = 1e6
        assert extremes(t) == (first[0], 1e6)
        t.view(50, 100)[3].fill_(-1e6)  # through a view: the shared version counter
        assert extremes(t) == (-1e6, 1e6)
        torch.neg(t, out=t)
        assert extremes(t) == (-1e6, 1e6) and extremes(t[:10]) == _fresh_extremes(t[:10])
        with shared_extremes():  # nested: the outer scope holds
            assert extremes(t) == (-1e6, 1e6) and t._lossapp_extremes[2] == (-1e6, 1e6)
        t[0] = math.nan
        assert _same(extremes(t), (math.nan, math.nan))
        assert extremes(torch.tensor([0, 3, 1])) == (0.0, 3.0)
        with torch.inference_mode():  # no version counter: nothing kept, every look a pass
            u = torch.tensor([1.0, 2.0])
            assert extremes(u) == (1.0, 2.0) and not hasattr(u, "_lossapp_extremes")
    t[0] = 5.0
    t._lossapp_extremes = (t._lossapp_extremes[0], t._version, (0.0, 0.0))  # kept in a closed scope
    with shared_extremes():
        assert extremes(t) == _fresh_extremes(t)


def _targets() -> list[torch.Tensor]:
    """Random and adversarial targets: labels, soft labels, values at the ends of [0, 1] and beyond, signed zeros,
    the float neighbours of 0, ½ and 1, huge and tiny magnitudes, infinities and NaN, float32 and float64."""
    g = torch.Generator().manual_seed(5)
    out = [(torch.rand(10_000, generator=g) > 0.5).double(), torch.rand(10_000, generator=g, dtype=torch.float64),
           torch.rand(777, generator=g), torch.randn(3000, generator=g, dtype=torch.float64) * 1e3]
    special = [0.0, -0.0, 1.0, 0.5, math.nextafter(0.0, 1.0), math.nextafter(1.0, 0.0), math.nextafter(1.0, 2.0),
               math.nextafter(0.5, 0.0), math.nextafter(0.5, 1.0), 1e-300, -1e-300, 1e300, -1e300, 2.0 ** -53,
               1 - 2.0 ** -53, 3.0, -7.5]
    for k in range(40):
        pick = torch.randint(len(special), (50,), generator=g)
        t = torch.tensor([special[i] for i in pick], dtype=torch.float64)
        out += [t, t.float()]
        if k % 10 == 0:
            out += [torch.cat([t, torch.tensor([math.inf, -math.inf], dtype=torch.float64)]),
                    torch.cat([t, torch.tensor([math.nan], dtype=torch.float64)])]
    out += [torch.full((10,), v, dtype=torch.float64) for v in special]
    return out


def test_mapped_extremes_are_those_of_a_pass_over_the_mapped_tensor() -> None:
    """trace.mapped_extremes records, for out = fn(source) with fn monotone (1 − y, Keras' smoothing), what a pass
    over out would find, bit for bit, on random and adversarial inputs; nothing is recorded where source's extremes
    are not kept (no pass is made for them), and the record lasts until out changes."""
    from lossapp.conventions import _keras_smoothed
    from lossapp.trace import extremes, mapped_extremes, shared_extremes
    from lossapp.variants import _one_minus
    for given in _targets():
        for fn in (_one_minus, _keras_smoothed, lambda y: 1.0 - y):
            source = given.clone()
            extremes(source)
            out = mapped_extremes(fn(source), source, fn)
            assert not hasattr(out, "_lossapp_extremes")  # outside a scope: nothing recorded
            with shared_extremes():
                out = mapped_extremes(fn(source), source, fn)
                assert not hasattr(out, "_lossapp_extremes")  # source's extremes not kept yet: nothing recorded
                extremes(source)
                out = mapped_extremes(fn(source), source, fn)
                kept = out._lossapp_extremes[2]
                assert _same(kept, _fresh_extremes(out)), (source, kept, _fresh_extremes(out))
                assert _same(extremes(out), kept)
                out.add_(1)
                assert _same(extremes(out), _fresh_extremes(out))


def test_tensor_extremes_give_the_same_values_either_way() -> None:
    """trace.tensor_extremes in two passes (amin, amax) and in one (aminmax) give the same (min, max) on random and
    adversarial tensors of every floating dtype, contiguous or not (NaN and ±inf included), but for the sign of a zero
    extreme, which callers only compare; integer tensors take the one pass either way, and an empty tensor is torch's
    RuntimeError either way."""
    from lossapp.trace import tensor_extremes
    g = torch.Generator().manual_seed(9)
    special = torch.tensor([0.0, -0.0, 1.0, -1.0, 2.5, math.inf, -math.inf, math.nan], dtype=torch.float64)
    for dtype in (torch.float64, torch.float32, torch.float16, torch.bfloat16):
        for n in (1, 2, 3, 17, 64, 65, 4097):
            for kinds in (2, 5, 7, 8):  # signed zeros only; finite; with ±inf; with NaN
                t = special[torch.randint(kinds, (n,), generator=g)].to(dtype)
                for u in (t, t[::2], t.reshape(-1, 1).expand(-1, 3)):
                    if not u.numel():
                        continue
                    two, one = tensor_extremes(u), tensor_extremes(u, one_pass=True)
                    assert _same(two, one), (dtype, u, two, one)
                    assert _same(two, (float(u.min()), float(u.max())))
                    assert all(type(v) is float for v in two + one)
        randn = torch.randn(10_001, generator=g, dtype=torch.float64).to(dtype)
        assert tensor_extremes(randn) == tensor_extremes(randn, one_pass=True) == (float(randn.min()), float(randn.max()))
    ints = torch.tensor([3, -7, 2**40])
    assert tensor_extremes(ints) == tensor_extremes(ints, one_pass=True) == (-7.0, 2.0**40)
    assert tensor_extremes(torch.tensor([True, False])) == (0.0, 1.0)
    for one_pass in (False, True):
        with pytest.raises(RuntimeError):
            tensor_extremes(torch.empty(0), one_pass=one_pass)


def test_blocks_cover_every_element_once_in_chunks_on_the_cpu_and_in_one_block_elsewhere():
    from lossapp.trace import CHUNK, blocks
    for n in (0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 3):
        size, slices = blocks(n, torch.device("cpu"))
        assert size == max(min(CHUNK, n), 1)
        assert [i for b in slices for i in range(b.start, b.stop)] == list(range(n))
        assert all(b.stop - b.start <= size for b in slices)
        size, slices = blocks(n, torch.device("cuda"))  # (a device object: no accelerator needed)
        assert size == max(n, 1) and slices == ([slice(0, n)] if n else [])


def test_in_blocks_gives_what_fn_gives_on_the_whole_tensors_and_refuses_other_layouts():
    """trace.in_blocks: fn over CHUNK elements at a time (several blocks and a ragged last one) fills out with what fn
    gives on the whole tensors, bit for bit, its scratch a block's size; a tensor that is not contiguous of out's shape
    is refused (False) with out left as it was."""
    from lossapp.trace import CHUNK, in_blocks

    def fn(out: torch.Tensor, a: torch.Tensor, b: torch.Tensor, spare: torch.Tensor) -> None:
        assert spare.numel() == out.numel() <= CHUNK
        torch.mul(a, b, out=spare).add_(1)  # a·b + 1
        torch.div(spare, a, out=out).neg_()  # −(a·b + 1)/a

    g = torch.Generator().manual_seed(4)
    a = torch.randn(3, CHUNK + 77, generator=g, dtype=torch.float64)
    b = torch.randn(3, CHUNK + 77, generator=g, dtype=torch.float64)
    out = torch.empty_like(a)
    assert in_blocks(out, fn, a, b, scratch=1)
    assert torch.equal(out, -((a * b + 1) / a))
    before = out.clone()
    assert not in_blocks(out, fn, a.t().contiguous().t(), b, scratch=1)  # (non-contiguous)
    assert not in_blocks(out, fn, a[:2], b, scratch=1)  # (another shape)
    assert torch.equal(out, before)
