"""The SQL statements one action costs in duban: `python -m bench.http.querycount < seeded.json`.

Runs in its own process with the server's environment (DUBAN_*), calls the real app in-process
(FastAPI TestClient) for one `submit` and one `return`, and prints the statements each sent.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def main() -> None:
    """Print {"submit": [...], "return": [...]} — the first line of each statement sent."""
    seeded: dict[str, Any] = json.load(sys.stdin)
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from duban.api.app import create_app
    from duban.core.db import get_engine

    client = TestClient(create_app())
    task_id = int(seeded["task_id"])
    state, version = seeded["state"], int(seeded["version"])
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(" ".join(statement.split())[:110])

    seen: dict[str, list[str]] = {}
    for _ in range(2):
        action = "return" if state == "submitted" else "submit"
        token = seeded["office_token"] if action == "return" else seeded["lead_token"]
        body = {"reason": "基准测试"} if action == "return" else {}
        statements.clear()
        event.listen(get_engine(), "before_cursor_execute", record)
        response = client.post(
            f"/api/v1/tasks/{task_id}/actions/{action}",
            headers={"Authorization": f"Bearer {token}", "If-Match": f'"v{version}"'},
            json=body,
        )
        event.remove(get_engine(), "before_cursor_execute", record)
        if response.status_code != 200:
            raise SystemExit(f"{action} answered {response.status_code}: {response.text[:500]}")
        seen[action] = list(statements)
        state = response.json()["to_state"]
        version += 1
    print(json.dumps(seen, ensure_ascii=False))


if __name__ == "__main__":
    main()
