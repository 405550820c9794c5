"""Who may see and do what: accounts with hashed passwords, roles and their scope, the audit log.

``roles`` defines the four roles and the :class:`~retention.auth.roles.UserScope` every data
read takes, and ``events`` what an audit event is; both depend on nothing but
``retention.errors``, so every stage may import them. ``accounts`` and ``audit`` keep the
accounts and the audit log in the store (``retention.storage``), so only the joining packages,
``ui/`` and pages import them.
"""
