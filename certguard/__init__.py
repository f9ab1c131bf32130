"""certguard: is my TLS connection being intercepted, by whom, and what do I do about it?"""

__version__ = "0.1.0"
