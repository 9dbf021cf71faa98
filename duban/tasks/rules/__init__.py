"""Responsibility rules: topic phrases → lead and cooperating units, as reviewed data; a pure proposer."""

from duban.tasks.rules.assign import Planned, Resolution, resolve
from duban.tasks.rules.deadlines import default_deadline
from duban.tasks.rules.jsonout import apply_rules_to_json
from duban.tasks.rules.loading import bundled_rules, load_rule_file, merge_rules, parse_rules
from duban.tasks.rules.model import Proposal, Rule, RuleHit, RuleSet
from duban.tasks.rules.propose import propose, rule_hits

__all__ = [
    "Planned",
    "Proposal",
    "Resolution",
    "Rule",
    "RuleHit",
    "RuleSet",
    "apply_rules_to_json",
    "bundled_rules",
    "default_deadline",
    "load_rule_file",
    "merge_rules",
    "parse_rules",
    "propose",
    "resolve",
    "rule_hits",
]
