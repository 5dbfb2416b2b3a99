"""Data-quality score per customer: completeness, validity and freshness, explained.

* **Completeness** against a :class:`ProfileTemplate`: the fields a business wants,
  each with a weight; the share of the total weight that is present. crmcore ships
  the brief's two person templates, :data:`TRADITIONAL_PROFILE` and
  :data:`BASIC_TEMPLATE`, and :data:`ORGANISATION_PROFILE`. Facts held outside the
  customer record (purchases, interactions, complaints) are named ``related:<name>``
  and counted from the ``related`` mapping the caller passes.
* **Validity**: the share of checked items without a problem. Items are each
  contact point (bad when flagged invalid or when the pipeline reports an error or
  warning for it) and the core record (bad when the pipeline or validation reports
  any other error).
* **Freshness**: the share of tracked facts (see
  :mod:`~crmcore.rules.verification.schedule`) confirmed within their maximum age.

The score is the weighted mean of the three (weights in :class:`QualitySpec`,
50/30/20 by default). The result lists what is missing (with weights), what is
invalid (the findings) and what is stale (the due items), and an explanation as
coded, localised findings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import attrs

from crmcore.errors import Problem
from crmcore.models import Customer, CustomerKind, Model
from crmcore.models.checks import checks, non_blank, non_negative, positive
from crmcore.rules.verification._arguments import require_locale, require_now
from crmcore.rules.verification._paths import is_present, resolve, spec_paths
from crmcore.rules.verification._spec import Spec
from crmcore.rules.verification.messages import finding
from crmcore.rules.verification.pipeline import NormalisationPipeline
from crmcore.rules.verification.schedule import (
    DueItem,
    ReverificationPolicy,
    due_items,
    fact_label,
    verification_items,
)

__all__ = [
    "BASIC_TEMPLATE",
    "ORGANISATION_PROFILE",
    "TRADITIONAL_PROFILE",
    "ProfileTemplate",
    "QualityScore",
    "QualitySpec",
    "TemplateField",
    "TemplateGap",
    "score_quality",
]


@attrs.frozen(kw_only=True)
class TemplateField(Model):
    """One thing a profile template wants, and how much it counts.

    Attributes:
        label: What it is, for people (``"birthday"``).
        paths: Field paths; the field is present when any of them has a value
            (``("phones", "emails")`` for "contact details").
        weight: Its weight in the completeness score.
        label_zh: The label in Chinese, for ``zh`` messages (``label`` when unset).
    """

    label: str = attrs.field(metadata=checks(non_blank))
    paths: tuple[str, ...] = attrs.field(metadata=checks(spec_paths))
    weight: int = attrs.field(metadata=checks(positive))
    label_zh: str | None = attrs.field(default=None, metadata=checks(non_blank))

    def label_in(self, locale: str) -> str:
        """The label in ``locale``: ``label_zh`` for ``zh`` when set, else ``label``."""
        if locale == "zh" and self.label_zh is not None:
            return self.label_zh
        return self.label

    def _invariants(self) -> Iterable[Problem]:
        if not self.paths:
            yield Problem(code="value.blank", path="$.paths", message="needs at least one path")


@attrs.frozen(kw_only=True)
class ProfileTemplate(Spec):
    """The fields a business wants in a profile, with weights."""

    TAG = "profile_template"
    kind: str = "profile_template"
    name: str = attrs.field(metadata=checks(non_blank))
    customer_kind: CustomerKind | None = None
    fields: tuple[TemplateField, ...] = ()

    @property
    def total_weight(self) -> int:
        """The sum of the fields' weights."""
        return sum(f.weight for f in self.fields)


def _f(label: str, *paths: str, weight: int, zh: str) -> TemplateField:
    return TemplateField(label=label, paths=paths, weight=weight, label_zh=zh)


TRADITIONAL_PROFILE = ProfileTemplate(
    name="traditional_profile",
    customer_kind=CustomerKind.PERSON,
    fields=(
        _f("name", "person.name", weight=12, zh="姓名"),
        _f("English name", "person.other_name", weight=3, zh="英文名"),
        _f("nickname", "person.nickname", weight=2, zh="昵称"),
        _f("gender", "person.gender", weight=4, zh="性别"),
        _f("birthday", "person.birthday", weight=8, zh="生日"),
        _f("birthplace", "person.birthplace", weight=2, zh="籍贯"),
        _f("home address", "addresses", weight=8, zh="家庭住址"),
        _f("phone", "phones", weight=10, zh="电话"),
        _f("education", "person.education", weight=3, zh="学历"),
        _f("religion", "facts:religion", weight=1, zh="宗教信仰"),
        _f("job title", "person.job_title", weight=4, zh="职务"),
        _f("industry", "person.industry", weight=4, zh="行业"),
        _f("income level", "person.income_band", weight=4, zh="收入水平"),
        _f("family members", "person.family_members", weight=3, zh="家庭成员"),
        _f("hobbies", "facts:hobby", weight=3, zh="爱好"),
        _f("ideals", "facts:ideal", weight=1, zh="理想"),
        _f(
            "favourites (colour, food, music)",
            "facts:favourite",
            weight=1,
            zh="喜好（颜色、食物、音乐）",
        ),
        _f("special habits", "facts:habit", weight=2, zh="特殊习惯"),
        _f("taboos", "facts:taboo", weight=3, zh="禁忌"),
        _f("consumption habits", "facts:consumption", weight=3, zh="消费习惯"),
        _f("means of transport", "facts:transport", weight=1, zh="交通工具"),
        _f("attitude to the product", "facts:attitude", weight=2, zh="对产品的态度"),
        _f("purchase history", "related:purchases", weight=10, zh="购买记录"),
        _f("customer level", "grade", weight=6, zh="客户等级"),
    ),
)
"""The brief's "traditional profile" of a person customer (section 3); weights sum to 100."""

