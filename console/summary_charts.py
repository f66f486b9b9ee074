"""The summary window's four charts, drawn by matplotlib in a child process and shown by the window as pixels.

Importing matplotlib (most of a second the first time) and laying out and rasterising four charts run long stretches
of C code that hold the interpreter lock: on a thread of the window's process they stall its GUI thread for tens of
milliseconds at a time (measured: 20-90 ms gaps of a 1 ms loop while another thread imports matplotlib and draws).
So the window's process never loads matplotlib for the screen: :class:`ChartRenderer` keeps one child process
(``python -m console.summary_charts``, started on first use) that draws with the Agg renderer and sends back the
RGBA pixels, where each bar is (for clicks) and what the axes say (for tests and screen readers).

The drawing is ``console.charts.draw_chart``, the same as the PDF's chart page; the child imports matplotlib and
``console.charts``, not the database layer. Where no child can run (a
frozen build) or the child fails twice, the same drawing is done in the calling process, with the same result.

The protocol: the parent writes one pickled :class:`ChartRequest` at a time to the child's stdin and reads one
pickled reply from its stdout, ``("charts", RenderedCharts)`` or ``("error", message)``. The child ends when its
stdin closes. Both ends are this package, in the same Python.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import pickle
import subprocess
import sys
import threading
import weakref
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import console
from console import startup
from console.charts import CHARTS, ChartData, chart_data, draw_chart
from console.errors import ConsoleError

if TYPE_CHECKING:
    from console.summary import ShiftSummary

log = logging.getLogger(__name__)

BASE_DPI = 100.0  # matplotlib's default: a figure inch per 100 logical pixels
CHART_SIZE = (800, 560)  # logical pixels, until the canvas has a size of its own
MIN_SIDE = 50  # logical pixels: smaller is drawn at this size
CHILD_EXIT_WAIT_S = 2.0  # for the child to end once its stdin is closed, before it is killed


@dataclass(frozen=True)
class ChartColors:
    """The palette colours the charts are drawn in (read from the Qt palette on the GUI thread)."""

    text: str
    mid: str
    window: str
    base: str


@dataclass(frozen=True)
class BarBox:
    """Where one bar is on the rendering, in logical pixels from its top-left corner."""

    kind: str
    index: int  # in data order (see charts.draw_chart)
    left: float
    top: float
    right: float
    bottom: float

    def holds(self, x: float, y: float) -> bool:
        """Whether the point is on the bar."""
        return self.left <= x <= self.right and self.top <= y <= self.bottom


@dataclass(frozen=True)
class RenderedCharts:
    """The four charts rendered: RGBA pixels, where each bar is, and what the axes say. Plain values (picklable)."""

    width: int  # physical pixels
    height: int
    ratio: float  # physical pixels per logical pixel
    pixels: bytes  # width * height RGBA, top row first
    background: str  # the window colour, around the rendering while a new size is being rendered
    bars: tuple[BarBox, ...] = ()
    bar_counts: dict[str, int] = field(default_factory=dict)
    tick_labels: dict[str, tuple[str, ...]] = field(default_factory=dict)  # x axis tick labels per chart
    axis_labels: dict[str, str] = field(default_factory=dict)  # x axis label per chart

    def bar_at(self, x: float, y: float) -> BarBox | None:
        """The bar under a point (logical pixels), if any."""
        return next((bar for bar in self.bars if bar.holds(x, y)), None)


@dataclass(frozen=True)
class ChartRequest:
    """What the charts of a summary show, how and how large to draw them."""

    data: ChartData
    zone: tzinfo | None
    colors: ChartColors
    size: tuple[int, int]  # logical pixels
    ratio: float = 1.0  # physical pixels per logical pixel


def chart_request(
    summary: ShiftSummary, zone: tzinfo | None, colors: ChartColors, size: tuple[int, int], ratio: float = 1.0
) -> ChartRequest:
    """A request for ``summary``'s charts: only what they show goes to the child (not the handover's 10,000 rows,
    nor anything that needs the services' modules to read back)."""
    return ChartRequest(chart_data(summary), zone, colors, (max(size[0], MIN_SIDE), max(size[1], MIN_SIDE)), ratio)


