"""Every size limit on user input, in one place (README.md, "Limits", lists them).

Each limit is checked before the allocation it guards: from a text's length, a file's size, a zip
archive's directory entries or an array header, never after materialising the data.
"""

# Elements of one tensor (pred, target or a tensor parameter). lossapp.compute's peak memory grows by 40-90 bytes
# per element for most losses, up to 140-220 for the focal and soft-truncated losses (benchmarks/bench_memory.py at
# 10^7): at 2·10^7 elements 0.8-4.5 GB for one request, a few at once on a 24 GiB machine.
MAX_ELEMENTS = 20_000_000
MAX_TEXT_CHARS = 40_000_000  # characters of one tensor written as text
MAX_DIMS = 32  # dimensions of one tensor
DECIMALS_MAX_ELEMENTS = 100_000  # above this, TensorInput.decimals is None (not computed)
MAX_FILE_BYTES = 50 * 2**20  # bytes of one uploaded or named file, and of its decompressed content
MAX_QUOTED_CHARS = 300  # characters of the user's own text quoted back in a message
