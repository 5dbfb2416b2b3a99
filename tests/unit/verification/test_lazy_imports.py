"""phonenumbers, and above all its locale data, are imported when first needed, not with crmcore."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    """The phonenumbers modules loaded after running ``code`` in a fresh interpreter."""
    probe = (
        f"{code}\nimport sys\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('phonenumbers')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    return {line for line in out.splitlines() if line}


def test_import_crmcore_loads_no_phonenumbers_locale_data() -> None:
    """import crmcore does not load phonenumbers' geodata (hundreds of milliseconds)."""
    assert not {m for m in _modules_after("import crmcore") if m.startswith("phonenumbers.geodata")}


def test_the_verification_rules_import_no_phonenumbers() -> None:
    """Importing the rules (and building the default pipeline) loads no phonenumbers at all."""
    code = (
        "import crmcore.rules.verification as v\n"
        "v.NormalisationPipeline()\n"
        "v.NormalisationPipeline(default_region=None)"
    )
    assert _modules_after(code) == set()


def test_normalising_a_phone_loads_phonenumbers_but_not_the_locale_data() -> None:
    """A phone and an address with an ISO country code need no country names."""
    code = (
        "import datetime as dt\n"
        "from crmcore.models import Customer, Phone, PostalAddress\n"
        "from crmcore.rules.verification import NormalisationPipeline\n"
        "c = Customer.person_named(family='张', phones=(Phone(number='13800138000'),),"
        " addresses=(PostalAddress(country='cn'),))\n"
        "NormalisationPipeline(default_region='CN')(c, now=dt.datetime.now(dt.UTC))"
    )
    loaded = _modules_after(code)
    assert "phonenumbers" in loaded
    assert not {m for m in loaded if m.startswith("phonenumbers.geodata")}


def test_a_country_written_as_a_name_loads_the_locale_data() -> None:
    """The locale data is there when needed: 中国 becomes CN."""
    code = (
        "from crmcore.rules.verification import country_code\nassert country_code('中国') == 'CN'"
    )
    assert "phonenumbers.geodata.locale" in _modules_after(code)
