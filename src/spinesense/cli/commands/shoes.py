"""``spinesense shoes``: add, list, use and retire shoes; each run is tagged with the pair in use."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from spinesense.cli.commands._base import EXIT_OK, EXIT_USAGE, CommandError
from spinesense.cli.commands._store import add_store_arguments, config_with_runner, store_for

if TYPE_CHECKING:
    import argparse

    from spinesense.config import Config
    from spinesense.store import RunStore


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``shoes`` command and its actions."""
    parser = subparsers.add_parser("shoes", help="the runner's shoes and the distance run in them")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="a new pair (the first one is put in use)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--km", type=float, default=0.0, metavar="N", help="distance already run in them")
    listing = actions.add_parser("list", help="every pair with its distance and wear trend")
    listing.add_argument("--json", action="store_true", help="one JSON object per pair")
    actions.add_parser("use", help="tag the next runs with this pair").add_argument("name", metavar="NAME")
    actions.add_parser("retire", help="retire a pair").add_argument("name", metavar="NAME")
    for action in actions.choices.values():
        add_store_arguments(action)
    parser.set_defaults(handler=run)


def _list(store: RunStore, config: Config, as_json: bool) -> None:
    """Every pair: distance, runs, state against the limits, wear trend."""
    pairs = store.shoes.list(config.runner_id)
    if as_json:
        for shoe in pairs:
            print(json.dumps({**asdict(shoe), "state": shoe.state(config.shoe_limit_km)}))
        return
    if not pairs:
        print(f"no shoes for runner {config.runner_id!r} (add a pair with `spinesense shoes add NAME`)")
        return
    print(f"{'':2}{'shoes':20} {'km':>8} {'runs':>5} {'state':8} wear (impact per step, BW per 100 km)")
    for shoe in pairs:
        mark = "*" if shoe.in_use else " "
        state = "retired" if shoe.retired else shoe.state(config.shoe_limit_km)
        wear = "-" if shoe.wear_bw_per_100km is None else f"{shoe.wear_bw_per_100km:+.3f}"
        print(f"{mark} {shoe.name[:20]:20} {shoe.km:>8.1f} {shoe.runs:>5} {state:8} {wear}")
        if shoe.runs_without_distance:
            print(f"  ({shoe.runs_without_distance} runs without a distance are not counted)")
    print(f"* in use; a warning from 500 km, the limit at {config.shoe_limit_km:g} km (shoes.limit_km)")


def run(args: argparse.Namespace) -> int:
    """Carry out the action."""
    from spinesense.store import ShoeError

    config = config_with_runner(args)
    with store_for(config) as store:
        try:
            if args.action == "add":
                store.shoes.add(config.runner_id, args.name, args.km)
                print(f"added shoes {args.name!r} ({args.km:g} km)")
            elif args.action == "use":
                store.shoes.use(config.runner_id, args.name)
                print(f"runs are now tagged with shoes {args.name!r}")
            elif args.action == "retire":
                store.shoes.retire(config.runner_id, args.name)
                print(f"retired shoes {args.name!r}")
            else:
                _list(store, config, getattr(args, "json", False))
        except ShoeError as exc:
            raise CommandError(str(exc), EXIT_USAGE) from None
    return EXIT_OK