BASIC_TEMPLATE = ProfileTemplate(
    name="template",
    customer_kind=CustomerKind.PERSON,
    fields=(
        _f("name", "person.name", weight=10, zh="姓名"),
        _f("gender", "person.gender", weight=5, zh="性别"),
        _f("age", "person.birthday", weight=5, zh="年龄"),
        _f("contact details", "phones", "emails", weight=15, zh="联系方式"),
        _f("address", "addresses", weight=5, zh="地址"),
        _f("purchases", "related:purchases", weight=15, zh="购买记录"),
        _f("interactions", "related:interactions", "related:complaints", weight=10, zh="互动记录"),
        _f("hobbies", "facts:hobby", weight=5, zh="爱好"),
        _f("brand and product preferences", "facts:preference", weight=5, zh="品牌与产品偏好"),
        _f("price sensitivity", "facts:price_sensitivity", weight=5, zh="价格敏感度"),
        _f("occupation", "person.occupation", "person.job_title", weight=5, zh="职业"),
        _f("income", "person.income_band", weight=5, zh="收入"),
        _f("education", "person.education", weight=5, zh="学历"),
        _f("family status", "person.family_members", weight=5, zh="家庭状况"),
    ),
)
"""The brief's "template": basics, purchases, interactions, preferences, demographics (100)."""

ORGANISATION_PROFILE = ProfileTemplate(
    name="organisation_profile",
    customer_kind=CustomerKind.ORGANISATION,
    fields=(
        _f("legal name", "organisation.legal_name", weight=10, zh="法定名称"),
        _f("registration", "organisation.registration_number", weight=8, zh="注册信息"),
        _f("registered capital", "organisation.registered_capital", weight=5, zh="注册资本"),
        _f("business scope", "organisation.business_scope", weight=5, zh="经营范围"),
        _f("operating history", "organisation.founded_on", weight=4, zh="经营历史"),
        _f("credit standing", "organisation.credit_standing", weight=8, zh="信用状况"),
        _f("size", "organisation.size", "organisation.employee_count", weight=4, zh="规模"),
        _f("industry", "organisation.industry", weight=4, zh="行业"),
        _f(
            "key decision-chain people",
            "organisation.contact_persons",
            weight=8,
            zh="决策链关键人物",
        ),
        _f("contact details", "phones", "emails", weight=8, zh="联系方式"),
        _f("address", "addresses", weight=5, zh="地址"),
        _f("purchases", "related:purchases", weight=6, zh="购买记录"),
    ),
)
"""An organisation customer's profile (brief section 3: registration, capital, scope, ...)."""


@attrs.frozen(kw_only=True)
class QualitySpec(Spec):
    """How :func:`score_quality` weighs completeness, validity and freshness.

    Attributes:
        template: The template person customers are scored against.
        organisation_template: The template organisation customers are scored
            against; ``None`` scores them against ``template`` too.
    """

    TAG = "quality_spec"
    kind: str = "quality_spec"
    template: ProfileTemplate = TRADITIONAL_PROFILE
    organisation_template: ProfileTemplate | None = ORGANISATION_PROFILE
    completeness_weight: int = attrs.field(default=50, metadata=checks(non_negative))
    validity_weight: int = attrs.field(default=30, metadata=checks(non_negative))
    freshness_weight: int = attrs.field(default=20, metadata=checks(non_negative))
    reverification: ReverificationPolicy = attrs.field(factory=ReverificationPolicy)

    def _spec_invariants(self) -> Iterable[Problem]:
        if self.completeness_weight + self.validity_weight + self.freshness_weight == 0:
            yield Problem(
                code="spec.range_invalid",
                path="$.completeness_weight",
                message="at least one of the three weights must be positive",
            )


_DEFAULT_SPEC = QualitySpec()
_DEFAULT_PIPELINE = NormalisationPipeline()


@attrs.frozen(kw_only=True)
class TemplateGap:
    """A template field the customer lacks, with its weight."""

    label: str
    paths: tuple[str, ...]
    weight: int


