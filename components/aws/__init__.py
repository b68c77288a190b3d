"""The AWS + Cloudflare platform: one ComponentResource per module, composed by :mod:`components.aws.stack`."""
