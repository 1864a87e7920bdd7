"""clientlens.care: acting on what we know about customers.

Modules (each a set of service functions taking a SQLAlchemy Session or Engine and the Settings):

- ``inbox``: conversations from interactions (sync), reply, assign, resolve, list;
- ``sla``: targets per channel tightened by label/score, breaches, metrics (business hours);
- ``feedback``: CSAT / NPS, surveys queued on resolve, NPS by label, channel, month;
- ``timeline`` and ``audit``: a customer's history and the relationships that worsened;
- ``playbooks`` and ``loyalty``: next best actions with reasons, tiers and points;
- ``audience``, ``campaigns``, ``render``, ``senders``, ``consent``: personalised campaigns that
  respect consent, quiet hours and frequency caps, sent resumably through a sender seam.
"""
