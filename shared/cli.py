"""`smartcity` command: operator and developer tasks.

  smartcity provision [--subscriber NAME]  create the broker users and database roles (idempotent)
  smartcity migrate [SERVICE ...]          apply pending migrations (default: every service)
  smartcity token --sub ID --roles R[,R]   mint an HS256 development token
  smartcity dlq list SERVICE               show parked (dead-lettered) messages
  smartcity dlq replay SERVICE [--id ID]   send parked messages back to their queue
  smartcity replay SERVICE [--type T ...]  publish a service's past events again (for a new subscriber)
  smartcity queues upgrade [--dry-run]     rebuild queues declared by an older release as quorum queues
  smartcity contract [--write]             check (or regenerate) docs/events from the code

and every command a service adds (its ServiceSpec's `cli` module), for example
  smartcity verify-ledger                  check the voting ledger's hash chains against the totals
  smartcity reporting rebuild              replay the reporting event log into fresh projections
"""
import argparse
import importlib
import json
import sys

from shared import config, registry


def _provision(args):
    from shared import identities, provision

    uri = config.env("AMQP_URI", config.DEFAULT_AMQP_URI)
    subscribers = args.subscriber or ()
    if args.show:
        users = [identities.subscriber_user(subscriber.partition(":")[0]) for subscriber in subscribers]
        for user, configure, write, read, topics in identities.permission_table(users):
            print(f"{user}\n  configure {configure}\n  write     {write}\n  read      {read}")
            for exchange, topic_write, topic_read in topics:
                print(f"  topic {exchange}: write {topic_write}  read {topic_read}")
        return 0
    if args.definitions:
        print(json.dumps(provision.definitions(provision.vhost_of(uri), provision.passwords(subscribers)),
                         indent=2))
        return 0
    try:
        provision.broker(uri, subscribers)
    except provision.ProvisionError as exc:
        raise ValueError(str(exc)) from None  # said as a usage error, without a traceback
    print(f"RabbitMQ vhost {provision.vhost_of(uri)}: users {', '.join(provision.passwords(subscribers))}"
          " with their permissions")
    for service in registry.services():
        provision.service_database(service)
        print(f"{service}: database and roles in place")
    return 0


def _migrate(args):
    from shared.migrate import migrate

    for service in args.services or registry.services():
        try:
            url, runtime_role = config.migration_target(service)
        except RuntimeError as exc:
            raise ValueError(str(exc)) from None
        applied = migrate(service, url, runtime_role)
        print(f"{service}: {len(applied)} migration(s) applied" + (f" ({', '.join(applied)})" if applied else ""))
    return 0


def _token(args):
    from shared.auth import mint

    roles = [r for r in args.roles.split(",") if r]
    settings = config.load("ideas")
    print(mint(settings.jwt_secret, args.sub, roles, args.ttl, settings.jwt_issuer, settings.jwt_audience))
    return 0


def _dlq(args):
    from shared import dead_letters

    uri = config.load(args.service).amqp_uri  # its own queue, and replayed copies under its own user
    if args.action == "list":
        parked = dead_letters.list_parked(uri, args.service)
        if args.json:
            print(json.dumps([p.__dict__ for p in parked], indent=2))
        else:
            print(f"{len(parked)} message(s) parked in {args.service}.dead-letter")
            for p in parked:
                print(f"- {p.message_id} {p.event_type} from {p.original_queue}: {p.reason} after "
                      f"{p.attempts} attempt(s) at {p.parked_at}\n    {p.error}")
        return 0
    replayed = dead_letters.replay(uri, args.service, args.id)
    print(f"replayed {len(replayed)} message(s)")
    for p in replayed:
        print(f"- {p.message_id} {p.event_type} -> {p.original_queue}")
    return 0 if replayed or not args.id else 1


def _replay(args):
    from shared.amqp import Publisher
    from shared.db import Pool
    from shared.outbox import replay

    settings = config.load(args.service)  # its events go out under its own user, or nobody accepts them
    pool = Pool(settings.database_url, 1)
    publisher = Publisher(settings.amqp_uri)
    try:
        count = replay(pool, publisher, args.type)
    finally:
        publisher.close()
        pool.close()
    print(f"{args.service}: published {count} past event(s) again")
    return 0


