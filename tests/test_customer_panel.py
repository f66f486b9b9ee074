"""The customer panel driven with qtbot on a real SQLite database: header, timeline rows, filters, states, names."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel, QLineEdit, QListView, QToolButton, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from console.customers import CustomerService
from console.domain import Category, Channel, Severity
from console.intake import IntakeService, NewEscalation
from db.engine import Database
from db.models import Escalation, Interaction
from tests.test_customers import MONTH_NAMES, Floor, add_customer, build_floor
from widgets.customer_panel import (
    FIRST_CONTACT,
    NO_CUSTOMER,
    NO_MATCHES,
    THIS_CASE_MARKER,
    CustomerPanel,
    EscalationIdRole,
    HighlightRole,
)
from widgets.tasks import TaskRunner

IST = timedelta(hours=5, minutes=30)


@pytest.fixture
def india_time() -> Iterator[None]:
    """The computer's local time is UTC+5:30 (a POSIX rule, so no time zone database is needed)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "IST-5:30"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = Database(sqlite_url)
    yield database
    database.dispose()


@pytest.fixture
def floor(db: Database) -> Floor:
    return build_floor(db)


@pytest.fixture
def errors() -> list[BaseException]:
    return []


@pytest.fixture
def panel(qtbot: QtBot, db: Database, errors: list[BaseException]) -> Iterator[CustomerPanel]:
    runner = TaskRunner(errors.append)
    widget = CustomerPanel(CustomerService(db), runner)
    qtbot.addWidget(widget)
    widget.resize(480, 760)
    with qtbot.waitExposed(widget):
        widget.show()
    yield widget
    runner.shutdown()
    widget.close()


def show(qtbot: QtBot, panel: CustomerPanel, customer_id: int, highlight: int | None = None) -> None:
    with qtbot.waitSignal(panel.loaded, timeout=10_000, check_params_cb=lambda shown: shown == customer_id):
        panel.show_customer(customer_id, highlight)


def displayed(panel: CustomerPanel) -> list[str]:
    proxy = panel.proxy()
    return [str(proxy.index(row, 0).data()) for row in range(proxy.rowCount())]


def local_moment(at: datetime) -> str:
    local = at + IST
    return f"{local.day} {MONTH_NAMES[local.month - 1]} {local.year} {local.hour:02d}:{local.minute:02d}"


def test_the_header_shows_the_profile(qtbot: QtBot, panel: CustomerPanel, floor: Floor) -> None:
    show(qtbot, panel, floor.customer_id, floor.current)
    assert panel.objectName() == "customerPanel"
    assert panel.name_label.text() == "Ada Mensah · C-1001"
    assert panel.tier_label.text() == "Gold tier"
    assert panel.value_label.text() == "★ Lifetime value: 7,250.40"
    assert panel.churn_label.text() == "⚠ Churn risk: high (0.72)"
    assert panel.consent_label.text() == "May contact: no"
    assert panel.contact_label.text() == "ada@example.com · +1 (212) 555-0101"
    assert panel.cases_label.text().startswith("Escalations: 1 open, 2 in all · last contact ")
    assert panel.since_label.text().startswith("Customer since ")
    assert panel.churned_label.isHidden()
    assert not panel.first_note.isVisible()


def test_timeline_rows_read_date_channel_title_and_detail_in_local_time(
    qtbot: QtBot, india_time: None, panel: CustomerPanel, floor: Floor, db: Database
) -> None:
    show(qtbot, panel, floor.customer_id, floor.current)
    assert panel.model().rowCount() == 12
    assert panel.proxy().rowCount() == 12
    assert panel.count_label.text() == "12 entries"
    with db.read() as session:
        escalated_at = session.scalar(select(Escalation.escalated_at).where(Escalation.id == floor.current))
    assert escalated_at is not None
    rows = displayed(panel)
    assert rows[1] == (
        f"{local_moment(escalated_at)} · Phone · ⚠ Escalated #{floor.current}: Charged again in June"
        f" · {THIS_CASE_MARKER}\nHigh severity · Billing error · escalated by Bo Lind"
    )
    phone_at = floor.contacts[0][0]
    assert phone_at.hour == 23  # the next day in local time
    assert rows[-1] == (
        f"{local_moment(phone_at)} · Phone · ← Asked about the invoice\n"
        "The customer contacted us · handled by Grace Mwale"
    )
    assert rows[-1].startswith(f"{(phone_at + IST).day} ")


