"""A firm's own deals by CSV, at the size of the public CRM dataset that prompted it (issue 18):
10,000 deals over 85 accounts, a sixth of them with a product spelled off the crosswalk and a
tenth without an account. Measured through the CLI, as a user runs it:

* `pssync import --csv` of the deals (mapping guessed, checks run after), rows per second;
* `pssync exceptions list` of the first page, and `--json` of all of them;
* `pssync exceptions replay --category unmapped_value` after the crosswalk fix.

    python bench/bench_onboarding.py [deals]
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from pssync.cli.main import app

runner = CliRunner()


def timed(*args: str) -> tuple[float, Any]:
    started = time.perf_counter()
    result = runner.invoke(app, list(args))
    elapsed = time.perf_counter() - started
    if result.exit_code not in (0, 1):
        raise SystemExit(f"{args}: exit {result.exit_code}\n{result.output}")
    return elapsed, result.output


def files(folder: Path, deals: int) -> None:
    rng = random.Random(18)
    accounts = [f"{w} {s}" for w in ("Acme", "Beta", "Cobalt", "Delta", "Echo") for s in
                ("Labs", "Retail", "Health", "Energy", "Media", "Foods", "Bank", "Motors",
                 "Travel", "Telecom", "Logistics", "Games", "Studio", "Farms", "Works", "Air",
                 "Soft")][:85]  # fmt: skip
    (folder / "accounts.csv").write_text("account\n" + "\n".join(accounts) + "\n")
    rows = ["opportunity_id,product,account,deal_stage,close_date,close_value,probability"]
    for i in range(deals):
        product = "GTXPro" if rng.random() < 1 / 6 else rng.choice(["GTX Pro", "MG Special"])
        account = "" if rng.random() < 0.1 else rng.choice(accounts)
        day = f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        rows.append(f"D{i},{product},{account},Engaging,{day},{rng.randint(100, 9000)},40")
    (folder / "deals.csv").write_text("\n".join(rows) + "\n")


def main(deals: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.chdir(folder)
        files(folder, deals)
        walks = "crosswalks={service_line: {GTX Pro: sl-gtx, MG Special: sl-mg}}"
        timed("init", "--crm", "salesforce", "--non-interactive", "--set", walks)
        timed("import", "--csv", "accounts.csv", "--entity", "accounts", "--json")
        imported, out = timed("import", "--csv", "deals.csv", "--entity", "deals", "--json")
        report = json.loads(out)
        page, _ = timed("exceptions", "list")
        everything, out = timed("exceptions", "list", "--json")
        listed = len(json.loads(out))
        config = yaml.safe_load((folder / "pssync.yaml").read_text())
        config["crosswalks"]["service_line"]["GTXPro"] = "sl-gtx"
        (folder / "pssync.yaml").write_text(yaml.safe_dump(config))
        replayed, out = timed("exceptions", "replay", "--category", "unmapped_value", "--json")
        states = [r["state"] for r in json.loads(out)]
    return {
        "deals": deals,
        "rejected": len(report["rejected"]),
        "import_s": round(imported, 2),
        "import_rows_per_s": round(deals / imported),
        "exceptions": listed,
        "list_page_s": round(page, 2),
        "list_all_json_s": round(everything, 2),
        "replayed": len(states),
        "replay_resolved": states.count("resolved"),
        "replay_s": round(replayed, 2),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)))
