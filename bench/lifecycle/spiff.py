"""The reference: SpiffWorkflow running duban's task lifecycle as a BPMN process, persisted to PostgreSQL.

One workflow instance per task, stored as SpiffWorkflow's own JSON serialization (`serialize_json`, which
carries the process spec along, as the library documents it) in a table of its own; every step is one
transaction: read the row FOR UPDATE, deserialize, complete the user task, run the engine, serialize,
write the row back.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import psycopg

BPMN: Final = Path(__file__).resolve().parent / "task_lifecycle.bpmn"
PROCESS: Final = "task_lifecycle"
STEPS: Final = ("accept", "submit", "approve")

TABLE_SQL: Final = """
CREATE TABLE IF NOT EXISTS spiff_workflow (
  task_key integer PRIMARY KEY,
  step text NOT NULL,
  serialization text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
)
"""


@lru_cache(maxsize=1)
def engine() -> tuple[Any, Any]:
    """The parsed process spec and the serializer (built once per process, as an application would)."""
    from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(BPMN))
    spec = parser.get_spec(PROCESS)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    return spec, serializer


def new_instance(task_key: int) -> tuple[str, str]:
    """A workflow for one task, run to its first user task; (step waiting, serialization)."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

    spec, serializer = engine()
    workflow = BpmnWorkflow(spec)
    workflow.data["task_key"] = task_key
    workflow.do_engine_steps()
    return _waiting(workflow), serializer.serialize_json(workflow)


def _waiting(workflow: Any) -> str:
    from SpiffWorkflow.util.task import TaskState

    ready = workflow.get_next_task(state=TaskState.READY, manual=True)
    return "completed" if ready is None else str(ready.task_spec.name)


def issue(conn: psycopg.Connection[Any], task_key: int) -> None:
    """Create and store the instance of one task (one transaction)."""
    step, serialization = new_instance(task_key)
    conn.execute(
        "INSERT INTO spiff_workflow (task_key, step, serialization) VALUES (%s, %s, %s)",
        (task_key, step, serialization),
    )
    conn.commit()


def complete(conn: psycopg.Connection[Any], task_key: int, step: str, actor: str) -> None:
    """Complete the user task `step` of one task's instance (one transaction)."""
    from SpiffWorkflow.util.task import TaskState

    _, serializer = engine()
    row = conn.execute(
        "SELECT serialization FROM spiff_workflow WHERE task_key = %s FOR UPDATE", (task_key,)
    ).fetchone()
    if row is None:
        raise LookupError(f"no workflow for task {task_key}")
    workflow = serializer.deserialize_json(row[0])
    ready = workflow.get_next_task(state=TaskState.READY, manual=True)
    if ready is None or ready.task_spec.name != step:
        raise RuntimeError(f"task {task_key}: {step} is not the step waiting")
    ready.data["actor"] = actor
    ready.run()
    workflow.do_engine_steps()
    conn.execute(
        "UPDATE spiff_workflow SET step = %s, serialization = %s, updated_at = now() WHERE task_key = %s",
        (_waiting(workflow), serializer.serialize_json(workflow), task_key),
    )
    conn.commit()


def issue_many(conn: psycopg.Connection[Any], task_keys: list[int]) -> None:
    """A plan's tasks, instance by instance, written in one transaction (executemany)."""
    rows = ((key, *new_instance(key)) for key in task_keys)
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO spiff_workflow (task_key, step, serialization) VALUES (%s, %s, %s)", rows
        )
    conn.commit()
