"""Pure business rules over :mod:`crmcore.models`.

Rules are functions (and frozen, serialisable specs configuring them) that take
models and return new models, findings or reports. They never touch storage,
never read the clock (time is an argument, ``now=``) and do no I/O, so the same
input always gives the same output and any service can embed them.

Subpackages:

* :mod:`crmcore.rules.verification`: normalise, validate, score and re-verify
  customer data; provenance trust and vendor data evaluation.
"""

__all__: list[str] = []
