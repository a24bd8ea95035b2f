"""inspector: speech-analytics quality inspection for Chinese customer-service hotlines."""

__version__ = "0.1.0"
