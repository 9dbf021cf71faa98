"""The escalation policy the action benchmarks freeze onto their tasks: version 1, without `completion`.

The lifecycle compared (issue → accept → submit → approve, against SpiffWorkflow's BPMN process of the
same user tasks) is the state machine's; what 办结 needs under version 2 (a 100% report, evidence files,
contributions) is data the lead sends through other endpoints before submitting, not part of that cycle.
So the benchmarks' tasks carry version 1 as frozen at issue (the bundled rules as they were before the
section was added), and `submit` still reads the frozen policy and finds no completion rules.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import psycopg

from duban.workflow.policy import EscalationPolicy, bundled_policy


def policy_without_completion() -> EscalationPolicy:
    """Version 1: the bundled thresholds with no `completion` section (its fingerprint as frozen then)."""
    return dataclasses.replace(bundled_policy(), version=1, name="督办升级规则（第 1 版）", completion=None)


KEEP_SQL = """
INSERT INTO escalation_policy_version (version, name, sha256, body, registered_at)
VALUES (%(version)s, %(name)s, %(sha256)s, %(body)s::jsonb, now())
ON CONFLICT (version) DO NOTHING
"""


def keep_policy(conn: psycopg.Connection[Any], policy: EscalationPolicy) -> int:
    """Keep `policy`'s rules once (as duban's `register_policy` does); its version, for the tasks to name."""
    body = json.dumps(policy.snapshot(), ensure_ascii=False)
    params = {"version": policy.version, "name": policy.name, "sha256": policy.sha256, "body": body}
    conn.execute(KEEP_SQL, params)
    return policy.version
