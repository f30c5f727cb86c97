"""The command centre's pure domain (no nameko, SQLAlchemy or web imports).

Modules: ``calendar`` (working days, Asia/Shanghai, holidays as data in ``holidays_cn``),
``sla`` (deadlines and SLA state), ``escalation`` (closed-loop escalation, ``DueIndex``),
``dispatch`` (routing rules, manual dispatch, send-back), ``casefile`` (the dispatch view's
record and its idempotent, order-independent event fold), ``whistle`` (吹哨报到),
``supervision`` (一键督办), ``kpi`` (incremental KPIs + ``recompute_kpis`` oracle),
``warnings`` (early-warning rules), ``audit`` (hash-chained audit trail).
"""
