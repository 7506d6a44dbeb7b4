"""phienhieu: decode wartime Vietnamese military unit designations."""

from app._native import STATUS as NATIVE

__all__ = ["NATIVE"]
