"""The task page's 佐证材料: a department uploads through the page, the next report carries the files, the
office sees every file beside the timeline (thumbnails, PDFs opened in the browser), downloads authorised."""

from __future__ import annotations

import re
from collections.abc import Callable

from duban.tasks.enums import TaskState
from tests.api.pages.helpers import PageClient, text_of
from tests.fixtures.evidence import EXE, image_bytes, pdf_bytes
from tests.fixtures.tasks import TaskWorld


def _upload(page: PageClient, task: int, *files: tuple[str, bytes]) -> None:
    response = page.client.post(
        f"/tasks/{task}/files",
        data={"csrf_token": page.token},
        files=[("file", (name, data, "application/octet-stream")) for name, data in files],
    )
    assert response.status_code == 303 and response.headers["location"] == f"/tasks/{task}#evidence"


def test_a_lead_uploads_on_the_page_and_the_office_reviews_beside_the_timeline(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task = world.task_in(TaskState.in_progress)
    lead = signed_in("lead")
    _upload(lead, task, ("验收报告.pdf", pdf_bytes()), ("整改现场.jpg", image_bytes("JPEG")))
    page = lead.get(f"/tasks/{task}")
    assert "已上传佐证材料：验收报告.pdf、整改现场.jpg" in text_of(page.text)
    assert "待随下次报送" in text_of(page.text)
    reported = lead.post(
        f"/tasks/{task}/progress", {"form": "progress", "percent": "100", "text": "全部完成"}
    )
    assert reported.status_code == 303
    office = signed_in("office").get(f"/tasks/{task}")
    section = office.text[office.text.index('id="evidence"') : office.text.index('id="timeline"')]
    shown = text_of(section)
    assert "佐证材料（2）" in shown and "验收报告.pdf" in shown and "JPEG 图片" in shown
    assert "随进展或配合情况报送" in shown and "待随下次报送" not in shown
    thumbs = re.findall(r'<img class="thumb" src="(/files/\d+/view)"', section)
    assert len(thumbs) == 1
    assert re.search(
        r'<a href="/files/\d+/view" target="_blank" rel="noopener" class="file-name">验收报告.pdf', section
    )
    assert 'id="evidence-upload"' not in section  # the office reviews; it does not upload


def test_a_disguised_file_is_refused_on_the_page_with_the_reason(
    signed_in: Callable[[str], PageClient], world: TaskWorld
) -> None:
    task = world.task_in(TaskState.in_progress)
    lead = signed_in("lead")
    _upload(lead, task, ("通知.pdf", EXE))
    page = text_of(lead.get(f"/tasks/{task}").text)
    assert "不是可接受的佐证材料格式" in page and "尚无佐证材料" in page


def test_page_downloads_are_authorised_like_the_task(
    signed_in: Callable[[str], PageClient], anonymous: PageClient, world: TaskWorld
) -> None:
    task = world.task_in(TaskState.in_progress)
    lead = signed_in("lead")
    _upload(lead, task, ("现场.png", image_bytes("PNG")))
    (file_id,) = re.findall(r'href="/files/(\d+)"', lead.get(f"/tasks/{task}").text)
    expected = {"office": 200, "lead": 200, "cooperating": 200, "other": 403}
    for who, status in expected.items():
        response = signed_in(who).get(f"/files/{file_id}/view")
        assert response.status_code == status, who
        if status == 200:
            assert response.headers["content-type"] == "image/png"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert "sandbox" in response.headers["content-security-policy"]
    assert anonymous.get(f"/files/{file_id}").status_code == 303  # to the sign-in page
    download = signed_in("office").get(f"/files/{file_id}")
    assert download.headers["content-disposition"].startswith("attachment;")
