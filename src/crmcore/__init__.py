"""crmcore: build and keep a customer database in Python.

The most used names are re-exported here; each lives in its own module:

* models: :mod:`crmcore.models` (``Customer``, ``Phone``, ``Complaint``, ``Purchase``, ...)
* errors: :mod:`crmcore.errors` (``CrmError``, ``ValidationError``, ``NotFound``, ...)
* serialisation: :mod:`crmcore.serialization` (``to_json``, ``from_json``, ...)
* queries: :mod:`crmcore.query` (``Query``, ``Field``, ``Search``)
* storage: :mod:`crmcore.storage` (``connect``, ``Store``, ...)
* rules: :mod:`crmcore.rules.verification` (``NormalisationPipeline``, ...)

>>> import crmcore
>>> store = crmcore.connect("memory://")
>>> with store.unit_of_work() as uow:
...     saved = uow.customers.add(crmcore.Customer.person_named(family="李", given="娜"))
...     uow.commit()
>>> saved.version
1
"""

from crmcore.errors import (
    ConcurrencyConflict,
    CrmError,
    InvalidTransition,
    NotFound,
    Problem,
    ValidationError,
)
from crmcore.models import (
    Complaint,
    ContactPerson,
    Customer,
    CustomerKind,
    Email,
    Interaction,
    Money,
    PersonName,
    Phone,
    PostalAddress,
    Provenance,
    Purchase,
)
from crmcore.query import Field, Query, Search
from crmcore.rules.verification import NormalisationPipeline
from crmcore.serialization import from_dict, from_json, make_converter, to_dict, to_json
from crmcore.storage import Capabilities, ImportReport, ImportStatus, Store, connect

__version__ = "0.1.0"

__all__ = [
    "Capabilities",
    "Complaint",
    "ConcurrencyConflict",
    "ContactPerson",
    "CrmError",
    "Customer",
    "CustomerKind",
    "Email",
    "Field",
    "ImportReport",
    "ImportStatus",
    "Interaction",
    "InvalidTransition",
    "Money",
    "NormalisationPipeline",
    "NotFound",
    "PersonName",
    "Phone",
    "PostalAddress",
    "Problem",
    "Provenance",
    "Purchase",
    "Query",
    "Search",
    "Store",
    "ValidationError",
    "__version__",
    "connect",
    "from_dict",
    "from_json",
    "make_converter",
    "to_dict",
    "to_json",
]
