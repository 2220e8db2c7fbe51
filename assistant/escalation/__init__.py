"""Escalation to a cloud model: the policy, the sanitizer, the preview, the cloud client and the audit."""
