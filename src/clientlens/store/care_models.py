"""ORM models of the care layer (conversations, surveys, campaigns, send log); migration 0002."""
