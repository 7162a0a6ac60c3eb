"""Market-authority tools: trace graphs, mass balance, recalls, exports and the write log
(who wrote what, served as /api/v1/audit-log)."""
