"""Model helpers the request path relies on."""

from __future__ import annotations

import subprocess
import sys


def test_a_fresh_process_can_build_its_first_caller_before_any_other_orm_use() -> None:
    """The first request a new server process serves may be an action, whose caller is built without
    __init__ (so without the mapper set-up __init__ would do)."""
    code = (
        "from duban.tasks.models import user_from_row\n"
        "caller = user_from_row((1, 'lead', '生态环境厅', 'department', 2, True, False))\n"
        "print(caller.active, caller.label)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "生态环境厅"]
