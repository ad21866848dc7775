"""Guanxi (关系): an open-source CRM for Chinese small and mid-size businesses."""
