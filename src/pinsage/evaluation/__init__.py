"""Recall under one protocol for PinSage and every baseline, and the report. No DGL here."""
