"""`python -m costmodel`: price a stack, compare two estimates, set a month's bill beside the
estimate, show or refresh the prices.

    python -m costmodel estimate --stack prod [--format table|md|html|csv|json] [--out FILE]
                                 [--details] [--sections sweep,levers,seedcheck]
                                 [--scale N] [--set PATH=VALUE ...] [--assume KEY=VALUE ...]
    python -m costmodel diff BASE HEAD [--format md|table|json] [--fail-above USD]
                                       [--fail-above-percent P]
                                       [--scale N] [--set PATH=VALUE ...] [--assume KEY=VALUE ...]
    python -m costmodel actual --stack prod --month YYYY-MM [--calibrate [--write]]
                               [--format table|md|json] [--stack-file PATH]
    python -m costmodel prices show [--preset P] [--region R]
    python -m costmodel prices refresh --region R [--out PATH]

Exit codes: 0 done; 1 the diff's increase is above a --fail-above limit; 2 bad input or, for
`actual`, an AWS refusal (the message names what is wrong and what is allowed).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console, RenderableType

from costmodel import actual
from costmodel import whatif as what_if
from costmodel.catalogue import PRICES_DIR, CatalogueError, load_catalogue
from costmodel.diff import Threshold, diff
from costmodel.estimate import Estimate, load_model
from costmodel.exits import EXIT_BAD_INPUT, EXIT_OK, EXIT_OVER_LIMIT, bad_input
from costmodel.refresh import PRESET as REFRESHED_PRESET
from costmodel.refresh import RefreshError
from costmodel.report import document, terminal
from costmodel.report.html_page import estimate_html
from costmodel.report.markdown import diff_markdown, estimate_markdown
from costmodel.report.money import usd_rate
from costmodel.report.sections import DEFAULT_SECTIONS, SECTIONS, gather
from costmodel.resources import SourceError
from offline.revision import RevisionError, run_json
from settings.load import ConfigError


class OutputError(ValueError):
    """The report cannot be written where --out says."""


BAD_INPUT = (
    ConfigError, SourceError, CatalogueError, document.EstimateFileError, RefreshError,
    what_if.WhatIfError, OutputError, RevisionError,
)
Output = str | list[RenderableType]  # text, or a rich view


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of argparse's usage block
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see --help)\n")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except BAD_INPUT as exc:
        return bad_input(str(exc))


def parser() -> Parser:
    root = Parser(prog="python -m costmodel", description="Monthly AWS cost of the stacks.")
    commands = root.add_subparsers(required=True, metavar="{estimate,diff,actual,prices}")

    estimate = commands.add_parser("estimate", help="price one stack")
    estimate.add_argument("--stack", required=True, help="Pulumi stack (Pulumi.<stack>.yaml)")
    estimate.add_argument(
        "--format", choices=("table", "md", "html", "csv", "json"), default="table"
    )
    estimate.add_argument("--out", type=Path, help="write to FILE instead of standard output")
    estimate.add_argument("--preset", help="price preset (default: assumptions.price_preset)")
    estimate.add_argument(
        "--free-tier", action="store_true", default=None, help="deduct monthly free tiers"
    )
    estimate.add_argument(
        "--preview-json", type=Path, metavar="FILE",
        help="price a `pulumi preview --json` file instead of the offline program run",
    )
    estimate.add_argument(
        "--details", action="store_true",
        help="table: every line item with its price, tiers, free units and formula",
    )
    estimate.add_argument(
        "--sections", type=_sections, metavar="LIST",
        help=f"html and md: the model-wide sections to include, comma-separated, from "
        f"{', '.join(SECTIONS)} (html default: {','.join(DEFAULT_SECTIONS['html'])}; md: "
        f"{','.join(DEFAULT_SECTIONS['md'])}); seedcheck compares the stack with the design "
        "brief's cost table (runs the program a second time)",
    )
    estimate.add_argument(
        "--no-sweep", action="store_true",
        help="html: leave out cost against volume and capacity headroom",
    )
    _what_if_options(estimate, "")
    estimate.set_defaults(run=run_estimate)

    compare = commands.add_parser("diff", help="monthly cost change from BASE to HEAD")
    for side in ("base", "head"):
        compare.add_argument(
            side, metavar=side.upper(),
            help="stack name, REF:STACK (the stack at git revision REF), or estimate JSON file",
        )
    compare.add_argument("--format", choices=("md", "table", "json"), default="md")
    compare.add_argument("--out", type=Path, help="write to FILE instead of standard output")
    compare.add_argument(
        "--fail-above", type=_usd_limit, metavar="USD",
        help="exit 1 if the monthly increase is above USD",
    )
    compare.add_argument(
        "--fail-above-percent", type=_percent_limit, metavar="P",
        help="exit 1 if the monthly increase is above P percent",
    )
    _what_if_options(compare, " of HEAD (a stack name): `diff prod prod --scale 2` prices the what-if against today")
    compare.set_defaults(run=run_diff)

    actual.add_parser(commands)

    prices = commands.add_parser("prices", help="the price catalogue")
    actions = prices.add_subparsers(required=True, metavar="{show,refresh}")
    show = actions.add_parser("show", help="a preset's prices, verify flags, sources and dates")
    show.add_argument("--preset", default="aws-current")
    show.add_argument("--region", default="us-east-1")
    show.set_defaults(run=run_prices_show)
    refresh = actions.add_parser(
        "refresh",
        help=f"rebuild a region's {REFRESHED_PRESET} prices from the AWS Price List API "
        "(needs AWS credentials)",
    )
    refresh.add_argument("--region", required=True)
    refresh.add_argument(
        "--out", type=Path,
        help=f"file to write (default: costmodel/prices/{REFRESHED_PRESET}/<region>.yaml)",
    )
    refresh.set_defaults(run=run_prices_refresh)
    return root


def _what_if_options(command: argparse.ArgumentParser, whose: str) -> None:
    command.add_argument(
        "--scale", type=_typed(what_if.parse_scale), metavar="N",
        help=f"what if every event type's monthly volume were N times higher{whose}",
    )
    command.add_argument(
        "--set", dest="sets", action="append", metavar="PATH=VALUE",
        type=_typed(lambda text: what_if.parse_assignment("--set", text)),
        help=f"what if a stack config value were VALUE{whose}, e.g. "
        "orders.OrderCreated.monthly_volume=20M or orders.processor.batch_size=100 (repeatable)",
    )
    command.add_argument(
        "--assume", dest="assumes", action="append", metavar="KEY=VALUE",
        type=_typed(lambda text: what_if.parse_assignment("--assume", text)),
        help=f"what if an assumption were VALUE{whose}, e.g. duplicate_rate=0.05 or "
        "entity_keys.orders.OrderUpdated=0.2 (repeatable)",
    )


def run_estimate(args) -> int:
    sections = _chosen_sections(args)
    if args.details and args.format != "table":
        raise what_if.WhatIfError(
            f"--details applies to --format table (got {args.format}; md, html, csv and json "
            "already list every line item)"
        )
    change = what_if.whatif(args.scale, args.sets, args.assumes)
    if change.empty:
        model = load_model(
            args.stack, preset=args.preset, free_tier=args.free_tier, preview=args.preview_json
        )
    else:
        model = what_if.apply(
            args.stack, change, preset=args.preset, free_tier=args.free_tier,
            preview=args.preview_json,
        )
    estimate = model.estimate()

    def report_sections():
        return gather(
            model, sweep="sweep" in sections, levers="levers" in sections,
            seed_check="seedcheck" in sections,
        )

    def markdown() -> str:
        chosen = report_sections()
        return estimate_markdown(estimate, levers=chosen.levers, seed_check=chosen.seed_check)

    renderers: dict[str, Callable[[], Output]] = {
        "table": lambda: terminal.estimate_view(estimate, details=args.details),
        "md": markdown,
        "html": lambda: estimate_html(estimate, report_sections()),
        "csv": lambda: document.to_csv(estimate),
        "json": lambda: document.to_json(estimate),
    }
    _emit(renderers[args.format](), args.out)
    return EXIT_OK


def _chosen_sections(args) -> tuple[str, ...]:
    if args.sections is not None and args.format not in DEFAULT_SECTIONS:
        raise what_if.WhatIfError(
            f"--sections applies to --format html or md (got {args.format})"
        )
    chosen = args.sections if args.sections is not None else DEFAULT_SECTIONS.get(args.format, ())
    if args.no_sweep:
        chosen = tuple(s for s in chosen if s != "sweep")
    return tuple(chosen)


def run_diff(args) -> int:
    change = what_if.whatif(args.scale, args.sets, args.assumes)
    head = _estimate_of(args.head, change)
    change_diff = diff(_estimate_of(args.base, what_if.WhatIf()), head)
    renderers: dict[str, Callable[[], Output]] = {
        "md": lambda: diff_markdown(change_diff),
        "table": lambda: terminal.diff_view(change_diff),
        "json": lambda: document.diff_to_json(change_diff),
    }
    _emit(renderers[args.format](), args.out)
    reasons = change_diff.tripped(Threshold(usd=args.fail_above, percent=args.fail_above_percent))
    for reason in reasons:
        print(f"costmodel: cost check failed: {reason}", file=sys.stderr)
    return EXIT_OVER_LIMIT if reasons else EXIT_OK


def run_prices_show(args) -> int:
    _emit(terminal.prices_view(load_catalogue(args.preset, args.region)), None)
    return EXIT_OK


def run_prices_refresh(args) -> int:
    # Imported here: only the one command that talks to AWS needs botocore.
    from botocore.exceptions import BotoCoreError, ClientError

    from costmodel import refresh

    out = args.out or PRICES_DIR / REFRESHED_PRESET / f"{args.region}.yaml"
    print(
        "prices refresh queries the AWS Price List API (pricing:GetProducts, us-east-1): it needs "
        "AWS credentials and network access. Without them the shipped catalogue stays in use.",
        file=sys.stderr,
    )
    try:
        report = refresh.refresh(args.region, out)
    except (BotoCoreError, ClientError) as exc:
        raise RefreshError(
            f"the AWS Price List API could not be queried ({exc}); configure AWS credentials "
            "allowed pricing:GetProducts (e.g. AWS_PROFILE) and retry; the shipped prices are "
            "unchanged"
        ) from None
    counts = (
        f"{len(report.refreshed)} prices refreshed, {len(report.changed)} changed, "
        f"{len(report.kept)} kept"
    )
    lines = [f"wrote {report.path}: {counts}"]
    for item_id in sorted(report.changed):
        old, new = report.refreshed[item_id]
        prices = f"{usd_rate(old.unit_price)} -> {usd_rate(new.unit_price)} {new.price_unit}"
        lines.append(f"  changed {item_id}: {prices} (first tier)")
    lines += [f"  kept {item_id}: {why}" for item_id, why in sorted(report.kept.items())]
    print("\n".join(lines))
    return EXIT_OK


def _is_file(spec: str) -> bool:
    return spec.endswith(".json") or "/" in spec or Path(spec).is_file()


def _estimate_of(spec: str, change: what_if.WhatIf) -> Estimate:
    """A diff side: an estimate JSON file when `spec` looks like a path, `REF:STACK` for the stack
    at a git revision, else a stack to price (with `change` applied)."""
    ref, _, stack = spec.rpartition(":")
    if ref and not _is_file(spec):
        if not change.empty:
            raise what_if.WhatIfError(
                f"--scale, --set and --assume change HEAD, the working tree's stack; {spec} is a "
                "revision (allowed: diff REF:STACK STACK --scale 2)"
            )
        # The revision's own cost model prices its own program.
        return document.estimate_from_json(
            run_json(ref, ["-m", "costmodel", "estimate", "--stack", stack, "--format", "json"]),
            origin=f"estimate of {spec}",
        )
    if _is_file(spec):
        if not change.empty:
            raise what_if.WhatIfError(
                f"--scale, --set and --assume change HEAD, which must then be a stack name; "
                f"{spec} is an estimate file (allowed: a stack, e.g. diff {spec} prod --scale 2)"
            )
        return document.read_estimate(Path(spec))
    if change.empty:
        return load_model(spec).estimate()
    return what_if.apply(spec, change).estimate()


def _emit(output: Output, out: Path | None) -> None:
    """Text as is; a rich view in colour on a terminal, as plain text in a file."""
    if isinstance(output, list):
        if out is None:
            console = Console()
            for renderable in output:
                console.print(renderable)
            return
        output = terminal.to_text(output)
    if out is None:
        sys.stdout.write(output)
    else:
        try:
            out.write_text(output)
        except OSError as exc:
            raise OutputError(
                f"cannot write --out {out}: {exc.strerror or exc} (allowed: a file in an "
                "existing, writable folder)"
            ) from None
        print(f"wrote {out}", file=sys.stderr)


def _typed(parse: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse type from a parser that raises WhatIfError: argparse's one-line error."""

    def typed(text: str) -> object:
        try:
            return parse(text)
        except what_if.WhatIfError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return typed


def _sections(text: str) -> tuple[str, ...]:
    chosen = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"{text!r} names no known section ({', '.join(unknown) or 'empty'}); allowed: "
            f"{', '.join(SECTIONS)}, comma-separated"
        )
    return chosen


def _usd_limit(text: str) -> float:
    allowed = "--fail-above takes a monthly increase in USD, e.g. 25 or 25.50"
    return _limit(text.strip().removeprefix("$"), allowed)


def _percent_limit(text: str) -> float:
    allowed = "--fail-above-percent takes a percentage, e.g. 10 or 10%"
    return _limit(text.strip().removesuffix("%"), allowed)


def _limit(text: str, allowed: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a non-negative number: {allowed}")
    return value


if __name__ == "__main__":
    sys.exit(main())
