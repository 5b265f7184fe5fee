"""Per-session state without the per-session cost: the fix for the app's ~25 ms of overhead per HTTP API call.

Gradio 6.31 gives every new session (every `/gradio_api/call/...` request and every `gradio_client.Client`
is one) a `SessionState` whose `__init__` builds the config of *every* block of the app
(`config_for_block` -> `get_config` -> `inspect.signature` of the block's class): about 25 ms for this app's
~450 blocks (the parameter controls of every loss, in two tabs), run on the server's event loop, so
concurrent requests queue behind it; and each session kept that way holds 0.7 MB (0.9 KB here). Only a few
of those configs are ever read: the inputs and outputs of the events the session runs, and all of them for a
deep link.

`Blocks` here is `gr.Blocks` whose state holder builds a `LazySessionState`: the same state, with each
block's config computed the first time it is read (`LazyConfigs`; the values events give to inputs are kept
until then), and the session's copy of the app's blocks and events (`blocks_config`: two dicts of ~600 and ~230
entries) made only when the session first replaces a block in it (an event that returns a component update), not
for every session: an HTTP call's session never does. A new session cost ~87 µs of the event loop (~35 µs of it
gradio's loop over every block to configure none, ~40 µs the copy) and kept the copy (60 KB) until it was
dropped, where every full garbage collection walked it; now ~10 µs and 0.9 KB. Nothing else changes: values,
updates, deep links and the State time-to-live behave as gradio's own, with one exception: the arguments and
the answer of an HTTP endpoint (`gr.api`, whose inputs and outputs are `Api` blocks that no page renders) are
not kept in the session. Gradio keeps each call's values in its
session for a deep link to show them; an API call's session is never a page, so they were only held until
the session was dropped, up to concurrency.SESSIONS calls later: every /compute's input text and result
JSON (a 10^6-element /compute_full kept its ~8 MB input text and every element of its answer), and for a
100-element /compute ~180 Python objects that the garbage collector walked again and again (under
bench_http.py's load, 0.3-1.8 ms of collection per request, each collection a pause for every request in
flight; 0.1-0.5 ms without them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from copy import copy
from types import MappingProxyType, SimpleNamespace
from typing import Any

import gradio as gr
from gradio.blocks import BlocksConfig
from gradio.components import State
from gradio.components.api_component import Api
from gradio.state_holder import SessionState, StateHolder


class LazyConfigs(dict):
    """`SessionState.config_values`, filled on demand: a block's config is computed from the session's
    current block the first time it is read; iterating (a deep link) computes the rest."""

    def __init__(self, session: SessionState, block_ids: frozenset[int]) -> None:
        super().__init__()
        self._session = session
        # The blocks whose config is to be built: those of `block_ids` not stored yet. The set is the app's, shared
        # by every session, and a key is pending exactly until its config is stored, so a session's events, which
        # run in several worker threads at once (a language switch fires a dozen), never find a key in neither.
        self._ids = block_ids
        self._values: dict[int, Any] = {}  # values given to blocks whose config is not built yet
        # Keys stored that are not in `_ids` (a block gr.render added to the session): with them len() is O(1), as
        # every key of `_ids` counts whether built or pending. gradio only ever adds keys (item assignment).
        self._extra: set[int] = set()
        self._lock = threading.RLock()  # building a config is check-then-act

    def _pending(self, key: object) -> bool:
        return key in self._ids and not dict.__contains__(self, key)

    def __missing__(self, key: int) -> dict[str, Any]:
        with self._lock:
            if dict.__contains__(self, key):  # built by another thread while this one waited
                return super().__getitem__(key)
            if key not in self._ids:
                raise KeyError(key)
            blocks_config = self._session.blocks_config
            config = blocks_config.config_for_block(key, [], blocks_config.blocks[key])
            if key in self._values and "props" in config:
                config["props"]["value"] = self._values.pop(key)
            super().__setitem__(key, config)
            return config

    def __setitem__(self, key: int, value: dict[str, Any]) -> None:
        with self._lock:
            super().__setitem__(key, value)
            self._values.pop(key, None)
            if key not in self._ids:
                self._extra.add(key)

    def __delitem__(self, key: int) -> None:
        with self._lock:
            super().__delitem__(key)  # a key of `_ids` is pending again (its config rebuilt when read)
            self._extra.discard(key)

    def set_value(self, key: int, value: Any) -> bool:
        """Remember the value of a block whose config is not built yet (False when it is built: set it there)."""
        with self._lock:
            if not self._pending(key):
                return False
            self._values[key] = value
            return True

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._ids

    def get(self, key: int, default: Any = None) -> Any:  # dict.get would not call __missing__
        try:
            return self[key]
        except KeyError:
            return default

    def materialize(self) -> None:
        with self._lock:
            for key in sorted(self._ids):
                if not dict.__contains__(self, key):
                    self[key]

    def __iter__(self) -> Iterator[int]:
        self.materialize()
        return super().__iter__()

    def __len__(self) -> int:
        return len(self._ids) + len(self._extra)  # the keys `in` finds: every one of `_ids`, built or pending

    def keys(self) -> Any:
        self.materialize()
        return super().keys()

    def values(self) -> Any:
        self.materialize()
        return super().values()

    def items(self) -> Any:
        self.materialize()
        return super().items()


class _NoBlocks:
    """The app config LazySessionState hands gradio's SessionState.__init__: no block to configure, and its copy is
    itself (the session's own config is LazySessionState's business)."""

    blocks: Mapping[int, Any] = MappingProxyType({})

    def __copy__(self) -> _NoBlocks:
        return self


_NO_BLOCKS = SimpleNamespace(default_config=_NoBlocks(), blocks={})
_copying = threading.Lock()


def _block_ids(config: BlocksConfig) -> frozenset[int]:
    """The ids of the app's blocks, as a set shared by every session (computed again if the blocks change)."""
    cached = getattr(config, "_lossapp_block_ids", None)
    if cached is None or cached[0] is not config.blocks or len(cached[1]) != len(config.blocks):
        cached = (config.blocks, frozenset(config.blocks))
        config._lossapp_block_ids = cached  # type: ignore[attr-defined]
    return cached[1]


