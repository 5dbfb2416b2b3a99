"""The finding-code catalogue: every code the verification rules emit, in English and Chinese.

A finding is a :class:`crmcore.errors.Problem` (aliased here as :data:`Finding`):
a stable ``code``, a ``$.path``, a ``severity`` and a ``message``. Codes are API and
never change with the locale; only the message does. Each code has a default
severity (specs may raise or lower it where documented) and a message template in
English (``"en"``) and Simplified Chinese (``"zh"``), formatted with named
parameters.

>>> finding("phone.invalid", "$.phones[0].number", locale="zh", region="CN").message
'不是有效的电话号码（按 CN 的编号规则），已按原样保留并标记为无效'
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Literal, get_args

import attrs

from crmcore.errors import Problem, Severity, ValidationError

__all__ = [
    "CATALOGUE",
    "LOCALES",
    "SEVERITIES",
    "CodeInfo",
    "Finding",
    "Locale",
    "check_locale",
    "check_severity",
    "finding",
    "message_for",
    "placeholders",
    "render_finding_codes",
]

Finding = Problem
"""A verification finding is a :class:`crmcore.errors.Problem`."""

Locale = Literal["en", "zh"]
"""A message locale: ``"en"`` (English) or ``"zh"`` (Simplified Chinese)."""

LOCALES: tuple[str, ...] = get_args(Locale)
"""The locales every message exists in."""

SEVERITIES: tuple[str, ...] = get_args(Severity)
"""The severities a finding can have: ``error``, ``warning``, ``info``."""


@attrs.frozen(kw_only=True)
class CodeInfo:
    """One finding code: its default severity, what it means, and its messages.

    Attributes:
        code: The stable code.
        severity: The severity it is reported with unless a spec says otherwise.
        rule: The rule (module) that emits it.
        en: English message template (``str.format`` with named parameters).
        zh: Simplified Chinese message template with the same parameters.
    """

    code: str
    severity: Severity
    rule: str
    en: str
    zh: str

    def template(self, locale: str) -> str:
        """Return the message template for ``locale``."""
        return self.zh if locale == "zh" else self.en


def _info(code: str, severity: Severity, rule: str, en: str, zh: str) -> CodeInfo:
    return CodeInfo(code=code, severity=severity, rule=rule, en=en, zh=zh)


_CODES = (
    # ------------------------------------------------------------- phones
    _info(
        "phone.not_a_number",
        "error",
        "phones",
        "is not a phone number ({raw!r})",
        "不是电话号码（{raw!r}）",
    ),
    _info(
        "phone.invalid_country_code",
        "error",
        "phones",
        "has no recognisable country code; write it as +<country code> or give a region",
        "无法识别国家代码；请以 +国家代码 开头书写，或指定地区",
    ),
    _info(
        "phone.too_short",
        "error",
        "phones",
        "is too short to be a phone number",
        "位数太少，不可能是电话号码",
    ),
    _info(
        "phone.too_long",
        "error",
        "phones",
        "is too long to be a phone number",
        "位数太多，不可能是电话号码",
    ),
    _info(
        "phone.impossible",
        "error",
        "phones",
        "cannot be a phone number in {region} ({reason}); kept as entered and flagged invalid",
        "按 {region} 的编号规则不可能是电话号码（{reason}），已按原样保留并标记为无效",
    ),
    _info(
        "phone.invalid",
        "warning",
        "phones",
        "is not a valid number in {region}'s numbering plan; kept as entered and flagged invalid",
        "不是有效的电话号码（按 {region} 的编号规则），已按原样保留并标记为无效",
    ),
    _info(
        "phone.extension_conflict",
        "error",
        "phones",
        "the number carries extension {found!r} but the extension field says {given!r}",
        "号码中含有分机号 {found!r}，但分机字段为 {given!r}",
    ),
    _info(
        "phone.extension_invalid",
        "warning",
        "phones",
        "extension {given!r} is not digits only; kept as entered",
        "分机号 {given!r} 不是纯数字，已按原样保留",
    ),
    _info(
        "phone.kind_conflict",
        "info",
        "phones",
        "entered as {entered} but the numbering plan says {library}; kept {kept}",
        "录入类型为 {entered}，但编号规则显示为 {library}；保留 {kept}",
    ),
    # ------------------------------------------------------------- emails
    _info(
        "email.invalid",
        "error",
        "emails",
        "is not a valid email address: {reason}",
        "不是有效的电子邮件地址：{reason}",
    ),
    _info(
        "email.undeliverable",
        "warning",
        "emails",
        "cannot receive mail: {reason}; kept and flagged invalid",
        "无法接收邮件：{reason}；已保留并标记为无效",
    ),
    # ------------------------------------------------------------- names
    _info(
        "name.order_corrected",
        "info",
        "names",
        "is written in CJK script, so its order was set to family name first",
        "为中日韩文字书写的姓名，已改为姓在前",
    ),
    _info(
        "name.split",
        "info",
        "names",
        "the full name {full!r} was split into family name {family!r} and given name {given!r}",
        "全名 {full!r} 已拆分为姓 {family!r} 和名 {given!r}",
    ),
    # ------------------------------------------------------------- addresses
    _info(
        "address.country_unknown",
        "warning",
        "addresses",
        "{country!r} is not a known country; use an ISO 3166 code such as CN, US or DE",
        "{country!r} 不是已知的国家或地区；请使用 ISO 3166 代码，如 CN、US、DE",
    ),
    _info(
        "address.postal_code_shape",
        "warning",
        "addresses",
        "{postal_code!r} does not look like a postal code of {country} (expected {expected})",
        "{postal_code!r} 不符合 {country} 的邮政编码格式（应为 {expected}）",
    ),
    # ------------------------------------------------------------- validation
    _info(
        "required.missing",
        "error",
        "validation",
        "is required for a {customer_kind} customer",
        "{customer_kind} 类客户必须填写此项",
    ),
    _info(
        "date.in_future",
        "error",
        "validation",
        "{value} is in the future (today is {today})",
        "{value} 晚于今天（{today}）",
    ),
    _info(
        "age.too_young",
        "warning",
        "validation",
        "gives an age of {age}, below the minimum of {minimum}",
        "对应年龄为 {age} 岁，低于下限 {minimum} 岁",
    ),
    _info(
        "age.too_old",
        "warning",
        "validation",
        "gives an age of {age}, above the maximum of {maximum}",
        "对应年龄为 {age} 岁，高于上限 {maximum} 岁",
    ),
    _info(
        "value.disallowed",
        "error",
        "validation",
        "{value!r} is not one of the allowed values: {allowed}",
        "{value!r} 不在允许的取值范围内：{allowed}",
    ),
    _info(
        "contact.primary_missing",
        "warning",
        "validation",
        "has {what} ({count}) but none is marked primary",
        "有{what}（{count} 个），但没有一个被标为首选",
    ),
    _info(
        "contact.primary_multiple",
        "error",
        "validation",
        "{count} {what} are marked primary; mark exactly one",
        "有 {count} 个{what}被标为首选；只能标一个",
    ),
    _info(
        "contact.primary_invalid",
        "warning",
        "validation",
        "the primary {what} is flagged invalid",
        "首选{what}已被标记为无效",
    ),
    _info(
        "provenance.in_future",
        "warning",
        "validation",
        "{field} {value} is later than now ({now})",
        "{field} {value} 晚于当前时间（{now}）",
    ),
    # ------------------------------------------------------------- quality
    _info(
        "quality.missing",
        "info",
        "quality",
        "{label} is missing (weight {weight} of {total})",
        "缺少{label}（权重 {weight}/{total}）",
    ),
    _info(
        "quality.invalid",
        "info",
        "quality",
        "is not valid: {detail}",
        "无效：{detail}",
    ),
    _info(
        "quality.stale",
        "info",
        "quality",
        "{fact} was last confirmed {age_days} days ago (maximum {max_age_days})",
        "{fact}上次确认于 {age_days} 天前（最长 {max_age_days} 天）",
    ),
    # ------------------------------------------------------------- re-verification
    _info(
        "verification.never_verified",
        "info",
        "schedule",
        "{fact} was never verified; recorded {age_days} days ago (maximum {max_age_days})",
        "{fact}从未核实；录入于 {age_days} 天前（最长 {max_age_days} 天）",
    ),
    _info(
        "verification.overdue",
        "info",
        "schedule",
        "{fact} was last verified {age_days} days ago (maximum {max_age_days})",
        "{fact}上次核实于 {age_days} 天前（最长 {max_age_days} 天）",
    ),
    # ------------------------------------------------------------- conflicts
    _info(
        "conflict.same_value",
        "info",
        "trust",
        "both sources agree; kept the current value",
        "两个来源一致；保留现有值",
    ),
    _info(
        "conflict.higher_trust",
        "info",
        "trust",
        "kept the value from {kept_channel} (trust {kept_score}) over {other_channel} "
        "(trust {other_score}); the difference is at least {margin}",
        "保留来自 {kept_channel} 的值（可信度 {kept_score}），而非 {other_channel}"
        "（可信度 {other_score}）；差距不小于 {margin}",
    ),
    _info(
        "conflict.more_recent",
        "info",
        "trust",
        "trust is close ({kept_score} vs {other_score}); kept the value confirmed more "
        "recently ({kept_at} vs {other_at})",
        "可信度接近（{kept_score} 对 {other_score}）；保留最近确认的值（{kept_at} 对 {other_at}）",
    ),
    _info(
        "conflict.kept_current",
        "info",
        "trust",
        "trust is close and both were confirmed at the same time; kept the current value",
        "可信度接近且确认时间相同；保留现有值",
    ),
)

CATALOGUE: Mapping[str, CodeInfo] = {info.code: info for info in _CODES}
"""Every finding code, keyed by code."""


def check_locale(locale: str) -> Locale:
    """Return ``locale`` if it is supported, else raise :class:`ValidationError` (a ValueError)."""
    if locale == "en":
        return "en"
    if locale == "zh":
        return "zh"
    problem = Problem(
        code="value.not_allowed",
        path="$.locale",
        message=f"unsupported locale {locale!r}; use one of {', '.join(LOCALES)}",
    )
    raise ValidationError([problem], subject="locale")


def check_severity(severity: str) -> Severity:
    """Return ``severity`` as a :data:`~crmcore.errors.Severity`, or raise ``ValueError``."""
    if severity == "error":
        return "error"
    if severity == "warning":
        return "warning"
    if severity == "info":
        return "info"
    raise ValueError(f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)}")


def message_for(code: str, locale: str = "en", **params: object) -> str:
    """Return the message for ``code`` in ``locale``, formatted with ``params``."""
    return CATALOGUE[code].template(locale).format(**params)


def finding(
    code: str,
    path: str = "$",
    *,
    locale: str = "en",
    severity: Severity | None = None,
    **params: object,
) -> Problem:
    """Build the finding ``code`` at ``path`` with its message in ``locale``.

    ``severity`` overrides the code's default severity (specs use this).
    """
    info = CATALOGUE[code]
    return Problem(
        code=code,
        path=path,
        message=info.template(locale).format(**params),
        severity=info.severity if severity is None else severity,
    )


def placeholders(template: str) -> frozenset[str]:
    """Return the named parameters a message template uses."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_finding_codes() -> str:
    """Render the catalogue as the Markdown document ``docs/finding-codes.md``."""
    lines = [
        "# Finding codes",
        "",
        "<!-- Generated by crmcore.rules.verification.render_finding_codes(); do not edit. -->",
        "",
        "Every finding the verification rules (`crmcore.rules.verification`) report is a",
        "`crmcore.errors.Problem` with one of these stable codes, a `$.path` and a severity.",
        "Codes never change with the locale; the messages below are the templates for",
        "English (`en`) and Simplified Chinese (`zh`). Specs may change the severity",
        "of some codes (see docs/verification.md).",
        "",
        "| Code | Default severity | Rule | English | 中文 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for info in sorted(CATALOGUE.values(), key=lambda i: i.code):
        cells = (f"`{info.code}`", info.severity, info.rule, _cell(info.en), _cell(info.zh))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
