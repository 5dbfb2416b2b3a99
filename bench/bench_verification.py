"""Verification throughput against the bare cost of phonenumbers and email-validator.

Run on demand (not part of pytest)::

    PYTHONPATH=src python bench/bench_verification.py [--count 100000] [--repeat 3]

Builds ``--count`` mixed customers (Chinese, US and European; phones in national,
international and full-width shapes, some invalid or impossible; ASCII and
internationalised emails, some malformed; addresses with country names), then times:

* the **floor**: for the same values in the same run, the library calls whose
  results the pipeline stores, done the cheapest way: per phone
  ``phonenumbers.parse``, ``number_type`` (validity is ``number_type != UNKNOWN``,
  which is how phonenumbers' own ``is_valid_number`` decides, so calling both would
  match the patterns twice) and ``format_number(E164)`` for a valid number; per email
  ``email_validator.validate_email(check_deliverability=False).normalized``. The
  pipeline's extra library calls (``is_possible_number_with_reason`` for numbers that
  are not valid) are counted against crmcore. phonenumbers' pattern cache is on for
  both (crmcore enables it on import; the floor enables it too);
* **crmcore**: ``NormalisationPipeline.check_many(chunk)``, the call imports make
  for each batch: every phone, email, name and address normalised, each customer
  rebuilt, and the default validation rules run.

Prints records per second for both and the ratio crmcore / floor (target <= 1.5).

For information it also times ``check(customer)`` one customer at a time against
the same floor calls made customer by customer (each customer's phones, then its
email), the order a per-customer call must make them in. Both cost more than their
batched forms, because consecutive calls into one library find its data still in
the CPU caches; that is why ``check_many`` works a stage at a time.

Measuring on a shared machine: the customers are timed in chunks; for each chunk the
floor and crmcore run alternately ``--repeat`` times and the fastest run of each is
kept, so that a burst of load elsewhere hits neither side alone. As ``timeit`` does,
the garbage collector is paused while timing (and run between chunks): otherwise
the collector's passes over the 100,000 customers held in memory, triggered by
whichever side allocates, dominate both figures. Times are this process's CPU time
(``time.process_time``), which other processes on the machine do not inflate.
Customer construction is not timed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import random
import time
from collections.abc import Callable

import email_validator
import phonenumbers

from crmcore.models import Customer, Email, PersonName, PersonProfile, Phone, PostalAddress
from crmcore.rules.verification import NormalisationPipeline

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
FULL_WIDTH = str.maketrans("0123456789+-() ", "０１２３４５６７８９＋－（）\u3000")

FAMILY_CN = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_CN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
]
FAMILY_W = ["Smith", "Johnson", "Müller", "Schmidt", "Dubois", "Rossi", "García", "de Vries"]
GIVEN_W = ["Anna", "John", "Maria", "Lukas", "Sophie", "Luca", "Carmen", "Daan", "Émile"]
EU = ["DE", "FR", "GB", "IT", "ES", "NL"]
EU_COUNTRY = {
    "DE": "Deutschland",
    "FR": "France",
    "GB": "United Kingdom",
    "IT": "Italy",
    "ES": "España",
    "NL": "NL",
}
DOMAINS = ["example.com", "Example.ORG", "mail.example.cn", "例子.中国", "bücher.de"]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _example_nsn(region: str, kind: int) -> str:
    number = phonenumbers.example_number_for_type(region, kind)
    assert number is not None
    return phonenumbers.national_significant_number(number)


EU_NSN = {
    (r, k): _example_nsn(r, k)
    for r in EU
    for k in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
}


def cn_phone(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        text = f"1{rng.choice('3578')}{_digits(rng, 1)} {_digits(rng, 4)} {_digits(rng, 4)}"
    elif roll < 0.8:
        area = rng.choice(["010", "021", "020", "0755", "028"])
        body = _digits(rng, 8 if len(area) == 3 else 7)
        text = f"{area}-{body}"
        if rng.random() < 0.2:
            text = f"+86 ({area[:1]}){area[1:]} {body}"
    else:
        text = f"+86 1{rng.choice('3589')}{_digits(rng, 9)}"
    if rng.random() < 0.15:
        text = text.translate(FULL_WIDTH)
    return text


def us_phone(rng: random.Random) -> str:
    area = rng.choice(["212", "415", "650", "312", "617", "206", "512"])
    exchange = f"{rng.choice('23456789')}{_digits(rng, 2)}"
    line = _digits(rng, 4)
    shape = rng.random()
    if shape < 0.4:
        text = f"({area}) {exchange}-{line}"
    elif shape < 0.8:
        text = f"+1 {area}-{exchange}-{line}"
    else:
        text = f"{area}.{exchange}.{line}"
    if rng.random() < 0.1:
        text += f" ext. {_digits(rng, 3)}"
    return text


def eu_phone(rng: random.Random, region: str) -> str:
    kind = rng.choice(
        [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
    )
    nsn = EU_NSN[(region, kind)]
    nsn = nsn[:-4] + _digits(rng, 4)
    code = phonenumbers.country_code_for_region(region)
    if rng.random() < 0.5:
        return f"+{code} {nsn}"
    return ("0" if region not in ("IT",) else "") + nsn


def spoil(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.4:
        return text[:-3]
    if roll < 0.7:
        return text + _digits(rng, 4)
    if roll < 0.9:
        return "+1 200 555 " + _digits(rng, 4)
    return "call me " + _digits(rng, 2)


def email(rng: random.Random, index: int, latin: str) -> str:
    roll = rng.random()
    if roll < 0.03:
        return rng.choice(
            [f"{latin}..{index}@example.com", f"{latin}{index}@", f"{latin} {index}@x.com"]
        )
    if roll < 0.13:
        return f"{rng.choice(['用户', '张伟', 'ñoño'])}{index}@{rng.choice(DOMAINS)}"
    domain = rng.choice(DOMAINS[:3]) if roll < 0.9 else rng.choice(DOMAINS)
    return f"{latin}.{index}@{domain}"


def build(
    count: int, seed: int = 20261123
) -> tuple[list[Customer], list[tuple[str, str]], list[str]]:
    """Customers, plus the (phone, region) and email values they hold, for the floor."""
    rng = random.Random(seed)
    customers: list[Customer] = []
    phones_floor: list[tuple[str, str]] = []
    emails_floor: list[str] = []
    for index in range(count):
        roll = rng.random()
        if roll < 0.4:
            region, country = "CN", rng.choice(["CN", "中国", "China"])
            name = PersonName(family=rng.choice(FAMILY_CN), given=rng.choice(GIVEN_CN))
            make = cn_phone
            postal = _digits(rng, 6)
            latin = "zhang"
        elif roll < 0.7:
            region, country = "US", rng.choice(["US", "USA", "United States"])
            name = PersonName(family=rng.choice(FAMILY_W), given=rng.choice(GIVEN_W))
            make = us_phone
            postal = _digits(rng, 5)
            latin = "john"
        else:
            region = rng.choice(EU)
            country = EU_COUNTRY[region]
            name = PersonName(family=rng.choice(FAMILY_W), given=rng.choice(GIVEN_W))

            def make(r: random.Random, _region: str = region) -> str:
                return eu_phone(r, _region)

            postal = _digits(rng, 5) if region != "NL" else f"{_digits(rng, 4)} AB"
            latin = "anna"
        numbers = [make(rng) for _ in range(rng.choice([1, 1, 2]))]
        if rng.random() < 0.08:
            numbers[-1] = spoil(rng, numbers[-1])
        address = email(rng, index, latin)
        phones = tuple(Phone(number=n, primary=i == 0) for i, n in enumerate(numbers))
        phones_floor.extend((n, region) for n in numbers)
        emails_floor.append(address)
        customers.append(
            Customer(
                kind=Customer.person_named(family="x").kind,
                display_name=name.display,
                person=PersonProfile(name=name),
                created_at=NOW,
                updated_at=NOW,
                phones=phones,
                emails=(Email(address=address, primary=True),),
                addresses=(
                    PostalAddress(country=country, postal_code=postal, city=" City ", primary=True),
                ),
            )
        )
    return customers, phones_floor, emails_floor


def floor_run(phones: list[tuple[str, str]], emails: list[str]) -> None:
    """The bare library calls for the same values: parse, validity and type, E.164; email."""
    e164 = phonenumbers.PhoneNumberFormat.E164
    unknown = phonenumbers.PhoneNumberType.UNKNOWN
    for raw, region in phones:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.number_type(number) != unknown:  # == is_valid_number(number)
            phonenumbers.format_number(number, e164)
    for address in emails:
        with contextlib.suppress(email_validator.EmailNotValidError):
            email_validator.validate_email(address, check_deliverability=False).normalized  # noqa: B018


def floor_verdicts(phones: list[tuple[str, str]], emails: list[str]) -> tuple[int, int]:
    """How many phones and emails the libraries refuse (untimed; checks the pipeline agrees)."""
    bad_phones = bad_emails = 0
    for raw, region in phones:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            bad_phones += 1
            continue
        bad_phones += phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.UNKNOWN
    for address in emails:
        try:
            email_validator.validate_email(address, check_deliverability=False)
        except email_validator.EmailNotValidError:
            bad_emails += 1
    return bad_phones, bad_emails


def floor_per_customer(values: list[tuple[list[tuple[str, str]], list[str]]]) -> None:
    """The floor's calls, customer by customer (informational)."""
    for phones, emails in values:
        floor_run(phones, emails)


