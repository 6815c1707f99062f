"""Reward rules: conditions over facts, effects, and the engine that applies them.

>>> from custbond.rules import customer, event
>>> print((event.amount >= 50) & (customer.tier == "gold"))
event.amount >= 50 and customer.tier == 'gold'
"""

from custbond.rules.conditions import (
    AllOf,
    Always,
    AnyOf,
    Compare,
    Condition,
    Fact,
    Not,
    customer,
    event,
    local,
    state,
)
from custbond.rules.effects import (
    Cashback,
    Discount,
    FixedPoints,
    Gift,
    Message,
    Multiplier,
    PointsPerItem,
    PointsPerSpend,
    Stamps,
    Tag,
    Tier,
)
from custbond.rules.engine import Award, RuleBook
from custbond.rules.facts import FACTS, FactSpec, Kind
from custbond.rules.rule import Budget, FirstCustomers, Group, Limit, Rule, Window
from custbond.rules.text import parse_condition
from custbond.rules.trace import Step, Trace, Verdict

__all__ = [
    "FACTS",
    "AllOf",
    "Always",
    "AnyOf",
    "Award",
    "Budget",
    "Cashback",
    "Compare",
    "Condition",
    "Discount",
    "Fact",
    "FactSpec",
    "FirstCustomers",
    "FixedPoints",
    "Gift",
    "Group",
    "Kind",
    "Limit",
    "Message",
    "Multiplier",
    "Not",
    "PointsPerItem",
    "PointsPerSpend",
    "Rule",
    "RuleBook",
    "Stamps",
    "Step",
    "Tag",
    "Tier",
    "Trace",
    "Verdict",
    "Window",
    "customer",
    "event",
    "local",
    "parse_condition",
    "state",
]
