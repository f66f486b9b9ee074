"""Keeps the queue view live and carries out the case actions, all database work off the GUI thread."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDialog, QWidget

from console.actor import Actor
from console.errors import Conflict, ConsoleError, DatabaseUnavailable, NotFound, PermissionDenied
from console.feed import ChangeBatch, ChangeFeed
from console.queue import QueueItem, QueueService, SupervisorInfo
from console.sla import SlaPolicy
from widgets.queue_model import FEW_INSERTS
from widgets.queue_view import QueueView
from widgets.tasks import TaskRunner

if TYPE_CHECKING:
    from console.queue_prefetch import QueuePrefetch

# Changed rows applied to the model per turn of the event loop: few enough that new ones go in in place (a larger
# batch is appended and re-sorted, which makes the proxy and the view map all 10,000 rows again: tens of ms).
APPLY_SLICE = FEW_INSERTS
FEED_WAIT_S = 5.0  # how long a load waits for the change feed to be watching before it reads anyway


class QueueController(QObject):
    """Loads the queue, applies the change feed to it incrementally, and runs claim/release/reassign/hold."""

    message = Signal(str, str)  # text, kind (info, success, warning, error)
    loaded = Signal(int)  # number of open escalations after the first load
    claimed = Signal(int)  # an escalation this supervisor now holds

    def __init__(
        self,
        view: QueueView,
        queue: QueueService,
        feed: ChangeFeed,
        runner: TaskRunner,
        actor: Actor,
        parent: QObject | None = None,
        *,
        prefetch: QueuePrefetch | None = None,
    ) -> None:
        super().__init__(parent)
        self._prefetch = prefetch  # the first load's rows, read while the window's modules loaded (main.py)
        self.view = view
        self.queue = queue
        self.feed = feed
        self.runner = runner
        self.actor = actor
        self.has_loaded = False
        # Change batches: escalations still to read, and read results still to apply (in slices).
        self._loading = False  # a full load is running
        self._policy_stale = False  # the policy changed while the first load ran
        self._stale: set[int] = set()
        self._refreshing = False
        self._applying: deque[tuple[list[QueueItem], Collection[int]]] = deque()
        self._slice_timer = QTimer(self)
        self._slice_timer.setObjectName("queueApplySliceTimer")
        self._slice_timer.setSingleShot(True)
        self._slice_timer.setInterval(0)
        self._slice_timer.timeout.connect(self._apply_slice)
        feed.changed.connect(self.on_changes)

    # -- loading -----------------------------------------------------------------------------------------------
    def load(self) -> None:
        """(Re)load the policy and every open escalation in the background."""
        queue, feed = self.queue, self.feed
        prefetch, self._prefetch = self._prefetch, None  # for the first load only

        def fetch() -> tuple[SlaPolicy, list[QueueItem]]:
            # Read only once the feed is watching: what commits after this read is then in its next batch, so no
            # arrival falls between the two (if it cannot connect in time, it sends a full refresh once it does).
            feed.wait_watching(FEED_WAIT_S)
            # A snapshot read before the feed was watching is brought up to date from the change log.
            return queue.policy(), queue.open_items(prefetch.take() if prefetch is not None else None)

        def failed(error: BaseException) -> None:
            self._loading = False
            self.report_error(error)

        self._loading = True
        # The first load is what the window opens to: the other start-up reads wait until it has been shown.
        self.runner.read(fetch, self._loaded, failed, urgent=not self.has_loaded)

    def _loaded(self, result: tuple[SlaPolicy, list[QueueItem]]) -> None:
        self._loading = False
        policy, items = result
        self.view.set_policy(policy)
        self.view.set_items(items)
        first = not self.has_loaded
        self.has_loaded = True
        if first:
            self.loaded.emit(len(items))
        if self._policy_stale:
            self._policy_stale = False
            self.runner.read(self.queue.policy, self.view.set_policy, self.report_error)
        self._refresh_next()  # what changed while the first load ran

    def on_changes(self, batch: ChangeBatch) -> None:
        """Apply what the feed reports: only the changed escalations are read and updated."""
        if batch.full_refresh or not (self.has_loaded or self._loading):
            self.load()
            return
        if batch.touches("sla_policy"):
            if self.has_loaded:
                self.runner.read(self.queue.policy, self.view.set_policy, self.report_error)
            else:
                self._policy_stale = True
        ids = batch.ids("escalation")
        if ids:
            self.refresh(ids)  # before the first load has shown the queue: read right after it

    def refresh(self, ids: frozenset[int] | set[int]) -> None:
        """Re-read some escalations; those no longer in the queue leave it.

        One read at a time: ids changed while one runs are read together right after it, so a burst of changes
        (an import) makes a few large reads rather than one per batch, and never a backlog on the read threads.
        """
        self._stale.update(ids)
        self._refresh_next()

    @property
    def refreshing(self) -> bool:
        """Whether changed escalations are being read or applied, or wait to be."""
        return self._refreshing or bool(self._stale)

    def _refresh_next(self) -> None:
        if self._refreshing or not self._stale or not self.has_loaded:
            return
        wanted = frozenset(self._stale)
        self._stale.clear()
        self._refreshing = True
        queue = self.queue

        def apply(items: list[QueueItem]) -> None:
            present = {item.id for item in items}
            gone = wanted - present
            # A large result goes in in slices, one per turn of the event loop, so the window keeps painting.
            slices = [items[i : i + APPLY_SLICE] for i in range(0, len(items), APPLY_SLICE)] or [[]]
            self._applying.extend((piece, ()) for piece in slices[:-1])
            self._applying.append((slices[-1], gone))
            self._apply_slice()

        def failed(error: BaseException) -> None:
            self._refreshing = False
            self._refresh_next()
            self.report_error(error)

        self.runner.read(lambda: queue.items(sorted(wanted)), apply, failed)

    def _apply_slice(self) -> None:
        if self._applying:
            items, gone = self._applying.popleft()
            self.view.apply(items, gone)
        if self._applying:
            self._slice_timer.start()
        else:
            self._refreshing = False
            self._refresh_next()

    # -- actions -----------------------------------------------------------------------------------------------
    def claim(self, escalation_id: int | None = None) -> None:
        """Claim the selected (or given) escalation for the signed-in supervisor."""
        case_id = escalation_id if escalation_id is not None else self.view.selected_id()
        if case_id is None:
            self.message.emit("Select an escalation to claim.", "info")
            return

        def done(item: QueueItem) -> None:
            self.view.apply([item], ())
            self.message.emit(f"You have #{item.id} — {item.customer_name}: {item.summary}", "success")
            self.claimed.emit(item.id)

        self._write(lambda: self.queue.claim(self.actor, case_id), done, case_id)

    def release(self) -> None:
        """Give the selected escalation back to the queue."""
        case_id = self._selected("release")
        if case_id is not None:
            self._write(
                lambda: self.queue.release(self.actor, case_id),
                self._done(f"#{case_id} is back in the queue, unclaimed."),
                case_id,
            )

    def reassign(self, parent: QWidget) -> None:
        """Ask whom to hand the selected escalation to, then do it."""
        case_id = self._selected("reassign")
        if case_id is None:
            return
        item = self.view.model().item_by_id(case_id)
        holder = item.claimed_by_id if item else None

        def ask(supervisors: list[SupervisorInfo]) -> None:
            from widgets.dialogs import ReassignDialog

            dialog = ReassignDialog(case_id, supervisors, holder, parent)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            chosen = dialog.chosen()
            if chosen is None:
                self.message.emit("There is nobody else to hand the case to.", "warning")
                return
            to_user, note = chosen
            self._write(
                lambda: self.queue.reassign(self.actor, case_id, to_user, note),
                lambda it: self.message.emit(f"#{case_id} now belongs to {it.claimed_by_name}.", "success"),
                case_id,
            )

        self.runner.read(self.queue.supervisors, ask, self.report_error)

    def hold(self, parent: QWidget) -> None:
        """Ask what the case waits on, then pause its clocks."""
        case_id = self._selected("put on hold")
        if case_id is None:
            return
        from widgets.dialogs import HoldDialog

        dialog = HoldDialog(case_id, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        reason = dialog.reason_text()
        self._write(
            lambda: self.queue.hold(self.actor, case_id, reason),
            self._done(f"#{case_id} is on hold ({reason}); its clocks are paused."),
            case_id,
        )

    def resume(self) -> None:
        """Take the selected case off hold."""
        case_id = self._selected("take off hold")
        if case_id is not None:
            self._write(
                lambda: self.queue.resume(self.actor, case_id),
                self._done(f"#{case_id} is off hold; its clocks run again."),
                case_id,
            )

    def edit_policy(self, parent: QWidget) -> None:
        """Managers: change the SLA targets for the floor."""

        def ask(policy: SlaPolicy) -> None:
            from widgets.dialogs import SlaPolicyDialog

            dialog = SlaPolicyDialog(policy, parent)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return
            targets, ratio = dialog.policy()

            def saved(new: SlaPolicy) -> None:
                self.view.set_policy(new)
                self.message.emit("SLA targets saved for the whole floor.", "success")

            self.runner.write(lambda: self.queue.set_policy(self.actor, targets, ratio), saved, self.report_error)

        self.runner.read(self.queue.policy, ask, self.report_error)

    # -- helpers -----------------------------------------------------------------------------------------------
    def _selected(self, doing: str) -> int | None:
        case_id = self.view.selected_id()
        if case_id is None:
            self.message.emit(f"Select an escalation to {doing}.", "info")
        return case_id

    def _done(self, text: str) -> Callable[[QueueItem], None]:
        def show(item: QueueItem) -> None:
            self.view.apply([item], ())
            self.message.emit(text, "success")

        return show

    def _write(self, job: Callable[[], QueueItem], on_success: Callable[[QueueItem], None], case_id: int) -> None:
        def failed(error: BaseException) -> None:
            self.report_error(error)
            if isinstance(error, Conflict | NotFound | PermissionDenied):
                self.refresh({case_id})  # show the case as it really is now

        def succeeded(item: QueueItem) -> None:
            on_success(item)
            self.feed.poke()

        self.runner.write(job, succeeded, failed)

    def report_error(self, error: BaseException) -> None:
        """Show a user error in the message bar; a bug is raised."""
        if isinstance(error, DatabaseUnavailable):
            self.message.emit(str(error), "error")
        elif isinstance(error, ConsoleError):
            self.message.emit(str(error), "warning")
        else:
            raise error
