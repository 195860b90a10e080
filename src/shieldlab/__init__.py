"""shieldlab: integrated air and missile defence simulator."""
__version__ = "0.1.0"
