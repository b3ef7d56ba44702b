"""Decisions as data: the indicator catalogue, rule sets evaluated by GoRules ZEN (JSON
Decision Model) and their life cycle (draft, simulate, publish with maker-checker, retire).

Dependencies point inward: `decisions` reads `finance` (facts, products, terms) and `graph`
(named queries); `api` calls `decisions`; `finance` never imports it (the API hands a rule
set's evaluator to `finance.lifecycle.submit_application`).
"""