# --- drawing (in the child, or in this process where no child can run) -------------------------------------------
def render(request: ChartRequest) -> RenderedCharts:
    """Draw and rasterise the four charts with matplotlib's Agg renderer, in this process."""
    with startup.no_collections():
        _load_matplotlib()
        return _render(request)


def _render(request: ChartRequest) -> RenderedCharts:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = request.size
    ratio = request.ratio
    figure = Figure(figsize=(width / BASE_DPI, height / BASE_DPI), dpi=BASE_DPI, layout="constrained")
    grid = figure.subplots(2, 2)
    axes = dict(zip(CHARTS, (grid[0][0], grid[0][1], grid[1][0], grid[1][1]), strict=True))
    for kind, ax in axes.items():
        draw_chart(kind, ax, request.data, request.zone)
    paint_charts(figure, request.colors)
    agg = FigureCanvasAgg(figure)  # before the dpi change: the figure keeps the base dpi as its own
    if ratio != 1.0:
        figure.set_dpi(BASE_DPI * ratio)  # physical pixels, as a Qt canvas scales a figure on a HiDPI screen
    agg.draw()  # type: ignore[no-untyped-call]
    renderer = agg.get_renderer()  # type: ignore[no-untyped-call]
    pixels = bytes(memoryview(renderer.buffer_rgba()))
    full_width, full_height = int(renderer.width), int(renderer.height)
    bars: list[BarBox] = []
    for kind, ax in axes.items():
        for index, patch in enumerate(ax.patches):
            box = patch.get_window_extent(renderer)
            # matplotlib's display pixels count from the bottom left; the widget's logical pixels from the top left.
            top, bottom = (full_height - box.y1) / ratio, (full_height - box.y0) / ratio
            bars.append(BarBox(kind, index, box.x0 / ratio, top, box.x1 / ratio, bottom))
    return RenderedCharts(
        width=full_width,
        height=full_height,
        ratio=ratio,
        pixels=pixels,
        background=request.colors.window,
        bars=tuple(bars),
        bar_counts={kind: len(ax.patches) for kind, ax in axes.items()},
        tick_labels={kind: tuple(t.get_text() for t in ax.get_xticklabels()) for kind, ax in axes.items()},
        axis_labels={kind: ax.get_xlabel() for kind, ax in axes.items()},
    )


def paint_charts(figure: Any, colors: ChartColors) -> None:
    """Figure, axes and text colours from the palette's colours, so the charts read in light and dark themes."""
    fg, mid, base = colors.text, colors.mid, colors.base
    figure.set_facecolor(colors.window)
    for ax in figure.axes:
        ax.set_facecolor(base)
        for loc in ("left", "center", "right"):  # the charts' titles are on the left
            ax.set_title(ax.get_title(loc=loc), loc=loc, color=fg, fontsize=10)
        ax.xaxis.label.set_color(fg)
        ax.yaxis.label.set_color(fg)
        ax.tick_params(colors=fg, which="both")
        for spine in ax.spines.values():
            spine.set_edgecolor(mid)
        for collection in ax.collections:  # the goodwill chart's "in range" dots
            collection.set_color(fg)
        legend = ax.get_legend()
        if legend is not None:
            legend.get_frame().set_facecolor(base)
            legend.get_frame().set_edgecolor(mid)
            for text in legend.get_texts():
                text.set_color(fg)
            for handle in legend.legend_handles:
                if handle is not None and handle.__class__.__name__ == "PathCollection":
                    handle.set_color(fg)


class _Loaded:
    matplotlib = False


def _load_matplotlib() -> None:
    """Import matplotlib (Agg only), then freeze the heap once: what is alive then stays alive, and a full garbage
    collection would otherwise walk it all again every time (gc.freeze leaves it out of collections)."""
    if _Loaded.matplotlib:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.backends.backend_agg
    import matplotlib.figure

    gc.freeze()
    _Loaded.matplotlib = True


# --- the child process, seen from the window's process -------------------------------------------------------------
class ChildFailed(Exception):
    """The child could not answer (it ended, or wrote something that is not a reply)."""


class RendererClosed(ConsoleError):
    """The renderer was closed (its window went away) before the charts were drawn."""


