"""Routing: queues, skills, agent presence and the engine that offers contacts to agents (R1.2, R1.6, R1.8)."""