def _queues(args):
    from shared import queue_upgrade, queues

    failed = False
    for service in args.services or registry.services():
        settings = config.load(service)  # as its own user: moved copies keep their publisher (PUBLISHED_BY)
        outcomes = queue_upgrade.upgrade(settings.amqp_uri, service, queues.of_service(service, settings.retry_delays),
                                         dry_run=args.dry_run)
        quiet = ("up to date", "absent")
        for outcome in outcomes:
            if outcome.action not in quiet:
                print(f"{service}: {outcome.line()}")
        counts = {action: sum(outcome.action == action for outcome in outcomes) for action in quiet}
        print(f"{service}: {counts['up to date']} queue(s) up to date, {counts['absent']} not declared yet"
              " (the service declares them when it needs them)")
        failed |= any(outcome.action == "in use" for outcome in outcomes)
    if failed:
        print("some queues have consumers: stop every service, then run this again", file=sys.stderr)
    return 1 if failed else 0


def _contract(args):
    from shared import contract

    if args.write:
        for path in contract.write():
            print(f"wrote {path}")
        return 0
    drift = contract.drift()
    for path in drift:
        print(f"out of date: {path}")
    if drift:
        print("run `make contract` (smartcity contract --write) and commit the result")
    return 1 if drift else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="smartcity", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("provision", help="create the broker users, permissions and database roles (idempotent)")
    p.add_argument("--subscriber", action="append", metavar="NAME[:PASSWORD]",
                   help="also an outside subscriber's read-only user sub-NAME (no password: its development one)")
    p.add_argument("--definitions", action="store_true", help="only print the RabbitMQ definitions to import")
    p.add_argument("--show", action="store_true", help="only print who may do what on the broker")
    p.set_defaults(func=_provision)

    p = sub.add_parser("migrate", help="apply pending database migrations")
    p.add_argument("services", nargs="*", metavar="SERVICE", help=f"any of {', '.join(registry.services())}")
    p.set_defaults(func=_migrate)

    p = sub.add_parser("token", help="mint a development token (HS256, SMARTCITY_JWT_SECRET)")
    p.add_argument("--sub", required=True, help="the subject: an opaque user id")
    p.add_argument("--roles", default="citizen", help="comma-separated: citizen,moderator,staff,board_member,admin")
    p.add_argument("--ttl", type=int, default=8 * 3600, help="seconds until it expires")
    p.set_defaults(func=_token)

    p = sub.add_parser("dlq", help="inspect or replay a service's dead-letter queue")
    p.add_argument("action", choices=["list", "replay"])
    p.add_argument("service", choices=list(registry.services()))
    p.add_argument("--id", help="replay only the message with this event id")
    p.add_argument("--json", action="store_true", help="list as JSON, bodies included")
    p.set_defaults(func=_dlq)

    p = sub.add_parser("replay", help="publish a service's past events again, oldest first, same ids")
    p.add_argument("service", choices=list(registry.services()))
    p.add_argument("--type", action="append", metavar="EVENT_TYPE", help="only these types (repeatable)")
    p.set_defaults(func=_replay)

    p = sub.add_parser("queues", help="the services' queues")
    p = p.add_subparsers(dest="action", required=True).add_parser(
        "upgrade", help="rebuild queues an older release declared (classic) as quorum queues; services stopped")
    p.add_argument("services", nargs="*", metavar="SERVICE", help=f"any of {', '.join(registry.services())}"
                   " (default: all)")
    p.add_argument("--dry-run", action="store_true", help="only say what would change")
    p.set_defaults(func=_queues)

    p = sub.add_parser("contract", help="check docs/events against the code, or --write it")
    p.add_argument("--write", action="store_true")
    p.set_defaults(func=_contract)

    for spec in registry.services().values():
        if spec.cli:
            importlib.import_module(spec.cli).register(sub)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"smartcity: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
