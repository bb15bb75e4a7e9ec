"""Where the domain's effects land: the database, one event per transaction (live), or memory (rebuild)."""
from collections import defaultdict

from . import repository as repo


class TransactionStore:
    """Effects of one event inside its transaction: rows are locked as they are read; counters go last.

    Counters are the hottest rows (every event of a type adds to the same ones), so they are
    written in one round trip just before the commit, which keeps their row locks short.
    """

    def __init__(self, cur):
        self.cur = cur
        self.increments = []

    def get(self, table, key):
        return repo.lock_and_get(self.cur, table, key)

    def put(self, table, key, row):
        repo.put(self.cur, table, row)

    def add(self, table, key, amounts):
        self.increments.append((table, key, amounts))

    def flush(self):
        repo.add(self.cur, self.increments)
        self.increments = []


class MemoryStore:
    """Every projection as Python dicts, for a rebuild that writes them in bulk at the end."""

    def __init__(self):
        self.rows = defaultdict(dict)      # table -> key -> row
        self.counters = defaultdict(dict)  # table -> key -> amounts

    def get(self, table, key):
        return self.rows[table].get(key)

    def put(self, table, key, row):
        self.rows[table][key] = row

    def add(self, table, key, amounts):
        counter = self.counters[table].get(key)
        if counter is None:
            self.counters[table][key] = dict(amounts)
        else:
            for name, value in amounts.items():
                counter[name] += value

    def tables(self):
        """{table: [row tuples in the repository's column order]} for every projection."""
        result = {}
        for table in repo.UPSERT_TABLES:
            columns = repo.columns_of(table)
            result[table] = [tuple(row[c] for c in columns) for row in self.rows[table].values()]
        for table, (_, values) in repo.INCREMENT_TABLES.items():
            result[table] = [key + tuple(amounts[v] for v in values) for key, amounts in self.counters[table].items()]
        return result
