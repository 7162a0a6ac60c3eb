"""Market-authority tools: trace graphs, mass balance, recalls, exports and the audit log."""