class LazySessionState(SessionState):
    """gradio's SessionState with `config_values` computed lazily and `blocks_config` copied lazily (see the module
    docstring)."""

    def __init__(self, blocks: gr.Blocks) -> None:
        # gradio's __init__ with no blocks to configure: it sets every other field as it always does, and its
        # `self.blocks_config = copy(...)` goes through the setter below, storing the empty _NoBlocks as our own
        # config (so its config_values loop finds no block) ...
        super().__init__(_NO_BLOCKS)  # type: ignore[arg-type]
        self._own_config: BlocksConfig | None = None  # ... which is dropped here: the app's config is shared
        self._app_config = blocks.default_config
        if self._app_config.renderables:  # gr.render writes the config of the session it renders in: a copy now
            self._own_config = copy(self._app_config)
        self.config_values = LazyConfigs(self, _block_ids(self._app_config))

    @property
    def blocks_config(self) -> BlocksConfig:  # type: ignore[override]
        """The app's config, shared until this session replaces a block in it (`__setitem__`): then the session's own
        copy, as gradio's SessionState makes at once."""
        own = self._own_config
        return own if own is not None else self._app_config

    @blocks_config.setter
    def blocks_config(self, config: BlocksConfig) -> None:
        self._own_config = config

    def __setitem__(self, key: int, value: Any) -> None:
        if self._own_config is None and not isinstance(self._app_config.blocks.get(key), State):
            with _copying:  # (a State's value is kept in the session's state_data, not in its config)
                if self._own_config is None:
                    self._own_config = copy(self._app_config)
        super().__setitem__(key, value)

    def _update_value_in_config(self, key: int, value: Any) -> None:
        # every event sets its inputs' and outputs' values here: without building their configs until something
        # reads them, and not at all for an HTTP endpoint's (module docstring)
        if isinstance(self.blocks_config.blocks.get(key), Api):
            return
        if not self.config_values.set_value(key, value):
            super()._update_value_in_config(key, value)


class LazyStateHolder(StateHolder):
    def __getitem__(self, session_id: str) -> SessionState:
        if session_id not in self.session_data:
            self.session_data[session_id] = LazySessionState(self.blocks)
        return super().__getitem__(session_id)


class Blocks(gr.Blocks):
    """gr.Blocks whose server keeps its sessions in a LazyStateHolder."""

    @property
    def state_holder(self) -> StateHolder:
        return self._lossapp_state_holder

    @state_holder.setter
    def state_holder(self, holder: StateHolder) -> None:
        # gradio's App creates a plain StateHolder and hands it to the Blocks it serves (set_blocks)
        if type(holder) is StateHolder:
            holder.__class__ = LazyStateHolder
        self._lossapp_state_holder = holder
