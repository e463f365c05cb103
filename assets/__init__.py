"""Built-in corpora: texts written or generated for this project, and their registry."""
