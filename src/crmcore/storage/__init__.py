"""Storage: the port, the application API, the in-memory backend and ``connect(url)``.

>>> from crmcore.storage import connect
>>> store = connect("memory://")

See ``docs/storage.md`` for using a store and ``docs/writing-a-backend.md`` for
writing a backend of your own.
"""

from crmcore.storage.memory import MemoryBackend, MemoryTransaction
from crmcore.storage.ports import (
    RECORD_TYPES,
    Backend,
    Capabilities,
    CustomerRepository,
    Record,
    RecordKind,
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
from crmcore.storage.store import (
    Clock,
    ImportOutcome,
    ImportReport,
    ImportStatus,
    Normaliser,
    Store,
    StoreCustomerRepository,
    StoreRepository,
    StoreUnitOfWork,
    customer_versions,
    diff_customers,
    history_changes,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "RECORD_TYPES",
    "Backend",
    "BackendFactory",
    "Capabilities",
    "Clock",
    "CustomerRepository",
    "ImportOutcome",
    "ImportReport",
    "ImportStatus",
    "MemoryBackend",
    "MemoryTransaction",
    "Normaliser",
    "Record",
    "RecordKind",
    "Repository",
    "Store",
    "StoreCustomerRepository",
    "StoreRepository",
    "StoreUnitOfWork",
    "Transaction",
    "UnitOfWork",
    "connect",
    "create_backend",
    "customer_versions",
    "diff_customers",
    "history_changes",
    "known_schemes",
    "register_backend",
]
