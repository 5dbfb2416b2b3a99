"""crmcore's domain models: frozen attrs classes that import only the standard library and attrs.

Every model checks its field types, field values and cross-field invariants when it
is constructed (including through :func:`attrs.evolve`) and raises one
:class:`crmcore.errors.ValidationError` listing every problem found. :func:`replace`
changes fields with the same guarantee, checking only the changed fields and the
invariants; :func:`replace_each` makes the same change to many instances, checking
the new values once.
"""

from crmcore.models._base import Model
from crmcore.models._replace import replace, replace_each
from crmcore.models.calendars import Calendar
from crmcore.models.complaint import (
    ALLOWED_TRANSITIONS,
    Complaint,
    ComplaintState,
    ComplaintTransition,
    Severity,
)
from crmcore.models.contact import (
    Consent,
    ContactPerson,
    ContactPoint,
    DecisionRole,
    Email,
    OptOut,
    Phone,
    PhoneKind,
    PostalAddress,
    SocialHandle,
)
from crmcore.models.customer import (
    CreditStanding,
    Customer,
    CustomerKind,
    FactCategory,
    FamilyMember,
    Gender,
    KeyDate,
    LifecycleStage,
    OrganisationProfile,
    OrganisationSize,
    PersonProfile,
    ProfileFact,
    utc_now,
)
from crmcore.models.decision import NotDuplicate
from crmcore.models.history import ChangeOperation, ChangeRecord, FieldChange
from crmcore.models.interaction import Direction, Interaction, InteractionChannel
from crmcore.models.merge import (
    CustomerSnapshot,
    MergedField,
    MergeRecord,
    RenamedId,
    RepointedRecord,
)
from crmcore.models.provenance import Provenance, SourceChannel
from crmcore.models.purchase import Purchase
from crmcore.models.values import Identifier, IdentifierKind, Money, NameOrder, PersonName, is_cjk

__all__ = [
    "ALLOWED_TRANSITIONS",
    "Calendar",
    "ChangeOperation",
    "ChangeRecord",
    "Complaint",
    "ComplaintState",
    "ComplaintTransition",
    "Consent",
    "ContactPerson",
    "ContactPoint",
    "CreditStanding",
    "Customer",
    "CustomerKind",
    "CustomerSnapshot",
    "DecisionRole",
    "Direction",
    "Email",
    "FactCategory",
    "FamilyMember",
    "FieldChange",
    "Gender",
    "Identifier",
    "IdentifierKind",
    "Interaction",
    "InteractionChannel",
    "KeyDate",
    "LifecycleStage",
    "MergeRecord",
    "MergedField",
    "Model",
    "Money",
    "NameOrder",
    "NotDuplicate",
    "OptOut",
    "OrganisationProfile",
    "OrganisationSize",
    "PersonName",
    "PersonProfile",
    "Phone",
    "PhoneKind",
    "PostalAddress",
    "ProfileFact",
    "Provenance",
    "Purchase",
    "RenamedId",
    "RepointedRecord",
    "Severity",
    "SocialHandle",
    "SourceChannel",
    "is_cjk",
    "replace",
    "replace_each",
    "utc_now",
]