def timed(fn: Callable[..., object], *args: object) -> float:
    start = time.process_time()
    fn(*args)
    return time.process_time() - start


def check_batch(pipeline: NormalisationPipeline, batch: list[Customer]) -> list[object]:
    """crmcore's full verification of a batch, as imports run it."""
    return list(pipeline.check_many(batch, now=NOW))


def check_each(pipeline: NormalisationPipeline, batch: list[Customer]) -> list[object]:
    """crmcore's full verification, one customer at a time (informational)."""
    return [pipeline.check(c, now=NOW) for c in batch]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=1000)
    args = parser.parse_args()

    phonenumbers.enable_pattern_cache()  # for both sides (crmcore enables it on import)
    customers, phones, emails = build(args.count)
    pipeline = NormalisationPipeline()
    # the floor's values, per customer (phones in order, then the email)
    starts = [0]
    for c in customers:
        starts.append(starts[-1] + len(c.phones))

    # warm both paths (metadata loading, pattern caches, IDNA tables)
    floor_run(phones[:2000], emails[:2000])
    check_batch(pipeline, customers[:2000])

    per_customer = [
        (phones[starts[i] : starts[i + 1]], emails[i : i + 1]) for i in range(len(customers))
    ]
    floor = ours = interleaved = each = 0.0
    chunk = args.chunk
    for lo in range(0, len(customers), chunk):
        hi = min(lo + chunk, len(customers))
        batch = customers[lo:hi]
        batch_phones = phones[starts[lo] : starts[hi]]
        batch_emails = emails[lo:hi]
        best_floor = best_ours = best_interleaved = best_each = float("inf")
        gc.collect()
        gc.disable()
        try:
            for _ in range(args.repeat):
                best_floor = min(best_floor, timed(floor_run, batch_phones, batch_emails))
                best_ours = min(best_ours, timed(check_batch, pipeline, batch))
                best_interleaved = min(
                    best_interleaved, timed(floor_per_customer, per_customer[lo:hi])
                )
                best_each = min(best_each, timed(check_each, pipeline, batch))
        finally:
            gc.enable()
        floor += best_floor
        interleaved += best_interleaved
        ours += best_ours
        each += best_each
    results = pipeline.check_many(customers, now=NOW)
    rejected = sum(1 for r in results if not r.ok)
    invalid_phones = sum(p.invalid for r in results for p in r.customer.phones)
    invalid_emails = sum(e.invalid for r in results for e in r.customer.emails)

    n = len(customers)
    agree = floor_verdicts(phones, emails) == (invalid_phones, invalid_emails)
    print(f"customers:             {n:,} ({len(phones):,} phones, {len(emails):,} emails)")
    print(f"  flagged invalid:     {invalid_phones:,} phones, {invalid_emails:,} emails")
    print(f"  refused (errors):    {rejected:,}")
    print(f"  libraries agree:     {'yes' if agree else 'NO'} (invalid counts)")
    print(
        f"floor (libraries):     {floor:.2f} s  {n / floor:,.0f} records/s  "
        f"{floor / n * 1e6:.1f} us/record"
    )
    print(
        f"crmcore pipeline:      {ours:.2f} s  {n / ours:,.0f} records/s  "
        f"{ours / n * 1e6:.1f} us/record"
    )
    print(f"ratio crmcore / floor: {ours / floor:.2f}  (target <= 1.50)")
    print(
        f"informational, one customer at a time: floor {interleaved / n * 1e6:.1f} us/record, "
        f"crmcore check() {each / n * 1e6:.1f} us/record, ratio {each / interleaved:.2f}"
    )


if __name__ == "__main__":
    main()
