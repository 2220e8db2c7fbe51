"""Company policy for cloud escalation: the policy file, the sanitizer pipeline, the audit log.

Modules have one job each (model, load, paths, secrets, names, sanitize, restore, decide, audit,
starter); `assistant.escalation.escalator` orchestrates them for the server and the CLI.
"""
