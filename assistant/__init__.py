"""kura's assistant: completion, explanation and fix tasks, context, prompts, model backends, policy.

No LSP types here; the language server translates protocol messages into these tasks.
"""