def test_kind_filter_and_search_reduce_the_rows(qtbot: QtBot, panel: CustomerPanel, floor: Floor) -> None:
    show(qtbot, panel, floor.customer_id, floor.current)
    combo = panel.kind_filter
    assert [combo.itemText(i) for i in range(combo.count())] == ["All", "Contacts", "Escalations", "Outcomes"]
    combo.setCurrentIndex(combo.findText("Contacts"))
    assert panel.proxy().rowCount() == 3
    assert panel.count_label.text() == "3 of 12"
    combo.setCurrentIndex(combo.findText("Escalations"))
    assert panel.proxy().rowCount() == 4  # two escalated, one resolved, one closed
    combo.setCurrentIndex(combo.findText("Outcomes"))
    assert panel.proxy().rowCount() == 7  # resolved, two remedies, two follow-ups, closed, the story
    combo.setCurrentIndex(combo.findText("All"))
    assert panel.proxy().rowCount() == 12

    qtbot.keyClicks(panel.search, "invoice")
    assert len(displayed(panel)) == 1
    assert "Asked about the invoice" in displayed(panel)[0]
    panel.search.clear()
    qtbot.keyClicks(panel.search, "CSAT 5")
    assert len(displayed(panel)) == 1
    panel.search.clear()
    qtbot.keyClicks(panel.search, "grace")
    combo.setCurrentIndex(combo.findText("Outcomes"))
    assert panel.proxy().rowCount() == 0
    assert panel.empty_text() is not None
    assert NO_MATCHES in str(panel.empty_text())
    qtbot.keyClick(panel.search, Qt.Key.Key_Escape)
    assert panel.search.text() == ""
    assert panel.proxy().rowCount() == 7
    assert panel.empty_text() is None


def test_the_case_in_hand_is_marked_in_text(qtbot: QtBot, panel: CustomerPanel, floor: Floor) -> None:
    show(qtbot, panel, floor.customer_id, floor.current)
    proxy = panel.proxy()

    def marked() -> dict[int | None, set[bool]]:
        seen: dict[int | None, set[bool]] = {}
        for row in range(proxy.rowCount()):
            index = proxy.index(row, 0)
            text = str(index.data())
            assert (THIS_CASE_MARKER in text) is bool(index.data(HighlightRole))
            seen.setdefault(index.data(EscalationIdRole), set()).add(bool(index.data(HighlightRole)))
        return seen

    assert marked() == {floor.current: {True}, floor.earlier: {False}, None: {False}}
    show(qtbot, panel, floor.customer_id, floor.earlier)  # the same customer, another of their cases
    assert marked() == {floor.current: {False}, floor.earlier: {True}, None: {False}}


def test_empty_states(qtbot: QtBot, panel: CustomerPanel, db: Database) -> None:
    assert panel.name_label.text() == NO_CUSTOMER
    quiet = add_customer(db, name="Nell Quiet")
    show(qtbot, panel, quiet)
    assert panel.model().rowCount() == 0
    assert panel.empty_text() == FIRST_CONTACT
    assert panel.name_label.text() == "Nell Quiet"
    assert panel.cases_label.text() == "Escalations: 0 open, 0 in all"

    new = NewEscalation("Fay First", Channel.CHAT, Category.LONG_WAIT, Severity.NORMAL, "Bo Lind", "Waited a week")
    case_id = IntakeService(db).escalate(None, new)
    customer_id = CustomerService(db).for_escalation(case_id)
    show(qtbot, panel, customer_id, case_id)
    assert panel.model().rowCount() == 1
    assert panel.first_note.isVisible()
    assert panel.first_note.text() == FIRST_CONTACT

    panel.clear()
    assert panel.name_label.text() == NO_CUSTOMER
    assert panel.model().rowCount() == 0
    assert panel.customer_id() is None
    assert not panel.first_note.isVisible()


