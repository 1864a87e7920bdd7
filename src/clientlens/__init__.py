"""clientlens: know and look after individual customers.

Import customers, orders and service interactions; classify every customer with evidence;
predict their future (BTYD models, CLV); care for them (inbox, feedback, playbooks, campaigns).
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