@attrs.frozen(kw_only=True)
class QualityScore:
    """A customer's data-quality score and the reasons for it.

    Attributes:
        customer_id: The customer.
        template: The template's name.
        score: Weighted mean of the three parts, 0.0 to 1.0.
        completeness: Share of the template's weight present.
        validity: Share of checked items without a problem.
        freshness: Share of tracked facts within their maximum age.
        missing: Template fields that are missing, with weights.
        invalid: The findings that made items invalid.
        stale: The facts past their maximum age.
        explanation: One coded, localised finding per missing, invalid or stale item.
    """

    customer_id: str
    template: str
    score: float
    completeness: float
    validity: float
    freshness: float
    missing: tuple[TemplateGap, ...]
    invalid: tuple[Problem, ...]
    stale: tuple[DueItem, ...]
    explanation: tuple[Problem, ...]


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def score_quality(
    customer: Customer,
    *,
    now: dt.datetime,
    spec: QualitySpec | None = None,
    pipeline: NormalisationPipeline | None = None,
    related: Mapping[str, int] | None = None,
    locale: str = "en",
) -> QualityScore:
    """Return ``customer``'s data quality at ``now``; see the module documentation.

    ``related`` gives counts of records held outside the customer, by the names the
    template uses (``{"purchases": 12, "interactions": 3}``).
    """
    now = require_now(now)
    require_locale(locale)
    spec = spec or _DEFAULT_SPEC
    pipeline = pipeline or _DEFAULT_PIPELINE
    template = spec.template
    if customer.kind is CustomerKind.ORGANISATION and spec.organisation_template is not None:
        template = spec.organisation_template
    total = template.total_weight
    gaps: list[TemplateGap] = []
    explanation: list[Problem] = []
    present = 0
    for field in template.fields:
        if any(
            is_present(value)
            for path in field.paths
            for _, value in resolve(customer, path, related)
        ):
            present += field.weight
        else:
            gaps.append(TemplateGap(label=field.label, paths=field.paths, weight=field.weight))
            explanation.append(
                finding(
                    "quality.missing",
                    "$." + field.paths[0].replace(":", "."),
                    locale=locale,
                    label=field.label_in(locale),
                    weight=field.weight,
                    total=total,
                )
            )
    completeness = present / total if total else 1.0

    findings = pipeline.check(customer, now=now, locale=locale).findings
    point_paths = [
        f"$.{name}[{i}]"
        for name in ("phones", "emails", "addresses", "social_handles")
        for i in range(len(getattr(customer, name)))
    ]
    invalid: list[Problem] = []
    bad = 0
    for path in point_paths:
        point = _flagged_invalid(customer, path)
        own = [p for p in findings if p.severity != "info" and _under(p.path, path)]
        if own or point:
            bad += 1
            reasons = own or [
                finding(
                    "quality.invalid",
                    f"{path}.invalid",
                    locale=locale,
                    detail="已标记为无效" if locale == "zh" else "flagged invalid",
                )
            ]
            invalid.extend(own)
            explanation.append(
                finding(
                    "quality.invalid",
                    path,
                    locale=locale,
                    detail="; ".join(f"{p.message} [{p.code}]" for p in reasons),
                )
            )
    core = [
        p
        for p in findings
        if p.severity == "error" and not any(_under(p.path, path) for path in point_paths)
    ]
    if core:
        bad += 1
        invalid.extend(core)
        explanation.append(
            finding(
                "quality.invalid",
                "$",
                locale=locale,
                detail="; ".join(f"{p.path}: {p.message} [{p.code}]" for p in core),
            )
        )
    checked = len(point_paths) + 1
    validity = (checked - bad) / checked

    items = verification_items(customer)
    stale = due_items(customer, now=now, policy=spec.reverification, locale=locale)
    for due in stale:
        explanation.append(
            finding(
                "quality.stale",
                due.item.path,
                locale=locale,
                fact=fact_label(due.item.fact, locale),
                age_days=due.age_days,
                max_age_days=due.max_age_days,
            )
        )
    freshness = (len(items) - len(stale)) / len(items) if items else 1.0

    weights = (spec.completeness_weight, spec.validity_weight, spec.freshness_weight)
    score = (completeness * weights[0] + validity * weights[1] + freshness * weights[2]) / sum(
        weights
    )
    return QualityScore(
        customer_id=customer.id,
        template=template.name,
        score=score,
        completeness=completeness,
        validity=validity,
        freshness=freshness,
        missing=tuple(gaps),
        invalid=tuple(invalid),
        stale=stale,
        explanation=tuple(explanation),
    )


def _flagged_invalid(customer: Customer, path: str) -> bool:
    """Whether the contact point at ``path`` (``$.phones[0]``) is flagged invalid."""
    name, _, index = path.removeprefix("$.").rstrip("]").partition("[")
    return bool(getattr(customer, name)[int(index)].invalid)