def test_refresh_reloads_and_keeps_the_filter(qtbot: QtBot, panel: CustomerPanel, floor: Floor, db: Database) -> None:
    show(qtbot, panel, floor.customer_id, floor.current)
    panel.kind_filter.setCurrentIndex(panel.kind_filter.findText("Contacts"))
    assert panel.proxy().rowCount() == 3
    with db.transaction() as session:
        session.add(
            Interaction(
                customer_id=floor.customer_id,
                channel=Channel.SOCIAL.value,
                occurred_at=floor.contacts[-1][0] + timedelta(hours=1),
                summary="Posted about the double charge",
            )
        )
    show_again = qtbot.waitSignal(panel.loaded, timeout=10_000)
    with show_again:
        panel.refresh()
    assert panel.model().rowCount() == 13
    assert panel.proxy().rowCount() == 4
    assert panel.kind_filter.currentText() == "Contacts"
    assert any("Social media · ← Posted about the double charge" in row for row in displayed(panel))


def test_a_late_load_of_another_customer_is_dropped(
    qtbot: QtBot, panel: CustomerPanel, floor: Floor, db: Database
) -> None:
    other = add_customer(db, name="Otto Other")
    panel.show_customer(floor.customer_id, floor.current)
    show(qtbot, panel, other)
    qtbot.wait(50)  # let the first load (if still running) deliver: it must change nothing
    qtbot.waitUntil(lambda: not panel.is_loading())
    assert panel.name_label.text() == "Otto Other"
    assert panel.model().rowCount() == 0


def test_an_unknown_customer_is_said_plainly(qtbot: QtBot, panel: CustomerPanel, errors: list[BaseException]) -> None:
    with qtbot.waitSignal(panel.loadFailed, timeout=10_000) as blocker:
        panel.show_customer(424242)
    assert "There is no customer #424242" in blocker.args[0]
    assert "There is no customer #424242" in str(panel.empty_text())
    assert errors == []  # handled by the panel, not passed on as a bug


def test_every_control_has_an_accessible_name_and_a_tooltip(qtbot: QtBot, panel: CustomerPanel, floor: Floor) -> None:
    show(qtbot, panel, floor.customer_id, floor.current)
    controls: list[QWidget] = [
        widget
        for kind in (QAbstractButton, QComboBox, QLineEdit, QListView, QLabel, QToolButton)
        for widget in panel.findChildren(kind)
        if widget.isVisible() and widget is not panel.empty_label
    ]
    assert panel.kind_filter in controls
    assert panel.search in controls
    assert panel.timeline in controls
    for widget in controls:
        assert widget.accessibleName(), widget.objectName() or widget
        assert widget.toolTip(), widget.objectName() or widget
    assert panel.churn_label.accessibleName() == panel.churn_label.text()
    proxy = panel.proxy()
    for row in range(proxy.rowCount()):
        index = proxy.index(row, 0)
        sentence = index.data(Qt.ItemDataRole.AccessibleTextRole)
        assert sentence
        assert sentence.endswith(".")
        assert ("Part of this case" in sentence) is bool(index.data(HighlightRole))
        assert index.data(Qt.ItemDataRole.ToolTipRole)
    first_contact = proxy.index(proxy.rowCount() - 1, 0).data(Qt.ItemDataRole.AccessibleTextRole)
    assert first_contact.endswith(
        ", Phone: Asked about the invoice. The customer contacted us, handled by Grace Mwale."
    )


def test_timeline_models_pass_the_model_tester(
    qtbot: QtBot, qtmodeltester: ModelTester, panel: CustomerPanel, floor: Floor
) -> None:
    show(qtbot, panel, floor.customer_id, floor.current)
    qtmodeltester.check(panel.model())
    qtmodeltester.check(panel.proxy())
    assert panel.model().index(0, 0).isValid()
    assert not panel.model().index(0, 0, panel.model().index(0, 0)).isValid()
    assert panel.model().rowCount(panel.model().index(0, 0)) == 0
    assert panel.model().data(QModelIndex()) is None
