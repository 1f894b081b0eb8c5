"""Deterministic names for companies and people, and the variants duplicates hide behind.

Duplicate customers in real systems differ by case, punctuation, legal suffix and typos
("Acme Corp" vs "ACME Corporation Inc."). The variant rules live here so the answer key and the
records come from the same place. Similar-but-distinct names (same root, other sector) arise
naturally, which is what makes a duplicate matcher's precision worth measuring.
"""

from __future__ import annotations

import random
from collections.abc import Callable


def _words(text: str, sep: str = "|") -> tuple[str, ...]:
    return tuple(w.strip() for w in text.replace("\n", "").split(sep) if w.strip())


ROOTS = _words("""
Acme|Globex|Initech|Umbrella|Northwind|Contoso|Fabrikam|Tailspin|Litware|Woodgrove|
Proseware|Wingtip|Lamna|Trey|Fourth Coffee|Alpine|Blue Yonder|Coho|Datum|Humongous|
Margie|Nod|Southridge|Wide World|Adatum|Bellows|Cresta|Dunmore|Everly|Farrow|Granite|
Harbor|Ironwood|Juniper|Keystone|Lakeside|Maplewood|Norland|Oakridge|Pinnacle|Quarry|
Redwood|Silverline|Tidewater|Unity|Vantage|Westbrook|Yellowstone|Zenith|Arcadia|
Brightwater|Cobalt|Driftwood|Emberly|Foxhollow|Goldcrest|Highmark|Islington|Jadeport|
Kingsway
""")

SECTORS = _words("""
Logistics|Health|Energy|Foods|Retail|Bank|Insurance|Pharma|Manufacturing|Telecom|Media|
Airlines|Mining|Utilities|Software|Chemicals|Motors|Capital|Hospitality|Agritech|
Freight|Semiconductors|Textiles|Robotics|Biotech
""")

PLACES = _words("""
Pacific|Atlantic|Northern|Southern|Central|Eastern|Western|Global
""")

LEGAL_SUFFIX = {
    "US": ("Inc.", "Corp.", "LLC"),
    "DE": ("GmbH", "AG", "SE"),
    "AU": ("Pty Ltd", "Limited"),
}

#: Sector word in the company name -> the CRM's Industry picklist value.
INDUSTRIES = {
    pair.split("=", 1)[0]: pair.split("=", 1)[1]
    for pair in _words(
        """
Logistics=Transportation;Health=Healthcare;Energy=Energy;Foods=Consumer Goods;
Retail=Retail;Bank=Banking;Insurance=Insurance;Pharma=Life Sciences;
Manufacturing=Manufacturing;Telecom=Communications;Media=Media;Airlines=Transportation;
Mining=Energy;Utilities=Utilities;Software=Technology;Chemicals=Chemicals;
Motors=Manufacturing;Capital=Financial Services;Hospitality=Hospitality;
Agritech=Agriculture;Freight=Transportation;Semiconductors=Technology;Textiles=Apparel;
Robotics=Technology;Biotech=Life Sciences
""",
        ";",
    )
}

FIRST_NAMES = _words("""
Alex|Maria|Jonas|Priya|Liam|Sofia|Noah|Hannah|Wei|Aisha|Lukas|Emma|Mateo|Chloe|Kenji|
Olivia|Raj|Lea|Ethan|Mia|Tomás|Grace|Felix|Zara|Oscar|Nora|Arjun|Ivy|Samuel|Yuki
""")

LAST_NAMES = _words("""
Smith|Müller|Nguyen|Patel|Johnson|Schmidt|Chen|Williams|Garcia|Brown|Fischer|Kumar|
Taylor|Wagner|Lee|Martin|Becker|Singh|Anderson|Hoffmann|Wilson|Kim|Walker|Schulz|
O'Brien|Rossi|Novak|Jensen|Tanaka|Murphy
""")

TITLES = _words("""
CFO|CIO|VP Finance|Head of IT|Procurement Manager|COO|Programme Director
""")


def company_names(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """`count` distinct (base name, sector) pairs, e.g. ("Acme Logistics", "Logistics")."""
    combos = [(f"{r} {s}", s) for r in ROOTS for s in SECTORS]
    rng.shuffle(combos)
    if count > len(combos):
        extra = [(f"{p} {n}", s) for p in PLACES for n, s in combos]
        combos += extra
    if count > len(combos):
        combos += [
            (f"{n} {i}", s) for i in range(2, 2 + count // len(combos) + 1) for n, s in combos
        ]
    return combos[:count]


def legal_name(base: str, country: str, rng: random.Random) -> str:
    return f"{base} {rng.choice(LEGAL_SUFFIX[country])}"


def duplicate_variant(name: str, rng: random.Random) -> str:
    """A name a second clerk might type for the same company; always differs from `name`."""
    rules: list[Callable[[str], str]] = [
        lambda n: n.upper(),
        lambda n: n.replace(" Inc.", " Incorporated").replace(" Corp.", " Corporation Inc."),
        lambda n: n.replace(".", "").replace(" GmbH", " G.m.b.H."),
        lambda n: "The " + n,
        lambda n: n.rsplit(" ", 1)[0] if " " in n else n + " Group",
        lambda n: n.replace(" Pty Ltd", " Pty. Limited").replace(" LLC", ", LLC"),
        lambda n: _typo(n, rng),
    ]
    order = list(range(len(rules)))
    rng.shuffle(order)
    for index in order:
        candidate = rules[index](name)
        if candidate != name:
            return candidate
    return name + " (2)"


def _typo(name: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(name) if c.isalpha() and c.islower()]
    if len(letters) < 2:
        return name
    i = rng.choice(letters[:-1])
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def email_local(first: str, last: str) -> str:
    clean = "".join(c for c in f"{first}.{last}".lower() if c.isalnum() or c == ".")
    return clean.replace("ü", "u").replace("á", "a")
