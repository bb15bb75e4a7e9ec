"""The voting service's `smartcity` commands: `smartcity verify-ledger`.

Imported by shared/cli.py through the service's SPEC; heavy imports wait until the command runs.
"""


def _verify_ledger(args):
    from shared import config
    from shared.db import Pool, SqlUnitOfWork

    from . import use_cases
    from .repository import VotingRepository

    pool = Pool(config.load("voting").database_url, 1)
    try:
        checked, problems = use_cases.verify_ledger(SqlUnitOfWork("voting", pool, VotingRepository))
    finally:
        pool.close()
    for problem in problems:
        print(f"TAMPERED: {problem}")
    print(f"{checked} idea ledger(s) checked: " + (f"{len(problems)} problem(s)" if problems else
                                                     "every hash chain intact, every total equals its ledger"))
    return 1 if problems else 0


def register(subparsers):
    p = subparsers.add_parser("verify-ledger", help="verify the voting ledger (exit 1 if anything was tampered with)")
    p.set_defaults(func=_verify_ledger)
