"""ORM models of the web layer (users, tokens, audit log); migration 0003."""
