"""Complaints and disputes (R5): intake, the regulator's clock, workflow, escalation and statistics."""
