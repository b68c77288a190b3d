"""The saas-guardrails policy pack: ``__main__.py`` serves it, the rules are in ``saas_guardrails``."""
