"""Who may see and do what: accounts with hashed passwords, roles and their scope, the audit log.

``roles`` defines the four roles and the :class:`~retention.auth.roles.UserScope` every data
read takes; ``accounts`` keeps the accounts file; ``audit`` appends who did what, when.
Depends on nothing but ``retention.errors``, so every stage may import it.
"""
