"""Storage: the port, the application API, the in-memory backend and ``connect(url)``.

>>> from crmcore.storage import connect
>>> store = connect("memory://")

See ``docs/storage.md`` for using a store and ``docs/writing-a-backend.md`` for
writing a backend of your own.
"""

from crmcore.storage.history import (
    customer_lives,
    customer_versions,
    diff_customers,
    history_changes,
)
from crmcore.storage.imports import ImportMode, ImportOutcome, ImportReport, ImportStatus, MatchKey
from crmcore.storage.memory import MemoryBackend, MemoryTransaction
from crmcore.storage.ports import (
    RECORD_KINDS,
    RECORD_TYPES,
    Backend,
    BatchNormaliser,
    Capabilities,
    Clock,
    CustomerRepository,
    Normaliser,
    Record,
    RecordKind,
    RecordKindInfo,
    Repository,
    Transaction,
    UnitOfWork,
)
from crmcore.storage.registry import (
    ENTRY_POINT_GROUP,
    BackendFactory,
    connect,
    create_backend,
    known_schemes,
    register_backend,
)
from crmcore.storage.store import Store
from crmcore.storage.unit_of_work import (
    DEPENDENT_KINDS,
    CustomerHasDependents,
    Dependents,
    StoreCustomerRepository,
    StoreRepository,
    StoreUnitOfWork,
)

__all__ = [
    "DEPENDENT_KINDS",
    "ENTRY_POINT_GROUP",
    "RECORD_KINDS",
    "RECORD_TYPES",
    "Backend",
    "BackendFactory",
    "BatchNormaliser",
    "Capabilities",
    "Clock",
    "CustomerHasDependents",
    "CustomerRepository",
    "Dependents",
    "ImportMode",
    "ImportOutcome",
    "ImportReport",
    "ImportStatus",
    "MatchKey",
    "MemoryBackend",
    "MemoryTransaction",
    "Normaliser",
    "Record",
    "RecordKind",
    "RecordKindInfo",
    "Repository",
    "Store",
    "StoreCustomerRepository",
    "StoreRepository",
    "StoreUnitOfWork",
    "Transaction",
    "UnitOfWork",
    "connect",
    "create_backend",
    "customer_lives",
    "customer_versions",
    "diff_customers",
    "history_changes",
    "known_schemes",
    "register_backend",
]
