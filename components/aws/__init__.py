"""The AWS + Cloudflare platform: one ComponentResource per module, composed by ``stack.deploy``."""
