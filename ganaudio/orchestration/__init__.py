"""Orchestration logic behind `flows/`: the DVC DAG, running DVC, sweeps, model promotion.

Importable without Prefect (flows/ wraps these in tasks) and without MLflow (imported lazily).
"""
