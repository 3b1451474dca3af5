"""Start and stop the real local servers (Kafka, S3, MongoDB, LLM) for dev and tests.

Typical use from a pytest fixture::

    from devstack import Stack

    with Stack(tmp_path / "stack") as stack:
        stack.up()                    # Tansu, SeaweedFS, jongodb
        stack.up_llm()                # llama.cpp server, only when a test needs it
        os.environ.update(stack.env)

Only the standard library is used so the package runs from any interpreter.
"""

from devstack.stack import LLM_MODEL_ALIAS, SERVICES, Stack, StackError

__all__ = ["LLM_MODEL_ALIAS", "SERVICES", "Stack", "StackError"]