class ChartRenderer:
    """Renders charts in one child process, started on first use (or by :meth:`start`, so that it loads matplotlib
    while the caller does something else). Thread-safe: one request at a time. :meth:`close` ends the child."""

    MAX_CHILD_FAILURES = 2  # then this renderer draws in its own process

    def __init__(self, *, use_child: bool | None = None) -> None:
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._use_child = startup.can_use_child() if use_child is None else use_child
        self._failures = 0
        self._closed = False
        _RENDERERS.add(self)

    @property
    def in_child(self) -> bool:
        """Whether the charts are drawn in a child process (False once it failed too often, or in a frozen build)."""
        return self._use_child and self._failures < self.MAX_CHILD_FAILURES

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed

    @property
    def child_pid(self) -> int | None:
        """The running child's process id, if one runs."""
        child = self._child
        return child.pid if child is not None and child.poll() is None else None

    def start(self) -> None:
        """Start the child now, if it is not running (it imports matplotlib straight away)."""
        with self._lock:
            if self.in_child and not self._closed:
                self._running_child()

    def render(self, request: ChartRequest) -> RenderedCharts:
        """The charts of a request: drawn by the child, or here if no child can (blocks; call it off the GUI thread).

        Raises RendererClosed once :meth:`close` has been called."""
        with self._lock:
            while self.in_child:
                if self.closed:
                    raise RendererClosed("The charts were not drawn: their window was closed.")
                try:
                    return self._ask(self._running_child(), request)
                except ChildFailed as exc:
                    if self._closed:
                        continue
                    self._failures += 1
                    log.warning(
                        "the chart process failed (%s); %s", exc, "retrying" if self.in_child else "drawing here"
                    )
                    self._end_child(wait=True)
        return render(request)

    def close(self, *_args: object) -> None:
        """End the child; it finishes what it is drawing first, and is waited for on a thread of its own, so this
        returns at once (the GUI thread calls it when the window goes). Idempotent; any thread."""
        self._closed = True
        self._end_child(wait=False)

    def _running_child(self) -> subprocess.Popen[bytes]:
        child = self._child
        if child is not None and child.poll() is None:
            return child
        package_root = str(Path(console.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        env["MPLBACKEND"] = "Agg"
        self._child = subprocess.Popen(
            [sys.executable, "-m", "console.summary_charts"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # the child's warnings go where this process' go
            env=env,
        )
        return self._child

    @staticmethod
    def _ask(child: subprocess.Popen[bytes], request: ChartRequest) -> RenderedCharts:
        assert child.stdin is not None
        assert child.stdout is not None
        try:
            pickle.dump(request, child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            child.stdin.flush()
            reply: tuple[Any, ...] = pickle.load(child.stdout)
        except (OSError, EOFError, pickle.UnpicklingError) as exc:
            raise ChildFailed(f"no reply: {exc.__class__.__name__}: {exc}") from exc
        if reply[0] == "charts" and isinstance(reply[1], RenderedCharts):
            return reply[1]
        raise ChildFailed(str(reply[1]) if reply[0] == "error" else f"unexpected reply {reply[0]!r}")

    def _end_child(self, *, wait: bool) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        with suppress(OSError):
            assert child.stdin is not None
            child.stdin.close()  # the child ends when it next reads
        if wait:
            _reap(child)
        else:
            threading.Thread(target=_reap, args=(child,), name="chart-process-exit", daemon=True).start()


def _reap(child: subprocess.Popen[bytes]) -> None:
    try:
        child.wait(CHILD_EXIT_WAIT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    if child.stdout is not None:
        with suppress(OSError):
            child.stdout.close()


_RENDERERS: weakref.WeakSet[ChartRenderer] = weakref.WeakSet()


@atexit.register
def _end_children() -> None:
    for renderer in list(_RENDERERS):
        renderer._closed = True
        renderer._end_child(wait=True)


# --- the child ------------------------------------------------------------------------------------------------------
def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """Answer chart requests until ``requests`` ends."""
    _load_matplotlib()  # at once: the first request is usually on its way while the parent builds the summary
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        try:
            reply: tuple[Any, ...] = ("charts", render(request))
        except Exception as exc:
            reply = ("error", f"{exc.__class__.__name__}: {exc}")
        pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()


def _child_main() -> int:
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    # The module itself, not this __main__ copy of it: what is pickled back names console.summary_charts' classes.
    from console.summary_charts import serve as serve_requests

    with suppress(BrokenPipeError, KeyboardInterrupt):
        serve_requests(requests, replies)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
