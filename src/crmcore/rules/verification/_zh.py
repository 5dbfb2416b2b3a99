"""Chinese words for what the libraries and the models say in English.

The catalogue's Chinese templates (:mod:`~crmcore.rules.verification.messages`) are
filled with parameters; this module gives those parameters in Chinese where they are
words rather than data: email-validator's reasons, phonenumbers' number types and
reasons, crmcore's phone kinds, source channels, provenance fields and postal-code
shapes. Data (the number or address entered, codes such as ``CN``, Unicode
character names such as ``SPACE``) is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "CHANNELS",
    "IMPOSSIBLE_REASONS",
    "NUMBER_TYPES",
    "PHONE_KINDS",
    "POSTAL_SHAPES",
    "PROVENANCE_FIELDS",
    "email_reason",
    "word",
]

PHONE_KINDS: Mapping[str, str] = {
    "mobile": "手机",
    "landline": "固定电话",
    "fax": "传真",
    "voip": "网络电话",
    "toll_free": "免费电话",
    "other": "其他",
    "unknown": "未知",
}

NUMBER_TYPES: Mapping[str, str] = {
    "FIXED_LINE": "固定电话",
    "MOBILE": "手机",
    "FIXED_LINE_OR_MOBILE": "固定电话或手机",
    "TOLL_FREE": "免费电话",
    "PREMIUM_RATE": "付费电话",
    "SHARED_COST": "分摊费用电话",
    "VOIP": "网络电话",
    "PERSONAL_NUMBER": "个人号码",
    "PAGER": "寻呼机",
    "UAN": "统一接入号码",
    "VOICEMAIL": "语音信箱",
    "UNKNOWN": "未知",
}

IMPOSSIBLE_REASONS: Mapping[str, str] = {
    "invalid country code": "国家代码无效",
    "too short": "位数太少",
    "too long": "位数太多",
    "invalid length": "位数不对",
    "impossible": "号码不可能存在",
}

PROVENANCE_FIELDS: Mapping[str, str] = {"observed_at": "采集时间", "verified_at": "核实时间"}

CHANNELS: Mapping[str, str] = {
    "survey": "调查",
    "interview": "访谈",
    "questionnaire": "问卷",
    "phone_survey": "电话调查",
    "observation": "观察",
    "ad_reply": "广告回复",
    "coupon_return": "优惠券回收",
    "contest": "竞赛活动",
    "membership_club": "会员俱乐部",
    "service_record": "服务记录",
    "hotline": "热线电话",
    "point_of_sale": "销售终端",
    "order": "订单",
    "trade_fair": "交易会",
    "expo": "博览会",
    "negotiation": "商务洽谈",
    "website_registration": "网站注册",
    "call_centre": "呼叫中心",
    "complaint": "投诉",
    "sales_visit": "销售拜访",
    "self_service": "自助服务",
    "media": "媒体",
    "business_registry": "工商登记",
    "bank": "银行",
    "consultancy": "咨询公司",
    "market_research_firm": "市场调研公司",
    "purchased_list": "购买的名单",
    "partner": "合作伙伴",
    "referral": "推荐",
    "trade_association": "行业协会",
    "chamber_of_commerce": "商会",
    "data_exchange": "数据交换",
    "manual_entry": "手工录入",
    "import": "导入",
    "other": "其他",
    "unknown": "未知",
}

POSTAL_SHAPES: Mapping[str, str] = {
    "6 digits": "6 位数字",
    "5 digits": "5 位数字",
    "4 digits": "4 位数字",
    "5 digits, or ZIP+4 as 12345-6789": "5 位数字，或 ZIP+4 格式如 12345-6789",
    "a UK postcode such as SW1A 1AA": "英国邮编，如 SW1A 1AA",
    "an Eircode such as D02 X285": "爱尔兰邮编（Eircode），如 D02 X285",
    "3, 5 or 6 digits": "3、5 或 6 位数字",
}

# email-validator's messages, most specific first; a detail after ": " is kept
_EMAIL: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), zh)
    for pattern, zh in (
        (r"An email address must have an @-sign", "缺少 @ 符号"),
        (r"An email address cannot have two periods in a row", "不能有两个连续的句点"),
        (r"An email address cannot start with a period", "不能以句点开头"),
        (r"An email address cannot end with a period", "不能以句点结尾"),
        (
            r"An email address cannot have a period immediately before the @-sign",
            "@ 符号前不能紧跟句点",
        ),
        (
            r"An email address cannot have a hyphen immediately after the @-sign",
            "@ 符号后不能紧跟连字符",
        ),
        (
            r"An email address cannot have a period and a hyphen next to each other",
            "句点和连字符不能相邻",
        ),
        (
            r"An email address cannot have two letters followed by two dashes",
            "@ 符号或句点后不能是两个字母加两个连字符（Punycode 除外）",
        ),
        (r"There must be something before the @-sign", "@ 符号前必须有内容"),
        (r"There must be something after the @-sign", "@ 符号后必须有内容"),
        (r"There can't be anything after the email address", "地址后面不能再有内容"),
        (
            r"The part after the @-sign is not valid\. It should have a period",
            "@ 符号后的域名无效：应包含句点",
        ),
        (
            r"The part after the @-sign is not valid\. It is not within a valid top-level domain",
            "@ 符号后的域名无效：不在有效的顶级域名下",
        ),
        (
            r"The part after the @-sign is a special-use or reserved name",
            "@ 符号后是保留或特殊用途的域名，不能用于电子邮件",
        ),
        (r"The part after the @-sign contains invalid characters", "@ 符号后含有无效字符"),
        (r"The part after the @-sign", "@ 符号后的域名无效"),
        (
            r"After the @-sign, periods cannot be separated by so many characters",
            "域名中两个句点之间的字符太多",
        ),
        (
            r"The email address contains invalid characters before the @-sign",
            "@ 符号前含有无效字符",
        ),
        (
            r"The email address contains invalid characters in quotes before the @-sign",
            "@ 符号前的引号内含有无效字符",
        ),
        (r"The email address contains unsafe characters", "含有不安全的字符"),
        (r"The email address contains an invalid character", "含有无效字符"),
        (r"The email address contains invalid characters after the @-sign", "@ 符号后含有无效字符"),
        (r"The email address is too long before the @-sign", "@ 符号前的部分太长"),
        (r"The email address is too long after the @-sign", "@ 符号后的部分太长"),
        (r"The email address is too long", "地址太长"),
        (r"The email address is not valid ASCII", "不是有效的 ASCII 地址"),
        (
            r'The email address has the "small commercial at" character',
            "使用了小写商业 at 符号（﹫），而不是普通的 @",
        ),
        (
            r"Internationalized characters before the @-sign are not supported",
            "不支持 @ 符号前的国际化字符",
        ),
        (r"Quoting the part before the @-sign is not allowed", "@ 符号前的部分不允许加引号"),
        (
            r"A bracketed IP address after the @-sign is not allowed",
            "@ 符号后不允许使用方括号中的 IP 地址",
        ),
        (
            r"A display name and angle brackets around the email address are not permitted",
            "不允许带显示名称和尖括号",
        ),
        (r"An open angle bracket at the start", "开头的尖括号必须在结尾闭合"),
        (r"The display name contains invalid characters", "显示名称含有无效字符"),
        (r"Extra character\(s\) found after close quote", "右引号后有多余字符"),
        (r"The domain name .* does not exist", "域名不存在"),
        (r"The domain name .* does not accept email", "域名不接收邮件"),
        (r"The domain name .* does not send email", "域名不收发邮件"),
        (
            r"The IPv6 address in brackets after the @-sign is not valid",
            "@ 符号后方括号中的 IPv6 地址无效",
        ),
        (r"The address in brackets after the @-sign is not valid", "@ 符号后方括号中的地址无效"),
    )
)
_DETAIL = re.compile(r": (.+?)\.?$")


def email_reason(reason: str, locale: str) -> str:
    """email-validator's ``reason`` in ``locale``: Chinese for ``zh``, as given otherwise.

    A reason crmcore has no translation for (a new library version's) becomes a
    general Chinese sentence, so a zh message never turns English.
    """
    if locale != "zh":
        return reason
    for pattern, zh in _EMAIL:
        if pattern.match(reason):
            detail = _DETAIL.search(reason)
            return f"{zh}：{detail.group(1)}" if detail else zh
    return "不符合电子邮件地址的格式要求"


def word(table: Mapping[str, str], value: str, locale: str) -> str:
    """``value`` in ``locale``: its Chinese word from ``table`` for ``zh``, else ``value``."""
    if locale != "zh":
        return value
    return table.get(value, value)
