"""Pure business rules over :mod:`crmcore.models`.

Rules are functions (and frozen, serialisable specs configuring them) that take
models and return new models, findings or reports. They never touch storage,
never read the clock (time is an argument, ``now=``) and do no I/O, so the same
input always gives the same output and any service can embed them.

Subpackages:

* :mod:`crmcore.rules.verification`: normalise, validate, score and re-verify
  customer data; provenance trust and vendor data evaluation.
* :mod:`crmcore.rules.segmentation`: customer summaries from purchases, and grading
  and segmenting customers (RFM, value pyramid, Pareto, profitability and value
  classes, lifecycle suggestions, relationship level, lifetime value, satisfaction
  gap), each assignment with its explanation; the brief's views.
* :mod:`crmcore.rules.signals`: what needs attention at ``now``: dates coming up,
  falling purchases, complaints near or past their SLA, facts to re-verify.
"""

__all__: list[str] = []
