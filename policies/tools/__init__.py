"""Maintenance scripts for the policy pack (not loaded by the pack itself)."""
