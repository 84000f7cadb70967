"""The annual report (法治政府建设年度报告): its statistics part, computed from the records and the audit chain."""
