"""Supervisor Console core: domain types, rules and services. No QtWidgets import anywhere in here."""
