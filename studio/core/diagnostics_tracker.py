"""The diagnostics of one run over time: ``DiagnosticsTracker`` keeps each record's figures for plotting.

After each epoch (or every few) ``record`` runs ``diagnostics.diagnose`` on a fixed sample with fixed
histogram edges and stores the figures in preallocated arrays that double when full; the readers
return copies, safe to hand to another thread.

Left out: what is measured (``diagnostics.py``) and drawing it (``studio.gui.diagnostics_view``).
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from studio.core.diagnostics import DEFAULT_BINS, Diagnosis, LayerEdges, diagnose, histogram_edges
from studio.core.network import Network


#: The per-layer scalar series a ``DiagnosticsTracker`` keeps, in this order.
SERIES: tuple[str, ...] = ("saturated_share", "saturated_units_share", "constant_units_share",
                           "gradient_norm", "weight_norm", "update_ratio")


class DiagnosticsTracker:
    """The diagnostics of one run over time, for plotting: call ``record`` after each epoch (or every
    few) from the thread that trains; read with ``epochs``, ``series``, ``histograms``, ``accuracy``,
    ``loss``, which return copies (safe to hand to another thread and to keep).

    Storage is preallocated and doubles when full: epochs (n,) int64; scalars (n, series, layers)
    float64; z and a histogram counts (n, layers, bins) int32. The histogram edges are fixed at the
    first ``record``, from the network then (see ``histogram_edges``). ``update_ratio`` is measured
    against the weights of the previous ``record`` (NaN at the first).
    """

    def __init__(self, x: np.ndarray, labels: np.ndarray, *, bins: int = DEFAULT_BINS, capacity: int = 64) -> None:
        self.x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        self.labels = np.asarray(labels, dtype=np.int64)
        if bins < 1 or capacity < 1:
            raise ValueError(f"bins and capacity must be >= 1, got {bins} and {capacity}")
        self.bins = int(bins)
        self._capacity = int(capacity)
        self._n = 0
        self.edges: list[LayerEdges] | None = None
        self.functions: tuple[str, ...] = ()
        self._last_weights: list[np.ndarray] | None = None
        self._epochs = np.zeros(0, dtype=np.int64)

    # -- writing -----------------------------------------------------------------------------------

    def record(self, epoch: int, network: Network) -> Diagnosis:
        """Diagnose ``network`` on the tracker's sample, store the figures under ``epoch``, return them."""
        if self.edges is None:
            self.edges = histogram_edges(network, self.x, self.bins)
        diagnosis = diagnose(network, self.x, self.labels, edges=self.edges, before=self._last_weights)
        self.append(epoch, diagnosis)
        self._last_weights = [w.copy() for w in network.weights]
        return diagnosis

    def append(self, epoch: int, diagnosis: Diagnosis) -> None:
        """Store a diagnosis made elsewhere (same layers and bins as the ones before)."""
        layers = len(diagnosis.layers)
        if self._n == 0 and self._epochs.size == 0:
            self._allocate(layers)
            self.functions = tuple(r.function for r in diagnosis.layers)
            if self.edges is None:
                self.edges = [LayerEdges(r.z_edges.copy(), r.a_edges.copy()) for r in diagnosis.layers]
        if layers != self._scalars.shape[2] or diagnosis.layers[0].z_counts.size != self.bins:
            raise ValueError(f"this tracker holds {self._scalars.shape[2]} layers of {self.bins} bins")
        if self._n == self._epochs.size:
            self._grow()
        i = self._n
        self._epochs[i] = epoch
        self._accuracy[i] = diagnosis.accuracy
        self._loss[i] = diagnosis.loss
        for l, r in enumerate(diagnosis.layers):
            values = (r.saturated_share, r.saturated_units_share, r.constant_units / r.units,
                      r.gradient_norm, r.weight_norm, r.update_ratio)
            self._scalars[i, :, l] = [np.nan if v is None else v for v in values]
            self._z_counts[i, l] = r.z_counts
            self._a_counts[i, l] = r.a_counts
        self._n += 1

    def _allocate(self, layers: int) -> None:
        c = self._capacity
        self._epochs = np.zeros(c, dtype=np.int64)
        self._accuracy = np.full(c, np.nan)
        self._loss = np.full(c, np.nan)
        self._scalars = np.full((c, len(SERIES), layers), np.nan)
        self._z_counts = np.zeros((c, layers, self.bins), dtype=np.int32)
        self._a_counts = np.zeros((c, layers, self.bins), dtype=np.int32)

    def _grow(self) -> None:
        """Double every array (amortised O(1) per record; old data copied once per doubling)."""
        def doubled(a: np.ndarray, fill: float | int) -> np.ndarray:
            bigger = np.full((2 * a.shape[0], *a.shape[1:]), fill, dtype=a.dtype)
            bigger[:a.shape[0]] = a
            return bigger
        self._epochs = doubled(self._epochs, 0)
        self._accuracy = doubled(self._accuracy, np.nan)
        self._loss = doubled(self._loss, np.nan)
        self._scalars = doubled(self._scalars, np.nan)
        self._z_counts = doubled(self._z_counts, 0)
        self._a_counts = doubled(self._a_counts, 0)

    # -- reading -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n

    @property
    def capacity(self) -> int:
        return int(self._epochs.size) or self._capacity

    @property
    def layers(self) -> int:
        return 0 if self._n == 0 else int(self._scalars.shape[2])

    def epochs(self) -> np.ndarray:
        """The recorded epoch numbers, (n,) int64."""
        return self._epochs[:self._n].copy()

    def accuracy(self) -> np.ndarray:
        """Accuracy on the sample per record, (n,)."""
        return self._accuracy[:self._n].copy()

    def loss(self) -> np.ndarray:
        """Mean loss on the sample per record, (n,)."""
        return self._loss[:self._n].copy()

    def series(self, name: str) -> np.ndarray:
        """One of ``SERIES`` per record and layer, (n, layers) float64; NaN where it does not apply."""
        if name not in SERIES:
            raise ValueError(f"unknown series {name!r}; choose one of {', '.join(SERIES)}")
        if self._n == 0:
            return np.zeros((0, 0))
        return self._scalars[:self._n, SERIES.index(name), :].copy()

    def histograms(self, kind: Literal["z", "a"], layer: int) -> tuple[np.ndarray, np.ndarray]:
        """Counts per record for 1-based ``layer``, (n, bins) int32 (an image: records down, bins across),
        and the edges (bins + 1,)."""
        if kind not in ("z", "a"):
            raise ValueError(f"kind must be 'z' or 'a', got {kind!r}")
        if self.edges is None or not 1 <= layer <= len(self.edges):
            raise ValueError(f"no layer {layer} recorded")
        counts = self._z_counts if kind == "z" else self._a_counts
        edges = self.edges[layer - 1].z if kind == "z" else self.edges[layer - 1].a
        return counts[:self._n, layer - 1, :].copy(), edges.copy()

    def __repr__(self) -> str:
        return f"DiagnosticsTracker(records={self._n}, layers={self.layers}, bins={self.bins})"
