"""The connector contract: one suite that every installed connector with a sandbox must pass.

Adding a connector: register it under the ``syncd.connectors`` entry point and its sandbox
under ``syncd.sandboxes``, then add an adapter in ``adapters.py`` (how to start the sandbox,
add a payment, void, delete, read the write log and inject faults through its control API).
The suite then runs it in every sandbox mode (``kind``; ``strict`` once the sandbox accepts
``strict=True``) on every store backend, and the outbox crash and cycle tests run it as well.
"""
