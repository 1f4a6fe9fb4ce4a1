"""协商议事 end to end (issue 19 item 4): a community staff member, on a phone-sized page,
proposes for a micro-grid, assesses it (accepted, with a reason), records a courtyard meeting,
records the collective decision, starts the project taking an offer of the community, evaluates
it and closes it — with what the page shows at each stage, and closing not offered before the
evaluation. The three lists (needs, offers, projects) follow. What is asserted is what the user
sees."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from layers.deliberation.models import Offer, Proposal
from layers.volunteering.models import PartnerUnit
from tests.browser.conftest import js_errors, screenshot
from tests.browser.test_csp import violations, watch
from tests.browser.test_people_dashboard import login
from tests.layers.deliberation.factories import make_world
from tests.layers.factories import COMMUNITY, A

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def offered(page) -> list[str]:
    return page.eval_on_selector_all("#pr-detail .pr-actions button",
                                     "bs => bs.map(b => b.dataset.action)")


def act(page, name: str, stage: str, fill=None) -> None:
    page.click(f"#pr-detail .pr-actions button[data-action={name}]")
    form = page.locator(f"#pr-action-form[data-action={name}]")
    form.wait_for()
    if fill:
        fill(form)
    form.locator(".pr-send").click()
    page.locator(f"#pr-detail[data-stage={stage}]").wait_for()


def test_a_proposal_from_proposing_to_closing(phone, live_server):
    world = make_world()
    staff = world.users["staff"]
    unit = PartnerUnit.objects.create(name="县供电公司", kind="business",
                                      community=world.grids[COMMUNITY])
    offer = Offer.objects.create(community=world.grids[COMMUNITY], kind="partner_unit",
                                 partner_unit=unit, resource="一辆清运车", recorded_by=staff)
    seen = watch(phone)

    login(phone, live_server.url, staff.username, "/m/proposals/")
    phone.wait_for_selector("#pr-lists:not([data-loaded='0'])")
    assert phone.inner_text("h1") == "协商议事"
    assert phone.locator('.topbar nav a[href="/m/proposals/"].active').count() == 1
    assert "暂无进行中的议题" in phone.inner_text("#pr-open")
    phone.click("#tab-offers")
    assert "一辆清运车" in phone.inner_text("#pr-offers") and phone.is_hidden("#pr-needs")

    # -- proposing ---------------------------------------------------------------------------
    phone.click("#pr-new-button")
    new = phone.locator("#pr-new-form")
    new.locator("button[type=submit]").click()
    assert "此项必填" in new.locator('.errors[data-field="title"]').inner_text()
    new.locator("input[name=title]").fill("三单元楼道堆物清理")
    new.locator("textarea[name=description]").fill("三单元楼道堆满杂物，存在消防隐患")
    new.locator("select[name=size]").select_option("small")
    new.locator("select[name=grid]").select_option(A)
    new.locator("button[type=submit]").click()
    detail = phone.locator("#pr-detail[data-stage=proposed]")
    detail.wait_for()
    proposal = Proposal.objects.get()
    assert phone.url.endswith(f"#proposal-{proposal.pk}")
    assert "提案已登记" in detail.locator(".pr-status").inner_text()
    assert detail.locator(".pr-stage").inner_text() == "提案"
    assert "须于" in detail.locator(".pr-facts").inner_text()  # the assessment's due time
    assert offered(phone) == ["assess", "link_appeals", "withdraw"]

    # -- assess: accepted, with the reason ----------------------------------------------------
    def assess(form):
        form.locator("select[name=outcome]").select_option("accept")
        form.locator("textarea[name=reason]").fill("涉及全楼居民，需协商")
    act(phone, "assess", "assessed", assess)
    assert "同意：涉及全楼居民，需协商" in phone.inner_text("#pr-detail .pr-assessment")
    assert phone.inner_text("#pr-detail .pr-stage") == "需求评估通过"
    assert "尚未召开议事会议" in phone.inner_text("#pr-detail .pr-meetings")
    assert offered(phone) == ["link_appeals", "hold_meeting", "withdraw"]

    # -- a courtyard meeting ------------------------------------------------------------------
    def meeting(form):
        assert form.locator("input[name=held_at]").input_value()  # now, by default
        form.locator("select[name=venue]").select_option("courtyard")
        form.locator("input[name=place]").fill("3栋院坝")
        form.locator("input[name=residents]").fill("18")
        form.locator("input[name=property_company]").fill("2")
        form.locator("input[name=community]").fill("1")
        form.locator("textarea[name=minutes]").fill("居民同意周六统一清理")
    act(phone, "hold_meeting", "deliberating", meeting)
    held = phone.inner_text("#pr-detail .pr-meetings")
    assert "院坝会" in held and "3栋院坝" in held and "到会 21 人" in held
    assert "居民同意周六统一清理" in held
    assert "decide" in offered(phone) and "close" not in offered(phone)
    screenshot(phone, "proposals-phone-deliberating")

    # -- the collective decision --------------------------------------------------------------
    def decide(form):
        form.locator("textarea[name=text]").fill("本周六物业统一清理楼道")
        form.locator("input[name=votes_for]").fill("18")
        form.locator("input[name=votes_against]").fill("2")
        form.locator("input[name=votes_abstain]").fill("1")
    act(phone, "decide", "decided", decide)
    decision = phone.inner_text("#pr-detail .pr-decision")
    assert "本周六物业统一清理楼道" in decision and "赞成 18" in decision and "公示至" in decision
    assert offered(phone) == ["start_project"]

    # -- the project, taking the partner unit's offer ----------------------------------------
    due = (timezone.localdate() + dt.timedelta(days=14)).isoformat()

    def start(form):
        form.locator("input[name=owner]").fill("物业公司")
        form.locator("input[name=due_on]").fill(due)
        form.locator(f"input[name=offers][value='{offer.pk}']").check()
    act(phone, "start_project", "implementing", start)
    project = phone.inner_text("#pr-detail .pr-project")
    assert "实施方：物业公司" in project and "实施中" in project
    # Closing is not offered before the evaluation; the page says why.
    assert offered(phone) == ["evaluate"]
    assert "须先完成效果评估才能办结" in phone.inner_text("#pr-detail .pr-actions")

    # -- evaluate, then close -----------------------------------------------------------------
    def evaluate(form):
        form.locator("select[name=effect]").select_option("effective")
        form.locator("textarea[name=evaluation]").fill("楼道已清空，居民满意")
    act(phone, "evaluate", "evaluated", evaluate)
    assert "有效：楼道已清空，居民满意" in phone.inner_text("#pr-detail .pr-evaluation")
    assert offered(phone) == ["close"]
    act(phone, "close", "closed")
    detail = phone.locator("#pr-detail")
    assert detail.locator(".pr-stage").inner_text() == "已办结"
    assert offered(phone) == [] and "当前阶段无需操作" in detail.inner_text()
    timeline = detail.locator(".pr-timeline li")
    assert timeline.count() == 7
    assert "记录议事会议" in detail.locator(".pr-timeline").inner_text()
    assert "涉及全楼居民，需协商" in detail.locator(".pr-timeline").inner_text()
    screenshot(phone, "proposals-phone-closed")

    # -- the three lists after it -------------------------------------------------------------
    phone.click("#pr-detail .pr-back")
    phone.wait_for_selector("#pr-lists:not([hidden])")
    assert "暂无进行中的议题" in phone.inner_text("#pr-open")
    phone.click("#tab-offers")
    assert "一辆清运车" not in phone.inner_text("#pr-offers")  # taken by the project
    phone.click("#tab-projects")
    row = phone.locator(f"#pr-project-rows li[data-proposal='{proposal.pk}']")
    assert "三单元楼道堆物清理" in row.inner_text() and "已完成" in row.inner_text()
    assert violations(phone, seen) == [] and js_errors(phone) == []
