"""Keeps the queue view live and carries out the case actions, all database work off the GUI thread."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QWidget

from console.actor import Actor
from console.errors import Conflict, ConsoleError, DatabaseUnavailable, NotFound, PermissionDenied
from console.feed import ChangeBatch, ChangeFeed
from console.queue import QueueItem, QueueService, SupervisorInfo
from console.sla import SlaPolicy
from widgets.dialogs import HoldDialog, ReassignDialog, SlaPolicyDialog
from widgets.queue_view import QueueView
from widgets.tasks import TaskRunner


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
    ) -> None:
        super().__init__(parent)
        self.view = view
        self.queue = queue
        self.feed = feed
        self.runner = runner
        self.actor = actor
        self.has_loaded = False
        feed.changed.connect(self.on_changes)

    # -- loading -----------------------------------------------------------------------------------------------
    def load(self) -> None:
        """(Re)load the policy and every open escalation in the background."""
        queue = self.queue

        def fetch() -> tuple[SlaPolicy, list[QueueItem]]:
            return queue.policy(), queue.open_items()

        self.runner.read(fetch, self._loaded, self.report_error)

    def _loaded(self, result: tuple[SlaPolicy, list[QueueItem]]) -> None:
        policy, items = result
        self.view.set_policy(policy)
        self.view.set_items(items)
        first = not self.has_loaded
        self.has_loaded = True
        if first:
            self.loaded.emit(len(items))

    def on_changes(self, batch: ChangeBatch) -> None:
        """Apply what the feed reports: only the changed escalations are read and updated."""
        if batch.full_refresh or not self.has_loaded:
            self.load()
            return
        if batch.touches("sla_policy"):
            self.runner.read(self.queue.policy, self.view.set_policy, self.report_error)
        ids = batch.ids("escalation")
        if ids:
            self.refresh(ids)

    def refresh(self, ids: frozenset[int] | set[int]) -> None:
        """Re-read some escalations; those no longer in the queue leave it."""
        wanted = frozenset(ids)

        def apply(items: list[QueueItem]) -> None:
            present = {item.id for item in items}
            self.view.apply(items, wanted - present)

        self.runner.read(lambda: self.queue.items(sorted(wanted)), apply, self.report_error)

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
