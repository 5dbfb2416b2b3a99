"""crmcore: build and keep a customer database in Python."""

__version__ = "0.1.0"
