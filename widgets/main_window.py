"""The main window: arranges the panels, menus and status bar; the panels and controllers do the work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QSystemTrayIcon,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console import startup
from console.accounts import AccountService
from console.actor import Actor
from console.changes import prune_changes
from console.feed import ChangeBatch, ChangeFeed
from console.queue import QueueService
from console.shifts import ShiftInfo, ShiftService
from console.sla import SlaPolicy
from db.engine import Database
from widgets.actions import SPECS, ActionId, ActionRegistry
from widgets.message_bar import MessageBar
from widgets.queue_controller import QueueController
from widgets.queue_view import QueueView
from widgets.settings import Settings
from widgets.tasks import TaskRunner

if TYPE_CHECKING:  # imported where first used: none of them is on screen at start
    from console.customers import CustomerService
    from console.queue_prefetch import QueuePrefetch
    from console.simulator import ArrivalSimulator
    from console.summary import ShiftSummary
    from console.workflow import WorkflowService
    from widgets.customer_panel import CustomerPanel
    from widgets.shift_dialogs import EndShiftDialog, HandoverDialog, PastShiftsDialog
    from widgets.summary_view import SummaryView
    from widgets.workflow_panel import WorkflowPanel


class MainWindow(QMainWindow):
    """The console window for one signed-in supervisor on one database.

    With ``signed_in=False`` the window is built (and its first reads start) while ``actor``'s password is still
    being checked; it writes nothing until ``begin_session()`` says the check succeeded, and it is not shown before.
    ``discard()`` drops it, unseen, if the check fails. ``prefetch`` is the queue's first read, started by main.py
    before the window's modules were imported (console/queue_prefetch.py).
    """

    def __init__(
        self,
        database: Database,
        actor: Actor,
        *,
        settings: Settings | None = None,
        simulator: ArrivalSimulator | None = None,
        owns_database: bool = True,
        signed_in: bool = True,
        prefetch: QueuePrefetch | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setAccessibleName("Supervisor Console")
        self.setWindowTitle(f"Supervisor Console — {actor.display_name}")
        self.database = database
        self.actor = actor
        self.settings = settings or Settings()
        self._owns_database = owns_database
        self.runner = TaskRunner(self._unexpected_error, self)
        self.feed = ChangeFeed(database, parent=self)
        self.registry = ActionRegistry(self)
        self.shifts = ShiftService(database)
        self.summary_view: SummaryView | None = None
        self.handover_dialog: HandoverDialog | None = None

        # Central area: messages above the queue.
        self.messages = MessageBar()
        self.queue_view = QueueView(actor.user_id, SlaPolicy(), self)  # the real policy arrives with the first load
        self.queue = QueueController(
            self.queue_view, QueueService(database), self.feed, self.runner, actor, self, prefetch=prefetch
        )
        # The queue is what the window opens to: its load starts first, while the rest of the window is built, and
        # the other start-up reads wait for it (see TaskRunner.read's urgent). The feed starts before it: the load
        # reads once the feed is watching, so nothing committed meanwhile is missed. Its batches reach this window
        # only from the event loop, once everything below is connected.
        self.feed.connectionLost.connect(self._connection_lost)  # before it starts: it may report at once
        self.feed.connectionRestored.connect(self._connection_restored)
        self.feed.start()
        self._settled = False
        self.queue.loaded.connect(self._settle)
        self._start_finished = False
        self.queue.load()
        # The panels beside and behind the queue are imported only now that its read is under way: a tenth of a
        # second of imports the read need not wait for.
        from console.followups import FollowUpService
        from console.goodwill import GoodwillService
        from widgets.followups_view import FollowUpsView
        from widgets.goodwill_panel import GoodwillPanel

        central = QWidget()
        central.setObjectName("centralArea")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        self.followups_view = FollowUpsView(
            FollowUpService(database), self.runner, self, on_error=self._unexpected_error
        )
        self.tabs = QTabWidget()
        self.tabs.setObjectName("centralTabs")
        self.tabs.setAccessibleName("Queue, follow-ups and goodwill")
        self.goodwill_panel = GoodwillPanel(GoodwillService(database), self.runner, actor, self)
        self.tabs.addTab(self.queue_view, "&Queue")
        self.tabs.addTab(self.followups_view, "Follow-ups")
        self.tabs.addTab(self.goodwill_panel, "Goodwill")
        self.tabs.setTabToolTip(0, "Open escalations, most urgent first (Ctrl+1)")
        self.tabs.setTabToolTip(1, "Follow-ups promised to customers (Ctrl+2)")
        self.tabs.setTabToolTip(2, "Goodwill budgets, approvals waiting and what goodwill returns (Ctrl+3)")
        self.tabs.tabBar().setAccessibleName("Views")
        layout.addWidget(self.messages)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.queue.message.connect(self.messages.show_message)
        self.queue_view.alert.connect(self._sla_alert)
        self.followups_view.model.reminder.connect(self._sla_alert)
        self.followups_view.model.modelReset.connect(self._update_followups_badge)
        self.followups_view.model.dataChanged.connect(self._update_followups_badge)
        self.goodwill_panel.pendingChanged.connect(self._update_goodwill_badge)
        self.feed.changed.connect(self._on_changes)
        self.queue_view.activated.connect(self.queue.claim)

        self._build_case_docks()
        # With no case in hand the case docks only take room from the Goodwill tab's tables; they come back with
        # the next case or on leaving the tab.
        self._docks_set_aside: list[QDockWidget] = []
        self.tabs.currentChanged.connect(self._tab_changed)
        self._build_menus()
        self._build_status_bar()
        self._connect_actions()

        self._simulator = simulator
        self._arrivals = QTimer(self)
        self._arrivals.setSingleShot(True)
        self._arrivals.timeout.connect(self._simulate_arrival)

        self._restore_layout()
        self.followups_view.reload()
        self.goodwill_panel.refresh_badge()
        self._start_finished = False
        self._pending_handover: ShiftInfo | None = None  # shown once the start has finished
        self._session_begun = False
        if signed_in:
            self.begin_session()

    def begin_session(self) -> None:
        """The password is checked: start the shift and the writes of a session (once)."""
        if self._session_begun:
            return
        self._session_begun = True
        # Housekeeping of the feed's buffer; a failure here is harmless and the feed reports a dead connection.
        database = self.database
        self.runner.write(lambda: prune_changes(database), lambda _n: None, lambda _e: None)
        self._start_shift()
        if self._simulator is not None:
            self._arrivals.start(int(self._simulator.next_delay_seconds() * 1000))

    def _settle(self, _rows: int) -> None:
        """The first load is on screen: what the start made lives on, out of the collector's way (console/startup);
        the rest of the window follows its paint."""
        if not self._settled:
            self._settled = True
            startup.settle()
            self._after_first_paint()

    def discard(self) -> None:
        """Drop a window built before a sign-in that then failed: never shown, nothing saved, workers stopped."""
        self._arrivals.stop()
        self.feed.stop()
        self.runner.shutdown()
        self.deleteLater()

    # -- building ------------------------------------------------------------------------------------------------
    def _build_case_docks(self) -> None:
        """The workflow and the customer's history, beside the queue; both follow the case in hand.

        The docks are placed now (the saved layout names them); their panels, a tenth of a second of imports and
        widgets, are made once the queue's first load has been painted (``_fill_case_docks``), or on first use if
        that comes sooner: the queue is what a supervisor needs first."""
        self._case: _CasePanels | None = None
        self.workflow_dock = self._dock("workflowDock", "Workflow", _placeholder("Workflow"))
        self.customer_dock = self._dock("customerDock", "Customer", _placeholder("Customer"))
        # The workflow takes the full height on the right; the customer's history sits under the queue, beside it.
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.workflow_dock)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.customer_dock)
        self.resizeDocks([self.workflow_dock], [780], Qt.Orientation.Horizontal)
        self.resizeDocks([self.customer_dock], [380], Qt.Orientation.Vertical)
        self.queue.claimed.connect(self.open_case)
        self.followups_view.activated.connect(self.open_case)

    def _fill_case_docks(self) -> _CasePanels:
        """Make the case docks' panels, once: the workflow (and its menu) and the customer's history."""
        if self._case is not None:
            return self._case
        from console.customers import CustomerService
        from console.workflow import WorkflowService
        from widgets.customer_panel import CustomerPanel
        from widgets.workflow_panel import WorkflowPanel

        workflow_service = WorkflowService(self.database)
        customer_service = CustomerService(self.database)
        workflow_panel = WorkflowPanel(workflow_service, self.runner, self.actor, self)
        customer_panel = CustomerPanel(customer_service, self.runner, self)
        self._case = _CasePanels(workflow_service, customer_service, workflow_panel, customer_panel)
        for dock, panel in ((self.workflow_dock, workflow_panel), (self.customer_dock, customer_panel)):
            scroller = dock.widget()
            assert isinstance(scroller, QScrollArea)
            scroller.setWidget(panel)  # the placeholder goes
        workflow_panel.message.connect(self.messages.show_message)
        workflow_panel.caseFinished.connect(self._case_finished)
        for action in (
            workflow_panel.complete_action,
            *workflow_panel.step_actions,
            workflow_panel.read_back_action,
            workflow_panel.resolve_action,
            workflow_panel.gesture_action,
            workflow_panel.story_action,
        ):
            self.workflow_menu.addAction(action)
        return self._case

    @property
    def workflow_panel(self) -> WorkflowPanel:
        """The workflow of the case in hand (made on first use, if the start has not made it yet)."""
        return self._fill_case_docks().workflow_panel

    @property
    def customer_panel(self) -> CustomerPanel:
        """The history of the case's customer (made on first use, if the start has not made it yet)."""
        return self._fill_case_docks().customer_panel

    @property
    def workflow_service(self) -> WorkflowService:
        return self._fill_case_docks().workflow_service

    @property
    def customer_service(self) -> CustomerService:
        return self._fill_case_docks().customer_service

    def _after_first_paint(self) -> None:
        """Once the loaded queue has been painted: make the rest of the window, then look for a case in progress."""
        watcher = _FirstPaintAfterLoad(self.queue_view.table.viewport(), self)
        watcher.painted.connect(self._finish_start)
        QTimer.singleShot(CASE_DOCKS_GRACE_MS, self._finish_start)  # a hidden window paints nothing

    def _finish_start(self) -> None:
        if self._start_finished:
            return
        self._start_finished = True
        self._fill_case_docks()
        self._resume_case_in_progress()
        if self._pending_handover is not None:
            info, self._pending_handover = self._pending_handover, None
            self._show_handover(info)

    def _dock(self, name: str, title: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setAccessibleName(title)
        # Scrollable, so a small screen can still show the queue beside the case.
        scroller = QScrollArea()
        scroller.setObjectName(f"{name}Scroller")
        scroller.setAccessibleName(title)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setWidget(widget)
        dock.setWidget(scroller)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        return dock

    def _build_menus(self) -> None:
        bar = self.menuBar()
        menus: dict[str, QMenu] = {}
        for action_id, action in self.registry.items():
            spec = SPECS[action_id]
            if spec.manager_only and not self.actor.is_manager:
                continue
            menu = menus.get(spec.menu)
            if menu is None:
                menu = bar.addMenu(spec.menu)
                menu.setToolTipsVisible(True)
                menus[spec.menu] = menu
            menu.addAction(action)
            self.addAction(action)
        self.workflow_menu = bar.addMenu("&Workflow")  # its actions are the workflow panel's (_fill_case_docks)
        self.workflow_menu.setToolTipsVisible(True)
        bar.insertMenu(menus["&Help"].menuAction(), self.workflow_menu)
        # Enter claims only from the queue (the action's shortcut context is the queue widget).
        self.queue_view.addAction(self.registry[ActionId.CLAIM])

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.user_label = QLabel(f"Signed in: {self.actor.display_name} ({self.actor.role.value})")
        self.user_label.setObjectName("statusUser")
        self.user_label.setAccessibleName("Signed-in user")
        self.db_label = QLabel(f"Database: {self.database.description}")
        self.db_label.setObjectName("statusDatabase")
        self.db_label.setAccessibleName("Database in use")
        self.live_label = QLabel("● Live")
        self.live_label.setObjectName("statusLive")
        self.live_label.setAccessibleName("Live updates")
        self.live_label.setToolTip("Changes from every console on this database appear within a second")
        for label in (self.user_label, self.db_label, self.live_label):
            status.addPermanentWidget(label)

    def _connect_actions(self) -> None:
        a = self.registry
        a[ActionId.QUIT].triggered.connect(self.close)
        # triggered(bool) must not reach claim() as a case id
        a[ActionId.CLAIM].triggered.connect(lambda: self.queue.claim())  # noqa: PLW0108
        a[ActionId.RELEASE].triggered.connect(self.queue.release)
        a[ActionId.REASSIGN].triggered.connect(lambda: self.queue.reassign(self))
        a[ActionId.HOLD].triggered.connect(lambda: self.queue.hold(self))
        a[ActionId.RESUME].triggered.connect(self.queue.resume)
        a[ActionId.COPY_CASE_ID].triggered.connect(self._copy_case_id)
        a[ActionId.FOCUS_QUEUE].triggered.connect(self._focus_queue)
        a[ActionId.FOCUS_FOLLOWUPS].triggered.connect(self._focus_followups)
        a[ActionId.FOCUS_GOODWILL].triggered.connect(self._focus_goodwill)
        a[ActionId.FOCUS_SEARCH].triggered.connect(self.queue_view.focus_search)
        a[ActionId.REFRESH].triggered.connect(self.queue.load)
        a[ActionId.REFRESH].triggered.connect(self.followups_view.reload)
        a[ActionId.REFRESH].triggered.connect(lambda: self.goodwill_panel.on_changes(True))
        a[ActionId.SLA_POLICY].triggered.connect(lambda: self.queue.edit_policy(self))
        a[ActionId.ACCOUNTS].triggered.connect(self._manage_accounts)
        a[ActionId.ALERT_SOUND].setChecked(self.settings.alert_sound)
        a[ActionId.ALERT_SOUND].toggled.connect(self._set_alert_sound)
        a[ActionId.SHORTCUTS].triggered.connect(self._show_shortcuts)
        a[ActionId.ABOUT].triggered.connect(self._about)
        a[ActionId.IMPORT].triggered.connect(self._import)
        a[ActionId.SHIFT_SUMMARY].triggered.connect(lambda: self.show_summary_view())  # noqa: PLW0108 (not a bool)
        a[ActionId.END_SHIFT].triggered.connect(self.end_shift)
        a[ActionId.PAST_SHIFTS].triggered.connect(self.show_past_shifts)

    # -- the case in hand ------------------------------------------------------------------------------------------
    def open_case(self, escalation_id: int) -> None:
        """Show the workflow and the customer's history for a case this supervisor holds."""
        customers = self.customer_service

        def look_up() -> tuple[int, str, str]:
            customer_id = customers.for_escalation(escalation_id)
            return customer_id, customers.profile(customer_id).name, customers.history_hint(customer_id)

        def show(found: tuple[int, str, str]) -> None:
            customer_id, name, hint = found
            if self.workflow_panel.current_case() not in (None, escalation_id):
                self.workflow_panel.flush()
            self.workflow_panel.open_case(escalation_id, name, hint)
            self._docks_set_aside = []
            self.customer_panel.show_customer(customer_id, escalation_id)
            self.workflow_dock.show()
            self.customer_dock.show()
            self.workflow_panel.setFocus()

        self.runner.read(look_up, show, self.queue.report_error)

    def _resume_case_in_progress(self) -> None:
        """After a restart (or a crash), reopen the case this supervisor was working on, at its step."""
        self.runner.read(
            lambda: self.workflow_service.claimed_in_progress(self.actor),
            lambda case_id: self.open_case(case_id) if case_id is not None else None,
        )

    def _case_finished(self, _escalation_id: int) -> None:
        self.workflow_panel.close_case()
        self.queue_view.focus_table()

    # -- shifts and the summary ------------------------------------------------------------------------------------
    def _start_shift(self) -> None:
        """Signing in starts the supervisor's shift; then the last shift's handover, if unread, comes first."""
        shifts, actor = self.shifts, self.actor

        def job() -> ShiftInfo | None:
            shifts.start_shift(actor)
            return shifts.pending_handover_for(actor)

        def failed(error: BaseException) -> None:
            self.messages.show_message(f"Could not start your shift: {error}", "error", timeout_ms=0)

        self.runner.write(job, self._show_handover, failed)

    def _show_handover(self, info: ShiftInfo | None) -> None:
        if info is None:
            return
        if not self._start_finished:  # after the queue and the case docks, on top of them
            self._pending_handover = info
            return
        from widgets.shift_dialogs import HandoverDialog

        dialog = HandoverDialog(info, self.shifts, self.runner, self.actor, self)
        dialog.openSummary.connect(self.show_shift_summary)
        dialog.finished.connect(lambda _result: setattr(self, "handover_dialog", None))
        self.handover_dialog = dialog
        dialog.open()

    def show_summary_view(
        self, summary: ShiftSummary | None = None, *, title: str | None = None, note: str | None = None
    ) -> SummaryView:
        """Open the summary window (built on first use, so matplotlib loads only then); show ``summary`` if given,
        else build the default range (the last ended shift, else the last 8 hours) the first time."""
        view = self.summary_view
        first = view is None
        if view is None:
            from widgets.summary_view import SummaryView

            view = SummaryView(self.database, self.runner, self)
            self.summary_view = view
        if view.isVisible():  # already open behind the console: bring it forward
            view.raise_()
            view.activateWindow()
        view.show()
        if summary is not None:
            view.show_summary(summary, title=title, note=note)
        elif first:
            view.build()
        return view

    def show_shift_summary(self, info: ShiftInfo) -> None:
        """A shift's summary as it was saved at its end, with its handover note."""
        summary = info.saved_summary()
        if summary is None:
            self.messages.show_message(f"{info.supervisor_name}'s shift has not ended; it has no summary yet.")
            return
        self.show_summary_view(summary, title=f"{info.supervisor_name}'s shift", note=info.handover_note)

    def end_shift(self) -> EndShiftDialog:
        """Ask for the handover note, end the shift off the GUI thread, then show the saved summary."""
        from widgets.shift_dialogs import EndShiftDialog

        dialog = EndShiftDialog(self.shifts, self.runner, self.actor, self)
        dialog.ended.connect(self._shift_ended)
        dialog.open()
        return dialog

    def _shift_ended(self, info: ShiftInfo) -> None:
        self.messages.show_message("Shift ended; its summary and your handover note are saved.", "success")
        self.show_shift_summary(info)

    def show_past_shifts(self) -> PastShiftsDialog:
        """The list of ended shifts; opening one shows its saved summary."""
        from widgets.shift_dialogs import PastShiftsDialog

        dialog = PastShiftsDialog(self.shifts, self.runner, self)
        dialog.openShift.connect(self.show_shift_summary)
        dialog.open()
        return dialog

    # -- behaviour -----------------------------------------------------------------------------------------------
    def _on_changes(self, batch: ChangeBatch) -> None:
        if batch.touches("escalation"):
            # Only a change to an escalation with a follow-up can change the tab; bursts make one reload.
            self.followups_view.on_changes(None if batch.full_refresh else batch.ids("escalation"))
            case = self._case
            current = None if case is None else case.workflow_panel.current_case()
            if case is not None and (
                batch.full_refresh or (current is not None and current in batch.ids("escalation"))
            ):
                case.customer_panel.refresh()
        from console.goodwill import CHANGE_ENTITY as GOODWILL_ENTITY

        self.goodwill_panel.on_changes(batch.touches(GOODWILL_ENTITY))
        if batch.touches(GOODWILL_ENTITY) and self._case is not None:
            self._case.workflow_panel.gesture_box.refresh()  # an approval elsewhere changes what the case's box shows

    def _update_followups_badge(self) -> None:
        self.tabs.setTabText(1, self.followups_view.badge())

    def _update_goodwill_badge(self) -> None:
        self.tabs.setTabText(self.tabs.indexOf(self.goodwill_panel), self.goodwill_panel.badge())

    def _tab_changed(self, _index: int) -> None:
        in_hand = self._case is not None and self._case.workflow_panel.current_case() is not None
        if self.tabs.currentWidget() is self.goodwill_panel and not in_hand:
            self._docks_set_aside = [d for d in (self.workflow_dock, self.customer_dock) if d.isVisible()]
            for dock in self._docks_set_aside:
                dock.hide()
        else:
            self._restore_docks()

    def _restore_docks(self) -> None:
        for dock in self._docks_set_aside:
            dock.show()
        self._docks_set_aside = []

    def _focus_goodwill(self) -> None:
        self.tabs.setCurrentWidget(self.goodwill_panel)
        self.goodwill_panel.focus_budgets()

    def _focus_queue(self) -> None:
        self.tabs.setCurrentWidget(self.queue_view)
        self.queue_view.focus_table()

    def _focus_followups(self) -> None:
        self.tabs.setCurrentWidget(self.followups_view)
        self.followups_view.table.setFocus()

    def _sla_alert(self, escalation_id: int, state: str, text: str) -> None:
        """Pre-breach and breach alerts: status bar and tray, optional beep; never a modal dialog."""
        self.statusBar().showMessage(text, 15_000)
        if self.settings.tray_notifications and QSystemTrayIcon.isSystemTrayAvailable():
            tray = self._tray()
            tray.showMessage("SLA alert", text, QSystemTrayIcon.MessageIcon.Warning, 8_000)
        if state == "breached" and self.settings.alert_sound:
            QApplication.beep()

    def _tray(self) -> QSystemTrayIcon:
        tray = getattr(self, "_tray_icon", None)
        if tray is None:
            tray = QSystemTrayIcon(self.windowIcon(), self)
            tray.setToolTip("Supervisor Console")
            tray.show()
            self._tray_icon = tray
        return tray

    def _connection_lost(self, text: str) -> None:
        self.live_label.setText("⚠ Offline — reconnecting")
        self.live_label.setToolTip(text)
        self.messages.show_message(f"{text}. Reconnecting; what you see may be out of date.", "error", timeout_ms=0)

    def _connection_restored(self) -> None:
        self.live_label.setText("● Live")
        self.live_label.setToolTip("Changes from every console on this database appear within a second")
        self.messages.show_message("Connection to the database restored; the queue is up to date.", "success")

    def _simulate_arrival(self) -> None:
        simulator = self._simulator
        if simulator is None:
            return

        def arrived(_case_id: int) -> None:
            self.feed.poke()
            self._arrivals.start(int(simulator.next_delay_seconds() * 1000))

        def failed(error: BaseException) -> None:
            self.statusBar().showMessage(f"Demo simulator: {error}", 5_000)
            self._arrivals.start(int(simulator.next_delay_seconds() * 1000))

        self.runner.write(simulator.arrive, arrived, failed)

    def _copy_case_id(self) -> None:
        case_id = self.queue_view.selected_id()
        if case_id is not None:
            QGuiApplication.clipboard().setText(str(case_id))
            self.statusBar().showMessage(f"Copied case number {case_id}.", 3_000)

    def _set_alert_sound(self, on: bool) -> None:
        self.settings.alert_sound = on

    def _manage_accounts(self) -> None:
        from widgets.accounts_dialog import AccountsDialog

        AccountsDialog(AccountService(self.database), self.runner, self.actor, self).exec()

    def _show_shortcuts(self) -> None:
        from widgets.dialogs import ShortcutsDialog

        ShortcutsDialog(self.registry.shortcut_table(), self).exec()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About Supervisor Console",
            f"Supervisor Console\nSigned in as {self.actor.display_name} ({self.actor.role.value})\n"
            f"Database: {self.database.description}",
        )

    def _import(self) -> None:
        from widgets.import_dialog import ImportDialog

        dialog = ImportDialog(self.database, self.actor, self)
        dialog.exec()
        self.feed.poke()

    def _unexpected_error(self, error: BaseException) -> None:
        QMessageBox.critical(self, "Supervisor Console", f"Something went wrong: {error}")

    def _restore_layout(self) -> None:
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save what was typed and the layout, stop the feed and the workers, close the database."""
        if self._case is not None:
            self._case.workflow_panel.flush()
        self._restore_docks()  # the saved layout is the one with the case docks where the supervisor put them
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self._arrivals.stop()
        self.feed.stop()
        self.runner.shutdown()
        if self._owns_database:
            self.database.dispose()
        super().closeEvent(event)


CASE_DOCKS_GRACE_MS = 1000
"""The case docks' panels are made this long after the queue's first load at the latest (a window not on screen
paints nothing)."""


@dataclass(frozen=True)
class _CasePanels:
    workflow_service: WorkflowService
    customer_service: CustomerService
    workflow_panel: WorkflowPanel
    customer_panel: CustomerPanel


def _placeholder(title: str) -> QWidget:
    """What a case dock holds for the moment between the queue's first paint and its panel."""
    label = QLabel(f"{title}: opening…")
    label.setObjectName(f"{title.lower()}Placeholder")
    label.setAccessibleName(f"{title} panel, opening")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


class _FirstPaintAfterLoad(QObject):
    """Emits ``painted`` once, two turns of the event loop after ``viewport``'s next paint has been handled: what
    that paint scheduled (its follow-ups; the start benchmark's mark, widgets/app.py) goes first."""

    painted = Signal()

    def __init__(self, viewport: QWidget, parent: QObject) -> None:
        super().__init__(parent)
        self._viewport = viewport
        viewport.installEventFilter(self)
        viewport.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._viewport and event.type() == QEvent.Type.Paint:
            self._viewport.removeEventFilter(self)
            QTimer.singleShot(0, lambda: QTimer.singleShot(0, self._done))
        return False

    def _done(self) -> None:
        self.painted.emit()
        self.deleteLater()
